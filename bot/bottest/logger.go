package bottest

import (
	"log/slog"
	"strings"
	"testing"
)

// Logger returns a Debug-level text logger that writes through t.Log, so
// its output shows only for failing tests (or with -v). Every goroutine
// that logs with it must stop before the test returns: t.Log panics after
// that (Run's cleanup takes care of a Bot).
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

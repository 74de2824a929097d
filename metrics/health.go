package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/internal/errtext"
)

// DefaultReadyTimeout bounds all of a [Readiness]'s checks together when its
// Timeout is zero.
const DefaultReadyTimeout = 2 * time.Second

// A Check reports whether one dependency is usable: nil means ready. A Check
// must return promptly once ctx is done and must be safe for concurrent use,
// because parallel probes call it concurrently.
//
// Give a check a name with [Named]; the readiness response lists failing
// checks by name.
type Check func(ctx context.Context) error

// A CheckError is the error of a check made by [Named].
type CheckError struct {
	Name string
	Err  error
}

// Error reads "metrics: check <name>: <error>". An error that starts with
// "metrics: " or with the check's name (an adapter's error in a check named
// after it) has that prefix left out: the chain names each layer once.
func (e *CheckError) Error() string {
	return "metrics: check " + e.Name + ": " + errtext.Trim(e.Err.Error(), "metrics: ", e.Name+": ")
}

// Unwrap returns e.Err.
func (e *CheckError) Unwrap() error { return e.Err }

// Named returns a Check that runs c and wraps its error in a [*CheckError]
// carrying name, which the readiness response shows.
//
// The name is known even for a check that is still running when the
// readiness timeout ends, because the returned Check announces it to the
// [Readiness] as soon as it starts.
func Named(name string, c Check) Check {
	return func(ctx context.Context) error {
		if slot, ok := ctx.Value(nameSlotKey{}).(*atomic.Pointer[string]); ok {
			slot.CompareAndSwap(nil, &name) // the outermost name wins, as in errors.As
		}
		if err := c(ctx); err != nil {
			return &CheckError{Name: name, Err: err}
		}
		return nil
	}
}

// nameSlotKey is the context key under which a Readiness gives each check a
// slot for its name.
type nameSlotKey struct{}

// storeProbeKey is read, never written, by StoreCheck.
const storeProbeKey = "metrics:readyz-probe"

// StoreCheck returns a Check named "store" that reads a probe key from s.
// A value or [bot.ErrNotFound] means the store answered; any other error
// means it is unreachable. The check never writes.
func StoreCheck(s bot.Store) Check {
	return Named("store", func(ctx context.Context) error {
		_, err := s.Get(ctx, storeProbeKey)
		if err == nil || errors.Is(err, bot.ErrNotFound) {
			return nil
		}
		return err
	})
}

// ErrNotConnected is the error of a [ConnectedCheck] whose connection is
// down.
var ErrNotConnected = errors.New("metrics: not connected")

// ConnectedCheck returns a Check named name that fails with
// [ErrNotConnected] while connected reports false. It lets an application
// wire a connection state without this package importing the adapter, for
// example the Flowdock stream's:
//
//	metrics.ConnectedCheck("flowdock", func() bool { return fd.Health().Connected })
//
// connected must be safe for concurrent use.
func ConnectedCheck(name string, connected func() bool) Check {
	return Named(name, func(context.Context) error {
		if !connected() {
			return ErrNotConnected
		}
		return nil
	})
}

// Healthz returns a liveness handler: it answers every request with 200 and
// "ok" for as long as the process serves HTTP. It checks no dependency, so
// that a restart is never triggered by an outage elsewhere; use [Readyz] for
// that.
func Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok\n")
	})
}

// Readyz returns a [*Readiness] that runs checks with the default timeout
// and logs failures with b's logger. With no checks it always answers 200.
func Readyz(b *bot.Bot, checks ...Check) http.Handler {
	r := &Readiness{Checks: checks}
	if b != nil {
		r.Logger = b.Logger()
	}
	return r
}

// A Readiness is a readiness handler. It runs all Checks concurrently,
// bounded together by Timeout and by the request's context, and answers 200
// "ok" when every check returned nil in time, or 503 with one line per
// failing check otherwise.
//
// The response names each failing check (by its [Named] name, or "check N"
// for an unnamed N-th check, counting from 1) and says "failed" or
// "timeout"; it never includes error text, which may hold hosts or
// credentials. The full errors are logged at Warn.
//
// Set the fields before serving; a Readiness is then safe for concurrent
// use. A check that ignores its context keeps running after the response,
// in its own goroutine, until it returns.
type Readiness struct {
	Checks  []Check
	Timeout time.Duration // zero means DefaultReadyTimeout
	Logger  *slog.Logger  // nil means slog.Default()
}

type checkResult struct {
	index int
	err   error
}

// ServeHTTP runs the checks and writes the verdict.
func (r *Readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	defer cancel()

	results := make(chan checkResult, len(r.Checks)) // buffered: late checks never block
	names := make([]atomic.Pointer[string], len(r.Checks))
	for i, c := range r.Checks {
		cctx := context.WithValue(ctx, nameSlotKey{}, &names[i])
		go func() { results <- checkResult{i, c(cctx)} }()
	}
	errs := make([]error, len(r.Checks))
	pending := len(r.Checks)
	done := make([]bool, len(r.Checks))
	for pending > 0 {
		select {
		case res := <-results:
			errs[res.index], done[res.index] = res.err, true
			pending--
		case <-ctx.Done():
			for i := range done {
				if !done[i] {
					errs[i] = ctx.Err()
				}
			}
			pending = 0
		}
	}

	var body strings.Builder
	for i, err := range errs {
		if err == nil {
			continue
		}
		name := "check " + strconv.Itoa(i+1)
		if n := names[i].Load(); n != nil {
			name = *n
		}
		verdict := "failed"
		if !done[i] || errors.Is(err, context.DeadlineExceeded) {
			verdict = "timeout"
		}
		fmt.Fprintf(&body, "%s: %s\n", name, verdict)
		r.logger().LogAttrs(req.Context(), slog.LevelWarn, "readiness check failed",
			slog.String("check", name), slog.Any("error", err))
	}
	if body.Len() > 0 {
		writeText(w, http.StatusServiceUnavailable, "not ready\n"+body.String())
		return
	}
	writeText(w, http.StatusOK, "ok\n")
}

func (r *Readiness) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

func writeText(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

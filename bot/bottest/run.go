package bottest

import (
	"context"
	"testing"
	"time"

	"github.com/parleybot/parley/bot"
)

// Run starts b.Run in a goroutine and returns a function that stops it
// (cancels its context and waits for Run to return) and returns Run's
// error. The same stop runs as a test cleanup, failing the test if Run
// returned an error or did not return within ten seconds; calling it
// earlier is allowed and idempotent.
func Run(t testing.TB, b *bot.Bot) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var (
		stopped bool
		result  error
	)
	stop = func() error {
		if stopped {
			return result
		}
		stopped = true
		cancel()
		select {
		case result = <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("bottest: Bot.Run did not return within 10s of cancellation")
		}
		return result
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("bottest: Bot.Run: %v", err)
		}
	})
	return stop
}

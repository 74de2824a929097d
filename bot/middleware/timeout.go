package middleware

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleybot/parley/bot"
)

// errTimedOut is the cancellation cause of the contexts Timeout makes. It
// tells Timeout's own deadline apart from an earlier deadline of the parent
// context (the Bot's handler timeout), whose expiry is not wrapped.
var errTimedOut = errors.New("middleware: timeout")

// Timeout returns middleware that runs next with a context whose deadline is
// d from now, for a route that must answer sooner than the Bot's handler
// timeout (bot.WithHandlerTimeout) allows. A parent deadline that comes
// earlier still applies.
//
// When next returns an error matching context.DeadlineExceeded and it was
// this deadline that expired, Timeout returns
//
//	fmt.Errorf("middleware: handler timed out after %v: %w", d, err)
//
// so errors.Is(err, context.DeadlineExceeded) still holds. Other results,
// including a nil error returned after the deadline, pass through unchanged.
//
// Timeout does not abandon a handler that ignores its context: it waits for
// next to return, because the next message of the conversation must not
// start before this one is done. A handler bounds its work by passing ctx to
// every blocking call, and sends its replies with ctx, which fail once it
// is done.
//
// Timeout panics if d is not positive. The middleware is safe for
// concurrent use.
func Timeout(d time.Duration) bot.Middleware {
	if d <= 0 {
		panic("middleware: Timeout needs a positive duration")
	}
	return func(next bot.Handler) bot.Handler {
		return bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			tctx, cancel := context.WithTimeoutCause(ctx, d, errTimedOut)
			defer cancel()
			err := next.HandleMessage(tctx, w, m)
			if err != nil && errors.Is(err, context.DeadlineExceeded) && errors.Is(context.Cause(tctx), errTimedOut) {
				return fmt.Errorf("middleware: handler timed out after %v: %w", d, err)
			}
			return err
		})
	}
}

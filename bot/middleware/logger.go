package middleware

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/parleybot/parley/bot"
)

// Logger returns middleware that writes one Debug line per message handled
// by next, after next returns: the message's routing identity (as
// slog.Any("msg", m), whose LogValue leaves out the text and the raw
// payload), the "duration" of next, and the "error" next returned, if any.
// A handler that returned [bot.ErrContinue] is logged with continue=true and
// no error; one that panicked is logged with panic=true while the panic goes
// on to the Bot, which recovers it.
//
// Errors are logged at Debug on purpose: the Bot logs each handler error
// once, at Error, and an error is logged only once. When l is not enabled
// for Debug (checked per message with the handler's context), Logger calls
// next directly and does no other work.
//
// A nil l means the logger of the Bot handling the message
// ([bot.LoggerOf]: the one given with bot.WithLogger), or slog.Default()
// outside a Bot, looked up on each message. The middleware is safe for
// concurrent use.
func Logger(l *slog.Logger) bot.Middleware {
	return func(next bot.Handler) bot.Handler {
		return bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			l := l
			if l == nil {
				l = bot.LoggerOf(ctx)
			}
			if !l.Enabled(ctx, slog.LevelDebug) {
				return next.HandleMessage(ctx, w, m)
			}
			start := time.Now()
			returned := false
			var err error
			defer func() {
				attrs := []slog.Attr{slog.Any("msg", m), slog.Duration("duration", time.Since(start))}
				switch {
				case !returned:
					attrs = append(attrs, slog.Bool("panic", true))
				case errors.Is(err, bot.ErrContinue):
					attrs = append(attrs, slog.Bool("continue", true))
				case err != nil:
					attrs = append(attrs, slog.Any("error", err))
				}
				l.LogAttrs(ctx, slog.LevelDebug, "message handled", attrs...)
			}()
			err = next.HandleMessage(ctx, w, m)
			returned = true
			return err
		})
	}
}

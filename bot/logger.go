package bot

import (
	"context"
	"log/slog"
)

// A LoggerSetter is a component that logs and takes the Bot's logger when
// it was not given one of its own: an Adapter, a Store or a Broker. New
// calls SetDefaultLogger with the Bot's logger (see [WithLogger]) on each
// adapter, on the stores and on the broker that implement it, before it
// returns the Bot. A logger set explicitly in the component's own
// configuration (an adapter's Config.Logger) wins: SetDefaultLogger then
// changes nothing. The component adds its own attributes (an adapter its
// "adapter" name).
//
// SetDefaultLogger must be safe to call concurrently with the component's
// other methods (a webhook adapter may already be serving).
type LoggerSetter interface {
	SetDefaultLogger(l *slog.Logger)
}

// LoggerOf returns the logger of the Bot whose Run ctx derives from: the
// logger given with [WithLogger] (or the Bot's quiet default, see
// [WithLogger]), without the component attribute of [Bot.Logger]. Handlers,
// middleware and scheduled jobs log through it, and so follow the Bot's
// logging configuration. Outside a Bot (a Router or a handler driven
// directly) it returns slog.Default().
func LoggerOf(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

type loggerKey struct{}

// quietLogger returns the Bot's default logger: slog.Default()'s handler,
// at Warn and above, so that a bot on a terminal (the console adapter)
// does not mix its lifecycle records into the chat.
func quietLogger() *slog.Logger {
	return slog.New(minLevel{h: slog.Default().Handler(), min: slog.LevelWarn})
}

// minLevel passes to h the records at min or above.
type minLevel struct {
	h   slog.Handler
	min slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.h.Enabled(ctx, l)
}

func (m minLevel) Handle(ctx context.Context, r slog.Record) error { return m.h.Handle(ctx, r) }

func (m minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h: m.h.WithAttrs(attrs), min: m.min}
}

func (m minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h: m.h.WithGroup(name), min: m.min}
}

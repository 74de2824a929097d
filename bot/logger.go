package bot

import (
	"context"
	"log/slog"
	"os"
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

// quietLogger returns the Bot's default logger: text on standard error,
// at Warn and above, so that a bot on a terminal (the console adapter)
// does not mix its lifecycle records into the chat. Its handler is its
// own, not a filter over slog.Default()'s: slog's built-in default writes
// through the log package, which slog.SetDefault(b.Logger()) points back
// at the default handler with a check of Info, so a filter refusing Info
// there would drop every record.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

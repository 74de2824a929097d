package console

import (
	"log/slog"

	"github.com/parleybot/parley/bot"
)

var _ bot.LoggerSetter = (*Adapter)(nil)

// SetDefaultLogger makes l the adapter's logger unless Config.Logger set
// one. bot.New calls it with the Bot's logger. It is safe to call at any
// time.
func (a *Adapter) SetDefaultLogger(l *slog.Logger) { a.logs.Set(l) }

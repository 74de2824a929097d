package fromenv

import (
	"log/slog"
	"net/http"

	"github.com/parleybot/parley/bot"
)

// Handler returns the mux that Run serves for b.
func (p *Platforms) Handler(b *bot.Bot, logger *slog.Logger) (http.Handler, error) {
	return p.handler(b, logger)
}

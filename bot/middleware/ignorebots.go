package middleware

import (
	"context"

	"github.com/parleybot/parley/bot"
)

// IgnoreBots returns middleware that drops messages whose author is a bot
// (Message.Author.Bot), this bot's own messages included, so that bots do
// not answer each other in a loop. A dropped message is not passed to next;
// the middleware returns nil for it. Messages without a bot author, such as
// platform events with no author, pass through.
//
// Use it router-wide, first: r.Use(middleware.IgnoreBots()). It is
// IgnoreBotsWithOpts with zero options, and is safe for concurrent use.
func IgnoreBots() bot.Middleware {
	return IgnoreBotsWithOpts(IgnoreBotsOptions{})
}

// IgnoreBotsOptions configures [IgnoreBotsWithOpts]. The zero value drops
// every bot.
type IgnoreBotsOptions struct {
	// AllowIDs lists the Author.ID of bots whose messages pass through, for
	// example an integration that posts commands. IDs are compared exactly
	// and on every platform, so list only IDs that cannot name another bot
	// elsewhere. Default: none.
	AllowIDs []string
}

// IgnoreBotsWithOpts returns middleware that drops messages whose author is
// a bot not listed in opts.AllowIDs; see [IgnoreBots]. opts is copied: later
// changes to the AllowIDs slice have no effect. The middleware is safe for
// concurrent use.
func IgnoreBotsWithOpts(opts IgnoreBotsOptions) bot.Middleware {
	allow := make(map[string]struct{}, len(opts.AllowIDs))
	for _, id := range opts.AllowIDs {
		allow[id] = struct{}{}
	}
	return func(next bot.Handler) bot.Handler {
		return bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			if m.Author.Bot {
				if _, ok := allow[m.Author.ID]; !ok {
					return nil
				}
			}
			return next.HandleMessage(ctx, w, m)
		})
	}
}

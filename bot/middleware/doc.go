// Package middleware holds reusable [bot.Middleware]: functions that wrap a
// [bot.Handler] to act before or after it, replace its Sender, or skip it.
//
// # Middleware
//
//   - [Logger] writes one Debug line per handled message, with its routing
//     identity, the duration and the error, never the text, by default to
//     the Bot's logger ([bot.LoggerOf]).
//   - [Timeout] gives a handler a deadline shorter than the Bot's handler
//     timeout.
//   - [IgnoreBots] drops messages written by bots, including this one
//     ([IgnoreBotsWithOpts] lets chosen bots through).
//   - [RateLimit] limits the replies sent per conversation, dropping the
//     excess ([RateLimitWithOpts] for burst, keying, reporting and memory
//     bounds).
//
// Configurable middleware follows chi: a small constructor for the common
// case and a …WithOpts constructor taking an options struct for the full
// one. Constructors panic, with a "middleware: " prefix, on arguments that
// can only be a programming error, as route registration does.
//
// # Composition
//
// A Middleware wraps wherever a handler is registered:
//
//   - router-wide, around every message including unmatched ones, with
//     [bot.Router.Use] (b.Use on a Bot): r.Use(middleware.IgnoreBots());
//   - around one route: a bot.Middleware is itself a [bot.RouteOption], so
//     r.Handle(rule, h, middleware.Timeout(time.Second));
//   - around any handler, with [bot.Chain]: bot.Chain(a, b)(h) is a(b(h)).
//
// In each case the first middleware is the outermost. Put IgnoreBots first
// so that nothing else spends work on dropped messages, and Logger before
// Timeout so that it logs the error as Timeout reports it.
//
// Every middleware here is safe for concurrent use: the Bot calls handlers
// of different conversations at the same time, one message at a time per
// conversation.
//
// # Not middleware
//
// Deduplication of redelivered events and panic recovery are not optional
// and are not middleware: they live in the Bot. Publish drops redeliveries
// before they are queued, and the Bot's workers turn a handler panic into a
// [bot.HandlerError], logged once at Error. The Bot also logs every handler
// error once, at Error; Logger therefore reports errors only at Debug.
package middleware

package bot

import "context"

// A Handler responds to an inbound message.
//
// w sends replies; it routes by Message.Platform, so a handler may also post
// to other platforms. The Bot calls handlers of one conversation one at a
// time, in arrival order, and handlers of different conversations
// concurrently. ctx carries the handler timeout and is not cancelled when the
// Bot starts shutting down, so that a running handler can finish its reply.
//
// A Handler must not modify m. Returning [ErrContinue] from a handler chosen
// by a [Router] lets routing go on to the next matching route; any other
// error is reported to the Bot's error hook.
type Handler interface {
	HandleMessage(ctx context.Context, w Sender, m *Message) error
}

// HandlerFunc lets an ordinary function serve as a Handler.
type HandlerFunc func(ctx context.Context, w Sender, m *Message) error

// HandleMessage calls f(ctx, w, m).
func (f HandlerFunc) HandleMessage(ctx context.Context, w Sender, m *Message) error {
	return f(ctx, w, m)
}

// Middleware wraps a Handler. It may act before or after next, replace w (for
// example to throttle outbound messages), or return without calling next.
type Middleware func(next Handler) Handler

// Chain composes middleware: the first is outermost, so
// Chain(a, b, c)(h) is a(b(c(h))).
func Chain(mw ...Middleware) Middleware {
	return func(h Handler) Handler {
		for i := len(mw) - 1; i >= 0; i-- {
			h = mw[i](h)
		}
		return h
	}
}

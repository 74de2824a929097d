package bot

import (
	"context"
	"time"
)

// Hooks are told of what happens in a Bot as it happens, for metrics
// and tracing (the metrics package builds Prometheus histograms and
// per-platform counters from it). Every field is optional. The functions
// are called synchronously from the Bot's goroutines, concurrently, on the
// message path: they must be fast and must not block, and they must not
// modify the messages they are given or keep them.
//
// A hook gets the whole message only to read its Platform, Kind and other
// metadata; like the Bot's logs, metrics built on hooks must leave out the
// text. It gets the context of the step it reports, which carries the
// step's span when the Bot traces (see WithTracerProvider), so that a hook
// can add to the trace; the context may be done already.
type Hooks struct {
	// Received: an inbound message was accepted by Publish.
	Received func(ctx context.Context, m *Message)
	// Duplicate: an inbound redelivery was acknowledged and not handled.
	Duplicate func(ctx context.Context, m *Message)
	// Handled: routing of an inbound message finished after d; err is the
	// *HandlerError when a handler failed or panicked.
	Handled func(ctx context.Context, m *Message, d time.Duration, err error)
	// Sent: an outbound message was delivered; d is the time from its
	// first attempt to the platform's answer.
	Sent func(ctx context.Context, m *Message, d time.Duration)
	// Retried: a delivery attempt failed with err and will be retried.
	Retried func(ctx context.Context, m *Message, err error)
	// DeadLettered: an outbound message was moved to the dead-letter list.
	DeadLettered func(ctx context.Context, m *Message, err error)
	// Suppressed: a bot message was not sent because a human owns the
	// conversation.
	Suppressed func(ctx context.Context, m *Message)
	// RateLimited: a delivery on platform waited d for the platform's rate
	// limit (the token bucket or a Retry-After pause).
	RateLimited func(ctx context.Context, platform string, d time.Duration)
	// OwnerChanged: a conversation changed owner; source says why
	// ("application", "platform", "platform (sweep)", "handoff reply",
	// "idle timeout", ...).
	OwnerChanged func(ctx context.Context, platform string, o Owner, source string)
}

// WithHooks sets the Bot's Hooks.
func WithHooks(h Hooks) Option {
	return func(c *config) error { c.hooks = h; return nil }
}

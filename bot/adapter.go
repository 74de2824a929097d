package bot

import (
	"context"
	"time"
)

// A Publisher accepts inbound messages from an Adapter.
//
// Publish deduplicates the message by Platform and ID, then queues it for its
// conversation. It blocks while that conversation's queue is full, until the
// message is queued or ctx is done; it then returns an error wrapping
// [ErrBusy] and ctx.Err(). It returns [ErrClosed] once the Bot is stopping.
// A nil error means the message was accepted (or was a redelivery of one
// already accepted) and the platform may be told so. Webhook receivers answer
// any error with 503 and a Retry-After header so that the platform delivers
// the event again: nothing is dropped silently.
//
// Publish is safe for concurrent use. The Bot owns m once Publish returns nil.
type Publisher interface {
	Publish(ctx context.Context, m *Message) error
}

// PublisherFunc lets an ordinary function serve as a Publisher.
type PublisherFunc func(ctx context.Context, m *Message) error

// Publish calls f(ctx, m).
func (f PublisherFunc) Publish(ctx context.Context, m *Message) error { return f(ctx, m) }

// A Sender accepts outbound messages. A handler gets one as w; the Bot itself
// is one.
//
// Send hands m to the Bot's outbox, which delivers it through the adapter
// named by m.Platform, in order per conversation, with rate limiting and
// retries. Send returns once the message is queued, not once it is delivered;
// delivery failures end in the dead-letter list (see [Bot.DeadLetters]) and
// the error hook. Send blocks while the outbox is full until ctx is done.
// It returns [ErrUnknownPlatform] when no adapter is named m.Platform.
//
// Send must be safe for concurrent use. The Sender owns m once Send returns
// nil; the caller must not modify it afterwards.
type Sender interface {
	Send(ctx context.Context, m *Message) error
}

// SenderFunc lets an ordinary function serve as a Sender.
type SenderFunc func(ctx context.Context, m *Message) error

// Send calls f(ctx, m).
func (f SenderFunc) Send(ctx context.Context, m *Message) error { return f(ctx, m) }

// An Adapter connects a Bot to one chat platform.
//
// Name, Run and Send are called concurrently; an Adapter must be safe for
// that. Run is called once per Bot.Run.
//
// An Adapter that logs implements [LoggerSetter], so that the Bot's
// logger ([WithLogger]) reaches it: New hands it over unless the adapter's
// own configuration set a logger, which then wins. Without a logger from
// either, an adapter logs to slog.Default().
type Adapter interface {
	// Name is a constant, unique identifier such as "sendbee". It becomes
	// Message.Platform of every message the adapter publishes.
	Name() string
	// Run receives events from the platform and publishes them to p until
	// ctx is done. It returns nil after cancellation, and a non-nil error only
	// when it cannot continue (for example rejected credentials).
	Run(ctx context.Context, p Publisher) error
	// Send delivers m to the platform now, once, without retrying: retries,
	// rate limiting and idempotency belong to the Bot's outbox. A rate-limit
	// answer is returned as a *RateLimitError; an error that is safe to retry
	// implements Temporary() bool. Send must return promptly once ctx is done.
	Send(ctx context.Context, m *Message) (SendResult, error)
}

// SendResult is what a platform said about a delivered message.
type SendResult struct {
	// ID is the platform's ID of the sent message, when it returns one.
	ID string
	// Owner is the conversation's owner after the send, when sending changed
	// it on the platform. For example a Sendbee message sent without
	// prevent_bot_off switches the platform's chatbot off: OwnerHuman.
	Owner Owner
}

// Limits are a platform's declared limits, used by the Bot to pace outbound
// messages and to size the deduplication window.
type Limits struct {
	// Requests per Per is the platform's outbound rate limit for one bot
	// (for example 60 per minute). Zero Requests means no limit.
	Requests int
	Per      time.Duration
	// Burst is the number of requests that may be sent at once; default 1.
	Burst int
	// RedeliveryWindow is how long the platform may deliver the same event
	// again (VelaFlows: 24 hours). Inbound deduplication entries live longer
	// than this. Zero means the Bot's default.
	RedeliveryWindow time.Duration
}

// A Limiter is an Adapter that declares its platform's limits.
type Limiter interface {
	Limits() Limits
}

// An Editor is an Adapter that can change the text of a message it sent.
type Editor interface {
	Edit(ctx context.Context, conversation, id, text string) error
}

// A Deleter is an Adapter that can delete a message.
type Deleter interface {
	Delete(ctx context.Context, conversation, id string) error
}

// A Tagger is an Adapter that can set the tags of a message or conversation.
// An empty id tags the conversation itself, where the platform supports it.
type Tagger interface {
	Tag(ctx context.Context, conversation, id string, tags []string) error
}

// An OwnerController is an Adapter whose platform has its own switch for who
// answers a conversation (Sendbee's chatbot activity). The Bot mirrors
// Handoff and Resume to it, and takes the switch as the authority on who
// owns a conversation: it reads it before applying an inbound signal that
// would change the owner, and to find human-owned conversations the
// platform has handed back to its automation (see [WithOwnerRecheck] and
// [WithOwnerSweep]). It has two methods because they read and write one
// piece of platform state.
type OwnerController interface {
	// SetOwner switches the platform's automation on (OwnerBot) or off
	// (OwnerHuman) for the conversation.
	SetOwner(ctx context.Context, conversation string, o Owner) error
	// Owner reads the platform's state for the conversation: OwnerBot or
	// OwnerHuman. The Bot paces its calls with the sends (see [Pacer]).
	Owner(ctx context.Context, conversation string) (Owner, error)
}

// A Confirmer is an Adapter that can tell whether an outbound message
// reached the platform. The outbox asks it about a message whose delivery
// attempt ended with its outcome unknown — the connection broke after the
// request was written (a reset, a timeout), or the process died between
// the request and recording the result (a durable outbox,
// storage/jetstream) — and sends the message again only when the platform
// does not have it. Without a Confirmer, the outbox gives the first kind to
// the dead letters (wrapping [ErrOutcomeUnknown]) and sends the second
// kind again, which may then arrive twice.
type Confirmer interface {
	// Delivered reports whether the platform holds an outbound message to
	// m.Conversation with m's content that was created at or after since,
	// taken on the Bot's clock when (or before) the attempt in doubt began.
	// When it returns true it also returns what the platform says about
	// that message. When it cannot tell (the platform's records do not
	// show such a message as sent, or do not reach back to since), it
	// returns an error, never false: false makes the outbox send m again.
	Delivered(ctx context.Context, m *Message, since time.Time) (SendResult, bool, error)
}

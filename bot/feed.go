package bot

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// An EventType names a step of a Bot's work in its event feed.
type EventType string

// The steps the event feed reports. The fields of [Event] each sets are
// listed beside it, beyond Seq, Time, Type, Platform and Conversation.
const (
	// EventReceived: an inbound message arrived (Message, Kind). Unless
	// an EventDuplicate follows, it is queued for its conversation (or
	// Publish returned an error, and the platform delivers it again).
	EventReceived EventType = "received"
	// EventDuplicate: the message received was a redelivery; it was
	// acknowledged and dropped (Message, Kind).
	EventDuplicate EventType = "duplicate"
	// EventOwner: the owner of the message's conversation was decided
	// before routing (Message, Owner). When the message changed it (a
	// platform's signal, the idle timeout), an EventOwnerChanged with why
	// comes first.
	EventOwner EventType = "owner"
	// EventRouted: a route matched the message and its handler runs
	// (Message, Route; Reason is the route's explanation when its rule
	// gives one, see [Explainer]).
	EventRouted EventType = "routed"
	// EventUnrouted: no route matched (Message, Owner).
	EventUnrouted EventType = "unrouted"
	// EventHandled: routing finished (Message, Duration, Error).
	EventHandled EventType = "handled"
	// EventQueued: an outbound message is queued for delivery (Key,
	// Message: the inbound message it answers, if any). When the queue
	// cannot take it, an EventDeadLettered follows, or Send returns an
	// error.
	EventQueued EventType = "queued"
	// EventWaiting: a delivery on Platform waits Duration for the
	// platform's rate limit.
	EventWaiting EventType = "waiting"
	// EventRetry: a delivery attempt failed and will be retried (Key,
	// Attempt, Duration: the wait before the next one, Error).
	EventRetry EventType = "retry"
	// EventSent: an outbound message was delivered (Key, Duration: since
	// its first attempt).
	EventSent EventType = "sent"
	// EventConfirmed: a delivery whose outcome was unknown was found on
	// the platform and not sent again (Key).
	EventConfirmed EventType = "confirmed"
	// EventSkipped: an outbound message was not queued, its key having
	// been delivered before (Key).
	EventSkipped EventType = "skipped"
	// EventSuppressed: a bot message was not sent because a human owns
	// the conversation (Key).
	EventSuppressed EventType = "suppressed"
	// EventDeadLettered: an outbound message was moved to the dead letters
	// (Key, Attempt, Error; Reason is the letter's ID).
	EventDeadLettered EventType = "dead_lettered"
	// EventReplayed: a dead letter is queued again (Key; Reason is the
	// letter's ID); its EventQueued follows. (When it cannot be queued,
	// it stays a dead letter and Replay returns the error.)
	EventReplayed EventType = "replayed"
	// EventOwnerChanged: a conversation changed owner (Owner; Reason says
	// why: "application", "platform", "handoff reply", "idle timeout", …).
	EventOwnerChanged EventType = "owner_changed"
	// EventJobFired: a scheduled job fired in this process (Job, Duration,
	// Error).
	EventJobFired EventType = "job_fired"
	// EventConnected: a streaming adapter's connection to its platform
	// is open (Platform).
	EventConnected EventType = "connected"
	// EventDisconnected: it closed (Platform, Error); the adapter
	// reconnects.
	EventDisconnected EventType = "disconnected"
	// EventFlowStep: a conversation flow advanced (Message, Flow, Step:
	// the step it waits at now, or "" when it ended; Reason says how).
	// Emitted by package bot/flow.
	EventFlowStep EventType = "flow_step"
	// EventConsent: a customer opted out (Reason "opted out") or in again
	// ("opted in") with a keyword; see OptOutController.
	EventConsent EventType = "consent"
)

// eventTypes are the types of the feed, each with its bit in a mask of
// wanted types; any other type (an Emit of a type of one's own) has
// otherTypes.
var eventTypes = [...]EventType{EventReceived, EventDuplicate, EventOwner, EventRouted, EventUnrouted,
	EventHandled, EventQueued, EventWaiting, EventRetry, EventSent, EventConfirmed, EventSkipped,
	EventSuppressed, EventDeadLettered, EventReplayed, EventOwnerChanged, EventJobFired,
	EventConnected, EventDisconnected, EventFlowStep, EventConsent}

const otherTypes = uint64(1) << 63

// bit returns t's bit in a mask of wanted types.
func (t EventType) bit() uint64 {
	for i, et := range eventTypes {
		if et == t {
			return 1 << i
		}
	}
	return otherTypes
}

// maskOf returns the mask of types; none is every type.
func maskOf(types []EventType) uint64 {
	if len(types) == 0 {
		return ^uint64(0)
	}
	var m uint64
	for _, t := range types {
		m |= t.bit()
	}
	return m
}

// An Event is one step of a Bot's work, as its event feed reports it (see
// [Bot.Subscribe]). Events carry identifiers and never what a message
// says, unless the Bot was built [WithEventText] for local development.
type Event struct {
	Seq  uint64    `json:"seq"` // the Bot's count of events, from 1
	Time time.Time `json:"time"`
	Type EventType `json:"type"`

	Platform     string `json:"platform,omitempty"`
	Conversation string `json:"conversation,omitempty"`
	// Message is the ID of the inbound message the event is about; for an
	// outbound message, of the inbound message it answers.
	Message string `json:"message,omitempty"`
	// Kind is the inbound message's Kind.
	Kind Kind `json:"kind,omitempty"`
	// Key is an outbound message's idempotency key.
	Key string `json:"key,omitempty"`
	// Owner is "bot" or "human".
	Owner string `json:"owner,omitempty"`
	// Route describes the route that matched.
	Route string `json:"route,omitempty"`
	// Reason says why, where the type's documentation says what.
	Reason   string        `json:"reason,omitempty"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration,omitempty"`
	Attempt  int           `json:"attempt,omitempty"`
	Job      string        `json:"job,omitempty"`
	Flow     string        `json:"flow,omitempty"`
	Step     string        `json:"step,omitempty"`
	// Text is the message's text: set only by a Bot built WithEventText.
	Text string `json:"text,omitempty"`
}

// An Explainer is a [Rule] or a [Handler] that can say why its route
// matched a message, for the Reason of the event feed's [EventRouted]
// events. Explain is called only when someone listens to the feed, after
// the rule matched, with the context the handler gets. A rule is asked
// first; the handler given to Handle (not the middleware around it) when
// the rule is no Explainer.
type Explainer interface {
	Explain(ctx context.Context, m *Message) string
}

// WithEventText makes the events of the feed carry the text of the
// messages they are about (Event.Text). Only for local development: the
// feed then holds what customers wrote.
func WithEventText() Option {
	return func(c *config) error { c.eventText = true; return nil }
}

// DefaultEventBuffer is the buffer of a subscription to the event feed
// when [Bot.Subscribe] is given none.
const DefaultEventBuffer = 1024

// A Subscription receives the events of a Bot's feed on its channel.
// The steps of one goroutine come in order (a message's handling; one
// delivery's attempts), but the handling of a message and the delivery
// of its reply run side by side, so their events may interleave, and two
// events emitted at the same moment may come out of Seq order: sort by
// Seq when the order matters. A subscriber that does not keep up loses
// events rather than slowing the Bot: an event that finds the buffer
// full is dropped and counted ([Subscription.Dropped]; the Seq numbers
// show the gap).
type Subscription struct {
	f       *feed
	ch      chan Event
	mask    uint64 // the types it wants
	dropped atomic.Uint64

	mu     sync.RWMutex // held for reading while sending on ch
	closed bool
}

// Events returns the channel of the subscription's events. It is closed
// when the subscription is closed, and when the Bot's Run returns.
func (s *Subscription) Events() <-chan Event { return s.ch }

// Dropped returns how many events the subscription lost because its
// buffer was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close ends the subscription and closes its channel. It is safe to call
// more than once, and concurrently.
func (s *Subscription) Close() {
	s.f.remove(s)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
}

func (s *Subscription) send(e *Event) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return
	}
	select {
	case s.ch <- *e:
	default:
		s.dropped.Add(1)
		s.f.dropped.Add(1)
	}
}

// watchers counts the subscriptions of every Bot's feed, and the running
// Bots that trace, so that code far from a Bot (the Router) asks for
// nothing while nobody listens.
var watchers atomic.Int32

// feed is a Bot's event feed: its subscribers, copied on write so that
// emitting reads one pointer, and nothing else when nobody listens.
type feed struct {
	subs    atomic.Pointer[[]*Subscription]
	mask    atomic.Uint64 // the types some subscription wants
	seq     atomic.Uint64
	dropped atomic.Uint64
	text    bool
	// base is when the Bot was built: an event's Time is base plus the
	// monotonic clock's reading since, which costs a fraction of a
	// time.Now on the message path.
	base time.Time

	mu    sync.Mutex // serializes changes of subs
	ended bool       // Run returned: new subscriptions start closed
}

// on reports whether anyone listens, so that callers build no Event when
// nobody does.
func (f *feed) on() bool { return f.mask.Load() != 0 }

// wants reports whether a subscription wants events of type t: one load
// and a bit test, the cost of a step while nobody wants it.
func (f *feed) wants(t EventType) bool {
	m := f.mask.Load()
	return m != 0 && m&t.bit() != 0
}

// emit stamps e and hands it to every subscriber.
func (f *feed) emit(e *Event) {
	subs := f.subs.Load()
	if subs == nil {
		return
	}
	e.Seq = f.seq.Add(1)
	if e.Time.IsZero() {
		e.Time = f.base.Add(time.Since(f.base))
	}
	bit := e.Type.bit()
	for _, s := range *subs {
		if s.mask&bit != 0 {
			s.send(e)
		}
	}
}

func (f *feed) add(buffer int, mask uint64) *Subscription {
	s := &Subscription{f: f, ch: make(chan Event, buffer), mask: mask}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ended {
		s.closed = true
		close(s.ch)
		return s
	}
	var next []*Subscription
	if cur := f.subs.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, s)
	f.subs.Store(&next)
	f.mask.Store(f.mask.Load() | mask)
	watchers.Add(1)
	return s
}

func (f *feed) remove(s *Subscription) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := f.subs.Load()
	if cur == nil {
		return
	}
	next := make([]*Subscription, 0, len(*cur))
	for _, o := range *cur {
		if o != s {
			next = append(next, o)
		}
	}
	if len(next) == len(*cur) {
		return // removed before
	}
	watchers.Add(-1)
	var mask uint64
	for _, o := range next {
		mask |= o.mask
	}
	f.mask.Store(mask)
	if len(next) == 0 {
		f.subs.Store(nil)
		return
	}
	f.subs.Store(&next)
}

// end closes every subscription: Run returned.
func (f *feed) end() {
	f.mu.Lock()
	f.ended = true
	cur := f.subs.Load()
	f.subs.Store(nil)
	f.mask.Store(0)
	if cur != nil {
		watchers.Add(-int32(len(*cur)))
	}
	f.mu.Unlock()
	if cur != nil {
		for _, s := range *cur {
			s.Close()
		}
	}
}

// Subscribe returns a subscription to the Bot's event feed: every step of
// its work from now on, as [Event] values (see [EventType] for the steps),
// or, when types are given, the steps of those types only. buffer is the
// subscription's channel buffer, [DefaultEventBuffer] when 0 or less; a
// subscriber that falls behind by more loses events and never slows the
// Bot. A step nobody subscribed to costs nothing: the Bot builds the
// events some subscription wants, and no other. Close the subscription
// when done; it is closed when Run returns, and a subscription made after
// that starts closed.
func (b *Bot) Subscribe(buffer int, types ...EventType) *Subscription {
	if buffer <= 0 {
		buffer = DefaultEventBuffer
	}
	return b.feed.add(buffer, maskOf(types))
}

// An Emitter adds events to a Bot's feed: the Bot is one, and so is the
// Publisher a Bot gives its adapters' Run, so that an adapter reports its
// connection (EventConnected, EventDisconnected) with
//
//	if em, ok := p.(bot.Emitter); ok { em.Emit(e) }
type Emitter interface {
	Emit(e Event)
}

// Watched reports whether anyone listens to the Bot's event feed, or,
// when types are given, wants events of one of them, so that code
// emitting events of its own ([Bot.Emit]) builds none when nobody does.
func (b *Bot) Watched(types ...EventType) bool {
	if len(types) == 0 {
		return b.feed.on()
	}
	return b.feed.mask.Load()&maskOf(types) != 0
}

// Emit adds e to the Bot's event feed, stamped with its Seq and, when e
// has none, its Time; for packages that extend the Bot, such as bot/flow.
// It does nothing when nobody listens. e.Text is cleared unless the Bot
// was built [WithEventText].
func (b *Bot) Emit(e Event) {
	if !b.feed.wants(e.Type) {
		return
	}
	if !b.feed.text {
		e.Text = ""
	}
	b.feed.emit(&e)
}

// FeedDropped returns how many events the Bot's feed dropped, over all
// its subscriptions, because a subscriber fell behind.
func (b *Bot) FeedDropped() uint64 { return b.feed.dropped.Load() }

// event emits an event about the message m of type t, with set filling
// the rest; it builds nothing when nobody listens.
func (b *Bot) event(t EventType, m *Message, set func(e *Event)) {
	if !b.feed.wants(t) {
		return
	}
	e := Event{Type: t}
	if m != nil {
		e.Platform, e.Conversation = m.Platform, m.Conversation
		if m.Key != "" || m.ReplyTo != "" {
			e.Message, e.Key = m.ReplyTo, m.Key
		} else {
			e.Message, e.Kind = m.ID, m.Kind
		}
		if b.feed.text {
			e.Text = m.Text
		}
	}
	if set != nil {
		set(&e)
	}
	b.feed.emit(&e)
}

// errorText is err's text for an event; "" for nil.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

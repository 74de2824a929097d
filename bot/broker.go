package bot

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"
)

// A Broker carries a Bot's messages between its stages when they must
// survive the process or be shared by several replicas: inbound messages
// from Publish to the handlers, and outbound messages from Send to the
// adapters. Without one (the default) the Bot keeps its queues in memory,
// and a message accepted but not yet handled or delivered is lost with the
// process. storage/jetstream provides a Broker on NATS JetStream; set one
// with [WithBroker].
//
// A Broker owns the exactly-once bookkeeping of what it carries: it drops
// redeliveries of an inbound event it already holds or has handled, and
// records which outbound messages were delivered, so that neither is
// processed twice across restarts and replicas. The Bot keeps the
// behaviour: routing, ownership, retries, rate limits and dead letters,
// which a Broker reaches through the [Pipeline] it is given.
type Broker interface {
	// Inbound stores m, an inbound message accepted by Publish, and returns
	// once it is stored (durably, for a durable Broker), so that the
	// platform may be told it was received. It reports dup when m is a
	// redelivery of an event (same Platform and ID) the Broker already
	// holds or handled; m is then not stored again. When ctx is done before
	// m is stored, or the Broker cannot store it now, it returns an error
	// wrapping ErrBusy, and the platform should deliver m again later.
	Inbound(ctx context.Context, m *Message) (dup bool, err error)
	// Outbound stores m, an outbound message with its Key set, for
	// delivery. Errors are as for Inbound.
	Outbound(ctx context.Context, m *Message) error
	// Consume hands stored messages to p until ctx is done, then returns
	// once every call it made has returned. Inbound messages go to
	// Worker.Handle, one at a time per conversation and in order, in
	// parallel across conversations; outbound messages go to p.Deliver, in
	// order per platform and conversation. A message is done when the call
	// returns; one that is not done when its process dies is handed out
	// again, to a later Consume of this process or of another replica.
	// Consume returns a non-nil error only when it cannot go on.
	//
	// When ctx is done and p is [Pipeline.Finishing], Consume first goes on
	// until every message stored through this Broker is done, the replies
	// its handlers store meanwhile included, or until p.Context() ends; it
	// must do so even when ctx is done before it has begun to consume.
	Consume(ctx context.Context, p *Pipeline) error
}

// WithBroker makes the Bot carry its messages through br instead of its
// in-memory queues; see [Broker]. The Bot does not close br.
//
// With a Broker, Publish returns once br has stored the message, Send once
// br has stored the outbound message, and [Bot.Pending] counts nothing:
// the Broker holds the queues. A shutdown caused by Run's context or by a
// failure stops consuming, finishes the messages in hand and leaves the
// rest in the Broker for the next run. A shutdown because every adapter
// has finished (the console at end of input) first handles what the Bot
// stored and delivers the replies, as the in-memory queues are drained,
// within the shutdown timeout; see [Pipeline.Finishing].
func WithBroker(br Broker) Option {
	return func(c *config) error { c.broker = br; return nil }
}

// A Pipeline is the Bot's side of a [Broker]: the stages the Broker hands
// stored messages to. The Bot creates it in Run and passes it to
// Broker.Consume; its methods are safe for concurrent use.
type Pipeline struct {
	b      *Bot
	hard   context.Context // cancelled past the shutdown deadline
	finish atomic.Bool     // set before Consume's ctx is cancelled; see Finishing
}

// Platforms returns the names of the Bot's adapters, in the order given to
// New: the platforms outbound messages may be addressed to.
func (p *Pipeline) Platforms() []string {
	names := make([]string, len(p.b.order))
	for i, a := range p.b.order {
		names[i] = a.Name()
	}
	return names
}

// DedupTTL returns how long inbound event IDs and delivered outbound keys
// must be remembered ([WithDedupTTL]).
func (p *Pipeline) DedupTTL() time.Duration { return p.b.cfg.dedupTTL }

// Duplicate counts m, an inbound redelivery the Broker dropped at
// consumption (beyond its first-line check in Inbound), as Publish counts
// the ones Inbound reports.
func (p *Pipeline) Duplicate(m *Message) { p.b.countDuplicate(context.Background(), m, nil) }

// Skipped counts m, an outbound message the Broker did not deliver
// because its key was delivered before.
func (p *Pipeline) Skipped(m *Message) { p.b.skipSend(p.hard, m) }

// Context returns the context for the work a Broker has in hand: it
// outlives the ctx given to Consume, which only stops the taking of new
// messages, and is cancelled when the Bot's shutdown deadline passes. Work
// cut short by it should be left to be taken again.
func (p *Pipeline) Context() context.Context { return p.hard }

// Finishing reports whether the Bot stops because every adapter has
// finished its input (the console at end of input), and not because Run's
// context was cancelled or something failed. It is set before the ctx
// given to Consume is done, and never changes after. A finishing Bot
// wants what it stored handled and the replies delivered before Run
// returns, as it drains its in-memory queues; see [Broker].Consume.
func (p *Pipeline) Finishing() bool { return p.finish.Load() }

// A Worker handles inbound messages for a Broker's consumer, one at a
// time. It owns an expression VM and a timer, so each consumer goroutine
// should have its own; close it when the consumer ends.
type Worker struct {
	p *Pipeline
	w *worker
}

// Worker returns a new Worker.
func (p *Pipeline) Worker() *Worker {
	return &Worker{p: p, w: newWorker(p.hard, p.b.cfg.handlerTimeout)}
}

// Handle routes m through the Bot's ownership rules, Router and handlers,
// and returns when the handlers have returned. Replies the handlers sent
// have been stored by the Broker's Outbound by then. Handler failures and
// panics are the Bot's to report: Handle has nothing to return. It is
// HandleContext with the Pipeline's Context.
func (w *Worker) Handle(m *Message) { w.p.b.handle(w.w, w.p.hard, m, false) }

// HandleContext is Handle with the handlers' context derived from ctx: it
// carries ctx's values, such as the trace context the Broker stored with m
// (see [WithTracerProvider]), and ends when ctx does, when the Pipeline's
// Context does, or when the handler timeout passes. Pass a ctx derived
// from the Pipeline's Context, which costs nothing more than Handle.
func (w *Worker) HandleContext(ctx context.Context, m *Message) {
	done := ctx.Done()
	w.p.b.handle(w.w, ctx, m, done != nil && done != w.p.hard.Done())
}

// Close releases the Worker's timer.
func (w *Worker) Close() { w.w.close() }

// An Outcome is what became of an outbound message given to
// [Pipeline.Deliver].
type Outcome int

// The outcomes of a delivery.
const (
	// OutcomeSent: the platform has the message.
	OutcomeSent Outcome = iota + 1
	// OutcomeSuppressed: not sent, because a human owns the conversation.
	OutcomeSuppressed
	// OutcomeFailed: given up on; the message is on the dead-letter list,
	// from which [Bot.Replay] sends it again.
	OutcomeFailed
	// OutcomeInterrupted: the ctx given to Deliver ended first (the
	// shutdown deadline). The message is neither delivered for sure nor on
	// the dead-letter list: the Broker keeps it and hands it out again,
	// with the since of its interrupted delivery, as an attempt may have
	// reached the platform.
	OutcomeInterrupted
)

// String returns "sent", "suppressed", "failed" or "interrupted".
func (o Outcome) String() string {
	switch o {
	case OutcomeSent:
		return "sent"
	case OutcomeSuppressed:
		return "suppressed"
	case OutcomeFailed:
		return "failed"
	case OutcomeInterrupted:
		return "interrupted"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Deliver delivers m through the adapter of m.Platform with the outbox's
// rules — ownership re-check, rate limits, retries with backoff, dead
// letters, ownership changes caused by the send — and returns what became
// of it. It returns when the message is delivered or given up on, or when
// ctx is done: ctx bounds the whole, and a delivery it cuts short (at the
// shutdown deadline) returns OutcomeInterrupted and is not dead-lettered,
// so that the Broker hands the message out again.
//
// A non-zero since says that an earlier attempt to deliver m began then and
// its outcome is unknown (its process died). When the adapter is a
// [Confirmer], the platform is asked first, and m is sent only if the
// platform does not have it; otherwise m is sent again and may arrive
// twice.
//
// Idempotency is the Broker's: Deliver sends m even when a message with
// the same Key was delivered before. The delivery's span continues the
// trace of the span in ctx: a Broker gives back there the trace context
// it stored with m (see [WithTracerProvider]).
func (p *Pipeline) Deliver(ctx context.Context, m *Message, since time.Time) Outcome {
	po := p.b.out.platforms[m.Platform]
	if po == nil {
		o := p.b.out
		o.deadLetter(ctx, &platformOut{name: m.Platform}, m, 0, ErrUnknownPlatform)
		return OutcomeFailed
	}
	return p.b.out.transmit(ctx, po, m, since, nil, true)
}

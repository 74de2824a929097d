package bot

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracerName is the instrumentation scope of the Bot's spans.
const TracerName = "github.com/parleybot/parley/bot"

// The names of the Bot's spans; see [WithTracerProvider].
const (
	SpanPublish = "parley.publish"
	SpanHandle  = "parley.handle"
	SpanDeliver = "parley.deliver"
	SpanAttempt = "parley.attempt"
)

// The attributes of the Bot's spans and span events. They carry
// identifiers, never what a message says.
const (
	AttrPlatform     = attribute.Key("parley.platform")
	AttrConversation = attribute.Key("parley.conversation")
	AttrMessageID    = attribute.Key("parley.message.id")   // an inbound event's ID
	AttrKind         = attribute.Key("parley.message.kind") // an inbound event's Kind
	AttrKey          = attribute.Key("parley.key")          // an outbound message's idempotency key
	AttrReplyTo      = attribute.Key("parley.reply_to")     // the inbound message an outbound one answers
	AttrDuplicate    = attribute.Key("parley.duplicate")    // a redelivery, not handled again
	AttrOwner        = attribute.Key("parley.owner")        // "bot" or "human"
	AttrRoute        = attribute.Key("parley.route")        // the route that matched
	AttrOutcome      = attribute.Key("parley.outcome")      // of a delivery; see WithTracerProvider
	AttrAttempt      = attribute.Key("parley.attempt")      // the number of an attempt, from 1
	AttrFailure      = attribute.Key("parley.failure")      // what a failed attempt says about retrying
	AttrWait         = attribute.Key("parley.wait")         // a wait, as a Go duration string
	AttrDeadLetter   = attribute.Key("parley.dead_letter")  // a dead letter's ID
)

// WithTracerProvider makes the Bot trace its work with OpenTelemetry
// through tp: one trace per inbound event, continued wherever the event's
// work goes. Without it, or with a nil tp or a noop.TracerProvider (the
// default), the Bot makes no spans and tracing costs one comparison per
// step.
//
// The spans, all in the instrumentation scope [TracerName]:
//
//   - [SpanPublish] (producer): Publish deduplicating and queueing (or
//     storing, with a [Broker]) an inbound message; a child of the span in
//     Publish's ctx, such as the webhook request's when the server is
//     instrumented. AttrDuplicate is set on a redelivery.
//   - [SpanHandle] (consumer): the ownership check, routing and the
//     handlers, a child of the publish span. AttrOwner says who owns the
//     conversation, AttrRoute names the route that matched (span events
//     "parley.routed" and "parley.unrouted" say so for nested routers
//     too), and a handler's error is recorded with the status Error. The
//     handlers' context carries this span, so spans a handler or
//     middleware starts from its ctx nest under it, and a reply's
//     queueing is a span event "parley.queued".
//   - [SpanDeliver]: the outbox delivering one outbound message (a child
//     of the span that sent it: a handler's handle span, or the span in
//     the ctx given to [Bot.Send]), with AttrOutcome "sent", "confirmed"
//     (a delivery of unknown outcome found on the platform), "suppressed"
//     (a human owns the conversation), "dead_lettered" (with the status
//     Error and an event "parley.dead_lettered" naming the letter) or
//     "interrupted" (left to the Broker at shutdown). Retries are events
//     "parley.retry" with the wait; confirmations with the platform,
//     "parley.confirm".
//   - [SpanAttempt]: one call of the adapter's Send, a child of the
//     delivery span, numbered by AttrAttempt from 1 (requests the
//     platform refused for its rate limit included). Its waits for the
//     platform's rate limit are events "parley.rate_limit_wait"; a failure
//     is recorded with the status Error and AttrFailure: "rate_limited",
//     "retryable", "unknown" (the request may have reached the platform),
//     "permanent". The adapter's own spans (the platform clients' HTTP
//     requests, when given the same provider) nest under it.
//
// The trace context travels with the message from Publish to the handler
// and from Send to the outbox, in memory and through a Broker: the
// Broker's Inbound and Outbound get it in their ctx, and a Broker that
// stores messages outside the process stores it with them and gives it
// back in the ctx of [Worker.HandleContext] and [Pipeline.Deliver]
// (storage/jetstream does, as W3C trace context headers), so that a
// message handled by another replica continues the same trace.
//
// Spans carry identifiers only: platform, conversation, event ID, kind,
// idempotency key, route, owner, outcome. Never a message's text, its
// attachments or its author's details; error messages are the errors'
// texts, as logged.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) error { c.tracerProvider = tp; return nil }
}

// newTracer returns the Tracer of tp, or nil when tp traces nothing.
func newTracer(tp trace.TracerProvider) trace.Tracer {
	switch tp.(type) {
	case nil, noop.TracerProvider, *noop.TracerProvider:
		return nil
	}
	return tp.Tracer(TracerName)
}

// inboundAttrs are the attributes of an inbound message's spans.
func inboundAttrs(m *Message) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 4)
	attrs = append(attrs, AttrPlatform.String(m.Platform), AttrConversation.String(m.Conversation),
		AttrKind.String(string(m.Kind.Or())))
	if m.ID != "" {
		attrs = append(attrs, AttrMessageID.String(m.ID))
	}
	return attrs
}

// outboundAttrs are the attributes of an outbound message's spans.
func outboundAttrs(m *Message) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 4)
	attrs = append(attrs, AttrPlatform.String(m.Platform), AttrConversation.String(m.Conversation),
		AttrKey.String(m.Key))
	if m.ReplyTo != "" {
		attrs = append(attrs, AttrReplyTo.String(m.ReplyTo))
	}
	return attrs
}

// queuedTrace records sc as the trace context of m while m waits in an
// in-memory queue, for dequeued to take. The table is the Bot's and not a
// field of Message, which would make every Message larger whether or not
// the Bot traces; entries live from the push to the pop of m (or until
// the push fails, or m is abandoned), so that none outlives its queue.
func (b *Bot) queuedTrace(m *Message, sc trace.SpanContext) {
	if sc.IsValid() {
		b.traces.Store(m, sc)
	}
}

// dequeued returns ctx with the trace context recorded for m by
// queuedTrace as its current span's, and forgets it. A ctx that has a span
// already (a Broker's, which carries the one it stored with m) is
// returned as it is.
func (b *Bot) dequeued(ctx context.Context, m *Message) context.Context {
	v, ok := b.traces.LoadAndDelete(m)
	if !ok || trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	return trace.ContextWithSpanContext(ctx, v.(trace.SpanContext))
}

// failed records err, if not nil, on span with the status Error.
func failed(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
}

// traceQueued notes on the span of ctx, if any, that m is queued for
// delivery, and returns the span's trace context, the one m's delivery
// continues.
func (b *Bot) traceQueued(ctx context.Context, m *Message) trace.SpanContext {
	span := trace.SpanFromContext(ctx)
	sc := span.SpanContext()
	if sc.IsValid() {
		span.AddEvent("parley.queued", trace.WithAttributes(AttrKey.String(m.Key)))
	}
	return sc
}

// traceEvent adds an event to the span of ctx when the Bot traces.
func (b *Bot) traceEvent(ctx context.Context, name string, attrs ...attribute.KeyValue) {
	if b.tracer != nil {
		trace.SpanFromContext(ctx).AddEvent(name, trace.WithAttributes(attrs...))
	}
}

// traceRouted records on span that route n of t matched (n < 0: none
// did); top says t is the Bot's own Router.
func traceRouted(span trace.Span, t *routeTable, n int, top bool) {
	if n < 0 {
		span.AddEvent("parley.unrouted")
		return
	}
	route := AttrRoute.String(t.describe[n])
	if top {
		span.SetAttributes(route)
	}
	span.AddEvent("parley.routed", trace.WithAttributes(route))
}

// String names k for the span attribute AttrFailure.
func (k failKind) String() string {
	switch k {
	case failRetryable:
		return "retryable"
	case failRateLimited:
		return "rate_limited"
	case failUnknown, failServerError:
		return "unknown"
	}
	return "permanent"
}

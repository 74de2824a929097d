package bot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// newTracing returns a provider that samples every trace and records the
// ended spans in memory, shut down when the test ends.
func newTracing(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	t.Cleanup(func() { require.NoError(t, tp.Shutdown(context.Background())) })
	return tp, exp
}

// spanTree is the ended spans of a test, looked up by name.
type spanTree []tracetest.SpanStub

// waitSpans waits until exp holds n spans called name and returns all it
// holds.
func waitSpans(t *testing.T, exp *tracetest.InMemoryExporter, name string, n int) spanTree {
	t.Helper()
	var spans spanTree
	require.Eventually(t, func() bool {
		spans = spanTree(exp.GetSpans())
		return len(spans.named(name)) >= n
	}, 5*time.Second, time.Millisecond, "%d span(s) %q", n, name)
	return spans
}

func (st spanTree) named(name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range st {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// one returns the only span called name.
func (st spanTree) one(t *testing.T, name string) tracetest.SpanStub {
	t.Helper()
	spans := st.named(name)
	require.Len(t, spans, 1, "spans %q", name)
	return spans[0]
}

func attr(s tracetest.SpanStub, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func attrString(s tracetest.SpanStub, key attribute.Key) string {
	v, _ := attr(s, key)
	return v.AsString()
}

func eventNames(s tracetest.SpanStub) []string {
	var names []string
	for _, e := range s.Events {
		names = append(names, e.Name)
	}
	return names
}

// requireChild checks that child is a span of parent's trace with parent
// as its parent.
func requireChild(t *testing.T, parent, child tracetest.SpanStub) {
	t.Helper()
	require.Equal(t, parent.SpanContext.TraceID(), child.SpanContext.TraceID(), "%s in the trace of %s", child.Name, parent.Name)
	require.Equal(t, parent.SpanContext.SpanID(), child.Parent.SpanID(), "%s is a child of %s", child.Name, parent.Name)
}

// TestTracing_spanTree follows one inbound event through a traced Bot: the
// caller's span → publish → handle (route, owner; the handler's ctx span
// is the handle span, and the handler's own span nests under it) →
// delivery of the reply → one span per attempt, the first refused with a
// retryable error.
func TestTracing_spanTree(t *testing.T) {
	tp, exp := newTracing(t)
	b, fa := newBot(t, bot.WithTracerProvider(tp), bot.WithOutbox(bot.OutboxConfig{BaseBackoff: time.Millisecond}))
	fa.FailNext(&bot.TemporaryError{Err: errors.New("503 service unavailable")})
	handlerSpan := make(chan trace.SpanContext, 1)
	b.Handle(bot.Command("hi"), bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		handlerSpan <- trace.SpanContextFromContext(ctx)
		ctx, span := tp.Tracer("app").Start(ctx, "app.work")
		defer span.End()
		return w.Send(ctx, m.Reply("hello"))
	}))
	bottest.Run(t, b)

	ctx, caller := tp.Tracer("app").Start(t.Context(), "webhook")
	require.NoError(t, fa.Inject(ctx, msg("c1", "e1", "/hi secret words")))
	caller.End()
	fa.WaitSent(t, 1)
	waitSpans(t, exp, bot.SpanHandle, 1) // may end after the delivery's
	spans := waitSpans(t, exp, bot.SpanDeliver, 1)

	webhook := spans.one(t, "webhook")
	publish := spans.one(t, bot.SpanPublish)
	handle := spans.one(t, bot.SpanHandle)
	work := spans.one(t, "app.work")
	deliver := spans.one(t, bot.SpanDeliver)
	attempts := spans.named(bot.SpanAttempt)
	require.Len(t, attempts, 2)

	requireChild(t, webhook, publish)
	requireChild(t, publish, handle)
	requireChild(t, handle, work)
	requireChild(t, work, deliver) // sent from the handler's own span
	for _, a := range attempts {
		requireChild(t, deliver, a)
	}
	assert.Equal(t, handle.SpanContext, <-handlerSpan, "the handler's ctx carries the handle span")

	assert.Equal(t, trace.SpanKindProducer, publish.SpanKind)
	assert.Equal(t, trace.SpanKindConsumer, handle.SpanKind)
	for _, s := range []tracetest.SpanStub{publish, handle} {
		assert.Equal(t, "fake", attrString(s, bot.AttrPlatform), s.Name)
		assert.Equal(t, "c1", attrString(s, bot.AttrConversation), s.Name)
		assert.Equal(t, "e1", attrString(s, bot.AttrMessageID), s.Name)
		assert.Equal(t, "message", attrString(s, bot.AttrKind), s.Name)
	}
	assert.Equal(t, `Command("hi")`, attrString(handle, bot.AttrRoute))
	assert.Equal(t, "bot", attrString(handle, bot.AttrOwner))
	assert.Contains(t, eventNames(handle), "parley.routed")
	assert.Equal(t, codes.Unset, handle.Status.Code)

	assert.Equal(t, "fake:e1:0", attrString(deliver, bot.AttrKey))
	assert.Equal(t, "e1", attrString(deliver, bot.AttrReplyTo))
	assert.Equal(t, "sent", attrString(deliver, bot.AttrOutcome))
	assert.Contains(t, eventNames(deliver), "parley.retry")
	assert.Contains(t, eventNames(work), "parley.queued")

	first, second := attempts[0], attempts[1]
	if n, _ := attr(first, bot.AttrAttempt); n.AsInt64() != 1 {
		first, second = second, first
	}
	n, _ := attr(second, bot.AttrAttempt)
	assert.Equal(t, int64(2), n.AsInt64())
	assert.Equal(t, codes.Error, first.Status.Code)
	assert.Equal(t, "retryable", attrString(first, bot.AttrFailure))
	assert.Contains(t, eventNames(first), "exception")
	assert.Equal(t, codes.Unset, second.Status.Code)

	assert.Zero(t, b.QueuedTraces(), "no trace context is left behind")

	// No span says what the message said.
	for _, s := range spans {
		for _, kv := range s.Attributes {
			assert.NotContains(t, kv.Value.Emit(), "secret", "%s %s", s.Name, kv.Key)
		}
		for _, e := range s.Events {
			for _, kv := range e.Attributes {
				assert.NotContains(t, kv.Value.Emit(), "secret", "%s %s %s", s.Name, e.Name, kv.Key)
			}
		}
	}
}

// TestTracing_outcomes checks what the spans record of a redelivery, a
// failing handler, a dead letter, a rate-limit wait and a suppressed
// reply.
func TestTracing_outcomes(t *testing.T) {
	t.Run("duplicate", func(t *testing.T) {
		tp, exp := newTracing(t)
		b, fa := newBot(t, bot.WithTracerProvider(tp))
		bottest.Run(t, b)
		require.NoError(t, fa.Inject(t.Context(), msg("c1", "e1", "hi")))
		require.NoError(t, fa.Inject(t.Context(), msg("c1", "e1", "hi")))
		spans := waitSpans(t, exp, bot.SpanHandle, 1)
		publishes := spans.named(bot.SpanPublish)
		require.Len(t, publishes, 2)
		_, firstDup := attr(publishes[0], bot.AttrDuplicate)
		dup, _ := attr(publishes[1], bot.AttrDuplicate)
		assert.False(t, firstDup)
		assert.True(t, dup.AsBool())
	})
	t.Run("handler error", func(t *testing.T) {
		tp, exp := newTracing(t)
		b, fa := newBot(t, bot.WithTracerProvider(tp))
		b.NotFound(bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error {
			return errors.New("no luck")
		}))
		bottest.Run(t, b)
		require.NoError(t, fa.Inject(t.Context(), msg("c1", "e1", "hi")))
		handle := waitSpans(t, exp, bot.SpanHandle, 1).one(t, bot.SpanHandle)
		assert.Equal(t, codes.Error, handle.Status.Code)
		assert.Contains(t, handle.Status.Description, "no luck")
		assert.Contains(t, eventNames(handle), "parley.unrouted")
		_, routed := attr(handle, bot.AttrRoute)
		assert.False(t, routed)
	})
	t.Run("dead letter", func(t *testing.T) {
		tp, exp := newTracing(t)
		b, fa := newBot(t, bot.WithTracerProvider(tp))
		fa.FailNext(errors.New("400 bad request"))
		bottest.Run(t, b)
		require.NoError(t, b.Send(t.Context(), out("c1", "k1", "x")))
		spans := waitSpans(t, exp, bot.SpanDeliver, 1)
		deliver := spans.one(t, bot.SpanDeliver)
		attempt := spans.one(t, bot.SpanAttempt)
		requireChild(t, deliver, attempt)
		assert.False(t, deliver.Parent.IsValid(), "a Send without a span starts a trace")
		assert.Equal(t, "dead_lettered", attrString(deliver, bot.AttrOutcome))
		assert.Equal(t, codes.Error, deliver.Status.Code)
		assert.Contains(t, eventNames(deliver), "parley.dead_lettered")
		assert.Equal(t, "permanent", attrString(attempt, bot.AttrFailure))
		letters, err := b.DeadLetters(t.Context())
		require.NoError(t, err)
		require.Len(t, letters, 1)
		for _, e := range deliver.Events {
			if e.Name == "parley.dead_lettered" {
				assert.Contains(t, e.Attributes, bot.AttrDeadLetter.String(letters[0].ID))
			}
		}
	})
	t.Run("rate limit wait", func(t *testing.T) {
		tp, exp := newTracing(t)
		fa := bottest.NewFakeAdapter("fake")
		fa.SetLimits(bot.Limits{Requests: 1, Per: 20 * time.Millisecond})
		b, err := bot.New(bot.WithAdapters(fa), bot.WithLogger(bottest.Logger(t)), bot.WithTracerProvider(tp))
		require.NoError(t, err)
		bottest.Run(t, b)
		require.NoError(t, b.Send(t.Context(), out("c1", "k1", "x")))
		require.NoError(t, b.Send(t.Context(), out("c1", "k2", "y")))
		spans := waitSpans(t, exp, bot.SpanDeliver, 2)
		var waited bool
		for _, a := range spans.named(bot.SpanAttempt) {
			waited = waited || assert.ObjectsAreEqual([]string{"parley.rate_limit_wait"}, eventNames(a))
		}
		assert.True(t, waited, "the second message waited for the token bucket")
	})
	t.Run("skipped key", func(t *testing.T) {
		tp, exp := newTracing(t)
		b, fa := newBot(t, bot.WithTracerProvider(tp))
		bottest.Run(t, b)
		ctx, span := tp.Tracer("app").Start(t.Context(), "app.send")
		require.NoError(t, b.Send(ctx, out("c1", "k1", "x")))
		require.NoError(t, b.Send(ctx, out("c1", "k1", "x"))) // delivered before: skipped
		span.End()
		fa.WaitSent(t, 1)
		require.Eventually(t, func() bool { return b.Stats().SendSkipped == 1 }, 5*time.Second, time.Millisecond)
		deliver := waitSpans(t, exp, bot.SpanDeliver, 1).one(t, bot.SpanDeliver)
		requireChild(t, spanTree(exp.GetSpans()).one(t, "app.send"), deliver)
		assert.Zero(t, b.QueuedTraces(), "no trace context is left behind")
	})
	t.Run("suppressed", func(t *testing.T) {
		tp, exp := newTracing(t)
		b, _ := newBot(t, bot.WithTracerProvider(tp))
		bottest.Run(t, b)
		require.NoError(t, b.Handoff(t.Context(), "fake", "c1"))
		require.NoError(t, b.Send(t.Context(), out("c1", "k1", "x")))
		deliver := waitSpans(t, exp, bot.SpanDeliver, 1).one(t, bot.SpanDeliver)
		assert.Equal(t, "suppressed", attrString(deliver, bot.AttrOutcome))
		assert.Empty(t, spanTree(exp.GetSpans()).named(bot.SpanAttempt))
	})
}

// TestTracing_off checks that a Bot without a TracerProvider, or with a
// no-op one, gives its handlers no span of its own: the caller's span, if
// any, is what the handler's context carries.
func TestTracing_off(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts []bot.Option
	}{
		{name: "none"},
		{name: "nil", opts: []bot.Option{bot.WithTracerProvider(nil)}},
		{name: "noop", opts: []bot.Option{bot.WithTracerProvider(noop.NewTracerProvider())}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, fa := newBot(t, tt.opts...)
			got := make(chan trace.SpanContext, 1)
			b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
				got <- trace.SpanContextFromContext(ctx)
				return nil
			}))
			bottest.Run(t, b)
			require.NoError(t, fa.Inject(t.Context(), msg("c1", "e1", "hi")))
			assert.False(t, (<-got).IsValid())
		})
	}
}

// TestTracing_broker checks the Broker's side: the handle span of
// Worker.HandleContext and the delivery span of Pipeline.Deliver continue
// the trace context in their ctx (what a Broker stored with the message),
// and the handlers' context ends with the ctx given to HandleContext.
func TestTracing_broker(t *testing.T) {
	tp, exp := newTracing(t)
	fa := bottest.NewFakeAdapter("fake")
	br := pipelineBroker{p: make(chan *bot.Pipeline, 1)}
	b, err := bot.New(bot.WithAdapters(fa), bot.WithBroker(br), bot.WithLogger(bottest.Logger(t)), bot.WithTracerProvider(tp))
	require.NoError(t, err)
	started, cancelled := make(chan struct{}), make(chan error, 1)
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		close(started)
		<-ctx.Done()
		cancelled <- ctx.Err()
		return nil
	}))
	bottest.Run(t, b)
	p := <-br.p

	_, stored := tp.Tracer("app").Start(t.Context(), "elsewhere")
	stored.End()
	remote := trace.ContextWithRemoteSpanContext(p.Context(), stored.SpanContext())

	w := p.Worker()
	defer w.Close()
	ctx, cancel := context.WithCancel(remote)
	go func() {
		<-started
		cancel()
	}()
	w.HandleContext(ctx, msg("c1", "e1", "hi"))
	assert.ErrorIs(t, <-cancelled, context.Canceled)

	assert.Equal(t, bot.OutcomeSent, p.Deliver(remote, out("c1", "k1", "x"), time.Time{}))
	waitSpans(t, exp, bot.SpanHandle, 1)
	spans := waitSpans(t, exp, bot.SpanDeliver, 1)
	origin := spans.one(t, "elsewhere")
	requireChild(t, origin, spans.one(t, bot.SpanHandle))
	requireChild(t, origin, spans.one(t, bot.SpanDeliver))
}

package jetstream_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/storage/jetstream"
)

// replicaTracing returns a provider of one replica, recording its spans in
// memory, shut down when the test ends.
func replicaTracing(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	t.Cleanup(func() { require.NoError(t, tp.Shutdown(context.Background())) })
	return tp, exp
}

func spanNamed(spans tracetest.SpanStubs, name string) (tracetest.SpanStub, bool) {
	for _, s := range spans {
		if s.Name == name {
			return s, true
		}
	}
	return tracetest.SpanStub{}, false
}

// An event published by one replica and handled by another is one trace:
// the trace context crosses the inbound stream, and the reply's crosses
// the outbound stream, in the messages' W3C trace context headers.
func TestBroker_traceAcrossReplicas(t *testing.T) {
	srv := startServer(t, t.TempDir())
	_, js := connect(t, srv)
	ctx := t.Context()
	newBroker := func() *jetstream.Broker {
		br, err := jetstream.NewBroker(ctx, js, jetstream.WithBrokerName("TRACE"), jetstream.WithPartitions(2),
			jetstream.WithOutboxLanes(1), jetstream.WithStreamMemoryStorage(), jetstream.WithBrokerLogger(bottest.Logger(t)))
		require.NoError(t, err)
		return br
	}

	// Replica A only publishes: it is not running, so only B consumes.
	tpA, expA := replicaTracing(t)
	faA := bottest.NewFakeAdapter("fake")
	a, err := bot.New(bot.WithAdapters(faA), bot.WithBroker(newBroker()), bot.WithLogger(bottest.Logger(t)),
		bot.WithTracerProvider(tpA))
	require.NoError(t, err)

	tpB, expB := replicaTracing(t)
	faB := bottest.NewFakeAdapter("fake")
	b, err := bot.New(bot.WithAdapters(faB), bot.WithBroker(newBroker()), bot.WithLogger(bottest.Logger(t)),
		bot.WithTracerProvider(tpB), bot.WithShutdownTimeout(5*time.Second))
	require.NoError(t, err)
	handled := make(chan trace.SpanContext, 1)
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		handled <- trace.SpanContextFromContext(ctx)
		return w.Send(ctx, m.Reply("re: "+m.Text))
	}))
	bottest.Run(t, b)

	require.NoError(t, a.Publish(ctx, bottest.NewMessage("hi", bottest.In("fake", "c1"), bottest.WithID("e1"))))
	faB.WaitSent(t, 1)
	var spansB tracetest.SpanStubs
	require.Eventually(t, func() bool {
		spansB = expB.GetSpans()
		_, delivered := spanNamed(spansB, bot.SpanDeliver)
		_, handled := spanNamed(spansB, bot.SpanHandle) // may end after the delivery's
		return delivered && handled
	}, 5*time.Second, time.Millisecond)

	publish, ok := spanNamed(expA.GetSpans(), bot.SpanPublish)
	require.True(t, ok, "replica A's publish span")
	handle, ok := spanNamed(spansB, bot.SpanHandle)
	require.True(t, ok, "replica B's handle span")
	deliver, _ := spanNamed(spansB, bot.SpanDeliver)

	assert.Equal(t, publish.SpanContext.TraceID(), handle.SpanContext.TraceID(), "one trace across the replicas")
	assert.Equal(t, publish.SpanContext.SpanID(), handle.Parent.SpanID())
	assert.True(t, handle.Parent.IsRemote(), "the parent came through the stream")
	assert.Equal(t, handle.SpanContext, <-handled, "the handler's ctx carries the handle span")
	assert.Equal(t, handle.SpanContext.TraceID(), deliver.SpanContext.TraceID(), "the reply crossed the outbound stream in the trace")
	assert.Equal(t, handle.SpanContext.SpanID(), deliver.Parent.SpanID())
	assert.Equal(t, "sent", attrValue(deliver, bot.AttrOutcome))
}

func attrValue(s tracetest.SpanStub, key attribute.Key) string {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

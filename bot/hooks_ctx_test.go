package bot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// The hooks get the context of the step they report: with tracing on, it
// carries the step's span, so that a hook can add to the trace.
func TestHooks_context(t *testing.T) {
	tp, exp := newTracing(t)
	var mu sync.Mutex
	spans := map[string]trace.SpanContext{}
	record := func(name string, ctx context.Context) {
		mu.Lock()
		defer mu.Unlock()
		spans[name] = trace.SpanContextFromContext(ctx)
	}
	fa := bottest.NewFakeAdapter("fake")
	b, err := bot.New(bot.WithAdapters(fa), bot.WithLogger(bottest.Logger(t)), bot.WithTracerProvider(tp),
		bot.WithHooks(bot.Hooks{
			Received: func(ctx context.Context, _ *bot.Message) { record("received", ctx) },
			Handled:  func(ctx context.Context, _ *bot.Message, _ time.Duration, _ error) { record("handled", ctx) },
			Sent:     func(ctx context.Context, _ *bot.Message, _ time.Duration) { record("sent", ctx) },
		}))
	require.NoError(t, err)
	b.HandleFunc(bot.Command("echo"), echo)
	bottest.Run(t, b)
	require.NoError(t, fa.Inject(t.Context(), msg("c1", "m1", "/echo hi")))
	fa.WaitSent(t, 1)
	waitSpans(t, exp, bot.SpanDeliver, 1)
	tree := waitSpans(t, exp, bot.SpanHandle, 1) // it may end after the reply's delivery
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(spans) == 3 }, 5*time.Second, time.Millisecond)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, tree.one(t, bot.SpanPublish).SpanContext.SpanID(), spans["received"].SpanID(), "Received: the publish span")
	assert.Equal(t, tree.one(t, bot.SpanHandle).SpanContext.SpanID(), spans["handled"].SpanID(), "Handled: the handle span")
	assert.Equal(t, tree.one(t, bot.SpanDeliver).SpanContext.SpanID(), spans["sent"].SpanID(), "Sent: the delivery's span")
}

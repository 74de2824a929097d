package bot_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// A Background function runs while the Bot runs, may publish, and has
// returned by the time Run returns.
func TestBackground(t *testing.T) {
	fa := bottest.NewFakeAdapter("")
	b, err := bot.New(bot.WithAdapters(fa), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	var handled atomic.Int32
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		handled.Add(1)
		return nil
	}))
	var returned atomic.Bool
	b.Background(func(ctx context.Context) {
		defer returned.Store(true)
		require.NoError(t, b.Publish(ctx, bottest.NewMessage("from the background")))
		<-ctx.Done()
	})
	b.Background(func(ctx context.Context) { panic("boom") }) // recovered and logged
	stop := bottest.Run(t, b)
	require.Eventually(t, func() bool { return handled.Load() == 1 }, 5*time.Second, time.Millisecond)
	require.False(t, returned.Load())
	require.NoError(t, stop())
	require.True(t, returned.Load(), "Run returned before the background function")
	require.Panics(t, func() { b.Background(func(context.Context) {}) })
	require.Panics(t, func() { b.Background(nil) })
}

// A function given to Background while the Bot runs starts at once, and
// Run waits for it as for the others.
func TestBackground_whileRunning(t *testing.T) {
	b, err := bot.New(bot.WithAdapters(bottest.NewFakeAdapter("")), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	stop := runWithJobs(t, b) // the scheduler starts after the background functions
	started := make(chan struct{})
	var returned atomic.Bool
	b.Background(func(ctx context.Context) {
		close(started)
		<-ctx.Done()
		time.Sleep(20 * time.Millisecond)
		returned.Store(true)
	})
	<-started
	require.NoError(t, stop())
	require.True(t, returned.Load(), "Run returned before the background function")
	require.Panics(t, func() { b.Background(func(context.Context) {}) }, "after Run returned")
}

// RouteOptions applies each of its options: here a priority and a
// middleware on one route.
func TestRouteOptions(t *testing.T) {
	r := bot.NewRouter()
	var order []string
	mw := bot.Middleware(func(next bot.Handler) bot.Handler {
		return bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			order = append(order, "mw")
			return next.HandleMessage(ctx, w, m)
		})
	})
	r.HandleFunc(bot.Always(), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		order = append(order, "low")
		return nil
	})
	r.HandleFunc(bot.Always(), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		order = append(order, "high")
		return nil
	}, bot.RouteOptions(bot.Priority(10), mw))
	require.NoError(t, r.HandleMessage(t.Context(), &bottest.Recorder{}, bottest.NewMessage("x")))
	require.Equal(t, []string{"mw", "high"}, order)
	require.Equal(t, 10, r.Routes()[0].Priority)
	require.Panics(t, func() { bot.RouteOptions(nil) })
}

package bot_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// Handlers and scheduled jobs reach the logger given to WithLogger through
// their context.
func TestLoggerOf_inABot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := slog.New(slog.NewTextHandler(io.Discard, nil))
		fa := bottest.NewFakeAdapter("fake")
		b, err := bot.New(bot.WithAdapters(fa), bot.WithLogger(l))
		require.NoError(t, err)
		handler, job := make(chan *slog.Logger, 1), make(chan *slog.Logger, 1)
		b.NotFound(bot.HandlerFunc(func(ctx context.Context, _ bot.Sender, _ *bot.Message) error {
			handler <- bot.LoggerOf(ctx)
			return nil
		}))
		require.NoError(t, b.Schedule("tick", "@every 1m", bot.JobFunc(func(ctx context.Context, _ bot.Sender) error {
			select {
			case job <- bot.LoggerOf(ctx):
			default:
			}
			return nil
		})))
		stop := bottest.Run(t, b)
		require.NoError(t, fa.Inject(t.Context(), msg("c", "1", "hi")))
		assert.Same(t, l, <-handler)
		time.Sleep(time.Minute)
		assert.Same(t, l, <-job)
		require.NoError(t, stop())
	})
}

// Without WithLogger, handlers get the Bot's default logger, which passes
// Warn and above to slog.Default()'s handler.
func TestLoggerOf_quietDefault(t *testing.T) {
	fa := bottest.NewFakeAdapter("fake")
	b, err := bot.New(bot.WithAdapters(fa))
	require.NoError(t, err)
	got := make(chan *slog.Logger, 1)
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, _ bot.Sender, _ *bot.Message) error {
		got <- bot.LoggerOf(ctx)
		return nil
	}))
	stop := bottest.Run(t, b)
	require.NoError(t, fa.Inject(t.Context(), msg("c", "1", "hi")))
	l := <-got
	require.NoError(t, stop())
	assert.False(t, l.Enabled(t.Context(), slog.LevelInfo))
	assert.True(t, l.Enabled(t.Context(), slog.LevelWarn))
}

func TestLoggerOf_outsideABot(t *testing.T) {
	assert.Same(t, slog.Default(), bot.LoggerOf(t.Context()))
}

package bot_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// A worker keeps its timeout timer pending across messages instead of
// resetting it for each: every message must still get exactly its own
// deadline, whether the timer was left pending by an earlier message (it
// fires early and re-arms) or fired while the worker was idle (the next
// message arms it).
func TestBot_HandlerTimeoutEachMessage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type result struct {
			err     error
			elapsed time.Duration
		}
		got := make(chan result, 1)
		b, fa := newBot(t, bot.WithWorkers(1), bot.WithHandlerTimeout(3*time.Second))
		b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			if m.Text == "fast" {
				return nil
			}
			start := time.Now()
			dl, ok := ctx.Deadline()
			require.True(t, ok)
			assert.Equal(t, start.Add(3*time.Second), dl)
			<-ctx.Done()
			got <- result{ctx.Err(), time.Since(start)}
			return nil
		}))
		stop := bottest.Run(t, b)
		ctx := t.Context()

		// The fast message arms the timer for 3 s from now; the slow one
		// arrives 2 s later and must run its full 3 s.
		require.NoError(t, fa.Inject(ctx, msg("c", "1", "fast")))
		time.Sleep(2 * time.Second)
		require.NoError(t, fa.Inject(ctx, msg("c", "2", "slow")))
		r := <-got
		require.ErrorIs(t, r.err, context.DeadlineExceeded)
		assert.Equal(t, 3*time.Second, r.elapsed)

		// Idle past a timeout: the timer fired with no message in hand.
		require.NoError(t, fa.Inject(ctx, msg("c", "3", "fast")))
		time.Sleep(10 * time.Second)
		require.NoError(t, fa.Inject(ctx, msg("c", "4", "slow")))
		r = <-got
		require.ErrorIs(t, r.err, context.DeadlineExceeded)
		assert.Equal(t, 3*time.Second, r.elapsed)

		// Back to back: a slow message right after a slow one.
		require.NoError(t, fa.Inject(ctx, msg("c", "5", "slow")))
		r = <-got
		require.ErrorIs(t, r.err, context.DeadlineExceeded)
		assert.Equal(t, 3*time.Second, r.elapsed)
		require.NoError(t, stop())
	})
}

package bot_test

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

func out(conv, key, text string) *bot.Message {
	return &bot.Message{Platform: "fake", Conversation: conv, Key: key, Text: text}
}

// untilSent advances fake time in 1ms steps until fa has delivered n
// messages and returns how much fake time that took. Call it only inside a
// synctest bubble.
func untilSent(t *testing.T, fa *bottest.FakeAdapter, n int) time.Duration {
	t.Helper()
	start := time.Now()
	for len(fa.Sent()) < n {
		if time.Since(start) > time.Hour {
			t.Fatalf("%d message(s) sent after an hour of fake time, want %d", len(fa.Sent()), n)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
	}
	return time.Since(start)
}

func TestOutbox_RetriesTransientFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, fa := newBot(t, bot.WithOutbox(bot.OutboxConfig{BaseBackoff: time.Second, MaxBackoff: 8 * time.Second}))
		fa.FailNext(&bot.TemporaryError{Err: errors.New("503 service unavailable")},
			&bot.TemporaryError{Err: errors.New("502 bad gateway")})
		bottest.Run(t, b)
		require.NoError(t, b.Send(t.Context(), out("c", "k1", "hello")))
		elapsed := untilSent(t, fa, 1)
		assert.Equal(t, "hello", fa.Sent()[0].Text)
		assert.Equal(t, 3, fa.Attempts())
		// Backoff with equal jitter: the first wait is in [0.5s, 1s], the
		// second in [1s, 2s].
		assert.GreaterOrEqual(t, elapsed, 1500*time.Millisecond)
		assert.LessOrEqual(t, elapsed, 3*time.Second)
		assert.Equal(t, int64(2), b.Stats().Retries)
	})
}

func TestOutbox_HonoursRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, fa := newBot(t, bot.WithOutbox(bot.OutboxConfig{MaxRetryAfter: time.Minute}))
		fa.FailNext(&bot.RateLimitError{Platform: "fake", RetryAfter: 17 * time.Second})
		bottest.Run(t, b)
		require.NoError(t, b.Send(t.Context(), out("c", "k1", "slowly")))
		synctest.Wait() // refused, now waiting
		time.Sleep(17*time.Second - time.Nanosecond)
		synctest.Wait()
		assert.Empty(t, fa.Sent(), "nothing before Retry-After")
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		assert.Len(t, fa.Sent(), 1, "sent right at Retry-After")
	})
}

func TestOutbox_RetryAfterIsCapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, fa := newBot(t, bot.WithOutbox(bot.OutboxConfig{MaxRetryAfter: 5 * time.Second}))
		fa.FailNext(&bot.RateLimitError{Platform: "fake", RetryAfter: time.Hour})
		bottest.Run(t, b)
		require.NoError(t, b.Send(t.Context(), out("c", "k1", "x")))
		synctest.Wait()
		assert.Equal(t, 5*time.Second, untilSent(t, fa, 1).Round(10*time.Millisecond))
	})
}

func TestOutbox_RateLimitPausesTheWholePlatform(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, fa := newBot(t, bot.WithOutbox(bot.OutboxConfig{Workers: 4}))
		fa.FailNext(&bot.RateLimitError{Platform: "fake", RetryAfter: 10 * time.Second})
		bottest.Run(t, b)
		start := time.Now()
		require.NoError(t, b.Send(t.Context(), out("a", "k1", "first")))
		synctest.Wait() // the 429 has been answered
		for i := range 8 {
			require.NoError(t, b.Send(t.Context(), out("conv-"+strconv.Itoa(i), "k-"+strconv.Itoa(i), "x")))
		}
		untilSent(t, fa, 9)
		assert.GreaterOrEqual(t, time.Since(start), 10*time.Second, "no lane sends during the pause")
		assert.Equal(t, 10, fa.Attempts(), "exactly one request was refused")
	})
}

func TestOutbox_DeadLetterAndReplay(t *testing.T) {
	var reported atomic.Pointer[bot.DeliveryError]
	b, fa := newBot(t, bot.WithErrorHandler(func(_ context.Context, err error) {
		if de, ok := errors.AsType[*bot.DeliveryError](err); ok {
			reported.Store(de)
		}
	}))
	fa.FailNext(errors.New("400 invalid phone"))
	bottest.Run(t, b)
	require.NoError(t, b.Send(t.Context(), out("c", "k-dead", "undeliverable")))
	// The error hook runs after the letter is listed.
	require.Eventually(t, func() bool { return reported.Load() != nil }, 5*time.Second, time.Millisecond)

	require.Len(t, b.DeadLetters(), 1)
	dl := b.DeadLetters()[0]
	assert.Equal(t, "undeliverable", dl.Message.Text)
	assert.Equal(t, 1, dl.Attempts, "a permanent error is not retried")
	assert.EqualError(t, dl.Err, "400 invalid phone")
	de := reported.Load()
	require.NotNil(t, de)
	assert.Equal(t, dl.ID, de.ID)
	assert.Equal(t, "k-dead", de.Key)
	assert.Equal(t, int64(1), b.Stats().DeadLettered)

	assert.ErrorIs(t, b.Replay(t.Context(), "no-such-id"), bot.ErrNotFound)
	require.NoError(t, b.Replay(t.Context(), dl.ID))
	sent := fa.WaitSent(t, 1)
	assert.Equal(t, "undeliverable", sent[0].Text)
	assert.Empty(t, b.DeadLetters())
}

func TestOutbox_GivesUpAfterMaxAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, fa := newBot(t, bot.WithOutbox(bot.OutboxConfig{MaxAttempts: 3, BaseBackoff: time.Millisecond}))
		tmp := &bot.TemporaryError{Err: errors.New("503")}
		fa.FailNext(tmp, tmp, tmp, tmp)
		bottest.Run(t, b)
		require.NoError(t, b.Send(t.Context(), out("c", "k", "x")))
		synctest.Wait()
		time.Sleep(time.Second)
		synctest.Wait()
		require.Len(t, b.DeadLetters(), 1)
		assert.Equal(t, 3, b.DeadLetters()[0].Attempts)
		assert.Equal(t, 3, fa.Attempts())
		assert.True(t, b.Discard(b.DeadLetters()[0].ID))
		assert.Empty(t, b.DeadLetters())
	})
}

func TestOutbox_KeyNeverSentTwice(t *testing.T) {
	b, fa := newBot(t)
	bottest.Run(t, b)
	for range 3 {
		require.NoError(t, b.Send(t.Context(), out("c", "same-key", "once")))
	}
	require.NoError(t, b.Send(t.Context(), out("c", "other-key", "marker")))
	sent := fa.WaitSent(t, 2)
	require.Eventually(t, func() bool { return b.Stats().SendSkipped == 2 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, []string{"once", "marker"}, []string{sent[0].Text, sent[1].Text})
	assert.Len(t, fa.Sent(), 2)
}

// A redelivered inbound event whose first handling already replied (for
// example after a crash, with a durable store) does not reply again: the
// reply keys are derived from the event.
func TestOutbox_ReplyKeysSurviveRedelivery(t *testing.T) {
	store := bot.NewMemoryStore()
	run := func(dedupTTL time.Duration) *bottest.FakeAdapter {
		fa := bottest.NewFakeAdapter("fake")
		b, err := bot.New(bot.WithAdapters(fa), bot.WithStore(store), bot.WithLogger(bottest.Logger(t)), bot.WithDedupTTL(dedupTTL))
		require.NoError(t, err)
		b.NotFound(bot.HandlerFunc(echo))
		stop := bottest.Run(t, b)
		require.NoError(t, fa.Inject(t.Context(), msg("c", "evt-1", "hi")))
		require.Eventually(t, func() bool { return b.Stats().Handled == 1 }, 5*time.Second, time.Millisecond)
		require.NoError(t, stop())
		return fa
	}
	first := run(time.Hour)
	assert.Len(t, first.Sent(), 1)
	// Forget the inbound ID as if the dedup entry had been lost.
	require.NoError(t, store.Delete(t.Context(), "dedup:fake:evt-1"))
	second := run(time.Hour)
	assert.Empty(t, second.Sent(), "the reply key was already delivered")
}

func TestOutbox_RateLimitedByDeclaredLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fa := bottest.NewFakeAdapter("fake")
		fa.SetLimits(bot.Limits{Requests: 60, Per: time.Minute, Burst: 1})
		b, err := bot.New(bot.WithAdapters(fa), bot.WithLogger(bottest.Logger(t)))
		require.NoError(t, err)
		bottest.Run(t, b)
		for i := range 11 {
			require.NoError(t, b.Send(t.Context(), out("c"+strconv.Itoa(i), "", "x")))
		}
		assert.Equal(t, 10*time.Second, untilSent(t, fa, 11).Round(10*time.Millisecond),
			"60/min with burst 1 is one message a second")
	})
}

func TestOutbox_UnknownOutcomeIsNotRetried(t *testing.T) {
	b, fa := newBot(t)
	fa.FailNext(context.DeadlineExceeded)
	bottest.Run(t, b)
	require.NoError(t, b.Send(t.Context(), out("c", "k", "maybe sent")))
	require.Eventually(t, func() bool { return len(b.DeadLetters()) == 1 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, 1, fa.Attempts())
}

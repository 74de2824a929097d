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

	require.Len(t, deadLetters(t, b), 1)
	dl := deadLetters(t, b)[0]
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
	assert.Empty(t, deadLetters(t, b))
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
		require.Len(t, deadLetters(t, b), 1)
		assert.Equal(t, 3, deadLetters(t, b)[0].Attempts)
		assert.Equal(t, 3, fa.Attempts())
		assert.NoError(t, b.Discard(t.Context(), deadLetters(t, b)[0].ID))
		assert.Empty(t, deadLetters(t, b))
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
// example to a Bot restarted on a durable store) does not reply again: its
// deduplication entry outlives the platform's redelivery window, so it is
// not handled again.
func TestOutbox_RedeliveryDoesNotReplyAgain(t *testing.T) {
	store := bot.NewMemoryStore()
	run := func() (*bot.Bot, *bottest.FakeAdapter) {
		fa := bottest.NewFakeAdapter("fake")
		b, err := bot.New(bot.WithAdapters(fa), bot.WithStore(store), bot.WithLogger(bottest.Logger(t)))
		require.NoError(t, err)
		b.NotFound(bot.HandlerFunc(echo))
		stop := bottest.Run(t, b)
		require.NoError(t, fa.Inject(t.Context(), msg("c", "evt-1", "hi")))
		require.Eventually(t, func() bool { return b.Stats().Handled+b.Stats().Duplicates == 1 }, 5*time.Second, time.Millisecond)
		require.NoError(t, stop())
		return b, fa
	}
	_, first := run()
	assert.Len(t, first.Sent(), 1)
	b, second := run()
	assert.Empty(t, second.Sent(), "the event was answered before")
	assert.Equal(t, int64(1), b.Stats().Duplicates)
}

// Keys the Bot mints are unique by construction and take no claim in the
// store: a reply's key is covered by its event's deduplication entry, a
// generated key by the Bot's own sequence. A key the caller chose is
// claimed, since it may come again.
func TestOutbox_MintedKeysTakeNoClaim(t *testing.T) {
	keys := bot.NewMemoryStore()
	b, fa := newBot(t, bot.WithKeyStore(keys))
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		if err := w.Send(ctx, m.Reply("one")); err != nil {
			return err
		}
		return w.Send(ctx, m.Reply("two"))
	}))
	bottest.Run(t, b)
	const events = 10
	for i := range events {
		require.NoError(t, fa.Inject(t.Context(), msg("c", "evt-"+strconv.Itoa(i), "hi")))
	}
	require.NoError(t, b.Send(t.Context(), &bot.Message{Platform: "fake", Conversation: "c", Text: "generated"}))
	sent := fa.WaitSent(t, 2*events+1)
	seen := map[string]bool{}
	for _, m := range sent {
		assert.NotEmpty(t, m.Key)
		assert.False(t, seen[m.Key], "key %q minted twice", m.Key)
		seen[m.Key] = true
	}
	assert.True(t, seen["fake:evt-0:1"], "a reply's key is its event and its index")
	assert.Equal(t, events, keys.Len(), "one deduplication entry per event and no claims")

	require.NoError(t, b.Send(t.Context(), out("c", "chosen", "mine")))
	fa.WaitSent(t, 2*events+2)
	assert.Equal(t, events+1, keys.Len(), "a chosen key is claimed")
}

// A message sent again after the Bot gave it a key (the same *Message, or
// a copy of it) is recognized and not delivered twice.
func TestOutbox_MessageSentAgainIsSkipped(t *testing.T) {
	b, fa := newBot(t)
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		r := m.Reply("reply")
		if err := w.Send(ctx, r); err != nil {
			return err
		}
		again := *r
		if err := w.Send(ctx, &again); err != nil {
			return err
		}
		return w.Send(ctx, r)
	}))
	bottest.Run(t, b)
	require.NoError(t, fa.Inject(t.Context(), msg("c", "evt-1", "hi")))
	g := &bot.Message{Platform: "fake", Conversation: "c", Text: "generated"}
	require.NoError(t, b.Send(t.Context(), g))
	require.NoError(t, b.Send(t.Context(), g))
	require.Eventually(t, func() bool { return b.Stats().SendSkipped == 3 }, 5*time.Second, time.Millisecond)
	require.NoError(t, b.Send(t.Context(), out("c", "marker", "marker")))
	fa.WaitSent(t, 3)
	var texts []string
	for _, m := range fa.Sent() {
		texts = append(texts, m.Text)
	}
	assert.ElementsMatch(t, []string{"reply", "generated", "marker"}, texts)
}

// A message that could not be queued keeps the key the Bot gave it, and
// sending it again sends it under that key, claimed in the store as a key
// of the caller's, so that it is delivered once however often it is sent.
func TestOutbox_UnqueuedMessageCanBeSentAgain(t *testing.T) {
	keys := bot.NewMemoryStore()
	b, fa := newBot(t, bot.WithKeyStore(keys), bot.WithOutbox(bot.OutboxConfig{Workers: 1, QueueSize: 1}))
	require.NoError(t, b.Send(t.Context(), out("c", "first", "first"))) // fills the lane before Run
	m := &bot.Message{Platform: "fake", Conversation: "c", Text: "second"}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, b.Send(ctx, m), bot.ErrBusy)
	key := m.Key
	assert.NotEmpty(t, key)
	bottest.Run(t, b)
	require.NoError(t, b.Send(t.Context(), m))
	sent := fa.WaitSent(t, 2)
	assert.Equal(t, []string{"first", "second"}, []string{sent[0].Text, sent[1].Text})
	assert.Equal(t, key, sent[1].Key)
	assert.Equal(t, int64(0), b.Stats().SendSkipped)
	assert.Equal(t, 2, keys.Len(), "both keys claimed")

	require.NoError(t, b.Send(t.Context(), m))
	require.Eventually(t, func() bool { return b.Stats().SendSkipped == 1 }, 5*time.Second, time.Millisecond)
	assert.Len(t, fa.Sent(), 2)
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
	require.Eventually(t, func() bool { return len(deadLetters(t, b)) == 1 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, 1, fa.Attempts())
}

var errUnreachable = errors.New("store unreachable")

// unreachableStore is a MemoryStore whose next failures reads fail, as a
// store across the network does while its server restarts.
type unreachableStore struct {
	*bot.MemoryStore
	failures atomic.Int32
}

func (s *unreachableStore) Get(ctx context.Context, key string) ([]byte, error) {
	if s.failures.Add(-1) >= 0 {
		return nil, errUnreachable
	}
	return s.MemoryStore.Get(ctx, key)
}

// The ownership re-check before a send outlasts a store that cannot be
// reached for a while: the read is retried with backoff, and only a store
// that stays away for MaxAttempts reads makes a dead letter.
func TestOutbox_OwnerReadRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &unreachableStore{MemoryStore: bot.NewMemoryStore()}
		st.failures.Store(3)
		b, fa := newBot(t, bot.WithStore(st), bot.WithOutbox(bot.OutboxConfig{MaxAttempts: 4, BaseBackoff: time.Second}))
		bottest.Run(t, b)
		require.NoError(t, b.Send(t.Context(), out("c", "k1", "hello")))
		took := untilSent(t, fa, 1)
		assert.GreaterOrEqual(t, took, 3500*time.Millisecond, "three backoffs of at least 0.5, 1 and 2 s")
		assert.Equal(t, int64(3), b.Stats().Retries)
		assert.Empty(t, deadLetters(t, b))

		st.failures.Store(4)
		require.NoError(t, b.Send(t.Context(), out("c", "k2", "lost")))
		time.Sleep(time.Minute)
		synctest.Wait()
		require.Len(t, deadLetters(t, b), 1)
		assert.ErrorIs(t, deadLetters(t, b)[0].Err, errUnreachable)
		assert.Equal(t, 0, deadLetters(t, b)[0].Attempts, "nothing was sent")
		assert.Len(t, fa.Sent(), 1)
	})
}

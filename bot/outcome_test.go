package bot_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// errReset is what a client sees when the connection breaks after its
// request was written: the platform may or may not have acted on it.
var errReset = &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}

// A send whose outcome is unknown is not given up: a Confirmer is asked
// whether the platform has the message, which is sent again only when it
// does not; without a Confirmer the message goes to the dead letters with
// ErrOutcomeUnknown rather than risk arriving twice.
func TestOutbox_UnknownOutcome(t *testing.T) {
	tests := []struct {
		name      string
		confirmer bool
		has       bool // the platform acted on the broken request
		errs      []error
		wantSent  int
		wantAsked int32
		wantDead  error
	}{
		{name: "reset, platform has it", confirmer: true, has: true, errs: []error{errReset}, wantAsked: 1},
		{name: "reset, platform lacks it", confirmer: true, errs: []error{errReset}, wantSent: 1, wantAsked: 1},
		{name: "timeout, platform lacks it", confirmer: true, errs: []error{&net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}},
			wantSent: 1, wantAsked: 1},
		{name: "two resets, then sent", confirmer: true, errs: []error{errReset, errReset}, wantSent: 1, wantAsked: 2},
		{name: "dial refused: nothing sent, no need to ask", confirmer: true,
			errs: []error{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}, wantSent: 1},
		{name: "no Confirmer", errs: []error{errReset}, wantDead: bot.ErrOutcomeUnknown},
		// A 5xx answer to a send may come after the platform acted: a
		// Confirmer is asked; without one it is retried, as the platform
		// did not say it acted.
		{name: "5xx answer, platform has it", confirmer: true, has: true, errs: []error{answer5xx{}}, wantAsked: 1},
		{name: "5xx answer, platform lacks it", confirmer: true, errs: []error{answer5xx{}}, wantSent: 1, wantAsked: 1},
		{name: "5xx answer, no Confirmer", errs: []error{answer5xx{}}, wantSent: 1},
		{name: "TemporaryError: nothing was done, no need to ask", confirmer: true,
			errs: []error{&bot.TemporaryError{Err: errors.New("refused before acting")}}, wantSent: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fa := bottest.NewFakeAdapter("fake")
				var adapter bot.Adapter = fa
				ca := &confirmingAdapter{FakeAdapter: fa, has: map[string]bool{"k1": tt.has}}
				if tt.confirmer {
					adapter = ca
				}
				b, err := bot.New(bot.WithAdapters(adapter), bot.WithLogger(bottest.Logger(t)),
					bot.WithOutbox(bot.OutboxConfig{BaseBackoff: 100 * time.Millisecond}))
				require.NoError(t, err)
				fa.FailNext(tt.errs...)
				bottest.Run(t, b)
				before := time.Now()
				require.NoError(t, b.Send(t.Context(), out("c", "k1", "hello")))
				time.Sleep(time.Minute)
				synctest.Wait()

				assert.Len(t, fa.Sent(), tt.wantSent, "messages the platform got from a retry")
				assert.Equal(t, tt.wantAsked, ca.asked.Load(), "Delivered calls")
				if s := ca.since.Load(); tt.wantAsked > 0 && assert.NotNil(t, s, "Delivered asked") {
					assert.False(t, s.Before(before), "Delivered is asked about the broken attempt, not earlier")
				}
				if tt.wantDead != nil {
					dl, err := b.DeadLetters(t.Context())
					require.NoError(t, err)
					require.Len(t, dl, 1)
					assert.ErrorIs(t, dl[0].Err, tt.wantDead)
					assert.ErrorIs(t, dl[0].Err, syscall.ECONNRESET, "the transport error is kept")
					return
				}
				dl, err := b.DeadLetters(t.Context())
				require.NoError(t, err)
				assert.Empty(t, dl)
				if tt.has {
					assert.Equal(t, int64(1), b.Stats().Confirmed)
				}
			})
		})
	}
}

// answer5xx is a platform's 5xx answer as an adapter types it: an error
// whose Temporary method reports true.
type answer5xx struct{}

func (answer5xx) Error() string   { return "502 bad gateway" }
func (answer5xx) Temporary() bool { return true }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// Waiting for the platform's rate limit is not a failed attempt: nine 429s
// in a row do not use up MaxAttempts, and the message is sent once the
// platform takes it. The wait is bounded by MaxRateLimitWait instead.
func TestOutbox_RateLimitIsNotAnAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, fa := newBot(t, bot.WithOutbox(bot.OutboxConfig{MaxAttempts: 3}))
		rl := &bot.RateLimitError{Platform: "fake", RetryAfter: time.Second}
		fa.FailNext(rl, rl, rl, rl, rl, rl, rl, rl, rl)
		bottest.Run(t, b)
		require.NoError(t, b.Send(t.Context(), out("c", "k1", "patiently")))
		elapsed := untilSent(t, fa, 1)
		assert.Equal(t, 10, fa.Attempts())
		assert.Equal(t, 9*time.Second, elapsed.Round(100*time.Millisecond))
		dl, err := b.DeadLetters(t.Context())
		require.NoError(t, err)
		assert.Empty(t, dl)
	})
}

func TestOutbox_RateLimitWaitIsBoundedByTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, fa := newBot(t, bot.WithOutbox(bot.OutboxConfig{MaxRateLimitWait: 10 * time.Second}))
		rl := &bot.RateLimitError{Platform: "fake", RetryAfter: 3 * time.Second}
		fa.FailNext(rl, rl, rl, rl, rl, rl, rl, rl)
		bottest.Run(t, b)
		start := time.Now()
		require.NoError(t, b.Send(t.Context(), out("c", "k1", "too slow")))
		time.Sleep(time.Minute)
		synctest.Wait()
		assert.Empty(t, fa.Sent())
		dl, err := b.DeadLetters(t.Context())
		require.NoError(t, err)
		require.Len(t, dl, 1)
		var got *bot.RateLimitError
		require.ErrorAs(t, dl[0].Err, &got)
		// Three waits of 3s fit in 10s; the fourth would not.
		assert.Equal(t, 4, fa.Attempts())
		assert.Equal(t, 9*time.Second, dl[0].Time.Sub(start).Round(100*time.Millisecond))
		assert.Equal(t, 0, dl[0].Attempts, "rate-limited requests are not attempts")
	})
}

// deadLetters returns b's dead letters.
func deadLetters(t *testing.T, b *bot.Bot) []bot.DeadLetter {
	t.Helper()
	dl, err := b.DeadLetters(context.Background())
	require.NoError(t, err)
	return dl
}

// A reply that meets a full lane until the handler's time is up is not
// lost: it goes to the dead letters, counted, and Replay delivers it once
// the platform recovers. Send's error says so.
func TestOutbox_FullLaneDeadLettersTheReply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, fa := newBot(t, bot.WithHandlerTimeout(time.Second),
			bot.WithOutbox(bot.OutboxConfig{Workers: 1, QueueSize: 1, MaxAttempts: 2, BaseBackoff: time.Minute, MaxBackoff: time.Minute}))
		sendErrs := make(chan error, 3)
		b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			err := w.Send(ctx, m.Reply(m.Text))
			sendErrs <- err
			return err
		}))
		// The platform fails the first send and keeps the lane busy
		// backing off for a minute.
		fa.FailNext(&bot.TemporaryError{Err: errors.New("503")})
		bottest.Run(t, b)
		for i, text := range []string{"one", "two", "three"} {
			require.NoError(t, fa.Inject(t.Context(), msg("c", strconv.Itoa(i), text)))
		}
		// "one" is being retried, "two" fills the lane, "three" waits for
		// room until the handler's second is up.
		var errs []error
		for range 3 {
			errs = append(errs, <-sendErrs)
		}
		require.NoError(t, errs[0])
		require.NoError(t, errs[1])
		require.ErrorIs(t, errs[2], bot.ErrBusy)
		var de *bot.DeliveryError
		require.ErrorAs(t, errs[2], &de, "the error names the dead letter")

		dl := deadLetters(t, b)
		require.Len(t, dl, 1)
		assert.Equal(t, de.ID, dl[0].ID)
		assert.Equal(t, "three", dl[0].Message.Text)
		assert.Equal(t, int64(1), b.Stats().DeadLettered)

		untilSent(t, fa, 2) // the platform recovers
		require.NoError(t, b.Replay(t.Context(), dl[0].ID))
		untilSent(t, fa, 3)
		var texts []string
		for _, m := range fa.Sent() {
			texts = append(texts, m.Text)
		}
		assert.Equal(t, []string{"one", "two", "three"}, texts, "each reply once")
		assert.Equal(t, int64(1), b.Stats().Replayed)
		assert.Empty(t, deadLetters(t, b))
	})
}

// The last attempt can end with its outcome unknown too. A Confirmer is
// asked before the message is given up: a message the platform has is
// delivered, not dead-lettered (a Replay of the letter would send it a
// second time), and one it lacks goes to the dead letters with the
// transport error, not as of unknown outcome: replaying it is safe.
func TestOutbox_UnknownOutcomeOnLastAttempt(t *testing.T) {
	tests := []struct {
		name        string
		maxAttempts int
		errs        []error
		has         bool
		wantAsked   int32
	}{
		{name: "one attempt, platform has it", maxAttempts: 1, errs: []error{errReset}, has: true, wantAsked: 1},
		{name: "one attempt, platform lacks it", maxAttempts: 1, errs: []error{errReset}, wantAsked: 1},
		{name: "three attempts, platform lacks it", maxAttempts: 3, errs: []error{errReset, errReset, errReset}, wantAsked: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fa := bottest.NewFakeAdapter("fake")
				ca := &confirmingAdapter{FakeAdapter: fa, has: map[string]bool{"k1": tt.has}}
				b, err := bot.New(bot.WithAdapters(ca), bot.WithLogger(bottest.Logger(t)),
					bot.WithOutbox(bot.OutboxConfig{MaxAttempts: tt.maxAttempts, BaseBackoff: 100 * time.Millisecond}))
				require.NoError(t, err)
				fa.FailNext(tt.errs...)
				bottest.Run(t, b)
				require.NoError(t, b.Send(t.Context(), out("c", "k1", "hello")))
				time.Sleep(time.Minute)
				synctest.Wait()

				assert.Equal(t, tt.wantAsked, ca.asked.Load(), "Delivered calls")
				assert.Empty(t, fa.Sent(), "never sent once more than MaxAttempts")
				dl := deadLetters(t, b)
				if tt.has {
					assert.Empty(t, dl)
					assert.Equal(t, int64(1), b.Stats().Confirmed)
					return
				}
				require.Len(t, dl, 1)
				assert.NotErrorIs(t, dl[0].Err, bot.ErrOutcomeUnknown, "the platform said it lacks the message")
				assert.ErrorIs(t, dl[0].Err, syscall.ECONNRESET)
				assert.Equal(t, tt.maxAttempts, dl[0].Attempts)
			})
		})
	}
}

// hangingAdapter is a FakeAdapter whose Send hangs until its ctx ends, as
// a send to a platform that does not answer does.
type hangingAdapter struct {
	*bottest.FakeAdapter
	hung chan struct{} // closed when a Send hangs
	once sync.Once
}

func (a *hangingAdapter) Send(ctx context.Context, _ *bot.Message) (bot.SendResult, error) {
	a.once.Do(func() { close(a.hung) })
	<-ctx.Done()
	return bot.SendResult{}, ctx.Err()
}

// A dead letter that may be on the platform already says so: its error
// wraps ErrOutcomeUnknown whenever nobody could tell whether the platform
// has the message — no Confirmer, a Confirmer that cannot tell, a send cut
// short by the shutdown deadline — so that whoever replays it knows that
// it may arrive twice. A letter the platform is known to lack does not.
func TestOutbox_DeadLetterOfUnknownOutcomeSaysSo(t *testing.T) {
	t.Run("Confirmer cannot tell", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fa := bottest.NewFakeAdapter("fake")
			ca := &confirmingAdapter{FakeAdapter: fa, has: map[string]bool{}, errs: []error{errCannotTell}}
			b, err := bot.New(bot.WithAdapters(ca), bot.WithLogger(bottest.Logger(t)))
			require.NoError(t, err)
			fa.FailNext(errReset)
			bottest.Run(t, b)
			require.NoError(t, b.Send(t.Context(), out("c", "k1", "hello")))
			time.Sleep(time.Minute)
			synctest.Wait()
			dl := deadLetters(t, b)
			require.Len(t, dl, 1)
			assert.ErrorIs(t, dl[0].Err, bot.ErrOutcomeUnknown)
			assert.ErrorIs(t, dl[0].Err, errCannotTell)
			assert.ErrorIs(t, dl[0].Err, syscall.ECONNRESET)
		})
	})
	t.Run("send cut short by the shutdown deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ha := &hangingAdapter{FakeAdapter: bottest.NewFakeAdapter("fake"), hung: make(chan struct{})}
			b, err := bot.New(bot.WithAdapters(ha), bot.WithLogger(bottest.Logger(t)), bot.WithShutdownTimeout(time.Second))
			require.NoError(t, err)
			stop := bottest.Run(t, b)
			require.NoError(t, b.Send(t.Context(), out("c", "k1", "hello")))
			<-ha.hung
			require.NoError(t, stop())
			dl := deadLetters(t, b)
			require.Len(t, dl, 1)
			assert.ErrorIs(t, dl[0].Err, bot.ErrOutcomeUnknown)
		})
	})
}

package bot_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// reads is a FakeAdapter that counts the reads of its platform's switch and
// can make them fail.
type reads struct {
	*bottest.FakeAdapter
	n    atomic.Int64
	fail atomic.Pointer[error]
	gate atomic.Pointer[chan struct{}] // when set, a read answers once it is closed
}

func (r *reads) Owner(ctx context.Context, conversation string) (bot.Owner, error) {
	r.n.Add(1)
	if err := r.fail.Load(); err != nil {
		return bot.OwnerUnset, *err
	}
	o, err := r.FakeAdapter.Owner(ctx, conversation)
	if g := r.gate.Load(); g != nil {
		<-*g
	}
	return o, err
}

func newReadsBot(t *testing.T, opts ...bot.Option) (*bot.Bot, *reads) {
	t.Helper()
	r := &reads{FakeAdapter: bottest.NewFakeAdapter("fake")}
	b, err := bot.New(append([]bot.Option{bot.WithAdapters(r), bot.WithLogger(bottest.Logger(t))}, opts...)...)
	require.NoError(t, err)
	b.NotFound(bot.HandlerFunc(echo))
	return b, r
}

// A platform signal that would change the owner is checked against the
// platform's switch first: a takeover the platform does not show (a forged
// or stale webhook) does not silence the bot, and a return to the bot it
// does not show does not make the bot talk over the humans.
func TestOwnership_SignalCheckedAgainstPlatform(t *testing.T) {
	b, fa := newReadsBot(t)
	bottest.Run(t, b)
	ctx := t.Context()

	// Published directly: the platform's switch did not change.
	agent := msg("c", "1", "I am an agent, honest")
	agent.Author.Agent, agent.Owner = true, bot.OwnerHuman
	require.NoError(t, b.Publish(ctx, agent))
	require.NoError(t, fa.Inject(ctx, msg("c", "2", "hi")))
	sent := fa.WaitSent(t, 2)
	assert.Equal(t, "hi", sent[1].Text)
	assert.Equal(t, bot.OwnerBot, owner(t, b, "c"))

	require.NoError(t, b.Handoff(ctx, "fake", "d"))
	on := bottest.NewMessage("", bottest.In("fake", "d"), bottest.WithID("3"), bottest.WithKind(bot.KindOwnership), bottest.WithOwner(bot.OwnerBot))
	require.NoError(t, b.Publish(ctx, on))
	require.NoError(t, fa.Inject(ctx, msg("d", "4", "anyone?")))
	require.Eventually(t, func() bool { return b.Stats().Handled == 4 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, bot.OwnerHuman, owner(t, b, "d"))
	assert.Len(t, fa.Sent(), 2, "the humans keep the conversation")

	// Signals the platform shows are applied.
	require.NoError(t, fa.SetOwner(ctx, "c", bot.OwnerHuman))
	agent = msg("c", "5", "Marko here")
	agent.Author.Agent, agent.Owner = true, bot.OwnerHuman
	require.NoError(t, b.Publish(ctx, agent))
	require.Eventually(t, func() bool { return owner(t, b, "c") == bot.OwnerHuman }, 5*time.Second, time.Millisecond)
	assert.Equal(t, int64(3), fa.n.Load(), "one read per signal that would change the owner; the message in d uses the reading of its signal")
}

// When the platform's switch cannot be read, a signal that humans took over
// is applied (silence is the safe side) and one that hands the
// conversation back to the bot is not; the failure is reported.
func TestOwnership_SignalWhenPlatformUnreadable(t *testing.T) {
	var (
		mu       sync.Mutex
		reported []error
	)
	b, fa := newReadsBot(t, bot.WithErrorHandler(func(_ context.Context, err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}))
	bottest.Run(t, b)
	ctx := t.Context()
	broken := errors.New("status endpoint: 500")
	fa.fail.Store(&broken)

	off := bottest.NewMessage("", bottest.In("fake", "c"), bottest.WithID("1"), bottest.WithKind(bot.KindOwnership), bottest.WithOwner(bot.OwnerHuman))
	require.NoError(t, b.Publish(ctx, off))
	require.Eventually(t, func() bool { return owner(t, b, "c") == bot.OwnerHuman }, 5*time.Second, time.Millisecond)
	on := bottest.NewMessage("", bottest.In("fake", "c"), bottest.WithID("2"), bottest.WithKind(bot.KindOwnership), bottest.WithOwner(bot.OwnerBot))
	require.NoError(t, b.Publish(ctx, on))
	require.Eventually(t, func() bool { return b.Stats().Handled == 2 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, bot.OwnerHuman, owner(t, b, "c"))
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, reported)
	assert.ErrorIs(t, reported[0], broken)
}

// A message in a conversation the Bot records as human-owned makes it read
// the platform's switch, at most once per recheck interval: after the
// dashboard switched the platform's automation back on, the bot answers.
func TestOwnership_PlatformSwitchReadOnMessage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, fa := newReadsBot(t, bot.WithOwnerRecheck(time.Minute), bot.WithOwnerSweep(0))
		bottest.Run(t, b)
		ctx := t.Context()
		require.NoError(t, b.Handoff(ctx, "fake", "c"))

		require.NoError(t, fa.Inject(ctx, msg("c", "1", "hello?")))
		require.NoError(t, fa.Inject(ctx, msg("c", "2", "hello??")))
		synctest.Wait()
		assert.Empty(t, fa.Sent())
		assert.Equal(t, int64(1), fa.n.Load(), "read once within the interval")

		// The dashboard switches the automation on; no event says so.
		require.NoError(t, fa.SetOwner(ctx, "c", bot.OwnerBot))
		require.NoError(t, fa.Inject(ctx, msg("c", "3", "too soon")))
		synctest.Wait()
		assert.Empty(t, fa.Sent(), "the last reading is less than a minute old")

		time.Sleep(time.Minute)
		require.NoError(t, fa.Inject(ctx, msg("c", "4", "bot?")))
		synctest.Wait()
		require.Len(t, fa.Sent(), 1)
		assert.Equal(t, "bot?", fa.Sent()[0].Text)
		assert.Equal(t, bot.OwnerBot, owner(t, b, "c"))
		assert.Equal(t, int64(2), fa.n.Load())

		// Bot-owned conversations cost no reads.
		require.NoError(t, fa.Inject(ctx, msg("c", "5", "thanks")))
		synctest.Wait()
		assert.Len(t, fa.Sent(), 2)
		assert.Equal(t, int64(2), fa.n.Load())
	})
}

// The sweep reads the switch of the human-owned conversations and hands
// back to the bot those whose platform automation is on again, without any
// message; bot-owned conversations are not read, and with the sweep off
// nothing changes.
func TestOwnership_Sweep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, fa := newReadsBot(t, bot.WithOwnerSweep(time.Minute), bot.WithOwnerRecheck(time.Minute))
		bottest.Run(t, b)
		ctx := t.Context()
		require.NoError(t, b.Handoff(ctx, "fake", "c"))
		require.NoError(t, b.Handoff(ctx, "fake", "d"))
		require.NoError(t, fa.Inject(ctx, msg("e", "1", "bot-owned")))
		synctest.Wait()

		require.NoError(t, fa.SetOwner(ctx, "c", bot.OwnerBot))
		time.Sleep(time.Minute + time.Second)
		synctest.Wait()
		assert.Equal(t, bot.OwnerBot, owner(t, b, "c"))
		assert.Equal(t, bot.OwnerHuman, owner(t, b, "d"))
		assert.Equal(t, int64(2), fa.n.Load(), "c and d are read, e is not")

		time.Sleep(time.Minute)
		synctest.Wait()
		assert.Equal(t, int64(3), fa.n.Load(), "only d is still human-owned")
		assert.Equal(t, int64(1), b.Stats().Handled)
	})
	synctest.Test(t, func(t *testing.T) {
		b, fa := newReadsBot(t, bot.WithOwnerSweep(0))
		bottest.Run(t, b)
		require.NoError(t, b.Handoff(t.Context(), "fake", "c"))
		require.NoError(t, fa.SetOwner(t.Context(), "c", bot.OwnerBot))
		time.Sleep(time.Hour)
		synctest.Wait()
		assert.Equal(t, bot.OwnerHuman, owner(t, b, "c"))
		assert.Zero(t, fa.n.Load())
	})
}

// A reading that began before a human took over again does not hand the
// conversation back to the bot.
func TestOwnership_SweepYieldsToNewerActivity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, fa := newReadsBot(t, bot.WithOwnerSweep(time.Minute), bot.WithOwnerRecheck(time.Minute))
		bottest.Run(t, b)
		ctx := t.Context()
		require.NoError(t, b.Handoff(ctx, "fake", "c"))
		require.NoError(t, fa.SetOwner(ctx, "c", bot.OwnerBot))
		gate := make(chan struct{})
		fa.gate.Store(&gate)

		time.Sleep(time.Minute) // the sweep reads "bot" and waits for its answer
		synctest.Wait()
		require.Equal(t, int64(1), fa.n.Load())
		time.Sleep(time.Second)
		agent := msg("c", "1", "Marko again")
		agent.Author.Agent, agent.Owner = true, bot.OwnerHuman
		require.NoError(t, fa.Inject(ctx, agent))
		synctest.Wait()
		close(gate)
		synctest.Wait()
		assert.Equal(t, bot.OwnerHuman, owner(t, b, "c"))
	})
}

// Reads of the platform's switch take their turn in the platform's rate
// limit with the sends: the read a signal needs waits for it, and the
// optional read of a message in a human-owned conversation is skipped
// while the budget is spent.
func TestOwnership_ReadsArePaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var waited atomic.Int64
		r := &reads{FakeAdapter: bottest.NewFakeAdapter("fake")}
		r.SetLimits(bot.Limits{Requests: 6, Per: time.Minute})
		b, err := bot.New(bot.WithAdapters(r), bot.WithLogger(bottest.Logger(t)), bot.WithOwnerSweep(0),
			bot.WithHooks(bot.Hooks{RateLimited: func(context.Context, string, time.Duration) { waited.Add(1) }}))
		require.NoError(t, err)
		b.NotFound(bot.HandlerFunc(echo))
		bottest.Run(t, b)
		ctx := t.Context()

		require.NoError(t, r.Inject(ctx, msg("c", "1", "hi")))
		r.WaitSent(t, 1) // the send took the request of these ten seconds
		require.NoError(t, b.Handoff(ctx, "fake", "d"))
		require.NoError(t, r.SetOwner(ctx, "d", bot.OwnerBot))
		require.NoError(t, r.Inject(ctx, msg("d", "2", "hello?")))
		synctest.Wait()
		assert.Zero(t, r.n.Load(), "no budget left: the optional read is skipped")
		assert.Len(t, r.Sent(), 1)

		on := bottest.NewMessage("", bottest.In("fake", "d"), bottest.WithID("3"), bottest.WithKind(bot.KindOwnership), bottest.WithOwner(bot.OwnerBot))
		require.NoError(t, b.Publish(ctx, on))
		synctest.Wait()
		assert.Zero(t, r.n.Load(), "the read a signal needs waits for the rate limit")
		assert.Equal(t, int64(1), waited.Load())
		time.Sleep(10 * time.Second)
		synctest.Wait()
		assert.Equal(t, int64(1), r.n.Load())
		assert.Equal(t, bot.OwnerBot, owner(t, b, "d"))
	})
}

func TestBot_Pace(t *testing.T) {
	b, _ := newBot(t)
	require.NoError(t, b.Pace(t.Context(), "fake"))
	assert.ErrorIs(t, b.Pace(t.Context(), "nope"), bot.ErrUnknownPlatform)
	var _ bot.Pacer = b
}

func TestNew_OwnerCheckOptions(t *testing.T) {
	fa := bottest.NewFakeAdapter("")
	_, err := bot.New(bot.WithAdapters(fa), bot.WithOwnerRecheck(-time.Second))
	assert.ErrorContains(t, err, "bot: owner recheck interval must not be negative")
	_, err = bot.New(bot.WithAdapters(fa), bot.WithOwnerSweep(-time.Second))
	assert.ErrorContains(t, err, "bot: owner sweep interval must not be negative")
	_, err = bot.New(bot.WithAdapters(fa), bot.WithOwnerRecheck(0), bot.WithOwnerSweep(0))
	assert.NoError(t, err)
}

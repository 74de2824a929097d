package bot_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// supportBot answers "agent" with a handoff reply and echoes anything else;
// an observer route records every message with the owner it saw.
func supportBot(t *testing.T, opts ...bot.Option) (*bot.Bot, *bottest.FakeAdapter, func() []string) {
	b, fa := newBot(t, opts...)
	var (
		mu       sync.Mutex
		observed []string
	)
	b.Handle(bot.Always(), bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		mu.Lock()
		observed = append(observed, m.Text+"@"+bot.OwnerOf(ctx).String())
		mu.Unlock()
		return bot.ErrContinue
	}), bot.Observer(), bot.Priority(100))
	b.Handle(bot.Command("agent"), bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		r := m.Reply("connecting you to a human")
		r.Handoff = true
		return w.Send(ctx, r)
	}))
	b.NotFound(bot.HandlerFunc(echo))
	return b, fa, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), observed...)
	}
}

func owner(t *testing.T, b *bot.Bot, conv string) bot.Owner {
	t.Helper()
	o, err := b.Owner(t.Context(), "fake", conv)
	require.NoError(t, err)
	return o
}

func TestOwnership_HandoffReplyAndResume(t *testing.T) {
	b, fa, observed := supportBot(t)
	bottest.Run(t, b)
	ctx := t.Context()

	require.NoError(t, fa.Inject(ctx, msg("c", "1", "hello")))
	require.NoError(t, fa.Inject(ctx, msg("c", "2", "/agent")))
	fa.WaitSent(t, 2)
	require.Eventually(t, func() bool { return owner(t, b, "c") == bot.OwnerHuman }, 5*time.Second, time.Millisecond)
	assert.Equal(t, bot.OwnerHuman, fa.PlatformOwner("c"), "the handoff is mirrored to the platform")

	// Human-owned: only the observer runs, and nothing is sent.
	require.NoError(t, fa.Inject(ctx, msg("c", "3", "are you there?")))
	require.NoError(t, b.Send(ctx, &bot.Message{Platform: "fake", Conversation: "c", Text: "bot interjection"}))
	require.Eventually(t, func() bool { return b.Stats().Suppressed == 1 && b.Stats().Handled == 3 }, 5*time.Second, time.Millisecond)
	assert.Len(t, fa.Sent(), 2)

	require.NoError(t, b.Resume(ctx, "fake", "c"))
	assert.Equal(t, bot.OwnerBot, owner(t, b, "c"))
	assert.Equal(t, bot.OwnerBot, fa.PlatformOwner("c"))
	require.NoError(t, fa.Inject(ctx, msg("c", "4", "back again")))
	sent := fa.WaitSent(t, 3)
	assert.Equal(t, "back again", sent[2].Text)

	assert.Equal(t, []string{"hello@bot", "/agent@bot", "are you there?@human", "back again@bot"}, observed())
	st := b.Stats()
	assert.Equal(t, int64(1), st.Handoffs)
	assert.Equal(t, int64(1), st.Resumes)
}

func TestOwnership_PlatformSignals(t *testing.T) {
	b, fa, observed := supportBot(t)
	bottest.Run(t, b)
	ctx := t.Context()
	// Each event is handled before the platform changes again: the Bot
	// checks a signal against the platform's switch as it is when the
	// signal is handled.
	inject := func(m *bot.Message) {
		t.Helper()
		n := b.Stats().Handled
		require.NoError(t, fa.Inject(ctx, m))
		require.Eventually(t, func() bool { return b.Stats().Handled > n }, 5*time.Second, time.Millisecond)
	}

	// An agent writes from the platform's dashboard: the adapter marks the
	// event as human-owned.
	agent := msg("c", "1", "hi, I'm Ana from support")
	agent.Author = bot.User{ID: "agent-7", Name: "Ana", Agent: true}
	agent.Owner = bot.OwnerHuman
	inject(agent)
	inject(msg("c", "2", "thanks"))
	// The platform switches its automation back on.
	on := bottest.NewMessage("", bottest.In("fake", "c"), bottest.WithID("3"), bottest.WithKind(bot.KindOwnership), bottest.WithOwner(bot.OwnerBot))
	inject(on)
	inject(msg("c", "4", "bot again"))
	sent := fa.WaitSent(t, 1)
	assert.Equal(t, "bot again", sent[0].Text)
	require.Eventually(t, func() bool { return b.Stats().Handled == 4 }, 5*time.Second, time.Millisecond)
	assert.Len(t, fa.Sent(), 1)
	assert.Equal(t, []string{"hi, I'm Ana from support@human", "thanks@human", "@bot", "bot again@bot"}, observed())
}

func TestOwnership_SendThatSwitchesPlatformOff(t *testing.T) {
	b, fa := newBot(t)
	b.NotFound(bot.HandlerFunc(echo))
	fa.SendReports(bot.OwnerHuman) // e.g. Sendbee without prevent_bot_off
	bottest.Run(t, b)
	require.NoError(t, fa.Inject(t.Context(), msg("c", "1", "hi")))
	fa.WaitSent(t, 1)
	require.Eventually(t, func() bool { return owner(t, b, "c") == bot.OwnerHuman }, 5*time.Second, time.Millisecond)
}

func TestOwnership_HandoffMirrorFailureChangesNothing(t *testing.T) {
	b, fa := newBot(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := b.Handoff(ctx, "fake", "c")
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, bot.OwnerBot, owner(t, b, "c"))
	assert.Equal(t, bot.OwnerBot, fa.PlatformOwner("c"))
	assert.ErrorIs(t, b.Handoff(t.Context(), "nope", "c"), bot.ErrUnknownPlatform)
}

func TestOwnership_IdleTimeoutHandsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, fa, _ := supportBot(t, bot.WithIdleTimeout(30*time.Minute))
		bottest.Run(t, b)
		ctx := t.Context()
		require.NoError(t, b.Handoff(ctx, "fake", "c"))
		require.NoError(t, fa.Inject(ctx, msg("c", "1", "still with a human")))
		synctest.Wait()
		assert.Empty(t, fa.Sent())

		time.Sleep(29 * time.Minute) // activity above refreshed the clock
		require.NoError(t, fa.Inject(ctx, msg("c", "2", "hello?")))
		synctest.Wait()
		assert.Empty(t, fa.Sent(), "29 minutes of silence is not idle yet")

		time.Sleep(31 * time.Minute)
		require.NoError(t, fa.Inject(ctx, msg("c", "3", "anyone?")))
		synctest.Wait()
		require.Len(t, fa.Sent(), 1)
		assert.Equal(t, "anyone?", fa.Sent()[0].Text)
		assert.Equal(t, bot.OwnerBot, fa.PlatformOwner("c"), "the resume is mirrored to the platform")
		assert.Equal(t, bot.OwnerBot, owner(t, b, "c"))
	})
}

package jetstream_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/storage/jetstream"
)

// heldHandoff is a FakeAdapter whose answer to the first handoff reply is
// held, once the platform has it, until released.
type heldHandoff struct {
	*bottest.FakeAdapter
	once    sync.Once
	held    chan struct{}
	release chan struct{}
}

func (a *heldHandoff) Send(ctx context.Context, m *bot.Message) (bot.SendResult, error) {
	res, err := a.FakeAdapter.Send(ctx, m)
	if err == nil && m.Handoff {
		a.once.Do(func() {
			close(a.held)
			<-a.release
		})
	}
	return res, err
}

// On a Store with revisions, a conversation that goes back to the bot
// by the idle timeout while a handoff reply queued before is delivered
// stays the bot's: the resume is the later decision, as with Bot.Resume.
func TestStore_handoffReplyOvertakenByIdleResume(t *testing.T) {
	srv := startServer(t, t.TempDir())
	_, js := connect(t, srv)
	ctx := t.Context()
	store, err := jetstream.NewStore(ctx, js, "state")
	require.NoError(t, err)
	fa := &heldHandoff{FakeAdapter: bottest.NewFakeAdapter("fake"), held: make(chan struct{}), release: make(chan struct{})}
	const idle = 50 * time.Millisecond
	b, err := bot.New(bot.WithAdapters(fa), bot.WithStore(store), bot.WithLogger(bottest.Logger(t)), bot.WithIdleTimeout(idle))
	require.NoError(t, err)
	bottest.Run(t, b)

	require.NoError(t, b.Send(ctx, &bot.Message{Platform: "fake", Conversation: "c1", Text: "A person will answer.", Handoff: true}))
	<-fa.held
	require.NoError(t, b.Handoff(ctx, "fake", "c1"))
	time.Sleep(2 * idle)
	// The customer writes after the idle timeout: the bot takes the
	// conversation back (a revision-checked update of the owner).
	require.NoError(t, fa.Inject(ctx, bottest.NewMessage("hello?", bottest.In("fake", "c1"), bottest.WithID("m1"))))
	require.Eventually(t, func() bool {
		owner, err := b.Owner(ctx, "fake", "c1")
		return err == nil && owner == bot.OwnerBot
	}, 5*time.Second, time.Millisecond, "the idle timeout gives the conversation back")

	close(fa.release)
	require.Eventually(t, func() bool { return b.Stats().Sent == 1 }, 5*time.Second, time.Millisecond)
	require.Never(t, func() bool {
		owner, err := b.Owner(ctx, "fake", "c1")
		return err != nil || owner != bot.OwnerBot
	}, 200*time.Millisecond, 5*time.Millisecond, "the handoff reply queued before the resume does not hand off")
	assert.Equal(t, bot.OwnerBot, fa.PlatformOwner("c1"))
}

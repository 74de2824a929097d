package bot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// slowHandoff is a FakeAdapter, which switches its platform's automation
// off on every send as Sendbee does without prevent_bot_off, whose answer
// to the first handoff reply is held until released.
type slowHandoff struct {
	*bottest.FakeAdapter
	once    sync.Once
	held    chan struct{}
	release chan struct{}
}

func (a *slowHandoff) Send(ctx context.Context, m *bot.Message) (bot.SendResult, error) {
	res, err := a.FakeAdapter.Send(ctx, m)
	if err == nil && m.Handoff {
		a.once.Do(func() {
			close(a.held)
			<-a.release
		})
	}
	return res, err
}

// A conversation given back to the bot while a handoff reply is being
// delivered stays the bot's: the resume is the later decision. The
// platform's automation, which the send switched off, is switched on
// again; a handoff reply queued after the resume hands off as always.
func TestHandoff_overtakenByResume(t *testing.T) {
	fa := &slowHandoff{FakeAdapter: bottest.NewFakeAdapter("fake"), held: make(chan struct{}), release: make(chan struct{})}
	fa.SendReports(bot.OwnerHuman)
	b, err := bot.New(bot.WithAdapters(fa), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	bottest.Run(t, b)
	ctx := t.Context()

	require.NoError(t, b.Send(ctx, &bot.Message{Platform: "fake", Conversation: "c1", Text: "A person will answer.", Handoff: true}))
	<-fa.held
	require.NoError(t, b.Resume(ctx, "fake", "c1"))
	close(fa.release)
	require.Eventually(t, func() bool { return b.Stats().Sent == 1 }, 5*time.Second, time.Millisecond)
	require.Eventually(t, func() bool { return fa.PlatformOwner("c1") == bot.OwnerBot }, 5*time.Second, time.Millisecond,
		"the platform's automation is on again")
	owner, err := b.Owner(ctx, "fake", "c1")
	require.NoError(t, err)
	assert.Equal(t, bot.OwnerBot, owner)

	// A later message of the bot is sent, not suppressed.
	require.NoError(t, b.Send(ctx, &bot.Message{Platform: "fake", Conversation: "c1", Text: "What's your name?"}))
	fa.WaitSent(t, 2)
	assert.Zero(t, b.Stats().Suppressed)

	// A handoff reply queued after the resume hands off.
	require.NoError(t, b.Send(ctx, &bot.Message{Platform: "fake", Conversation: "c1", Text: "Again.", Handoff: true}))
	require.Eventually(t, func() bool {
		owner, err := b.Owner(ctx, "fake", "c1")
		return err == nil && owner == bot.OwnerHuman
	}, 5*time.Second, time.Millisecond)
	assert.Equal(t, bot.OwnerHuman, fa.PlatformOwner("c1"))
}

package flow_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/flow"
)

// heldHandoff is a FakeAdapter whose delivery of the first handoff reply
// holds its answer, once the platform has the message, until released:
// a send whose answer is slow to come back.
type heldHandoff struct {
	*bottest.FakeAdapter
	once    sync.Once
	held    chan struct{} // closed when the handoff reply is on the platform
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

// A global route hands off with a reply, and the conversation is given
// back to the bot (Resume) while the reply's send has not returned yet:
// the conversation stays the bot's, and the next message gets the flow's
// question again, rather than the handoff recorded after the Resume
// taking the conversation back to humans and holding the question back.
func TestHandoff_resumeDuringHandoffReply(t *testing.T) {
	var a *heldHandoff
	r := newRig(t, rigOption{flows: []flow.Flow{lead()},
		adapter: func(fa *bottest.FakeAdapter) bot.Adapter {
			a = &heldHandoff{FakeAdapter: fa, held: make(chan struct{}), release: make(chan struct{})}
			return a
		},
		setup: func(r *rig) {
			r.b.HandleFunc(bot.Command("agent"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
				reply := m.Reply("A person will answer.")
				reply.Handoff = true
				return w.Send(ctx, reply)
			}, r.e.Global())
		}})
	var released sync.Once
	t.Cleanup(func() { released.Do(func() { close(a.release) }) })
	ctx := t.Context()
	require.NoError(t, r.e.Start(ctx, "fake", "c1", "lead", nil))
	r.waitTexts("c1", "Your name?")
	r.say("c1", "/agent")
	select {
	case <-a.held:
	case <-time.After(5 * time.Second):
		t.Fatal("the handoff reply was not sent")
	}
	require.Eventually(t, func() bool { return r.state("c1").Paused }, 5*time.Second, time.Millisecond)

	require.NoError(t, r.b.Resume(ctx, "fake", "c1"))
	released.Do(func() { close(a.release) })
	r.say("c1", "ok")
	r.settle()
	r.waitTexts("c1", "Your name?", "A person will answer.", "Your name?")
	o, err := r.b.Owner(ctx, "fake", "c1")
	require.NoError(t, err)
	assert.Equal(t, bot.OwnerBot, o)
	assert.False(t, r.state("c1").Paused)
}

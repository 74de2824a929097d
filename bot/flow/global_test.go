package flow_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/flow"
)

// When the global route cannot read the conversation's flow, the message
// fails without running the handler: its redelivery runs it once, not
// twice.
func TestGlobal_readErrorSkipsHandler(t *testing.T) {
	var ran atomic.Int32
	r := newRig(t, rigOption{flows: []flow.Flow{lead()}, noRun: true, setup: func(r *rig) {
		r.b.HandleFunc(bot.Command("help"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			ran.Add(1)
			return nil
		}, r.e.Global())
	}})
	ctx := t.Context()
	require.NoError(t, r.b.Store().Set(ctx, "flow:fake:c1", []byte("not a state"), 0))
	err := r.b.HandleMessage(ctx, r.b, bottest.NewMessage("/help", bottest.In("fake", "c1"), bottest.WithID("h1")))
	require.ErrorContains(t, err, "decode the state")
	assert.Zero(t, ran.Load(), "the handler ran although the message failed")
}

// A handoff the platform refused is owed: the next message hands the
// conversation off again, rather than taking the flow back from a human
// who never got it.
func TestHandoff_failedIsRetried(t *testing.T) {
	var fa *ownerFails
	r := newRig(t, rigOption{flows: []flow.Flow{lead()}, adapter: func(f *bottest.FakeAdapter) bot.Adapter {
		fa = &ownerFails{FakeAdapter: f}
		return fa
	}})
	ctx := t.Context()
	require.NoError(t, r.e.Start(ctx, "fake", "c1", "lead", flow.Values{"name": "Ike", "email": "i@k"}))
	r.say("c1", "Ike")
	r.say("c1", "i@k")
	r.waitStep("c1", "size")
	r.say("c1", "many")
	r.waitTexts("c1", "Your name?", "Your e-mail?", "How many employees?", "A number, please.")
	fa.n.Store(1)
	r.say("c1", "lots") // the second refusal hands off; the platform refuses
	r.settle()
	require.Zero(t, fa.n.Load())
	r.say("c1", "hello?") // the handoff is tried again
	require.Eventually(t, func() bool {
		o, _ := r.b.Owner(ctx, "fake", "c1")
		return o == bot.OwnerHuman
	}, 5*time.Second, time.Millisecond)
	r.settle()
	assert.Equal(t, []string{"Your name?", "Your e-mail?", "How many employees?", "A number, please."}, r.texts("c1"))
	s := r.state("c1")
	assert.True(t, s.Paused)
	assert.Equal(t, "size", s.Step)
	// Back with the bot, the flow asks again, once.
	require.NoError(t, r.b.Resume(ctx, "fake", "c1"))
	r.say("c1", "back")
	r.waitTexts("c1", "Your name?", "Your e-mail?", "How many employees?", "A number, please.", "How many employees?")
}

// A global route that hands off through Bot.Handoff, with no message the
// engine sees, pauses the waiting flow all the same: the next message
// after the conversation comes back to the bot gets the question again,
// and is not taken as the answer.
func TestGlobal_botHandoffPauses(t *testing.T) {
	r := newRig(t, rigOption{flows: []flow.Flow{lead()}, setup: func(r *rig) {
		r.b.HandleFunc(bot.Command("agent"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			return r.b.Handoff(ctx, m.Platform, m.Conversation)
		}, r.e.Global())
	}})
	ctx := t.Context()
	require.NoError(t, r.e.Start(ctx, "fake", "c1", "lead", nil))
	// The question is delivered before the handoff: once a human owns the
	// conversation, the Bot holds back what is still queued.
	r.waitTexts("c1", "Your name?")
	r.say("c1", "/agent")
	r.settle()
	assert.True(t, r.state("c1").Paused, "the flow is paused by the handoff")
	require.NoError(t, r.b.Resume(ctx, "fake", "c1"))
	r.say("c1", "hello")
	r.waitTexts("c1", "Your name?", "Your name?")
	s := r.state("c1")
	assert.Equal(t, "name", s.Step)
	assert.False(t, s.Paused)
	assert.Empty(t, s.Values)
}

// The engine's timer events stay with the engine: not when a human owns
// the conversation, nor when its flow is no longer defined, do they go on
// to the other routes, observers and catch-alls included, and global
// routes (tried before the engine's) do not see them.
func TestTimer_doesNotLeak(t *testing.T) {
	var seen atomic.Int32
	r := newRig(t, rigOption{flows: []flow.Flow{lead()}, setup: func(r *rig) {
		r.b.HandleFunc(bot.Always(), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			if m.Kind == flow.TimerKind {
				seen.Add(1)
			}
			return nil
		}, bot.Observer())
		r.b.HandleFunc(bot.Always(), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			if m.Kind == flow.TimerKind {
				seen.Add(1)
			}
			return bot.ErrContinue
		}, bot.Observer(), r.e.Global())
	}})
	ctx := t.Context()
	timer := func(conv string) {
		t.Helper()
		n := r.b.Stats().Handled
		require.NoError(t, r.fa.Inject(ctx, &bot.Message{ID: "flow-timer:x:1:remind:" + conv, Platform: "fake",
			Conversation: conv, Kind: flow.TimerKind}))
		require.Eventually(t, func() bool { return r.b.Stats().Handled > n }, 5*time.Second, time.Millisecond)
	}
	require.NoError(t, r.e.Start(ctx, "fake", "c1", "lead", nil))
	timer("c1")
	assert.Zero(t, seen.Load(), "a timer reached a global route")

	require.NoError(t, r.e.Start(ctx, "fake", "human", "lead", nil))
	require.NoError(t, r.b.Handoff(ctx, "fake", "human"))
	timer("human")
	assert.Zero(t, seen.Load(), "a timer of a human-owned conversation reached the catch-all")

	require.NoError(t, r.e.Start(ctx, "fake", "gone", "lead", nil))
	require.NoError(t, r.e.Replace([]string{"lead"}, nil))
	timer("gone")
	assert.Zero(t, seen.Load(), "a timer of a flow no longer defined reached the catch-all")

}

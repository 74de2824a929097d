package flow_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
)

// waiting is a one-step flow that reminds after 10 minutes and ends after
// an hour.
func waiting() flow.Flow {
	return flow.Flow{Name: "wait", Steps: []flow.Step{{
		Name: "q", Ask: flow.Text("Still there?"), Save: "a",
		Remind:  &flow.Reminder{After: 10 * time.Minute, Ask: flow.Text("Reminder: still there?")},
		Timeout: &flow.Timeout{After: time.Hour, Then: flow.End, Say: flow.Text("Closing, bye.")},
	}}, Done: flow.Text("Done.")}
}

// The reminder is sent once when its time comes, the timeout ends the
// flow, and nothing fires before its time.
func TestTimers_remindThenTimeout(t *testing.T) {
	r := newRig(t, rigOption{flows: []flow.Flow{waiting()}})
	require.NoError(t, r.e.Start(t.Context(), "fake", "c1", "wait", nil))
	r.waitTexts("c1", "Still there?")
	r.clock.Add(9 * time.Minute)
	assert.Never(t, func() bool { return len(r.texts("c1")) > 1 }, 50*time.Millisecond, 5*time.Millisecond)
	r.clock.Add(time.Minute)
	r.waitTexts("c1", "Still there?", "Reminder: still there?")
	assert.Never(t, func() bool { return len(r.texts("c1")) > 2 }, 50*time.Millisecond, 5*time.Millisecond)
	r.clock.Add(50 * time.Minute)
	r.waitTexts("c1", "Still there?", "Reminder: still there?", "Closing, bye.", "Done.")
	_, err := r.e.State(t.Context(), "fake", "c1")
	require.ErrorIs(t, err, flow.ErrNoFlow)
}

// An answer before the reminder cancels it: the timers count from the
// step's question.
func TestTimers_answerCancels(t *testing.T) {
	f := waiting()
	f.Steps = append(f.Steps, flow.Step{Name: "r", Ask: flow.Text("And now?"),
		Remind: &flow.Reminder{After: 10 * time.Minute}})
	r := newRig(t, rigOption{flows: []flow.Flow{f}})
	require.NoError(t, r.e.Start(t.Context(), "fake", "c1", "wait", nil))
	r.waitTexts("c1", "Still there?")
	r.clock.Add(5 * time.Minute)
	r.say("c1", "yes")
	r.waitTexts("c1", "Still there?", "And now?")
	r.clock.Add(6 * time.Minute) // the first step's reminder time, not the second's
	assert.Never(t, func() bool { return len(r.texts("c1")) > 2 }, 50*time.Millisecond, 5*time.Millisecond)
	r.clock.Add(5 * time.Minute)
	r.waitTexts("c1", "Still there?", "And now?", "And now?")
}

// Timers do not fire while the flow is paused for a human.
func TestTimers_pausedDoNotFire(t *testing.T) {
	r := newRig(t, rigOption{flows: []flow.Flow{waiting()}})
	require.NoError(t, r.e.Start(t.Context(), "fake", "c1", "wait", nil))
	r.waitTexts("c1", "Still there?")
	require.NoError(t, r.b.Handoff(t.Context(), "fake", "c1"))
	r.say("c1", "I want a person") // the flow notes the pause
	require.Eventually(t, func() bool { return r.state("c1").Paused }, 5*time.Second, time.Millisecond)
	r.clock.Add(2 * time.Hour)
	assert.Never(t, func() bool { return len(r.texts("c1")) > 1 }, 100*time.Millisecond, 5*time.Millisecond)
	assert.Equal(t, int64(0), r.b.Stats().Suppressed)
}

// Interruptions: a global route answers while the flow waits, then the
// flow asks its question again; with CancelOnInterrupt it is cancelled;
// a stop route cancels it; an agent route that hands off pauses it, and
// when the conversation comes back to the bot the question is asked again.
func TestInterruptions(t *testing.T) {
	setup := func(r *rig) {
		g := r.e.Global()
		r.b.HandleFunc(bot.Command("help"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			return w.Send(ctx, m.Reply("Help text."))
		}, g)
		r.b.HandleFunc(bot.Command("stop"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			if err := r.e.Cancel(ctx, m.Platform, m.Conversation); err != nil {
				return err
			}
			return w.Send(ctx, m.Reply("Stopped."))
		}, g)
		r.b.HandleFunc(bot.Command("agent"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			reply := m.Reply("A person will answer.")
			reply.Handoff = true
			return w.Send(ctx, reply)
		}, g)
	}
	cancelling := lead()
	cancelling.Name = "fragile"
	cancelling.Interrupt = flow.CancelOnInterrupt
	r := newRig(t, rigOption{flows: []flow.Flow{lead(), cancelling}, setup: setup})
	ctx := t.Context()

	require.NoError(t, r.e.Start(ctx, "fake", "c1", "lead", nil))
	r.say("c1", "/help")
	r.waitTexts("c1", "Your name?", "Help text.", "Your name?")
	r.say("c1", "Gil")
	r.waitTexts("c1", "Your name?", "Help text.", "Your name?", "Your e-mail?")

	require.NoError(t, r.e.Start(ctx, "fake", "c2", "fragile", nil))
	r.say("c2", "/help")
	r.waitTexts("c2", "Your name?", "Help text.")
	require.Eventually(t, func() bool { _, err := r.e.State(ctx, "fake", "c2"); return err != nil }, 5*time.Second, time.Millisecond)

	require.NoError(t, r.e.Start(ctx, "fake", "c3", "lead", nil))
	r.say("c3", "/stop")
	r.waitTexts("c3", "Your name?", "Stopped.")
	_, err := r.e.State(ctx, "fake", "c3")
	require.ErrorIs(t, err, flow.ErrNoFlow)

	// Handoff and back.
	r.say("c1", "/agent")
	r.waitTexts("c1", "Your name?", "Help text.", "Your name?", "Your e-mail?", "A person will answer.")
	require.Eventually(t, func() bool {
		o, _ := r.b.Owner(ctx, "fake", "c1")
		return o == bot.OwnerHuman && r.state("c1").Paused
	}, 5*time.Second, time.Millisecond)
	r.say("c1", "hi, is someone there?") // a human answers; the flow does not
	r.settle()
	require.NoError(t, r.b.Resume(ctx, "fake", "c1"))
	r.say("c1", "ok") // the bot has the conversation again: the question comes back
	r.waitTexts("c1", "Your name?", "Help text.", "Your name?", "Your e-mail?", "A person will answer.", "Your e-mail?")
	assert.False(t, r.state("c1").Paused)
	r.say("c1", "g@l")
	r.waitStep("c1", "size")
}

// With EndAfterHandoff, the flow ends when the conversation comes back to
// the bot, on the platform's ownership event.
func TestHandoff_endAfter(t *testing.T) {
	f := lead()
	f.OnHandoff = flow.EndAfterHandoff
	r := newRig(t, rigOption{flows: []flow.Flow{f}})
	ctx := t.Context()
	require.NoError(t, r.e.Start(ctx, "fake", "c1", "lead", nil))
	r.waitTexts("c1", "Your name?")
	require.NoError(t, r.b.Handoff(ctx, "fake", "c1"))
	r.say("c1", "hello")
	require.Eventually(t, func() bool { return r.state("c1").Paused }, 5*time.Second, time.Millisecond)
	m := &bot.Message{ID: "own-1", Platform: "fake", Conversation: "c1", Kind: bot.KindOwnership, Owner: bot.OwnerBot}
	require.NoError(t, r.fa.Inject(ctx, m))
	require.Eventually(t, func() bool { _, err := r.e.State(ctx, "fake", "c1"); return err != nil }, 5*time.Second, time.Millisecond)
	r.waitTexts("c1", "Your name?")
}

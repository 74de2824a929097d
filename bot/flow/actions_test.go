package flow_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
)

// A pending call is run only if the definition still has the same action
// at its place: after a reload that reordered the step's actions it is
// skipped, never run as another action under the old key.
func TestAction_pendingAfterReorder(t *testing.T) {
	var (
		mu    sync.Mutex
		other []string
	)
	def := func(actions ...string) flow.Flow {
		f := flow.Flow{Name: "f", Steps: []flow.Step{
			{Name: "a", Ask: flow.Text("A?"), Save: "a"},
			{Name: "b", Ask: flow.Text("B?"), Save: "b"},
		}}
		for _, a := range actions {
			f.Steps[0].Actions = append(f.Steps[0].Actions, flow.Call{Action: a, Args: map[string]any{"tag": a}})
		}
		return f
	}
	r := newRig(t, rigOption{flows: []flow.Flow{def("crm", "other")}, setup: func(r *rig) {
		require.NoError(t, r.e.RegisterAction("other", flow.ActionFunc(func(_ context.Context, c flow.ActionCall) error {
			mu.Lock()
			defer mu.Unlock()
			other = append(other, c.Key)
			return nil
		})))
	}})
	require.NoError(t, r.e.Start(t.Context(), "fake", "c1", "f", nil))
	r.calls.fail.Store(1)
	r.say("c1", "x") // crm fails: both calls stay pending
	r.settle()
	require.Empty(t, r.calls.all())
	require.NoError(t, r.e.Replace([]string{"f"}, []flow.Flow{def("other", "crm")}))
	r.say("c1", "y") // finishes the step: the calls no longer match
	r.waitTexts("c1", "A?", "B?")
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, other, "another action ran under the pending call's key")
	assert.Empty(t, r.calls.all())
}

// An OnDone call that failed when the flow ended is tried again with the
// next message of the conversation (not only with a redelivery of the
// answer), and the closing message then goes out; the message itself goes
// on to the other routes.
func TestAction_onDoneRetriedByNextMessage(t *testing.T) {
	r := newRig(t, rigOption{flows: []flow.Flow{lead()}, setup: func(r *rig) {
		r.b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			return w.Send(ctx, m.Reply("fallback"))
		}))
	}})
	require.NoError(t, r.e.Start(t.Context(), "fake", "c1", "lead", nil))
	r.say("c1", "Flo")
	r.say("c1", "f@lo")
	r.waitStep("c1", "size")
	r.calls.fail.Store(1)
	r.say("c1", "3") // the flow ends; its OnDone call fails
	r.settle()
	require.Len(t, r.calls.all(), 1)
	r.say("c1", "hello")
	r.waitTexts("c1", "Your name?", "Your e-mail?", "How many employees?", "Thanks, Flo!", "fallback")
	got := r.calls.all()
	require.Len(t, got, 2)
	assert.Contains(t, got[1], "done:0")
}

// Retry.Say is said when the step gives up, before the flow goes to
// Retry.Then (here a handoff, which it precedes).
func TestRetry_say(t *testing.T) {
	f := lead()
	f.Steps[2].Retry.Say = flow.Text("Let me find you a person.")
	r := newRig(t, rigOption{flows: []flow.Flow{f}})
	require.NoError(t, r.e.Start(t.Context(), "fake", "c1", "lead", nil))
	r.say("c1", "Gus")
	r.say("c1", "g@us")
	r.waitStep("c1", "size")
	r.say("c1", "many")
	r.say("c1", "lots")
	r.waitTexts("c1", "Your name?", "Your e-mail?", "How many employees?", "A number, please.", "Let me find you a person.")
	require.Eventually(t, func() bool {
		o, _ := r.b.Owner(t.Context(), "fake", "c1")
		return o == bot.OwnerHuman
	}, 5*time.Second, time.Millisecond)
}

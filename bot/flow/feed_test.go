package flow_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
)

// The Bot's event feed tells each step of a flow: started, an answer
// taken, an answer refused, the end; and a cancel.
func TestFeed_flowSteps(t *testing.T) {
	var sub *bot.Subscription
	r := newRig(t, rigOption{flows: []flow.Flow{lead()}, setup: func(r *rig) { sub = r.b.Subscribe(0) }})
	defer sub.Close()
	ctx := t.Context()
	steps := func(n int) []bot.Event {
		t.Helper()
		var got []bot.Event
		timeout := time.After(5 * time.Second)
		for len(got) < n {
			select {
			case e := <-sub.Events():
				if e.Type == bot.EventFlowStep {
					got = append(got, e)
				}
			case <-timeout:
				require.FailNow(t, "flow steps", "%d of %d: %+v", len(got), n, got)
			}
		}
		return got
	}

	require.NoError(t, r.e.Start(ctx, "fake", "c1", "lead", nil))
	r.say("c1", "Ada")
	in := r.say("c1", "nope")
	r.say("c1", "ada@example.com")
	r.say("c1", "12")
	got := steps(5)
	type step struct{ flow, step, reason string }
	var seen []step
	for _, e := range got {
		assert.Equal(t, "c1", e.Conversation)
		seen = append(seen, step{e.Flow, e.Step, e.Reason})
	}
	assert.Equal(t, []step{
		{"lead", "name", "started"},
		{"lead", "email", "answered name"},
		{"lead", "email", "answer refused"},
		{"lead", "size", "answered email"},
		{"lead", "", "ended after size"},
	}, seen)
	assert.Equal(t, in.ID, got[2].Message, "the event that moved it")
	assert.Equal(t, 1, got[2].Attempt)

	require.NoError(t, r.e.Start(ctx, "fake", "c2", "lead", nil))
	require.NoError(t, r.e.Cancel(ctx, "fake", "c2"))
	got = steps(2)
	assert.Equal(t, "started", got[0].Reason)
	assert.Equal(t, "cancelled", got[1].Reason)
	assert.Equal(t, "c2", got[1].Conversation)
}

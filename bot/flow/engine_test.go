package flow_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/flow"
)

// The whole lead flow: answers saved with their types, a refused answer
// re-asked with the check's own text, a branch, the step's action and
// OnDone run once each with their keys, Done said, and the flow gone.
func TestFlow_happyPath(t *testing.T) {
	r := newRig(t, rigOption{flows: []flow.Flow{lead()}})
	ctx := t.Context()
	require.NoError(t, r.e.Start(ctx, "fake", "c1", "lead", flow.Values{"source": "ad"}))
	r.waitTexts("c1", "Your name?")
	r.say("c1", " Ada ")
	r.waitTexts("c1", "Your name?", "Your e-mail?")
	r.say("c1", "nope")
	r.waitTexts("c1", "Your name?", "Your e-mail?", "That does not look like an e-mail. Your e-mail?")
	require.Equal(t, 1, r.state("c1").Attempts)
	r.say("c1", "ADA@example.com")
	r.waitTexts("c1", "Your name?", "Your e-mail?", "That does not look like an e-mail. Your e-mail?", "How many employees?")
	s := r.state("c1")
	assert.Equal(t, flow.Values{"source": "ad", "name": "Ada", "email": "ada@example.com"}, s.Values)
	assert.Equal(t, 0, s.Attempts)
	r.say("c1", "12")
	r.waitTexts("c1", "Your name?", "Your e-mail?", "That does not look like an e-mail. Your e-mail?", "How many employees?", "Thanks, Ada!")
	_, err := r.e.State(ctx, "fake", "c1")
	require.ErrorIs(t, err, flow.ErrNoFlow)
	got := r.calls.all()
	require.Len(t, got, 2)
	assert.Regexp(t, `^flow:[0-9a-f]+:\d+:act:0 email email$`, got[0])
	assert.Regexp(t, `^flow:[0-9a-f]+:\d+:done:0  done$`, got[1])
	for _, m := range r.fa.Sent() {
		assert.True(t, strings.HasPrefix(m.Key, "flow:"), "prompt key %q", m.Key)
	}
	active, err := r.e.Active(ctx)
	require.NoError(t, err)
	assert.Empty(t, active)
}

// A branch goes to its step; messages of conversations without a flow go
// on to the other routes.
func TestFlow_branchAndOtherRoutes(t *testing.T) {
	r := newRig(t, rigOption{flows: []flow.Flow{lead()}, setup: func(r *rig) {
		r.b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			return w.Send(ctx, m.Reply("fallback"))
		}))
	}})
	r.say("c2", "hello")
	r.waitTexts("c2", "fallback")
	require.NoError(t, r.e.Start(t.Context(), "fake", "c1", "lead", nil))
	r.say("c1", "Bo")
	r.waitStep("c1", "email")
	r.say("c1", "bo@x.io")
	r.waitStep("c1", "size")
	r.say("c1", "250")
	r.waitStep("c1", "call")
	v, _ := r.state("c1").Values.Int("size")
	assert.Equal(t, int64(250), v)
}

// After Retry.Max refused answers the flow follows Retry.Then: here a
// handoff, which pauses the flow and gives the conversation to humans.
func TestFlow_retryThenHandoff(t *testing.T) {
	r := newRig(t, rigOption{flows: []flow.Flow{lead()}})
	require.NoError(t, r.e.Start(t.Context(), "fake", "c1", "lead", flow.Values{"name": "Cy", "email": "c@y"}))
	r.e.Cancel(t.Context(), "fake", "c1")
	require.NoError(t, r.e.Start(t.Context(), "fake", "c1", "lead", nil))
	r.say("c1", "Cy")
	r.say("c1", "c@y")
	r.waitStep("c1", "size")
	r.say("c1", "many")
	r.waitTexts("c1", "Your name?", "Your name?", "Your e-mail?", "How many employees?", "A number, please.")
	r.say("c1", "lots")
	require.Eventually(t, func() bool {
		o, _ := r.b.Owner(t.Context(), "fake", "c1")
		return o == bot.OwnerHuman
	}, 5*time.Second, time.Millisecond)
	s := r.state("c1")
	assert.True(t, s.Paused)
	assert.Equal(t, "size", s.Step)
}

// Definitions are checked when they are defined.
func TestDefine_errors(t *testing.T) {
	b, err := bot.New(bot.WithAdapters(bottest.NewFakeAdapter("")))
	require.NoError(t, err)
	e := flow.New(b)
	ask := flow.Text("?")
	yes := flow.ConditionFunc(func(context.Context, *flow.State) (bool, error) { return true, nil })
	for _, tc := range []struct {
		name string
		f    flow.Flow
		want string
	}{
		{"no name", flow.Flow{Steps: []flow.Step{{Name: "a", Ask: ask}}}, "has no name"},
		{"empty", flow.Flow{Name: "f"}, "no steps"},
		{"dup", flow.Flow{Name: "f", Steps: []flow.Step{{Name: "a", Ask: ask}, {Name: "a", Ask: ask}}}, `step "a": two steps`},
		{"no ask", flow.Flow{Name: "f", Steps: []flow.Step{{Name: "a"}}}, "no question"},
		{"unknown goto", flow.Flow{Name: "f", Steps: []flow.Step{{Name: "a", Ask: ask,
			Next: flow.Next{Branches: []flow.Branch{{When: yes, Goto: "zz"}}}}}}, `branch 1: unknown step "zz"`},
		{"unknown default", flow.Flow{Name: "f", Steps: []flow.Step{{Name: "a", Ask: ask, Next: flow.Next{Default: "zz"}}}}, `Default: unknown step "zz"`},
		{"unknown retry", flow.Flow{Name: "f", Steps: []flow.Step{{Name: "a", Ask: ask, Retry: flow.Retry{Then: "zz"}}}}, `Retry.Then: unknown step`},
		{"unknown timeout", flow.Flow{Name: "f", Steps: []flow.Step{{Name: "a", Ask: ask,
			Timeout: &flow.Timeout{After: time.Minute, Then: "zz"}}}}, `Timeout.Then: unknown step`},
		{"bad timeout", flow.Flow{Name: "f", Steps: []flow.Step{{Name: "a", Ask: ask, Timeout: &flow.Timeout{}}}}, "positive After"},
		{"nil condition", flow.Flow{Name: "f", Steps: []flow.Step{{Name: "a", Ask: ask,
			Next: flow.Next{Branches: []flow.Branch{{Goto: flow.End}}}}}}, "no condition"},
		{"unreachable", flow.Flow{Name: "f", Steps: []flow.Step{{Name: "a", Ask: ask, Next: flow.Next{Default: flow.End}},
			{Name: "b", Ask: ask}}}, `step "b": unreachable`},
		{"loop", flow.Flow{Name: "f", Steps: []flow.Step{{Name: "a", Ask: ask},
			{Name: "b", Ask: ask, Next: flow.Next{Default: "a"}}}}, "a loop with no exit: from steps a, b"},
		{"unknown action", flow.Flow{Name: "f", Steps: []flow.Step{{Name: "a", Ask: ask,
			Actions: []flow.Call{{Action: "nobody"}}}}}, `action "nobody" is not registered`},
		{"dollar", flow.Flow{Name: "f", Steps: []flow.Step{{Name: "$a", Ask: ask}}}, "must not start with $"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.Define(tc.f)
			var de *flow.DefinitionError
			require.ErrorAs(t, err, &de)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	// A loop with a branch out is fine, and so is a retry loop.
	require.NoError(t, e.Define(flow.Flow{Name: "ok", Steps: []flow.Step{
		{Name: "a", Ask: ask},
		{Name: "b", Ask: ask, Next: flow.Next{Branches: []flow.Branch{{When: yes, Goto: flow.End}}, Default: "a"}},
	}}))
	require.ErrorContains(t, e.Define(flow.Flow{Name: "ok", Steps: []flow.Step{{Name: "a", Ask: ask}}}), "already defined")
	require.Error(t, e.RegisterAction("", flow.ActionFunc(func(context.Context, flow.ActionCall) error { return nil })))
	require.Error(t, e.RegisterAction("x", nil))
	require.ErrorIs(t, e.Start(t.Context(), "fake", "c", "nope", nil), flow.ErrUnknownFlow)
}

// Values keep their types through the Store, and a value of another type
// is refused with a clear error.
func TestValues_roundTrip(t *testing.T) {
	r := newRig(t, rigOption{flows: []flow.Flow{lead()}, noRun: true})
	when := time.Date(2026, 5, 6, 7, 8, 9, 10, time.UTC)
	in := flow.Values{"s": "x", "i": 1 << 60, "f": 2.5, "b": true, "t": when, "l": []string{"a", "b"}, "small": int32(7)}
	require.NoError(t, r.e.Start(t.Context(), "fake", "c1", "lead", in))
	s := r.state("c1")
	assert.Equal(t, flow.Values{"s": "x", "i": int64(1 << 60), "f": 2.5, "b": true, "t": when, "l": []string{"a", "b"}, "small": int64(7)}, s.Values)
	tm, ok := s.Values.Time("t")
	assert.True(t, ok && tm.Equal(when))
	vars := s.Vars()
	assert.Equal(t, "name", vars["Step"])
	assert.Equal(t, int64(1<<60), vars["Values"].(map[string]any)["i"])

	err := r.e.Start(t.Context(), "fake", "c2", "lead", flow.Values{"x": struct{}{}})
	require.ErrorContains(t, err, "a value of type struct {} cannot be saved")
	_, err = r.e.State(t.Context(), "fake", "c2")
	require.ErrorIs(t, err, flow.ErrNoFlow)
}

// A state over MaxStateSize is refused and nothing is stored.
func TestState_sizeLimit(t *testing.T) {
	r := newRig(t, rigOption{flows: []flow.Flow{lead()}, noRun: true})
	err := r.e.Start(t.Context(), "fake", "c1", "lead", flow.Values{"big": strings.Repeat("x", flow.MaxStateSize)})
	require.ErrorIs(t, err, flow.ErrTooLarge)
	require.ErrorContains(t, err, "over the limit of 16384")
	_, err = r.e.State(t.Context(), "fake", "c1")
	require.ErrorIs(t, err, flow.ErrNoFlow)
}

// The state expires after the flow's TTL, refreshed by every advance.
func TestState_expiry(t *testing.T) {
	f := lead()
	f.TTL = 300 * time.Millisecond
	r := newRig(t, rigOption{flows: []flow.Flow{f}})
	require.NoError(t, r.e.Start(t.Context(), "fake", "c1", "lead", nil))
	r.say("c1", "Di")
	r.waitStep("c1", "email")
	require.Eventually(t, func() bool {
		_, err := r.e.State(t.Context(), "fake", "c1")
		return errors.Is(err, flow.ErrNoFlow)
	}, 5*time.Second, 10*time.Millisecond)
}

// A redelivered answer (the engine's route called twice with one event,
// as a durable inbox does after a crash mid-handling) advances the flow
// once and sends the next question once; a handler's Start repeated for a
// redelivered message with StartFrom starts one run.
func TestFlow_redeliveredAnswer(t *testing.T) {
	r := newRig(t, rigOption{flows: []flow.Flow{lead()}})
	ctx := t.Context()
	start := bottest.NewMessage("go", bottest.In("fake", "c1"), bottest.WithID("start-1"))
	require.NoError(t, r.e.StartFrom(ctx, start, "lead", nil))
	run := r.state("c1").Run
	require.NoError(t, r.e.StartFrom(ctx, start, "lead", nil))
	require.Equal(t, run, r.state("c1").Run)

	m := bottest.NewMessage("Eve", bottest.In("fake", "c1"), bottest.WithID("answer-1"))
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { assert.NoError(t, r.b.HandleMessage(ctx, r.b, m)) })
	}
	wg.Wait()
	require.NoError(t, r.b.HandleMessage(ctx, r.b, m))
	r.waitTexts("c1", "Your name?", "Your e-mail?")
	s := r.state("c1")
	assert.Equal(t, "email", s.Step)
	assert.Equal(t, flow.Values{"name": "Eve"}, s.Values)
	// The next answer goes on.
	require.NoError(t, r.b.HandleMessage(ctx, r.b, bottest.NewMessage("e@v", bottest.In("fake", "c1"), bottest.WithID("answer-2"))))
	require.NoError(t, r.b.HandleMessage(ctx, r.b, bottest.NewMessage("e@v", bottest.In("fake", "c1"), bottest.WithID("answer-2"))))
	r.waitTexts("c1", "Your name?", "Your e-mail?", "How many employees?")
	require.Len(t, r.calls.all(), 1, "the step's action ran once")
}

// A failing action is tried again with the next event (with the same key)
// and the next question waits for it.
func TestFlow_actionRetried(t *testing.T) {
	r := newRig(t, rigOption{flows: []flow.Flow{lead()}})
	require.NoError(t, r.e.Start(t.Context(), "fake", "c1", "lead", flow.Values{}))
	r.say("c1", "Fay")
	r.waitStep("c1", "email")
	r.calls.fail.Store(1)
	r.say("c1", "f@y")
	r.waitStep("c1", "size")
	require.Eventually(t, func() bool { return r.calls.fail.Load() == 0 }, 5*time.Second, time.Millisecond)
	assert.Empty(t, r.calls.all())
	r.say("c1", "hello?") // finishes the step: the action, then the question
	r.waitTexts("c1", "Your name?", "Your e-mail?", "How many employees?")
	require.Len(t, r.calls.all(), 1)
	assert.Equal(t, "size", r.state("c1").Step)
	r.say("c1", "5")
	r.waitTexts("c1", "Your name?", "Your e-mail?", "How many employees?", "Thanks, Fay!")
}

// Cancel ends the flow without a word; State and Cancel then say
// ErrNoFlow; Active lists the running flows.
func TestCancelStateActive(t *testing.T) {
	r := newRig(t, rigOption{flows: []flow.Flow{lead()}, noRun: true})
	ctx := t.Context()
	for _, c := range []string{"c2", "c1", "c3"} {
		require.NoError(t, r.e.Start(ctx, "fake", c, "lead", nil))
	}
	active, err := r.e.Active(ctx)
	require.NoError(t, err)
	require.Len(t, active, 3)
	assert.Equal(t, "c1", active[0].Conversation)
	require.NoError(t, r.e.Cancel(ctx, "fake", "c2"))
	require.ErrorIs(t, r.e.Cancel(ctx, "fake", "c2"), flow.ErrNoFlow)
	_, err = r.e.State(ctx, "fake", "c2")
	require.ErrorIs(t, err, flow.ErrNoFlow)
	active, err = r.e.Active(ctx)
	require.NoError(t, err)
	require.Len(t, active, 2)
	// Starting again replaces the run.
	run := r.state("c1").Run
	require.NoError(t, r.e.Start(ctx, "fake", "c1", "lead", nil))
	assert.NotEqual(t, run, r.state("c1").Run)
}

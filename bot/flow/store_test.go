package flow_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/flow"
)

// A Check may read the flow of its own conversation (or of any other): on
// a MemoryStore no lock is held while it runs.
func TestStore_checkReadsItsState(t *testing.T) {
	var r *rig
	f := flow.Flow{Name: "peek", Steps: []flow.Step{{Name: "a", Ask: flow.Text("A?"), Save: "a",
		Check: flow.CheckFunc(func(ctx context.Context, a flow.Answer) (any, error) {
			s, err := r.e.State(ctx, a.Message.Platform, a.Message.Conversation)
			if err != nil {
				return nil, err
			}
			return s.Step + ":" + a.Text, nil
		})}, {Name: "b", Ask: flow.Text("B?")}}}
	r = newRig(t, rigOption{flows: []flow.Flow{f}, noRun: true})
	ctx := t.Context()
	require.NoError(t, r.e.Start(ctx, "fake", "c1", "peek", nil))
	done := make(chan error, 1)
	go func() {
		done <- r.b.HandleMessage(ctx, r.b, bottest.NewMessage("x", bottest.In("fake", "c1"), bottest.WithID("m1")))
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("deadlock: the Check waits for the lock its own advance holds")
	}
	s := r.state("c1")
	assert.Equal(t, "b", s.Step)
	assert.Equal(t, flow.Values{"a": "a:x"}, s.Values)
}

// Two Engines (two Bots) on one MemoryStore given the same answer advance
// the flow once: the second one's write finds the first one's, reads
// again, and sees the answer was taken; the step's action runs once.
func TestStore_twoEnginesOneMemoryStore(t *testing.T) {
	store := bot.NewMemoryStore()
	clk := newClock()
	type gate struct{ entered, open chan struct{} }
	gated := func(g gate) flow.Flow {
		f := lead()
		f.Steps[0].Check = flow.CheckFunc(func(ctx context.Context, a flow.Answer) (any, error) {
			g.entered <- struct{}{}
			<-g.open
			return a.Text, nil
		})
		f.Steps[0].Actions = []flow.Call{{Action: "crm", Args: map[string]any{"tag": "name"}}}
		return f
	}
	gates := []gate{{make(chan struct{}, 1), make(chan struct{})}, {make(chan struct{}, 1), make(chan struct{})}}
	rigs := make([]*rig, 2)
	for i := range rigs {
		rigs[i] = newRig(t, rigOption{store: store, clock: clk, noRun: true, flows: []flow.Flow{gated(gates[i])}})
	}
	ctx := t.Context()
	require.NoError(t, rigs[0].e.Start(ctx, "fake", "c1", "lead", nil))
	m := bottest.NewMessage("Hal", bottest.In("fake", "c1"), bottest.WithID("answer-1"))
	done := []chan error{make(chan error, 1), make(chan error, 1)}
	for i, r := range rigs {
		go func() { done[i] <- r.b.HandleMessage(ctx, r.b, m) }()
		<-gates[i].entered // both decide on the same state
	}
	for i := range rigs {
		close(gates[i].open)
		require.NoError(t, <-done[i])
	}
	s := rigs[1].state("c1")
	assert.Equal(t, "email", s.Step)
	assert.Equal(t, flow.Values{"name": "Hal"}, s.Values)
	assert.Len(t, rigs[0].calls.all(), 1, "the first Engine ran the step's action")
	assert.Empty(t, rigs[1].calls.all(), "the second Engine advanced the flow again")
}

// An event redelivered after later events advanced the flow does not
// advance it again: the engine remembers the last events it took.
func TestFlow_oldEventRedelivered(t *testing.T) {
	r := newRig(t, rigOption{flows: []flow.Flow{lead()}, noRun: true})
	ctx := t.Context()
	require.NoError(t, r.e.Start(ctx, "fake", "c1", "lead", nil))
	m1 := bottest.NewMessage("Ana", bottest.In("fake", "c1"), bottest.WithID("m1"))
	m2 := bottest.NewMessage("a@b", bottest.In("fake", "c1"), bottest.WithID("m2"))
	require.NoError(t, r.b.HandleMessage(ctx, r.b, m1))
	require.NoError(t, r.b.HandleMessage(ctx, r.b, m2))
	before := r.state("c1")
	require.Equal(t, "size", before.Step)
	require.NoError(t, r.b.HandleMessage(ctx, r.b, m1))
	after := r.state("c1")
	assert.Equal(t, before, after)
}

package flow_test

import (
	"sync"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/flow"
	"github.com/parleybot/parley/storage/jetstream"
)

// jsStore starts an embedded NATS server on dir and returns a Store on it.
func jsStore(t *testing.T, dir string) *jetstream.Store {
	t.Helper()
	srv, err := jetstream.StartEmbedded(dir)
	require.NoError(t, err)
	t.Cleanup(srv.Shutdown)
	nc, err := srv.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := njs.New(nc)
	require.NoError(t, err)
	s, err := jetstream.NewStore(t.Context(), js, "flows")
	require.NoError(t, err)
	return s
}

// count returns how many messages with text the rigs' adapters delivered.
func count(rigs []*rig, text string) int {
	n := 0
	for _, r := range rigs {
		for _, m := range r.fa.Sent() {
			if m.Text == text {
				n++
			}
		}
	}
	return n
}

// Two replicas sharing a JetStream store get the same answer at the same
// time (past the Bot's deduplication, as a durable inbox redelivers it):
// the flow advances once, and the next question goes out once.
func TestReplicas_oneAdvance(t *testing.T) {
	store := jsStore(t, t.TempDir())
	clk := newClock()
	rigs := []*rig{
		newRig(t, rigOption{store: store, clock: clk, flows: []flow.Flow{lead()}}),
		newRig(t, rigOption{store: store, clock: clk, flows: []flow.Flow{lead()}}),
	}
	ctx := t.Context()
	for i := range 5 {
		conv := "c" + string(rune('a'+i))
		require.NoError(t, rigs[0].e.Start(ctx, "fake", conv, "lead", nil))
		m := bottest.NewMessage("Hal", bottest.In("fake", conv))
		var wg sync.WaitGroup
		for _, r := range rigs {
			wg.Go(func() { assert.NoError(t, r.b.HandleMessage(ctx, r.b, m)) })
		}
		wg.Wait()
		s := rigs[1].state(conv)
		assert.Equal(t, "email", s.Step)
		assert.Equal(t, flow.Values{"name": "Hal"}, s.Values)
	}
	require.Eventually(t, func() bool { return count(rigs, "Your e-mail?") >= 5 }, 5*time.Second, time.Millisecond)
	assert.Never(t, func() bool { return count(rigs, "Your e-mail?") > 5 }, 100*time.Millisecond, 5*time.Millisecond)
	assert.Equal(t, 5, count(rigs, "Your name?"))
}

// The flow's state survives the Bot: a new Bot and Engine on the same
// JetStream store (and a restarted server) find the conversation at the
// same step with the same values, and the next answer continues it.
func TestDurable_restart(t *testing.T) {
	dir := t.TempDir()
	srv, err := jetstream.StartEmbedded(dir)
	require.NoError(t, err)
	nc, err := srv.Connect()
	require.NoError(t, err)
	js, err := njs.New(nc)
	require.NoError(t, err)
	store, err := jetstream.NewStore(t.Context(), js, "flows")
	require.NoError(t, err)
	r1 := newRig(t, rigOption{store: store, flows: []flow.Flow{lead()}})
	require.NoError(t, r1.e.Start(t.Context(), "fake", "c1", "lead", flow.Values{"since": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}))
	r1.say("c1", "Ivy")
	r1.waitStep("c1", "email")
	require.NoError(t, r1.stop())
	nc.Close()
	srv.Shutdown()

	store2 := jsStore(t, dir)
	r2 := newRig(t, rigOption{store: store2, flows: []flow.Flow{lead()}})
	s := r2.state("c1")
	assert.Equal(t, "email", s.Step)
	assert.Equal(t, flow.Values{"name": "Ivy", "since": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, s.Values)
	r2.say("c1", "ivy@x.org")
	r2.waitTexts("c1", "How many employees?")
	require.Len(t, r2.calls.all(), 1)
}

// Three replicas sweep the same timers: the reminder is sent once and the
// timeout ends the flow once.
func TestReplicas_timersFireOnce(t *testing.T) {
	store := jsStore(t, t.TempDir())
	clk := newClock()
	var rigs []*rig
	for range 3 {
		rigs = append(rigs, newRig(t, rigOption{store: store, clock: clk, flows: []flow.Flow{waiting()}}))
	}
	ctx := t.Context()
	for _, c := range []string{"c1", "c2", "c3", "c4"} {
		require.NoError(t, rigs[0].e.Start(ctx, "fake", c, "wait", nil))
	}
	require.Eventually(t, func() bool { return count(rigs, "Still there?") == 4 }, 5*time.Second, time.Millisecond)
	clk.Add(10 * time.Minute)
	require.Eventually(t, func() bool { return count(rigs, "Reminder: still there?") >= 4 }, 10*time.Second, time.Millisecond)
	clk.Add(time.Hour)
	require.Eventually(t, func() bool { return count(rigs, "Done.") >= 4 }, 10*time.Second, time.Millisecond)
	assert.Never(t, func() bool { return count(rigs, "Reminder: still there?") > 4 || count(rigs, "Done.") > 4 },
		200*time.Millisecond, 10*time.Millisecond)
	assert.Equal(t, 4, count(rigs, "Closing, bye."))
	active, err := rigs[2].e.Active(ctx)
	require.NoError(t, err)
	assert.Empty(t, active)
	var handled int64
	for _, r := range rigs {
		handled += r.b.Stats().Handled
	}
	assert.Equal(t, int64(8), handled, "one timer event per reminder and per timeout, across the replicas")
}

package flow_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
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

// Three replicas sweep the same timers, with the Bots' queues in memory
// ("store") or on a shared JetStream Broker ("broker"): the reminder is
// sent once and the timeout ends the flow once.
func TestReplicas_timersFireOnce(t *testing.T) {
	for _, durable := range []bool{false, true} {
		t.Run(map[bool]string{false: "store", true: "broker"}[durable], func(t *testing.T) {
			srv, err := jetstream.StartEmbedded(t.TempDir())
			require.NoError(t, err)
			t.Cleanup(srv.Shutdown)
			clk := newClock()
			var rigs []*rig
			for range 3 {
				o := rigOption{clock: clk, flows: []flow.Flow{waiting()}}
				o.store, o.broker = jsConnect(t, srv, durable)
				rigs = append(rigs, newRig(t, o))
			}
			timersFireOnce(t, rigs, clk)
		})
	}
}

// jsConnect returns, on a connection of its own to srv, the Store and
// (when broker) a Broker of the replicas that share srv.
func jsConnect(t *testing.T, srv *jetstream.Server, broker bool) (*jetstream.Store, bot.Broker) {
	t.Helper()
	nc, err := srv.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := njs.New(nc)
	require.NoError(t, err)
	store, err := jetstream.NewStore(t.Context(), js, "flows")
	require.NoError(t, err)
	if !broker {
		return store, nil
	}
	br, err := jetstream.NewBroker(t.Context(), js, jetstream.WithPartitions(4), jetstream.WithAckWait(time.Second),
		jetstream.WithBrokerLogger(bottest.Logger(t)))
	require.NoError(t, err)
	return store, br
}

func timersFireOnce(t *testing.T, rigs []*rig, clk *clock) {
	t.Helper()
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

// A Bot on the JetStream Broker stops in the middle of handling an answer
// (its Run cancelled and its connection closed while the step's check
// runs): a new Bot and Engine on the same server find the conversation at
// the same step with the same values, the Broker hands them the answer
// again, and it continues the flow once.
func TestDurable_brokerRestart(t *testing.T) {
	srv, err := jetstream.StartEmbedded(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(srv.Shutdown)

	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	blocking := lead()
	check := blocking.Steps[1].Check
	blocking.Steps[1].Check = flow.CheckFunc(func(ctx context.Context, a flow.Answer) (any, error) {
		close(entered)
		<-release
		return check.Check(ctx, a)
	})

	nc, err := srv.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := njs.New(nc)
	require.NoError(t, err)
	store, err := jetstream.NewStore(t.Context(), js, "flows")
	require.NoError(t, err)
	br, err := jetstream.NewBroker(t.Context(), js, jetstream.WithPartitions(4), jetstream.WithAckWait(time.Second))
	require.NoError(t, err)
	fa := bottest.NewFakeAdapter("")
	b1, err := bot.New(bot.WithAdapters(fa), bot.WithStore(store), bot.WithBroker(br),
		bot.WithLogger(slog.New(slog.DiscardHandler)), bot.WithShutdownTimeout(2*time.Second))
	require.NoError(t, err)
	e1 := flow.New(b1, flow.WithSweepInterval(5*time.Millisecond))
	require.NoError(t, e1.RegisterAction("crm", &calls{}))
	require.NoError(t, e1.Define(blocking))
	e1.Install()
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan struct{})
	go func() { defer close(ran); _ = b1.Run(ctx) }()

	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, e1.Start(t.Context(), "fake", "c1", "lead", flow.Values{"since": since}))
	require.NoError(t, fa.Inject(t.Context(), bottest.NewMessage("Ivy", bottest.In("fake", "c1"), bottest.WithID("m1"))))
	require.Eventually(t, func() bool { return len(texts(fa, "c1")) == 2 }, 10*time.Second, time.Millisecond)
	require.NoError(t, fa.Inject(t.Context(), bottest.NewMessage("ivy@x.org", bottest.In("fake", "c1"), bottest.WithID("m2"))))
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the e-mail answer was not handled")
	}
	cancel()
	nc.Close()
	once.Do(func() { close(release) })
	<-ran
	assert.Equal(t, []string{"Your name?", "Your e-mail?"}, texts(fa, "c1"))

	store2, br2 := jsConnect(t, srv, true)
	r2 := newRig(t, rigOption{store: store2, broker: br2, noRun: true, flows: []flow.Flow{lead()}})
	s := r2.state("c1")
	assert.Equal(t, "email", s.Step)
	assert.Equal(t, flow.Values{"name": "Ivy", "since": since}, s.Values)
	r2.stop = bottest.Run(t, r2.b)
	r2.waitTexts("c1", "How many employees?")
	r2.say("c1", "120")
	r2.waitTexts("c1", "How many employees?", "When can we call you?")
	assert.Len(t, r2.calls.all(), 1)
	assert.Equal(t, flow.Values{"name": "Ivy", "since": since, "email": "ivy@x.org", "size": int64(120)}, r2.state("c1").Values)
}

// texts returns the texts fa delivered to conv.
func texts(fa *bottest.FakeAdapter, conv string) []string {
	var out []string
	for _, m := range fa.Sent() {
		if m.Conversation == conv {
			out = append(out, m.Text)
		}
	}
	return out
}

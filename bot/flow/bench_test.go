package flow_test

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/flow"
	"github.com/parleybot/parley/storage/jetstream"
)

// loop is a one-step flow that asks again after every answer, so that
// each message is one step: check, state write, prompt.
func loop() flow.Flow {
	stop := flow.ConditionFunc(func(ctx context.Context, s *flow.State) (bool, error) {
		a, _ := s.Values.String("a")
		return a == "stop", nil
	})
	return flow.Flow{Name: "loop", Steps: []flow.Step{{
		Name: "q", Ask: flow.Text("Again?"), Save: "a",
		Check: flow.CheckFunc(func(ctx context.Context, a flow.Answer) (any, error) { return a.Text, nil }),
		Next:  flow.Next{Branches: []flow.Branch{{When: stop, Goto: flow.End}}, Default: "q"},
	}}}
}

// benchBot returns a running Bot with a discarding adapter and an Engine
// with the loop flow, on store (nil: the Bot's MemoryStore).
func benchBot(b *testing.B, store bot.Store) (*bot.Bot, *bottest.FakeAdapter, *flow.Engine) {
	fa := bottest.NewFakeAdapter("")
	fa.Discard = true
	opts := []bot.Option{bot.WithAdapters(fa), bot.WithLogger(slog.New(slog.DiscardHandler))}
	if store != nil {
		opts = append(opts, bot.WithStore(store))
	}
	bt, err := bot.New(opts...)
	if err != nil {
		b.Fatal(err)
	}
	e := flow.New(bt)
	if err := e.Define(loop()); err != nil {
		b.Fatal(err)
	}
	e.Install()
	bottest.Run(b, bt)
	return bt, fa, e
}

// waitCount waits until the adapter delivered n messages.
func waitCount(b *testing.B, fa *bottest.FakeAdapter, n int64) {
	deadline := time.Now().Add(time.Minute)
	for fa.Count() < n {
		if time.Now().After(deadline) {
			b.Fatalf("delivered %d of %d", fa.Count(), n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// One flow step, end to end: an answer published to the Bot, routed to the
// engine, checked, the state written (compare-and-set), and the next
// question delivered through the outbox. One conversation, so the steps
// run one after the other.
//
// The "plain" case is the limit it is compared with: the same Bot and
// messages, with a handler that answers each message with the question
// and keeps no state.
func BenchmarkStep(b *testing.B) {
	b.Run("plain", benchPlain)
	b.Run("memory", func(b *testing.B) { benchStep(b, nil) })
	b.Run("jetstream", func(b *testing.B) {
		srv, err := jetstream.StartEmbedded(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(srv.Shutdown)
		nc, err := srv.Connect()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(nc.Close)
		js, err := njs.New(nc)
		if err != nil {
			b.Fatal(err)
		}
		st, err := jetstream.NewStore(b.Context(), js, "bench", jetstream.WithMemoryStorage())
		if err != nil {
			b.Fatal(err)
		}
		benchStep(b, st)
	})
}

func benchStep(b *testing.B, store bot.Store) {
	bt, fa, e := benchBot(b, store)
	ctx := context.Background()
	if err := e.Start(ctx, "fake", "c", "loop", nil); err != nil {
		b.Fatal(err)
	}
	waitCount(b, fa, 1)
	msgs := make([]*bot.Message, b.N)
	for i := range msgs {
		msgs[i] = bottest.NewMessage("answer", bottest.In("fake", "c"), bottest.WithID(fmt.Sprintf("m%d", i)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for _, m := range msgs {
		if err := bt.Publish(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	waitCount(b, fa, int64(b.N)+1)
}

func benchPlain(b *testing.B) {
	fa := bottest.NewFakeAdapter("")
	fa.Discard = true
	bt, err := bot.New(bot.WithAdapters(fa), bot.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	bt.HandleFunc(bot.Always(), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("Again?"))
	})
	bottest.Run(b, bt)
	ctx := context.Background()
	msgs := make([]*bot.Message, b.N)
	for i := range msgs {
		msgs[i] = bottest.NewMessage("answer", bottest.In("fake", "c"), bottest.WithID(fmt.Sprintf("m%d", i)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for _, m := range msgs {
		if err := bt.Publish(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	waitCount(b, fa, int64(b.N))
}

// The memory a waiting conversation costs with the Bot's MemoryStore: its
// state, its index entry and the claim of its delivered question.
func BenchmarkWaitingConversation(b *testing.B) {
	const n = 5000
	for range b.N {
		b.StopTimer()
		_, fa, e := benchBot(b, nil)
		ctx := context.Background()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		for i := range n {
			if err := e.Start(ctx, "fake", fmt.Sprintf("conversation-%06d", i), "loop", flow.Values{"name": "Ada Lovelace"}); err != nil {
				b.Fatal(err)
			}
		}
		waitCount(b, fa, n)
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/conv")
		runtime.KeepAlive(e)
	}
}

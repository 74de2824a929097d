package flow_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/flow"
)

// countingStore counts the reads and writes that reach a Store.
type countingStore struct {
	bot.Store
	gets, sets atomic.Int64
}

func (s *countingStore) Get(ctx context.Context, key string) ([]byte, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, key)
}

func (s *countingStore) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	s.sets.Add(1)
	return s.Store.Set(ctx, key, v, ttl)
}

// activeFlows is how many flows wait while the index benchmarks measure.
const activeFlows = 5000

// indexBench returns a running Bot whose Engine (sweeping only when told)
// has activeFlows flows of f waiting, on a MemoryStore that counts its
// calls. Its clock moves by step at each Start (zero: it stands still).
func indexBench(b *testing.B, f flow.Flow, step time.Duration) (*flow.Engine, *countingStore, func()) {
	fa := bottest.NewFakeAdapter("")
	fa.Discard = true
	st := &countingStore{Store: bot.NewMemoryStore()}
	bt, err := bot.New(bot.WithAdapters(fa), bot.WithStore(st), bot.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	var ticks atomic.Int64
	start := time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC)
	e := flow.New(bt, flow.WithClock(func() time.Time { return start.Add(time.Duration(ticks.Load()) * step) }),
		flow.WithSweepInterval(time.Hour))
	if err := e.Define(f); err != nil {
		b.Fatal(err)
	}
	e.Install()
	bottest.Run(b, bt)
	ctx := context.Background()
	for i := range activeFlows {
		if err := e.Start(ctx, "fake", fmt.Sprintf("conversation-%06d", i), f.Name, nil); err != nil {
			b.Fatal(err)
		}
		ticks.Add(1)
	}
	waitCount(b, fa, activeFlows)
	return e, st, func() { ticks.Add(1) }
}

// Start in a conversation while 5,000 flows wait: the state, the index
// entries and the first question. Each iteration starts a flow in a new
// conversation and, off the clock, cancels the one started 5,000 before,
// so that 5,000 flows stay active. "timers" is a flow whose step has a
// reminder and a timeout, "plain" one without; they start 100 a second
// (the clock moves 10ms a start), and "timers-burst" all in the same
// second (the clock stands still), so that all their timers are due in
// the same second.
func BenchmarkStart(b *testing.B) {
	for _, c := range []struct {
		name string
		f    flow.Flow
		step time.Duration
	}{{"plain", loop(), 10 * time.Millisecond}, {"timers", waiting(), 10 * time.Millisecond}, {"timers-burst", waiting(), 0}} {
		f := c.f
		b.Run(c.name, func(b *testing.B) {
			e, _, tick := indexBench(b, f, c.step)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := e.Start(ctx, "fake", fmt.Sprintf("conversation-%06d", activeFlows+i), f.Name, nil); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				tick()
				if err := e.Cancel(ctx, "fake", fmt.Sprintf("conversation-%06d", i)); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// One tick of the timer sweep while 5,000 flows wait with timers, none of
// them due: what every replica pays every second. It reports the Store
// reads per tick.
func BenchmarkSweep(b *testing.B) {
	e, st, _ := indexBench(b, waiting(), 10*time.Millisecond)
	ctx := context.Background()
	e.Sweep(ctx) // the first tick may catch up
	gets := st.gets.Load()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		e.Sweep(ctx)
	}
	b.StopTimer()
	b.ReportMetric(float64(st.gets.Load()-gets)/float64(b.N), "reads/tick")
}

// A burst of n starts of a flow with timers, all in the same second, so
// that all their timers are due in the same second: what a start costs as
// the burst grows (ns/start, which a start whose cost does not depend on
// how many started in its second keeps flat). Each iteration is a burst
// in new conversations, in a second of its own; the questions are
// delivered between bursts, off the clock. A burst of 5,000 takes seconds:
// run it with -benchtime=1x.
func BenchmarkStartBurst(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			fa := bottest.NewFakeAdapter("")
			fa.Discard = true
			bt, err := bot.New(bot.WithAdapters(fa), bot.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				b.Fatal(err)
			}
			var secs atomic.Int64
			start := time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC)
			e := flow.New(bt, flow.WithClock(func() time.Time { return start.Add(time.Duration(secs.Load()) * time.Second) }),
				flow.WithSweepInterval(time.Hour))
			f := waiting()
			if err := e.Define(f); err != nil {
				b.Fatal(err)
			}
			e.Install()
			bottest.Run(b, bt)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				for j := range n {
					if err := e.Start(ctx, "fake", fmt.Sprintf("burst-%d-%06d", i, j), f.Name, nil); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				waitCount(b, fa, int64((i+1)*n))
				secs.Add(1)
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed())/float64(b.N*n), "ns/start")
		})
	}
}

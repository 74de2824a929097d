package bot_test

import (
	"context"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// The echo benchmarks measure the path of the most common route: one
// regular expression, `^echo (.+)$`, whose handler replies with the
// captured text. BenchmarkEchoRoute drives a Router alone, so that its
// allocations are the routing's; BenchmarkEchoPipelineVsBare runs the
// whole Bot and, back to back, a bare pipeline doing the same work.

var echoRE = regexp.MustCompile(`^echo (.+)$`)

// echoHandler replies with the route's first group.
func echoHandler(ctx context.Context, w bot.Sender, m *bot.Message) error {
	return w.Send(ctx, m.Reply(bot.CapturesOf(ctx).Groups[1]))
}

// countSender counts what it is sent.
type countSender struct{ n atomic.Int64 }

func (s *countSender) Send(context.Context, *bot.Message) error { s.n.Add(1); return nil }

func BenchmarkEchoRoute(b *testing.B) {
	r := bot.NewRouter()
	r.HandleFunc(bot.Regexp(echoRE), echoHandler)
	ctx := context.Background()
	w := &countSender{}
	m := &bot.Message{ID: "m1", Platform: "fake", Conversation: "c1", Text: "echo hello there"}
	b.ReportAllocs()
	for b.Loop() {
		if err := r.HandleMessage(ctx, w, m); err != nil {
			b.Fatal(err)
		}
	}
	if w.n.Load() == 0 {
		b.Fatal("no reply")
	}
}

// echoMessage builds inbound message i, as benchMessage does, with the
// text the echo route matches.
func echoMessage(i int64) *bot.Message {
	return &bot.Message{
		ID:           strconv.FormatInt(i, 10),
		Platform:     "fake",
		Conversation: benchConvNames[i%benchConvs],
		Text:         "echo hello " + strconv.FormatInt(i&0xff, 10),
		Kind:         bot.KindMessage,
	}
}

// runEcho pushes b.N messages through a Bot with the echo route, as
// runPipeline does, and returns how long they took.
func runEcho(b *testing.B) time.Duration {
	b.StopTimer()
	fa := bottest.NewFakeAdapter("fake")
	fa.Discard = true
	bt, err := bot.New(bot.WithAdapters(fa), bot.WithLogger(discardLogger()))
	if err != nil {
		b.Fatal(err)
	}
	bt.HandleFunc(bot.Regexp(echoRE), echoHandler)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bt.Run(ctx) }()
	b.StartTimer()
	start := time.Now()
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := bt.Publish(ctx, echoMessage(next.Add(1)-1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	deadline := time.Now().Add(time.Minute)
	for fa.Count() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d replies delivered", fa.Count(), b.N)
		}
		runtime.Gosched()
	}
	took := time.Since(start)
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	return took
}

// runEchoBare makes the same hops as runEcho with bare channels: a worker
// runs the expression and builds the reply, a sender counts it.
func runEchoBare(b *testing.B) time.Duration {
	b.StopTimer()
	workers := max(4*runtime.GOMAXPROCS(0), 8)
	in := make([]chan *bot.Message, workers)
	outLanes := make([]chan *bot.Message, 4)
	for i := range in {
		in[i] = make(chan *bot.Message, 256)
	}
	for i := range outLanes {
		outLanes[i] = make(chan *bot.Message, 256)
	}
	var delivered atomic.Int64
	var wg, owg sync.WaitGroup
	for _, q := range in {
		wg.Go(func() {
			for m := range q {
				g := echoRE.FindStringSubmatch(m.Text)
				if g == nil {
					continue
				}
				r := m.Reply(g[1])
				outLanes[bot.LaneOf(r.Platform, r.Conversation, len(outLanes))] <- r
			}
		})
	}
	for _, q := range outLanes {
		owg.Go(func() {
			for range q {
				delivered.Add(1)
			}
		})
	}
	b.StartTimer()
	start := time.Now()
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m := echoMessage(next.Add(1) - 1)
			in[bot.LaneOf(m.Platform, m.Conversation, len(in))] <- m
		}
	})
	for delivered.Load() < int64(b.N) {
		runtime.Gosched()
	}
	took := time.Since(start)
	b.StopTimer()
	for _, q := range in {
		close(q)
	}
	wg.Wait()
	for _, q := range outLanes {
		close(q)
	}
	owg.Wait()
	b.StartTimer()
	return took
}

// BenchmarkEchoPipelineVsBare runs b.N messages through the bare echo
// pipeline and then through the Bot, and reports both rates and the Bot's
// as a percentage of the bare one's. (Its allocations are those of both
// halves.)
func BenchmarkEchoPipelineVsBare(b *testing.B) {
	bare := runEchoBare(b)
	real := runEcho(b)
	b.ReportMetric(float64(b.N)/bare.Seconds(), "bare-msgs/s")
	b.ReportMetric(float64(b.N)/real.Seconds(), "msgs/s")
	b.ReportMetric(100*bare.Seconds()/real.Seconds(), "%bare")
}

// BenchmarkEchoPipeline is the Bot half of BenchmarkEchoPipelineVsBare
// alone, for its allocations per message.
func BenchmarkEchoPipeline(b *testing.B) {
	b.ReportAllocs()
	b.ReportMetric(float64(b.N)/runEcho(b).Seconds(), "msgs/s")
}

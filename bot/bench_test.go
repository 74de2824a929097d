package bot_test

import (
	"context"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// The pipeline benchmarks push b.N inbound messages over 1,024
// conversations through publish → dedup → route → handler → outbox →
// adapter, and report messages per second. BenchmarkPipeline uses the real
// Bot (MemoryStore dedup, ownership lookups, idempotency keys, handler
// timeout, panic boundary); BenchmarkBarePipeline makes the same hops with
// bare channels and goroutines and nothing else, which is the limit the Bot
// is compared with in BENCHMARKS.md.

const benchConvs = 1024

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// benchConvNames are the conversations the benchmarks spread messages over.
var benchConvNames = func() []string {
	names := make([]string, benchConvs)
	for i := range names {
		names[i] = "conv-" + strconv.Itoa(i)
	}
	return names
}()

// benchMessage builds inbound message i as an adapter would, in the
// publishing loop: messages are not built in advance and kept alive, which
// would make every GC cycle of the run mark them all.
func benchMessage(i int64, withID bool) *bot.Message {
	m := &bot.Message{
		Platform:     "fake",
		Conversation: benchConvNames[i%benchConvs],
		Text:         "ping",
		Kind:         bot.KindMessage,
	}
	if withID {
		m.ID = strconv.FormatInt(i, 10)
	}
	return m
}

func BenchmarkPipeline(b *testing.B) { benchPipeline(b, true) }

// benchPipeline runs b.N messages through a Bot (see runPipeline) and
// reports messages per second.
func benchPipeline(b *testing.B, withID bool, opts ...bot.Option) {
	b.ReportAllocs()
	b.ReportMetric(float64(b.N)/runPipeline(b, withID, opts...).Seconds(), "msgs/s")
}

// runPipeline runs b.N messages through a Bot on a discarding FakeAdapter
// whose only route replies once, and returns how long they took from the
// first Publish to the last reply's delivery. withID says whether the
// messages have event IDs (and so are deduplicated).
func runPipeline(b *testing.B, withID bool, opts ...bot.Option) time.Duration {
	return runPipelineSetup(b, withID, nil, opts...)
}

// runPipelineSetup is runPipeline with setup called on the Bot before it
// runs.
func runPipelineSetup(b *testing.B, withID bool, setup func(*bot.Bot), opts ...bot.Option) time.Duration {
	b.StopTimer()
	fa := bottest.NewFakeAdapter("fake")
	fa.Discard = true
	bt, err := bot.New(append([]bot.Option{bot.WithAdapters(fa), bot.WithLogger(discardLogger())}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	bt.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("pong"))
	}))
	if setup != nil {
		setup(bt)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bt.Run(ctx) }()
	b.StartTimer()
	start := time.Now()
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := bt.Publish(ctx, benchMessage(next.Add(1)-1, withID)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	for fa.Count() < int64(b.N) {
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

func BenchmarkBarePipeline(b *testing.B) {
	b.ReportAllocs()
	b.ReportMetric(float64(b.N)/runBare(b).Seconds(), "msgs/s")
}

// runBare pushes b.N messages through the bare pipeline and returns how
// long they took.
func runBare(b *testing.B) time.Duration {
	b.StopTimer()
	workers := 4 * runtime.GOMAXPROCS(0)
	workers = max(workers, 8)
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
				r := m.Reply("pong")
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
			m := benchMessage(next.Add(1)-1, true)
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

// BenchmarkPipelineVsBare runs b.N messages through the bare pipeline and
// then through the Bot (as BenchmarkPipeline), and reports both rates and
// the Bot's as a percentage of the bare one's. Measured back to back in one
// run, the two see the same machine, which BenchmarkPipeline and
// BenchmarkBarePipeline, run one after the other with -count, need not on
// a shared machine. (Its ns/op and allocations are those of both halves.)
func BenchmarkPipelineVsBare(b *testing.B) {
	bare := runBare(b)
	real := runPipeline(b, true)
	b.ReportMetric(float64(b.N)/bare.Seconds(), "bare-msgs/s")
	b.ReportMetric(float64(b.N)/real.Seconds(), "msgs/s")
	b.ReportMetric(100*bare.Seconds()/real.Seconds(), "%bare")
}

// BenchmarkPipelineFeed runs b.N messages through the Bot three times in
// one run: with nobody listening to its event feed, with a subscriber
// that reads every event, and with one that reads none (its events are
// dropped). It reports each rate, and each with a listener as a
// percentage of the rate with none.
func BenchmarkPipelineFeed(b *testing.B) {
	quiet := runPipeline(b, true)
	var read atomic.Int64
	reading := runPipelineSetup(b, true, func(bt *bot.Bot) {
		sub := bt.Subscribe(0)
		go func() {
			for range sub.Events() {
				read.Add(1)
			}
		}()
	})
	stuck := runPipelineSetup(b, true, func(bt *bot.Bot) { bt.Subscribe(1) })
	b.ReportMetric(float64(b.N)/quiet.Seconds(), "msgs/s")
	b.ReportMetric(float64(b.N)/reading.Seconds(), "reading-msgs/s")
	b.ReportMetric(float64(b.N)/stuck.Seconds(), "stuck-msgs/s")
	b.ReportMetric(100*quiet.Seconds()/reading.Seconds(), "%reading")
	b.ReportMetric(100*quiet.Seconds()/stuck.Seconds(), "%stuck")
}

// BenchmarkPipelineTracing runs b.N messages through the Bot twice in one
// run: without a TracerProvider (the default) and with an SDK provider
// that samples every trace and exports to nowhere through the batching
// span processor, as a program exporting its traces would. Each message
// then makes four spans: publish, handle, the reply's delivery and its
// attempt. It reports both rates, and the traced one as a percentage of
// the untraced one.
func BenchmarkPipelineTracing(b *testing.B) {
	quiet := runPipeline(b, true)
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()),
		sdktrace.WithSampler(sdktrace.AlwaysSample()))
	traced := runPipeline(b, true, bot.WithTracerProvider(tp))
	b.StopTimer()
	if err := tp.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	b.ReportMetric(float64(b.N)/quiet.Seconds(), "msgs/s")
	b.ReportMetric(float64(b.N)/traced.Seconds(), "traced-msgs/s")
	b.ReportMetric(100*quiet.Seconds()/traced.Seconds(), "%traced")
}

// BenchmarkPipelineObserved runs b.N messages through the Bot three
// times in one run: as it is, with a subscriber reading its event feed,
// and traced (as BenchmarkPipelineTracing); it reports each rate, and the
// observed ones as percentages of the first.
func BenchmarkPipelineObserved(b *testing.B) {
	quiet := runPipeline(b, true)
	listened := runPipelineSetup(b, true, func(bt *bot.Bot) {
		sub := bt.Subscribe(0)
		go func() {
			for range sub.Events() {
			}
		}()
	})
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()),
		sdktrace.WithSampler(sdktrace.AlwaysSample()))
	traced := runPipeline(b, true, bot.WithTracerProvider(tp))
	b.StopTimer()
	if err := tp.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	b.ReportMetric(float64(b.N)/quiet.Seconds(), "msgs/s")
	b.ReportMetric(100*quiet.Seconds()/listened.Seconds(), "%listened")
	b.ReportMetric(100*quiet.Seconds()/traced.Seconds(), "%traced")
}

// BenchmarkPipelineNoStore is BenchmarkPipelineNoIDs with a Store that does
// nothing: the cost of the Bot's own machinery.
func BenchmarkPipelineNoStore(b *testing.B) {
	benchPipeline(b, false, bot.WithKeyStore(nopStore{}), bot.WithStore(nopStore{}))
}

type nopStore struct{}

func (nopStore) Get(context.Context, string) ([]byte, error)              { return nil, bot.ErrNotFound }
func (nopStore) Set(context.Context, string, []byte, time.Duration) error { return nil }
func (nopStore) SetIfAbsent(context.Context, string, []byte, time.Duration) (bool, error) {
	return true, nil
}
func (nopStore) Delete(context.Context, string) error { return nil }

// BenchmarkPipelineNoIDs is BenchmarkPipeline for messages without event
// IDs: no inbound deduplication, and replies get generated keys.
func BenchmarkPipelineNoIDs(b *testing.B) { benchPipeline(b, false) }

// BenchmarkMemoryPerConversation measures the heap held per tracked
// conversation: its ownership entry (human-owned, the larger case) and the
// deduplication entries of its last ten messages, in the stores the Bot
// uses by default. (The replies' keys take no entry: they are covered by
// their events' deduplication entries.)
func BenchmarkMemoryPerConversation(b *testing.B) {
	const convs, msgsPer = 100_000, 10
	for range b.N {
		state, keys := bot.NewMemoryStore(), bot.NewMemoryStore()
		ctx := context.Background()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		own := make([]byte, 8)
		for c := range convs {
			conv := "conv-" + strconv.Itoa(c) + "-0123456789abcdef"
			_ = state.Set(ctx, "own:sendbee:"+conv, own, 0)
			for i := range msgsPer {
				id := conv + "-msg-" + strconv.Itoa(i)
				_, _ = keys.SetIfAbsent(ctx, "dedup:sendbee:"+id, nil, 25*time.Hour)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/convs, "B/conversation")
		runtime.KeepAlive(state)
		runtime.KeepAlive(keys)
	}
}

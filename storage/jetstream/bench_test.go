package jetstream_test

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/storage/jetstream"
)

// The pipeline benchmarks push b.N inbound messages, each with an event ID
// (so deduplication is on), over pipeConvs conversations through a Bot
// whose only route replies once, and measure from Publish to the reply
// reaching the adapter's Send. BenchmarkMemoryPipeline is the Bot with its
// in-memory queues and MemoryStore; BenchmarkDurablePipeline is the same
// Bot on the JetStream Broker and Store of an embedded server. Both report
// messages per second and the p50 and p99 latency of a message.
//
// pipePublishers goroutines publish, as concurrent webhooks would, but at
// most a fixed number of messages (the sub-benchmark's inflight=) are
// between Publish and Send at any time: a publisher takes a slot before
// Publish and the adapter frees it when the reply arrives. Latency then
// measures the pipeline at that load, not a backlog that grows with b.N.
// With inflight=1 it is the latency of a lone message.
const (
	pipeConvs      = 256
	pipePublishers = 16
	pipeInFlight   = 64
	// pipeWarmup messages, one per conversation, go through before the
	// timer starts: they create the consumers' first fetches, the key
	// bucket's first entries and the Bot's lanes.
	pipeWarmup = pipeConvs
)

var pipeConvNames = func() []string {
	names := make([]string, pipeConvs)
	for i := range names {
		names[i] = "conv-" + strconv.Itoa(i)
	}
	return names
}()

func BenchmarkMemoryPipeline(b *testing.B) {
	for _, n := range []int{pipeInFlight, 1} {
		b.Run("inflight="+strconv.Itoa(n), func(b *testing.B) { benchPipeline(b, n) })
	}
}

// BenchmarkDurablePipeline's sub-benchmarks are named
// storage/partitions/inflight=n: file is the server's file storage with
// its default sync policy, file-syncalways fsyncs every write, memstreams
// keeps the streams and both key buckets in the server's memory; p16 and
// p64 are the inbound partitions, with the default 4 outbound lanes unless
// -lanes16.
func BenchmarkDurablePipeline(b *testing.B) {
	memory := []jetstream.StoreOption{jetstream.WithMemoryStorage()}
	for _, c := range []struct {
		name       string
		inFlight   int
		syncAlways bool
		storeOpts  []jetstream.StoreOption
		opts       []jetstream.BrokerOption
	}{
		{name: "file/p16", inFlight: pipeInFlight},
		{name: "file/p16", inFlight: 1},
		{name: "file/p64", inFlight: pipeInFlight, opts: []jetstream.BrokerOption{jetstream.WithPartitions(64)}},
		{name: "file/p16-lanes16", inFlight: pipeInFlight, opts: []jetstream.BrokerOption{jetstream.WithOutboxLanes(16)}},
		{name: "file-syncalways/p16", inFlight: pipeInFlight, syncAlways: true},
		{name: "memstreams/p16", inFlight: pipeInFlight, storeOpts: memory,
			opts: []jetstream.BrokerOption{jetstream.WithStreamMemoryStorage()}},
	} {
		b.Run(c.name+"/inflight="+strconv.Itoa(c.inFlight), func(b *testing.B) {
			benchDurable(b, c.inFlight, c.storeOpts, c.syncAlways, c.opts...)
		})
	}
}

// benchDurable runs benchPipeline on a Broker and a state Store on a fresh
// embedded server. syncAlways makes the server fsync every write (its
// default writes to the page cache and syncs every two minutes). It does
// what startServer and connect do for tests, for a *testing.B, and stops
// the connection and the server before it returns.
func benchDurable(b *testing.B, inFlight int, storeOpts []jetstream.StoreOption, syncAlways bool, opts ...jetstream.BrokerOption) {
	var eopts []jetstream.EmbeddedOption
	if syncAlways {
		eopts = append(eopts, jetstream.WithServerOptions(func(o *server.Options) { o.SyncAlways = true }))
	}
	srv, err := jetstream.StartEmbedded(b.TempDir(), eopts...)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := srv.Connect()
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close() // before the server's shutdown
	js, err := njs.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	br, err := jetstream.NewBroker(ctx, js, append([]jetstream.BrokerOption{
		jetstream.WithBrokerLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	store, err := jetstream.NewStore(ctx, js, "state", storeOpts...)
	if err != nil {
		b.Fatal(err)
	}
	benchPipeline(b, inFlight, bot.WithBroker(br), bot.WithStore(store))
}

// latencyAdapter is the benchmarks' platform. Inbound message i has the
// event ID strconv.Itoa(i); start[i] is when it was published and lat[i]
// (once set) how long its reply took to reach Send, both in nanoseconds
// since base. Send frees an in-flight slot for the first reply to each
// message.
type latencyAdapter struct {
	base  time.Time
	start []atomic.Int64
	lat   []atomic.Int64
	slots chan struct{}
	stray atomic.Int64 // replies to no benchmark message, or repeated

	pub   atomic.Pointer[bot.Publisher]
	ready chan struct{}
}

func newLatencyAdapter(n, inFlight int) *latencyAdapter {
	return &latencyAdapter{
		base:  time.Now(),
		start: make([]atomic.Int64, n),
		lat:   make([]atomic.Int64, n),
		slots: make(chan struct{}, inFlight),
		ready: make(chan struct{}),
	}
}

func (a *latencyAdapter) Name() string { return "fake" }

func (a *latencyAdapter) Run(ctx context.Context, p bot.Publisher) error {
	a.pub.Store(&p)
	close(a.ready)
	<-ctx.Done()
	return nil
}

func (a *latencyAdapter) Send(ctx context.Context, m *bot.Message) (bot.SendResult, error) {
	i, err := strconv.Atoi(m.ReplyTo)
	if err != nil {
		i = -1
	}
	a.done(i)
	return bot.SendResult{}, nil
}

// done records that the reply to message i arrived: its latency, and a
// freed slot the first time.
func (a *latencyAdapter) done(i int) {
	now := int64(time.Since(a.base))
	if i < 0 || i >= len(a.lat) {
		a.stray.Add(1)
		return
	}
	if a.lat[i].CompareAndSwap(0, max(now-a.start[i].Load(), 1)) {
		<-a.slots
	} else {
		a.stray.Add(1)
	}
}

// publish publishes messages from..to-1 through the Bot's Publisher; see
// publishWith.
func (a *latencyAdapter) publish(ctx context.Context, from, to int) error {
	p := *a.pub.Load()
	return a.publishWith(ctx, from, to, p.Publish)
}

// publishWith publishes messages from..to-1 with publish from
// pipePublishers goroutines, each taking an in-flight slot first, and
// returns the first error.
func (a *latencyAdapter) publishWith(ctx context.Context, from, to int, publish func(context.Context, *bot.Message) error) error {
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	next.Store(int64(from))
	for range pipePublishers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= to {
					return
				}
				select {
				case a.slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				// Built here, as an adapter builds it from a webhook.
				m := pipeMessage(i)
				a.start[i].Store(int64(time.Since(a.base)))
				if err := publish(ctx, m); err != nil {
					errOnce.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// pipeMessage builds inbound message i, as an adapter builds it from a
// webhook: text that the echo route matches, event ID i, one of
// pipeConvs conversations.
func pipeMessage(i int) *bot.Message {
	return &bot.Message{
		Platform:     "fake",
		Conversation: pipeConvNames[i%pipeConvs],
		ID:           strconv.Itoa(i),
		Text:         "echo hello " + strconv.Itoa(i&0xff),
		Kind:         bot.KindMessage,
	}
}

// drain waits until every in-flight message has its reply, then frees the
// slots again. It gives up after a minute without progress.
func (a *latencyAdapter) drain(b *testing.B) {
	stall := time.NewTimer(time.Minute)
	defer stall.Stop()
	for range cap(a.slots) {
		select {
		case a.slots <- struct{}{}:
			stall.Reset(time.Minute)
		case <-stall.C:
			b.Fatal("replies missing after a minute without progress")
		}
	}
	for range cap(a.slots) {
		<-a.slots
	}
}

// benchPipeline runs pipeWarmup and then b.N messages through a Bot built
// with opts on a latencyAdapter, at most inFlight at a time, and reports
// msgs/s and the p50, p99 and largest latency (p50-ms, p99-ms, max-ms).
// The Bot's only handler replies "pong" to every message.
func benchPipeline(b *testing.B, inFlight int, opts ...bot.Option) {
	benchPipelineWith(b, inFlight, func(bt *bot.Bot) {
		bt.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			return w.Send(ctx, m.Reply("pong"))
		}))
	}, opts...)
}

// benchPipelineWith is benchPipeline with the routes that routes gives
// the Bot.
func benchPipelineWith(b *testing.B, inFlight int, routes func(*bot.Bot), opts ...bot.Option) {
	total := pipeWarmup + b.N
	a := newLatencyAdapter(total, inFlight)
	bt, err := bot.New(append([]bot.Option{bot.WithAdapters(a),
		bot.WithLogger(slog.New(slog.DiscardHandler)), bot.WithShutdownTimeout(10 * time.Second)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	routes(bt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bt.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	select {
	case <-a.ready:
	case err := <-done:
		done <- err
		b.Fatalf("bot stopped before its adapter ran: %v", err)
	}

	if err := a.publish(ctx, 0, pipeWarmup); err != nil {
		b.Fatal(err)
	}
	a.drain(b)
	a.measure(b, func() error { return a.publish(ctx, pipeWarmup, total) })
}

// measure runs publish (the timed messages, after pipeWarmup), waits for
// every reply, and reports msgs/s and the p50, p99 and largest latency.
func (a *latencyAdapter) measure(b *testing.B, publish func() error) {
	b.ReportAllocs()
	b.ResetTimer()
	t0 := time.Now()
	if err := publish(); err != nil {
		b.Fatal(err)
	}
	a.drain(b)
	elapsed := time.Since(t0)
	b.StopTimer()

	lat := make([]int64, b.N)
	for i := range lat {
		lat[i] = a.lat[pipeWarmup+i].Load()
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(percentile(lat, 50)/1e6, "p50-ms")
	b.ReportMetric(percentile(lat, 99)/1e6, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/1e6, "max-ms")
	if n := a.stray.Load(); n > 0 {
		b.Errorf("%d replies were repeated or answered no benchmark message", n)
	}
}

// percentile returns the nearest-rank p-th percentile of sorted.
func percentile(sorted []int64, p int) float64 {
	rank := (len(sorted)*p + 99) / 100 // ceil(n·p/100)
	return float64(sorted[max(rank, 1)-1])
}

package bot_test

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleybot/parley/bot"
)

// The workload benchmarks run two fixed workloads through the Bot and
// through a bare pipeline doing the same work, in two modes.
//
// W1: one route, bot.Regexp(`^echo (.+)$`), whose handler replies with the
// capture (CapturesOf). Every message is "echo <something>" and gets one
// reply; a message counts once its reply reaches the adapter.
//
// W2: 100 routes, bot.Regexp(`^cmd0 `) … bot.Regexp(`^cmd99 `), and
// messages that match none of them. A message counts when the NotFound
// handler, which does nothing else, gets it.
//
// Each run pushes b.N messages, each with its own event ID, over 1,024
// conversations, from one goroutine (as one adapter's receiving loop
// would), through the Bot with its defaults: inbound deduplication in the
// in-memory store, default workers and outbox, and an adapter that only
// counts what it is asked to send.
//
// Lockstep publishes a message and waits until it counts before the next;
// stream publishes as fast as Publish accepts and waits for the last one.
//
// The bare pipeline has the Bot's default shape and nothing else: the
// message is built and handed over a channel (one of max(4×GOMAXPROCS, 8)
// lanes by conversation, 256 deep) to a worker that runs the regular
// expression(s) and builds the reply, which it hands over a second channel
// (one of 4 lanes) to a sender that counts it. In W2 there is no reply, so
// the worker counts the message itself.

// workloadRoutes is the number of routes of W2.
const workloadRoutes = 100

var echoRe = regexp.MustCompile(`^echo (.+)$`)

var cmdRes = func() []*regexp.Regexp {
	res := make([]*regexp.Regexp, workloadRoutes)
	for i := range res {
		res[i] = regexp.MustCompile(fmt.Sprintf(`^cmd%d `, i))
	}
	return res
}()

// echoTexts are the messages of W1, taken in turn.
var echoTexts = []string{
	"echo hello",
	"echo is the build green?",
	"echo order 48213 has shipped",
	"echo 42",
	"echo Could you tell me the opening hours on Saturday, please?",
	"echo ok",
	"echo see you tomorrow at 9",
	"echo thanks!",
}

// plainTexts are the messages of W2, taken in turn: none starts with
// "cmd<n> ".
var plainTexts = []string{
	"hello",
	"is the build green?",
	"order 48213 has shipped",
	"42",
	"Could you tell me the opening hours on Saturday, please?",
	"ok",
	"cmd is not a command here",
	"thanks!",
}

// A workload is what the Bot is given (routes) and what the bare worker
// does with a message (work: nil when there is no reply).
type workload struct {
	name   string
	texts  []string
	routes func(bt *bot.Bot, c *workCounter)
	work   func(m *bot.Message) *bot.Message
}

var workloads = []workload{
	{
		name:  "W1",
		texts: echoTexts,
		routes: func(bt *bot.Bot, _ *workCounter) {
			bt.Handle(bot.Regexp(echoRe), bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
				return w.Send(ctx, m.Reply(bot.CapturesOf(ctx).Groups[1]))
			}))
		},
		work: func(m *bot.Message) *bot.Message {
			g := echoRe.FindStringSubmatch(m.Text)
			if g == nil {
				return nil
			}
			return m.Reply(g[1])
		},
	},
	{
		name:  "W2",
		texts: plainTexts,
		routes: func(bt *bot.Bot, c *workCounter) {
			// A route that matched would not count, and the run would
			// fail at its deadline.
			nop := bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error { return nil })
			for _, re := range cmdRes {
				bt.Handle(bot.Regexp(re), nop)
			}
			bt.NotFound(bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error {
				c.add()
				return nil
			}))
		},
		work: func(m *bot.Message) *bot.Message {
			for _, re := range cmdRes {
				if re.MatchString(m.Text) {
					return m.Reply("ok")
				}
			}
			return nil
		},
	},
}

var workloadModes = []string{"lockstep", "stream"}

// workloadMessage builds inbound message i of w, as an adapter would: the
// message and its ID are allocated, the text is one of w's.
func workloadMessage(w *workload, i int64) *bot.Message {
	m := benchMessage(i, true)
	m.Text = w.texts[i%int64(len(w.texts))]
	return m
}

// A workCounter counts the messages of a run that are done. In lockstep
// mode each one is signalled on step; the last one closes done.
type workCounter struct {
	n      atomic.Int64
	target int64
	step   chan struct{} // nil in stream mode
	done   chan struct{}
}

func newWorkCounter(n int, lockstep bool) *workCounter {
	c := &workCounter{target: int64(n), done: make(chan struct{})}
	if lockstep {
		c.step = make(chan struct{}, 1)
	}
	return c
}

func (c *workCounter) add() {
	n := c.n.Add(1)
	if c.step != nil {
		c.step <- struct{}{}
	}
	if n == c.target {
		close(c.done)
	}
}

// workloadTimeout bounds a run: a message that is lost fails the benchmark
// instead of hanging it.
func workloadTimeout(n int) time.Duration {
	return 30*time.Second + time.Duration(n)*10*time.Microsecond
}

// A workloadRun is what one run measured: how long its messages took from
// the first publish to the last one done, and the allocations per message
// in that time, in the whole process (building the inbound message takes
// 2: the message and its ID).
type workloadRun struct {
	took   time.Duration
	allocs float64
}

func (r workloadRun) rate(n int) float64 { return float64(n) / r.took.Seconds() }

// inject publishes b.N messages of w with publish, in lockstep or as a
// stream, and waits until c has counted them all.
func inject(b *testing.B, w *workload, c *workCounter, publish func(*bot.Message) error) workloadRun {
	deadline := time.NewTimer(workloadTimeout(b.N))
	defer deadline.Stop()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.StartTimer()
	start := time.Now()
	for i := range int64(b.N) {
		if err := publish(workloadMessage(w, i)); err != nil {
			b.Fatal(err)
		}
		if c.step != nil {
			select {
			case <-c.step:
			case <-deadline.C:
				b.Fatalf("%s: message %d of %d not done after %v", w.name, i, b.N, workloadTimeout(b.N))
			}
		}
	}
	select {
	case <-c.done:
	case <-deadline.C:
		b.Fatalf("%s: %d of %d messages done after %v", w.name, c.n.Load(), b.N, workloadTimeout(b.N))
	}
	took := time.Since(start)
	b.StopTimer()
	runtime.ReadMemStats(&after)
	return workloadRun{took: took, allocs: float64(after.Mallocs-before.Mallocs) / float64(b.N)}
}

// countingAdapter is an Adapter that counts what it is asked to send and
// keeps nothing.
type countingAdapter struct {
	c     *workCounter
	ready chan struct{}
}

func (a *countingAdapter) Name() string { return "fake" }

func (a *countingAdapter) Run(ctx context.Context, _ bot.Publisher) error {
	close(a.ready)
	<-ctx.Done()
	return nil
}

func (a *countingAdapter) Send(context.Context, *bot.Message) (bot.SendResult, error) {
	a.c.add()
	return bot.SendResult{}, nil
}

// runWorkload runs b.N messages of w through a Bot with its defaults and
// returns what it measured.
func runWorkload(b *testing.B, w *workload, lockstep bool) workloadRun {
	return runWorkloadWith(b, w, lockstep, func(*bot.Message) {})
}

// runWorkloadWith is runWorkload with each message changed by edit before
// it is published.
func runWorkloadWith(b *testing.B, w *workload, lockstep bool, edit func(*bot.Message)) workloadRun {
	b.StopTimer()
	c := newWorkCounter(b.N, lockstep)
	a := &countingAdapter{c: c, ready: make(chan struct{})}
	bt, err := bot.New(bot.WithAdapters(a), bot.WithLogger(discardLogger()))
	if err != nil {
		b.Fatal(err)
	}
	w.routes(bt, c)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bt.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
		b.StartTimer()
	}()
	<-a.ready
	return inject(b, w, c, func(m *bot.Message) error { edit(m); return bt.Publish(ctx, m) })
}

// runWorkloadBare runs b.N messages of w through the bare pipeline and
// returns what it measured.
func runWorkloadBare(b *testing.B, w *workload, lockstep bool) workloadRun {
	b.StopTimer()
	c := newWorkCounter(b.N, lockstep)
	in := make([]chan *bot.Message, max(4*runtime.GOMAXPROCS(0), 8))
	out := make([]chan *bot.Message, 4)
	for i := range in {
		in[i] = make(chan *bot.Message, 256)
	}
	for i := range out {
		out[i] = make(chan *bot.Message, 256)
	}
	var wg, owg sync.WaitGroup
	for _, q := range in {
		wg.Go(func() {
			for m := range q {
				r := w.work(m)
				if r == nil {
					c.add()
					continue
				}
				out[bot.LaneOf(r.Platform, r.Conversation, len(out))] <- r
			}
		})
	}
	for _, q := range out {
		owg.Go(func() {
			for range q {
				c.add()
			}
		})
	}
	defer func() {
		for _, q := range in {
			close(q)
		}
		wg.Wait()
		for _, q := range out {
			close(q)
		}
		owg.Wait()
		b.StartTimer()
	}()
	return inject(b, w, c, func(m *bot.Message) error {
		in[bot.LaneOf(m.Platform, m.Conversation, len(in))] <- m
		return nil
	})
}

// BenchmarkWorkload runs each workload in each mode through the Bot
// ("parley") and through the bare pipeline ("bare"), and reports messages
// per second and allocations per message (allocs/op, which the testing
// package rounds down, is the same count); an op is one message.
func BenchmarkWorkload(b *testing.B) {
	for i := range workloads {
		w := &workloads[i]
		for _, mode := range workloadModes {
			lockstep := mode == "lockstep"
			b.Run(w.name+"/"+mode+"/parley", func(b *testing.B) {
				b.ReportAllocs()
				r := runWorkload(b, w, lockstep)
				b.ReportMetric(r.rate(b.N), "msgs/s")
				b.ReportMetric(r.allocs, "allocs/msg")
			})
			b.Run(w.name+"/"+mode+"/bare", func(b *testing.B) {
				b.ReportAllocs()
				r := runWorkloadBare(b, w, lockstep)
				b.ReportMetric(r.rate(b.N), "msgs/s")
				b.ReportMetric(r.allocs, "allocs/msg")
			})
		}
	}
}

// BenchmarkWorkloadVsBare runs each workload in each mode through the bare
// pipeline and then through the Bot, back to back in one run, and reports
// both rates and the Bot's as a percentage of the bare one's (as
// BenchmarkPipelineVsBare). Its ns/op and allocations are those of both
// halves.
func BenchmarkWorkloadVsBare(b *testing.B) {
	for i := range workloads {
		w := &workloads[i]
		for _, mode := range workloadModes {
			lockstep := mode == "lockstep"
			b.Run(w.name+"/"+mode, func(b *testing.B) {
				bare := runWorkloadBare(b, w, lockstep)
				parley := runWorkload(b, w, lockstep)
				b.ReportMetric(bare.rate(b.N), "bare-msgs/s")
				b.ReportMetric(parley.rate(b.N), "msgs/s")
				b.ReportMetric(100*bare.took.Seconds()/parley.took.Seconds(), "%bare")
				b.ReportMetric(bare.allocs, "bare-allocs/msg")
				b.ReportMetric(parley.allocs, "allocs/msg")
			})
		}
	}
}

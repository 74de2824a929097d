package bot

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/vm"
	"go.opentelemetry.io/otel/trace"
)

// A worker consumes one inbound lane, one message at a time. It owns its
// expression VM and one timer that enforces the handler timeout of the
// message in hand, so that handling a message allocates no timer and
// registers nothing with the parent context.
type worker struct {
	hard    context.Context // cancelled only past the shutdown deadline
	timeout time.Duration   // 0: none
	vm      vm.VM
	cur     atomic.Pointer[delivery]
	timer   *time.Timer // fires onTimeout; nil without a timeout
	armed   atomic.Bool // timer is pending; see onTimeout
	stopAF  func() bool // unregisters the hard-context callback
}

func newWorker(hard context.Context, timeout time.Duration) *worker {
	w := &worker{hard: hard, timeout: timeout}
	if timeout > 0 {
		w.timer = time.AfterFunc(time.Hour, w.onTimeout)
		w.timer.Stop()
	}
	w.stopAF = context.AfterFunc(hard, func() {
		if d := w.cur.Load(); d != nil {
			d.cancel(hard.Err())
		}
	})
	return w
}

// onTimeout cancels the message in hand if its deadline has passed.
//
// The timer is not stopped and reset for every message: once armed it stays
// pending across messages, and since every later message's deadline is
// later, it fires no later than the deadline of the message in hand. A call
// that finds that deadline still ahead re-arms the timer for it; a call
// that finds no message leaves it disarmed, and handle arms it again. The
// flag is cleared before cur is read, and handle sets cur before reading the
// flag, so one of the two always sees the other and a message is never
// left without a pending timer.
func (w *worker) onTimeout() {
	w.armed.Store(false)
	d := w.cur.Load()
	if d == nil {
		return
	}
	if left := time.Until(d.deadline); left > 0 {
		if w.armed.CompareAndSwap(false, true) {
			w.timer.Reset(left)
		}
		return
	}
	d.cancel(context.DeadlineExceeded)
}

func (w *worker) close() {
	w.stopAF()
	if w.timer != nil {
		w.timer.Stop()
	}
}

// handle routes one inbound message on worker w, with a handler context
// derived from parent: w.hard, or a Broker's context (see
// Worker.HandleContext), whose cancellation is watched when watch is set.
func (b *Bot) handle(w *worker, parent context.Context, m *Message, watch bool) {
	var span trace.Span
	if b.tracer != nil {
		parent, span = b.tracer.Start(b.dequeued(parent, m), SpanHandle,
			trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(inboundAttrs(m)...))
	}
	d := &delivery{parent: parent, b: b, in: m}
	d.st = msgState{owner: b.applyOwnership(parent, m), loc: b.cfg.loc, vm: &w.vm, feed: &b.feed, top: b.Router, traced: span != nil}
	if span != nil {
		span.SetAttributes(AttrOwner.String(d.st.owner.String()))
	}
	if b.feed.wants(EventOwner) {
		b.event(EventOwner, m, func(e *Event) { e.Owner = d.st.owner.String() })
	}
	if w.timeout > 0 {
		d.deadline = time.Now().Add(w.timeout)
		w.cur.Store(d)
		if w.armed.CompareAndSwap(false, true) {
			w.timer.Reset(w.timeout)
		}
	} else {
		w.cur.Store(d)
	}
	if err := w.hard.Err(); err != nil {
		d.cancel(err) // cancelled before cur was set: the callback missed it
	}
	if watch {
		stop := context.AfterFunc(parent, func() { d.cancel(parent.Err()) })
		defer stop()
	}
	debug := b.logger.Enabled(w.hard, slog.LevelDebug)
	hook := b.cfg.hooks.Handled
	var start time.Time
	if debug || hook != nil || b.feed.wants(EventHandled) {
		start = time.Now()
	}
	var err error
	if !b.inboundPolicy(d, m) {
		err = b.dispatch(d, m)
	}
	w.cur.Store(nil)
	d.cancel(context.Canceled) // like the CancelFunc of context.WithTimeout
	b.stats.handled.Add(1)
	if hook != nil {
		hook(d, m, time.Since(start), err)
	}
	if b.feed.wants(EventHandled) {
		b.event(EventHandled, m, func(e *Event) { e.Duration, e.Error = time.Since(start), errorText(err) })
	}
	if debug {
		b.logger.LogAttrs(w.hard, slog.LevelDebug, "message handled", slog.Any("msg", m),
			slog.String("owner", d.st.owner.String()), slog.Duration("duration", time.Since(start)),
			slog.Bool("failed", err != nil))
	}
	if span != nil {
		failed(span, err)
		span.End()
	}
	if err != nil {
		var he *HandlerError
		if errors.As(err, &he) && he.Panic != nil {
			b.stats.panics.Add(1)
		}
		b.stats.handlerErrors.Add(1)
		b.report(w.hard, "handler failed", err, slog.Any("msg", m))
	}
}

// delivery is what a handler gets for one message: its context (a child of
// the worker's hard context with the handler deadline), the routing state,
// and the reply Sender that derives idempotency keys, in one allocation.
// Its Done channel is made only if someone asks for it.
type delivery struct {
	parent   context.Context
	deadline time.Time // zero: none

	mu   sync.Mutex
	done chan struct{}
	err  error

	st msgState
	b  *Bot
	in *Message
	n  atomic.Int64
}

// Deadline implements context.Context.
func (d *delivery) Deadline() (time.Time, bool) {
	if d.deadline.IsZero() {
		return d.parent.Deadline()
	}
	return d.deadline, true
}

// Done implements context.Context.
func (d *delivery) Done() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done == nil {
		d.done = make(chan struct{})
		if d.err != nil {
			close(d.done)
		}
	}
	return d.done
}

// Err implements context.Context.
func (d *delivery) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// Value returns the routing state for stateKey and defers to the parent
// context otherwise.
func (d *delivery) Value(key any) any {
	if key == (stateKey{}) {
		return &d.st
	}
	return d.parent.Value(key)
}

func (d *delivery) String() string { return "bot.handlerContext" }

// cancel ends the context with err; later calls do nothing.
func (d *delivery) cancel(err error) {
	d.mu.Lock()
	if d.err == nil {
		d.err = err
		if d.done != nil {
			close(d.done)
		}
	}
	d.mu.Unlock()
}

// Send stamps a reply's idempotency key (the inbound event plus the reply
// index) and queues it. The event was deduplicated before it was handled,
// so its reply keys are new: each is minted once, by this Send.
func (d *delivery) Send(ctx context.Context, m *Message) error {
	if m != nil && m.Key == "" && d.in.ID != "" {
		return d.b.enqueue(ctx, m, replyKey(d.in.Platform, d.in.ID, d.n.Add(1)-1))
	}
	return d.b.Send(ctx, m)
}

// replyKey returns "<platform>:<id>:<n>" with a single allocation.
func replyKey(platform, id string, n int64) string {
	var num [20]byte
	digits := strconv.AppendInt(num[:0], n, 10)
	var sb strings.Builder
	sb.Grow(len(platform) + len(id) + 2 + len(digits))
	sb.WriteString(platform)
	sb.WriteByte(':')
	sb.WriteString(id)
	sb.WriteByte(':')
	sb.Write(digits)
	return sb.String()
}

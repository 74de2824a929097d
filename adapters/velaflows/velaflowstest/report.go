package velaflowstest

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
)

// A reporter makes an observer's calls on a goroutine of its own, one at a
// time and in the order of put, and settles each item once its call has
// returned (or without a call). The goroutines that put items never wait
// for the observer, so that the server can stop them while a call runs;
// and Close can tell whether it runs inside a call, which it must not wait
// for. The queue is not bounded: the callers of put bound what it holds.
type reporter[T any] struct {
	call   func(T)
	settle func(T)
	goid   atomic.Uint64 // the id of run's goroutine, once it runs
	exited chan struct{} // closed when run returns

	mu       sync.Mutex
	cond     sync.Cond
	queue    []pending[T]
	cur      *pending[T] // the item of the call running; nil once settled
	stopping bool        // run drains the queue, then returns
	silent   bool        // no more calls: items are settled without one
	over     bool        // nothing runs any more: put settles at once
}

type pending[T any] struct {
	v      T
	report bool
}

func newReporter[T any](call, settle func(T)) *reporter[T] {
	r := &reporter[T]{call: call, settle: settle, exited: make(chan struct{})}
	r.cond.L = &r.mu
	go r.run()
	return r
}

// put queues v, to be given to the observer first when report is set.
func (r *reporter[T]) put(v T, report bool) {
	r.mu.Lock()
	if r.over {
		r.mu.Unlock()
		r.settle(v)
		return
	}
	r.queue = append(r.queue, pending[T]{v, report})
	r.cond.Signal()
	r.mu.Unlock()
}

func (r *reporter[T]) run() {
	defer close(r.exited)
	r.goid.Store(goroutineID())
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		for len(r.queue) == 0 && !r.stopping {
			r.cond.Wait()
		}
		if len(r.queue) == 0 {
			r.over = true
			return
		}
		item := r.queue[0]
		r.queue[0] = pending[T]{}
		r.queue = r.queue[1:]
		p := &item
		r.cur = p
		call := p.report && !r.silent
		r.mu.Unlock()
		if call {
			r.call(p.v)
		}
		r.mu.Lock()
		if r.cur == p { // else stop, called by the observer, settled it
			r.cur = nil
			r.mu.Unlock()
			r.settle(p.v)
			r.mu.Lock()
		}
	}
}

// onCall reports whether the caller runs inside an observer call.
func (r *reporter[T]) onCall() bool {
	if r == nil {
		return false
	}
	id := r.goid.Load()
	return id != 0 && id == goroutineID()
}

// silence ends the calls: after the one running, items are settled
// without a call.
func (r *reporter[T]) silence() {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.silent = true
	r.mu.Unlock()
}

// stop is for Close, once nothing puts items any more. Called from
// anywhere but an observer call, it lets run make the calls of the items
// queued and waits for it to return. Called inside an observer call, it
// cannot wait for that call: it settles that call's item and the queued
// ones at once, without calls, and run returns after the call.
func (r *reporter[T]) stop() {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.stopping = true
	r.cond.Broadcast()
	if !r.onCall() {
		r.mu.Unlock()
		<-r.exited
		return
	}
	var rest []T
	if r.cur != nil {
		rest = append(rest, r.cur.v)
		r.cur = nil
	}
	for _, p := range r.queue {
		rest = append(rest, p.v)
	}
	r.queue, r.silent, r.over = nil, true, true
	r.mu.Unlock()
	for _, v := range rest {
		r.settle(v)
	}
}

// goroutineID returns the id of the calling goroutine, from the first line
// of its stack trace ("goroutine 42 [running]:"), or 0 if that cannot be
// read. Go offers no other way to tell goroutines apart; the reporter
// needs it only for Close to tell whether it runs inside an observer call.
func goroutineID() uint64 {
	var buf [64]byte
	b, ok := bytes.CutPrefix(buf[:runtime.Stack(buf[:], false)], []byte("goroutine "))
	i := bytes.IndexByte(b, ' ')
	if !ok || i < 0 {
		return 0
	}
	id, err := strconv.ParseUint(string(b[:i]), 10, 64)
	if err != nil {
		return 0
	}
	return id
}

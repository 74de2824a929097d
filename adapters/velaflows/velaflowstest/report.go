package velaflowstest

import "sync"

// A reporter makes an observer's calls on a goroutine of its own, one at a
// time and in the order of put, and settles each item once its call has
// returned (or without a call). The goroutines that put items never wait
// for the observer, so that the server can stop them while a call runs.
// The queue is not bounded: the callers of put bound what it holds.
type reporter[T any] struct {
	call   func(T)
	settle func(T)
	exited chan struct{} // closed when run returns

	mu       sync.Mutex
	cond     sync.Cond
	queue    []pending[T]
	stopping bool // run drains the queue, then returns
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
	r.queue = append(r.queue, pending[T]{v, report})
	r.cond.Signal()
	r.mu.Unlock()
}

func (r *reporter[T]) run() {
	defer close(r.exited)
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		for len(r.queue) == 0 && !r.stopping {
			r.cond.Wait()
		}
		if len(r.queue) == 0 {
			return
		}
		p := r.queue[0]
		r.queue[0] = pending[T]{}
		r.queue = r.queue[1:]
		r.mu.Unlock()
		if p.report {
			r.call(p.v)
		}
		r.settle(p.v)
		r.mu.Lock()
	}
}

// stop is for Close, once nothing puts items any more: it lets run make
// the calls of the items queued and waits for it to return. It must not
// be called inside an observer call, which it would wait for: Close
// documents that the observer must not call it on its own goroutine.
func (r *reporter[T]) stop() {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.stopping = true
	r.cond.Broadcast()
	r.mu.Unlock()
	<-r.exited
}

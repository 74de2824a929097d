package bot

import (
	"context"
	"fmt"
	"sync"
)

// lanes is a fixed set of bounded FIFO queues of messages. A message always
// goes to the lane chosen by its (platform, conversation) hash, so one
// conversation's messages keep their order; each lane has one consumer.
//
// push blocks while the lane is full (back-pressure) until ctx is done.
// close excludes every later push (ErrClosed) and then closes the channels,
// so consumers drain what was queued and stop. The read lock held by push
// while it waits is what makes close safe: close cannot close a channel a
// pusher is sending on.
type lanes struct {
	mu     sync.RWMutex
	closed bool
	ch     []chan *Message
}

func newLanes(n, size int) *lanes {
	l := &lanes{ch: make([]chan *Message, n)}
	for i := range l.ch {
		l.ch[i] = make(chan *Message, size)
	}
	return l
}

// laneOf returns the lane index of a conversation: FNV-1a over platform, a
// separator and conversation, without allocating.
func laneOf(platform, conversation string, n int) int {
	const offset, prime = 2166136261, 16777619
	h := uint32(offset)
	for i := 0; i < len(platform); i++ {
		h ^= uint32(platform[i])
		h *= prime
	}
	h ^= 0
	h *= prime
	for i := 0; i < len(conversation); i++ {
		h ^= uint32(conversation[i])
		h *= prime
	}
	return int(h % uint32(n))
}

func (l *lanes) push(ctx context.Context, m *Message) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	q := l.ch[laneOf(m.Platform, m.Conversation, len(l.ch))]
	select {
	case q <- m:
		return nil
	default:
	}
	select {
	case q <- m:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
}

func (l *lanes) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	for _, q := range l.ch {
		close(q)
	}
}

// len returns the number of messages waiting in the lanes.
func (l *lanes) len() int {
	n := 0
	for _, q := range l.ch {
		n += len(q)
	}
	return n
}

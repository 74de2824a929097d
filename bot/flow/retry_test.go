package flow_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
)

// faultyStore is a MemoryStore whose writes of keys with a prefix fail
// while armed: a fault injector for the engine's Store.
type faultyStore struct {
	bot.Store
	prefix string
	fail   atomic.Int32 // the next n writes of prefixed keys fail; -1: all
	failed atomic.Int32 // writes failed so far
}

var errStoreDown = errors.New("store down")

func (s *faultyStore) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	if strings.HasPrefix(key, s.prefix) {
		if n := s.fail.Load(); n < 0 || (n > 0 && s.fail.CompareAndSwap(n, n-1)) {
			s.failed.Add(1)
			return errStoreDown
		}
	}
	return s.Store.Set(ctx, key, v, ttl)
}

// A reminder whose handling fails (the state write fails) is not lost: the
// sweep publishes it again after a back-off, and it is sent once.
func TestTimers_retryAfterStoreError(t *testing.T) {
	st := &faultyStore{Store: bot.NewMemoryStore(), prefix: "flow:fake:"}
	r := newRig(t, rigOption{store: st, flows: []flow.Flow{waiting()}})
	require.NoError(t, r.e.Start(t.Context(), "fake", "c1", "wait", nil))
	r.waitTexts("c1", "Still there?")
	st.fail.Store(1)
	r.clock.Add(10 * time.Minute)
	require.Eventually(t, func() bool { return st.failed.Load() == 1 }, 5*time.Second, time.Millisecond)
	r.clock.Add(time.Minute) // past the first back-off
	r.waitTexts("c1", "Still there?", "Reminder: still there?")
	for range 5 {
		r.clock.Add(5 * time.Minute)
		assert.Never(t, func() bool { return len(r.texts("c1")) > 2 }, 30*time.Millisecond, 5*time.Millisecond)
	}
	s := r.state("c1")
	assert.Equal(t, "q", s.Step)
	r.clock.Add(30 * time.Minute)
	r.waitTexts("c1", "Still there?", "Reminder: still there?", "Closing, bye.", "Done.")
}

// A reminder whose prompt cannot be built the first time is sent once
// when the sweep tries again: the advance was recorded, and what it owes
// is done by the next attempt.
func TestTimers_retryAfterPromptError(t *testing.T) {
	var (
		mu    sync.Mutex
		fails = 1
	)
	f := waiting()
	f.Steps[0].Remind.Ask = flow.PromptFunc(func(ctx context.Context, s *flow.State) (*bot.Message, error) {
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			return nil, errors.New("the template service is down")
		}
		return &bot.Message{Text: "Reminder: still there?"}, nil
	})
	r := newRig(t, rigOption{flows: []flow.Flow{f}})
	require.NoError(t, r.e.Start(t.Context(), "fake", "c1", "wait", nil))
	r.waitTexts("c1", "Still there?")
	r.clock.Add(10 * time.Minute)
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return fails == 0 }, 5*time.Second, time.Millisecond)
	r.clock.Add(time.Minute)
	r.waitTexts("c1", "Still there?", "Reminder: still there?")
	for range 5 {
		r.clock.Add(5 * time.Minute)
		assert.Never(t, func() bool { return len(r.texts("c1")) > 2 }, 30*time.Millisecond, 5*time.Millisecond)
	}
	r.clock.Add(30 * time.Minute)
	r.waitTexts("c1", "Still there?", "Reminder: still there?", "Closing, bye.", "Done.")
}

// A timer whose handling always fails is published a bounded number of
// times, at growing intervals, then given up; the flow still takes its
// answer.
func TestTimers_retryGivesUp(t *testing.T) {
	st := &faultyStore{Store: bot.NewMemoryStore(), prefix: "flow:fake:"}
	f := waiting()
	f.Steps[0].Timeout = nil
	r := newRig(t, rigOption{store: st, flows: []flow.Flow{f}})
	require.NoError(t, r.e.Start(t.Context(), "fake", "c1", "wait", nil))
	r.waitTexts("c1", "Still there?")
	st.fail.Store(-1)
	r.clock.Add(10 * time.Minute) // the reminder's time: attempt 1
	wait := flow.TimerBackoff
	for n := int32(1); n <= flow.TimerAttempts; n++ {
		require.Eventually(t, func() bool { return st.failed.Load() == n }, 5*time.Second, time.Millisecond, "attempt %d", n)
		assert.Never(t, func() bool { return st.failed.Load() > n }, 20*time.Millisecond, 5*time.Millisecond)
		r.clock.Add(wait) // the next attempt's time
		wait *= 2
	}
	assert.Never(t, func() bool { return st.failed.Load() > flow.TimerAttempts }, 100*time.Millisecond, 5*time.Millisecond)
	r.clock.Add(24 * time.Hour)
	assert.Never(t, func() bool { return st.failed.Load() > flow.TimerAttempts }, 100*time.Millisecond, 5*time.Millisecond)
	st.fail.Store(0)
	r.say("c1", "here")
	r.waitTexts("c1", "Still there?", "Done.")
}

package flow_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
	"github.com/parleybot/parley/storage/jetstream"
)

// A burst of thousands of flows started in the same second, by one
// Engine or by replicas sharing a MemoryStore or a JetStream store, all
// starting at once: their reminders and timeouts, all due in the same
// second, each fire once; no index key of a second holds more than
// flow.DueCap entries (the second's keys overflow into more keys); and
// once the seconds are past and swept, none of their keys is left.
func TestTimers_burstFiresOnce(t *testing.T) {
	for _, c := range []struct {
		name     string
		replicas int
		n        int
		js       bool
	}{
		{"memory/1", 1, 3000, false},
		{"memory/3", 3, 3000, false},
		{"jetstream/3", 3, 1000, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := newClock()
			var (
				rigs   []*rig
				shared bot.Store = bot.NewMemoryStore()
			)
			var srv *jetstream.Server
			if c.js {
				var err error
				srv, err = jetstream.StartEmbedded(t.TempDir())
				require.NoError(t, err)
				t.Cleanup(srv.Shutdown)
			}
			for range c.replicas {
				o := rigOption{clock: clk, store: shared, flows: []flow.Flow{burst()}}
				if c.js {
					o.store, _ = jsConnect(t, srv, false)
				}
				rigs = append(rigs, newRig(t, o))
			}
			if c.js {
				shared = rigs[0].b.Store()
			}
			burstFiresOnce(t, rigs, clk, shared, c.n)
		})
	}
}

// burst is waiting with timers due sooner: a reminder after 10 seconds,
// the timeout after 30.
func burst() flow.Flow {
	f := waiting()
	f.Name = "burst"
	f.Steps[0].Remind.After = 10 * time.Second
	f.Steps[0].Timeout.After = 30 * time.Second
	return f
}

func burstFiresOnce(t *testing.T, rigs []*rig, clk *clock, st bot.Store, n int) {
	t.Helper()
	ctx := t.Context()
	asked := clk.Now()
	// Three starters at once, on the replicas in turn.
	var wg sync.WaitGroup
	for w := range 3 {
		e := rigs[w%len(rigs)].e
		wg.Go(func() {
			for i := w; i < n; i += 3 {
				if err := e.Start(ctx, "fake", fmt.Sprintf("b%05d", i), "burst", nil); err != nil {
					assert.NoError(t, err)
					return
				}
			}
		})
	}
	wg.Wait()
	require.Eventually(t, func() bool { return count(rigs, "Still there?") == n }, 30*time.Second, 10*time.Millisecond)

	remind := asked.Add(10 * time.Second).Unix()
	lens := dueLens(t, st, remind, n)
	total := 0
	for shard, ls := range lens {
		for i, l := range ls {
			assert.LessOrEqual(t, l, flow.DueCap, "key %d of shard %d", i, shard)
			total += l
		}
		assert.Greater(t, len(ls), 1, "shard %d has no overflow key", shard)
	}
	assert.Equal(t, n, total, "entries in the reminders' second")

	clk.Add(10 * time.Second)
	require.Eventually(t, func() bool { return count(rigs, "Reminder: still there?") >= n }, 60*time.Second, 10*time.Millisecond)
	clk.Add(20 * time.Second)
	require.Eventually(t, func() bool { return count(rigs, "Done.") >= n }, 60*time.Second, 10*time.Millisecond)
	assert.Never(t, func() bool { return count(rigs, "Reminder: still there?") > n || count(rigs, "Done.") > n },
		200*time.Millisecond, 20*time.Millisecond)
	got := map[string][]string{}
	for _, r := range rigs {
		for _, m := range r.fa.Sent() {
			got[m.Conversation] = append(got[m.Conversation], m.Text)
		}
	}
	require.Len(t, got, n)
	for conv, texts := range got {
		require.ElementsMatch(t, []string{"Still there?", "Reminder: still there?", "Closing, bye.", "Done."}, texts, conv)
	}
	var handled int64
	for _, r := range rigs {
		handled += r.b.Stats().Handled
	}
	assert.Equal(t, int64(2*n), handled, "one timer event per reminder and per timeout, across the replicas")

	// The seconds of the reminders and of the timeouts are swept and
	// their keys deleted.
	clk.Add(2 * time.Minute)
	timeout := asked.Add(30 * time.Second).Unix()
	require.Eventually(t, func() bool {
		for _, s := range []int64{remind, timeout} {
			for _, ls := range dueLens(t, st, s, n) {
				if len(ls) > 0 {
					return false
				}
			}
		}
		return true
	}, 30*time.Second, 100*time.Millisecond, "index keys left after the seconds were swept")
}

// dueLens returns, for each shard of the due index's second sec, the
// number of entries of each of its keys that exist, of the keys that a
// second of n entries may have.
func dueLens(t *testing.T, st bot.Store, sec int64, n int) [flow.DueShards][]int {
	t.Helper()
	var out [flow.DueShards][]int
	for shard := range flow.DueShards {
		for i := range n/flow.DueCap + 2 {
			key := fmt.Sprintf("flow-due:%d:%d", sec, shard)
			if i > 0 {
				key += fmt.Sprintf(":%d", i)
			}
			v, err := st.Get(t.Context(), key)
			if errors.Is(err, bot.ErrNotFound) {
				continue
			}
			require.NoError(t, err)
			var es []json.RawMessage
			require.NoError(t, json.Unmarshal(v, &es))
			out[shard] = append(out[shard], len(es))
		}
	}
	return out
}

// A second's keys are read in order until one is absent: the first keys,
// emptied by the sweep when their timers fired, are kept until the
// second is swept, so that the timers due later in that second, in the
// keys that overflowed, still fire.
func TestTimers_burstOverflowAfterEmptied(t *testing.T) {
	const n = 8 * flow.DueCap // two keys or more a shard, in each half
	r := newRig(t, rigOption{flows: []flow.Flow{burst()}})
	ctx := t.Context()
	start := func(from int) {
		for i := from; i < from+n; i++ {
			require.NoError(t, r.e.Start(ctx, "fake", fmt.Sprintf("b%05d", i), "burst", nil))
		}
	}
	start(0) // due at 9:00:10, in the first keys
	r.clock.Add(500 * time.Millisecond)
	start(n) // due at 9:00:10.5, in the overflow keys
	require.Eventually(t, func() bool { return count([]*rig{r}, "Still there?") == 2*n }, 30*time.Second, 10*time.Millisecond)
	r.clock.Add(9500 * time.Millisecond)
	require.Eventually(t, func() bool { return count([]*rig{r}, "Reminder: still there?") == n }, 30*time.Second, 10*time.Millisecond)
	r.clock.Add(500 * time.Millisecond)
	require.Eventually(t, func() bool { return count([]*rig{r}, "Reminder: still there?") == 2*n }, 30*time.Second, 10*time.Millisecond)
	assert.Never(t, func() bool { return count([]*rig{r}, "Reminder: still there?") > 2*n }, 100*time.Millisecond, 10*time.Millisecond)
}

package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleybot/parley/bot"
)

// Since a Store cannot be scanned, the engine keeps two indexes of its
// conversations in Store keys, each key a JSON list changed by
// compare-and-set (or under a lock per key with a Store without
// revisions):
//
// The due index lists the conversations that have a timer, by the second
// it is due: "flow-due:<unix second>:<shard>", conversations spread over
// dueShards keys per second by hash, so that a key holds the timers due in
// one second, however many flows wait. An entry's due time is never later
// than the conversation's next deadline: the message path adds an entry
// (before it writes the state, so that a crash between the two writes
// leaves an early entry, never a missing one) when a deadline comes
// earlier than the one indexed; the sweep, which reads the state when an
// entry is due, moves the entry to the state's real deadline, or to the
// next attempt of a timer it publishes, or drops it. Each sweep reads the
// seconds that came due since it last read, and the current one; once a
// minute, a sweep reads again the seconds past by finalizeLag since the
// last second swept, which the replicas share in the key "flow-swept"
// (for writers whose clocks are behind, and for a sweep that starts after
// a stop), and when their entries were all handled marks them swept and
// deletes their keys. No entry is written in a second that has passed
// (see index.bucket).
//
// The list of active flows, "flow-active:<shard>" over activeShards keys,
// lists the conversations with a flow for Active. Each entry carries an
// expiry no earlier than its state's: a write of the state that would
// outlive the entry lists the conversation again, with half a TTL to
// spare, so that the list is written when a flow starts, when it ends and
// once per half TTL of a long flow, not on every answer. Writers drop the
// entries that expired, so the runs that expired without ending leave
// nothing behind.
type index struct {
	st     bot.Store
	rs     bot.RevisionStore
	now    func() time.Time
	marked atomic.Bool // the swept second is known to be in the Store
}

// indexLocks serialize the read and the write of an index key in a Store
// without revisions, for every Engine of the process: several Engines may
// share one Store (a MemoryStore in tests, a Go engine beside a rules
// file's).
var indexLocks [64]sync.Mutex

// Shapes of the indexes.
const (
	dueShards    = 4
	activeShards = 256
	// finalizeLag is how long after its end a second is marked swept, for
	// writers whose clocks are behind.
	finalizeLag = 10 * time.Second
	// finalizeBatch is how many seconds are marked swept at once.
	finalizeBatch = 60
	// maxCatchUp bounds the seconds one sweep reads, after a long stop.
	maxCatchUp = 600
)

const sweptKey = "flow-swept"

type dueEntry struct {
	P   string `json:"p"`
	C   string `json:"c"`
	Due int64  `json:"d"` // unix nanoseconds
}

type activeEntry struct {
	P   string `json:"p"`
	C   string `json:"c"`
	Exp int64  `json:"x"` // unix seconds
}

func secondOf(t time.Time) int64 { return t.Unix() }

// bucket returns the second whose keys an entry due at due goes in: due's
// second, or the current one if that has passed.
func (x *index) bucket(due time.Time) int64 { return max(secondOf(due), secondOf(x.now())) }

func dueKey(second int64, shard int) string {
	return "flow-due:" + strconv.FormatInt(second, 10) + ":" + strconv.Itoa(shard)
}

func activeKey(shard int) string { return "flow-active:" + strconv.Itoa(shard) }

// get returns the list under key (nil when there is none).
func get[T any](ctx context.Context, x *index, key string) ([]T, error) {
	v, err := x.st.Get(ctx, key)
	if errors.Is(err, bot.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("flow: read the index: %w", err)
	}
	var es []T
	if err := json.Unmarshal(v, &es); err != nil {
		return nil, fmt.Errorf("flow: decode the index key %s: %w", key, err)
	}
	return es, nil
}

// modify changes the list under key with f, which reports whether it
// changed it, by compare-and-set; an emptied list is deleted.
func modify[T any](ctx context.Context, x *index, key string, f func([]T) ([]T, bool)) error {
	mu := &indexLocks[stripe(key, "")%uint32(len(indexLocks))]
	for range maxConflicts {
		var (
			v   []byte
			rev uint64
			err error
		)
		if x.rs != nil {
			v, rev, err = x.rs.GetRevision(ctx, key)
		} else {
			mu.Lock()
			v, err = x.st.Get(ctx, key)
		}
		unlock := func() {
			if x.rs == nil {
				mu.Unlock()
			}
		}
		var es []T
		switch {
		case err == nil:
			if err := json.Unmarshal(v, &es); err != nil {
				unlock()
				return fmt.Errorf("flow: decode the index key %s: %w", key, err)
			}
		case !errors.Is(err, bot.ErrNotFound):
			unlock()
			return fmt.Errorf("flow: read the index: %w", err)
		}
		es, changed := f(es)
		if !changed {
			unlock()
			return nil
		}
		switch {
		case len(es) == 0 && x.rs != nil:
			err = x.rs.DeleteRevision(ctx, key, rev)
		case len(es) == 0:
			err = x.st.Delete(ctx, key)
		default:
			var nv []byte
			if nv, err = json.Marshal(es); err != nil {
				unlock()
				return err
			}
			if x.rs != nil {
				err = x.rs.Update(ctx, key, nv, 0, rev)
			} else {
				err = x.st.Set(ctx, key, nv, 0)
			}
		}
		unlock()
		if errors.Is(err, bot.ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("flow: write the index: %w", err)
		}
		return nil
	}
	return fmt.Errorf("flow: write the index: %w %d times", bot.ErrConflict, maxConflicts)
}

// addDue indexes the conversation at due, or lowers its entry in due's
// second to due.
func (x *index) addDue(ctx context.Context, platform, conversation string, due time.Time) error {
	if err := x.mark(ctx); err != nil {
		return err
	}
	d := due.UnixNano()
	key := dueKey(x.bucket(due), int(stripe(platform, conversation)%dueShards))
	return modify(ctx, x, key, func(es []dueEntry) ([]dueEntry, bool) {
		i := slices.IndexFunc(es, func(e dueEntry) bool { return e.P == platform && e.C == conversation })
		if i < 0 {
			return append(es, dueEntry{P: platform, C: conversation, Due: d}), true
		}
		if d < es[i].Due {
			es[i].Due = d
			return es, true
		}
		return es, false
	})
}

// moveDue moves seen, an entry of second m, to due: within the second by
// changing its due time, else by adding it to due's second and then, when
// keep says m's keys stay, removing it from m. A writer that changed the
// entry since it was seen wins; a zero due drops the entry.
func (x *index) moveDue(ctx context.Context, m int64, seen dueEntry, due time.Time, keep bool) error {
	if !due.IsZero() && x.bucket(due) != m {
		if err := x.addDue(ctx, seen.P, seen.C, due); err != nil {
			return err
		}
	} else if !due.IsZero() {
		keep = true // changed in place
	}
	if !keep {
		return nil
	}
	key := dueKey(m, int(stripe(seen.P, seen.C)%dueShards))
	return modify(ctx, x, key, func(es []dueEntry) ([]dueEntry, bool) {
		i := slices.Index(es, seen)
		switch {
		case i < 0:
			return es, false
		case !due.IsZero() && x.bucket(due) == m:
			es[i].Due = due.UnixNano()
		default:
			es = slices.Delete(es, i, i+1)
		}
		return es, true
	})
}

// mark makes sure that the swept second is in the Store before the first
// due entry of this engine is written, so that a sweep that starts later
// begins before it: a minute before now, for clocks that differ.
func (x *index) mark(ctx context.Context) error {
	if x.marked.Load() {
		return nil
	}
	v := strconv.FormatInt(secondOf(x.now())-60, 10)
	if _, err := x.st.SetIfAbsent(ctx, sweptKey, []byte(v), 0); err != nil {
		return fmt.Errorf("flow: write the swept second: %w", err)
	}
	x.marked.Store(true)
	return nil
}

// swept returns the last second swept, marking it first if need be.
func (x *index) swept(ctx context.Context) (int64, error) {
	if err := x.mark(ctx); err != nil {
		return 0, err
	}
	v, err := x.st.Get(ctx, sweptKey)
	if err != nil {
		return 0, fmt.Errorf("flow: read the swept second: %w", err)
	}
	m, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("flow: decode the swept second: %w", err)
	}
	return m, nil
}

// advance marks the seconds up to to swept, and deletes their due keys,
// unless another sweep marked them: it returns the last second swept.
func (x *index) advance(ctx context.Context, to int64) (int64, error) {
	mu := &indexLocks[stripe(sweptKey, "")%uint32(len(indexLocks))]
	for range maxConflicts {
		var (
			v   []byte
			rev uint64
			err error
		)
		if x.rs != nil {
			v, rev, err = x.rs.GetRevision(ctx, sweptKey)
		} else {
			mu.Lock()
			v, err = x.st.Get(ctx, sweptKey)
		}
		unlock := func() {
			if x.rs == nil {
				mu.Unlock()
			}
		}
		if err != nil {
			unlock()
			return 0, fmt.Errorf("flow: read the swept second: %w", err)
		}
		from, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			unlock()
			return 0, fmt.Errorf("flow: decode the swept second: %w", err)
		}
		if from >= to {
			unlock()
			return from, nil
		}
		nv := []byte(strconv.FormatInt(to, 10))
		if x.rs != nil {
			err = x.rs.Update(ctx, sweptKey, nv, 0, rev)
		} else {
			err = x.st.Set(ctx, sweptKey, nv, 0)
		}
		unlock()
		if errors.Is(err, bot.ErrConflict) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("flow: write the swept second: %w", err)
		}
		for m := max(from+1, to-maxCatchUp); m <= to; m++ {
			for shard := range dueShards {
				if err := x.st.Delete(ctx, dueKey(m, shard)); err != nil {
					return to, fmt.Errorf("flow: delete a swept index key: %w", err)
				}
			}
		}
		return to, nil
	}
	return 0, fmt.Errorf("flow: write the swept second: %w %d times", bot.ErrConflict, maxConflicts)
}

// list lists rec's conversation as active, before rec is written with
// ttl, if the entry would expire before rec: with an expiry half a ttl
// later than rec's, kept in rec.Listed.
func (x *index) list(ctx context.Context, rec *record, ttl time.Duration) error {
	now := x.now()
	if rec.Ended || !now.Add(ttl).After(time.Unix(rec.Listed, 0)) {
		return nil
	}
	exp := now.Add(ttl + ttl/2).Unix()
	p, c := rec.Platform, rec.Conversation
	err := modify(ctx, x, activeKey(int(stripe(p, c)%activeShards)), func(es []activeEntry) ([]activeEntry, bool) {
		es = slices.DeleteFunc(es, func(e activeEntry) bool {
			return e.Exp < now.Unix() && (e.P != p || e.C != c)
		})
		i := slices.IndexFunc(es, func(e activeEntry) bool { return e.P == p && e.C == c })
		if i < 0 {
			return append(es, activeEntry{P: p, C: c, Exp: exp}), true
		}
		es[i].Exp = max(es[i].Exp, exp)
		return es, true
	})
	if err != nil {
		return err
	}
	rec.Listed = exp
	return nil
}

// unlist removes the conversation from the active flows (and the entries
// that expired from its key).
func (x *index) unlist(ctx context.Context, platform, conversation string) error {
	now := x.now().Unix()
	return modify(ctx, x, activeKey(int(stripe(platform, conversation)%activeShards)), func(es []activeEntry) ([]activeEntry, bool) {
		n := len(es)
		es = slices.DeleteFunc(es, func(e activeEntry) bool {
			return e.Exp < now || (e.P == platform && e.C == conversation)
		})
		return es, len(es) != n
	})
}

// active returns the entries of the active flows that have not expired.
func (x *index) active(ctx context.Context) ([]activeEntry, error) {
	now := x.now().Unix()
	var out []activeEntry
	for shard := range activeShards {
		es, err := get[activeEntry](ctx, x, activeKey(shard))
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			if e.Exp >= now {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

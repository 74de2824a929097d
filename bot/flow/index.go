package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
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
// it is due: conversations are spread over dueShards chains of keys per
// second by hash, so that a chain holds the timers due in one second,
// however many flows wait. A chain is a first key "flow-due:<unix
// second>:<shard>" and, when that holds dueCap entries, overflow keys
// "flow-due:<unix second>:<shard>:<n>" for n = 1, 2, …: a writer that
// finds a key full goes on to the next, and remembers (index.tails)
// which key of the chain it last found room in, so that a burst of
// thousands of timers due in one second costs each of its writes one
// key of at most dueCap entries, not a list of the whole burst. A key is
// written only after the one before it was seen full, and no key of a
// chain is deleted before its second is marked swept (an emptied key
// stays, an empty list), so that a chain has no gaps and the sweep reads
// a second's keys in order until one is absent. A writer looks for the
// conversation's entry only in the keys it writes, so a conversation may
// have two entries in one second; the sweep handles the first and drops
// the others.
//
// An entry's due time is never later than the conversation's next
// deadline: the message path adds an entry (before it writes the state,
// so that a crash between the two writes leaves an early entry, never a
// missing one) when a deadline comes earlier than the one indexed; the
// sweep, which reads the state when an entry is due, moves the entry to
// the state's real deadline, or to the next attempt of a timer it
// publishes, or drops it. Each sweep reads the seconds that came due since
// it last read, and the current one; once a minute, a sweep reads again
// the seconds past by finalizeLag since the last second swept, which the
// replicas share in the key "flow-swept" (for writers whose clocks are
// behind, and for a sweep that starts after a stop), and when their
// entries were all handled marks them swept and deletes their keys, every
// key of their chains it read. No entry is written in a second that has
// passed (see index.bucket).
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

	mu    sync.Mutex
	tails map[dueChain]int // the first key of a chain not known to be full, when not 0
}

// A dueChain is a second's shard of the due index: its keys' chain.
type dueChain struct {
	second int64
	shard  int
}

// indexLocks serialize the read and the write of an index key in a Store
// without revisions, for every Engine of the process: several Engines may
// share one Store (a MemoryStore in tests, a Go engine beside a rules
// file's).
var indexLocks [64]sync.Mutex

// Shapes of the indexes.
const (
	dueShards = 4
	// dueCap is how many entries a key of the due index holds.
	dueCap = 32
	// maxTails bounds the chains whose tail an index remembers.
	maxTails     = 4096
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

// dueKey returns the key n of the chain of second's shard.
func dueKey(second int64, shard, n int) string {
	k := "flow-due:" + strconv.FormatInt(second, 10) + ":" + strconv.Itoa(shard)
	if n > 0 {
		k += ":" + strconv.Itoa(n)
	}
	return k
}

func dueShard(platform, conversation string) int {
	return int(stripe(platform, conversation) % dueShards)
}

func activeKey(shard int) string { return "flow-active:" + strconv.Itoa(shard) }

// get returns the list under key, and whether there is one.
func get[T any](ctx context.Context, x *index, key string) ([]T, bool, error) {
	v, err := x.st.Get(ctx, key)
	if errors.Is(err, bot.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("flow: read the index: %w", err)
	}
	var es []T
	if err := json.Unmarshal(v, &es); err != nil {
		return nil, false, fmt.Errorf("flow: decode the index key %s: %w", key, err)
	}
	return es, true, nil
}

// What modify does with a list it empties.
const (
	deleteEmpty = true  // deletes the key
	keepEmpty   = false // writes the empty list
)

// modify changes the list under key with f, which reports whether it
// changed it, by compare-and-set; an emptied list is deleted when del.
func modify[T any](ctx context.Context, x *index, key string, del bool, f func([]T) ([]T, bool)) error {
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
		case len(es) == 0 && del && x.rs != nil:
			err = x.rs.DeleteRevision(ctx, key, rev)
		case len(es) == 0 && del:
			err = x.st.Delete(ctx, key)
		default:
			if es == nil {
				es = []T{}
			}
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
// second to due: in the first key of the second's chain, from its
// remembered tail on, that has the conversation's entry or room for it.
func (x *index) addDue(ctx context.Context, platform, conversation string, due time.Time) error {
	if err := x.mark(ctx); err != nil {
		return err
	}
	d := due.UnixNano()
	c := dueChain{second: x.bucket(due), shard: dueShard(platform, conversation)}
	for n := x.tail(c); ; n++ {
		full := false
		err := modify(ctx, x, dueKey(c.second, c.shard, n), keepEmpty, func(es []dueEntry) ([]dueEntry, bool) {
			i := slices.IndexFunc(es, func(e dueEntry) bool { return e.P == platform && e.C == conversation })
			full = i < 0 && len(es) >= dueCap
			switch {
			case full:
				return es, false
			case i < 0:
				return append(es, dueEntry{P: platform, C: conversation, Due: d}), true
			case d < es[i].Due:
				es[i].Due = d
				return es, true
			}
			return es, false
		})
		if err != nil {
			return err
		}
		if !full {
			x.setTail(c, n)
			return nil
		}
	}
}

// tail returns the first key of c's chain not known to be full.
func (x *index) tail(c dueChain) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.tails[c]
}

// setTail notes that key n of c's chain had room. It forgets the chains
// of the seconds that passed when it remembers too many, and all of them
// if that is not enough: a chain forgotten is read again from its first
// key.
func (x *index) setTail(c dueChain, n int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if n <= x.tails[c] {
		return
	}
	if x.tails == nil {
		x.tails = map[dueChain]int{}
	}
	if len(x.tails) >= maxTails {
		now := secondOf(x.now())
		maps.DeleteFunc(x.tails, func(k dueChain, _ int) bool { return k.second < now })
		if len(x.tails) >= maxTails {
			clear(x.tails)
		}
	}
	x.tails[c] = n
}

// dueEntries returns the entries of key n of the chain of second's
// shard, and whether the key exists.
func (x *index) dueEntries(ctx context.Context, second int64, shard, n int) ([]dueEntry, bool, error) {
	return get[dueEntry](ctx, x, dueKey(second, shard, n))
}

// moveDue moves seen, an entry of key n of second m's chain, to due:
// within the second by changing its due time, else by adding it to due's
// second and then, when keep says m's keys stay, removing it from m. A
// writer that changed the entry since it was seen wins; a zero due drops
// the entry.
func (x *index) moveDue(ctx context.Context, m int64, n int, seen dueEntry, due time.Time, keep bool) error {
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
	key := dueKey(m, dueShard(seen.P, seen.C), n)
	return modify(ctx, x, key, keepEmpty, func(es []dueEntry) ([]dueEntry, bool) {
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
// chains has, for the seconds whose chains have overflow keys, how many
// keys the sweep read in each shard's chain; of the others, it deletes
// the first key.
func (x *index) advance(ctx context.Context, to int64, chains map[int64][dueShards]int) (int64, error) {
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
				for n := max(chains[m][shard], 1) - 1; n >= 0; n-- {
					if err := x.st.Delete(ctx, dueKey(m, shard, n)); err != nil {
						return to, fmt.Errorf("flow: delete a swept index key: %w", err)
					}
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
	err := modify(ctx, x, activeKey(int(stripe(p, c)%activeShards)), deleteEmpty, func(es []activeEntry) ([]activeEntry, bool) {
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
	return modify(ctx, x, activeKey(int(stripe(platform, conversation)%activeShards)), deleteEmpty, func(es []activeEntry) ([]activeEntry, bool) {
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
		es, _, err := get[activeEntry](ctx, x, activeKey(shard))
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

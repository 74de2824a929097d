package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/parleybot/parley/bot"
)

// indexShards is the number of index keys, "flow:index:0" to
// "flow:index:63".
const indexShards = 64

// The index lists the conversations with a flow, since a Store cannot be
// scanned: Active reads it, and the timer sweep reads it for deadlines.
// It is spread over indexShards keys by conversation, each a JSON list
// changed by compare-and-set (or under a lock per shard with a Store
// without revisions).
//
// Each entry carries a due time that is never later than the earliest
// deadline of its conversation's state: writers only add entries or lower
// due times (before they write the state, so that a crash between the two
// writes leaves an early due time, never a missing one), and the sweep,
// which reads the state when an entry is due, raises the due time to the
// state's real deadline, or clears it. Entries of runs that ended are
// removed after the state is written; one left behind by a crash is
// removed by the sweep or by Active when they find no flow.
type index struct {
	st    bot.Store
	rs    bot.RevisionStore
	locks [indexShards]sync.Mutex
}

type indexEntry struct {
	P   string `json:"p"`
	C   string `json:"c"`
	Due int64  `json:"d,omitempty"` // unix nanoseconds; 0: no deadline
}

func indexKey(shard int) string { return "flow:index:" + strconv.Itoa(shard) }

func shardOf(platform, conversation string) int {
	return int(stripe(platform, conversation) % indexShards)
}

// read returns the entries of a shard.
func (x *index) read(ctx context.Context, shard int) ([]indexEntry, error) {
	v, err := x.st.Get(ctx, indexKey(shard))
	if errors.Is(err, bot.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("flow: read the index: %w", err)
	}
	var es []indexEntry
	if err := json.Unmarshal(v, &es); err != nil {
		return nil, fmt.Errorf("flow: decode the index: %w", err)
	}
	return es, nil
}

// modify changes a shard's entries with f, which reports whether it
// changed them, by compare-and-set.
func (x *index) modify(ctx context.Context, shard int, f func([]indexEntry) ([]indexEntry, bool)) error {
	key := indexKey(shard)
	for range maxConflicts {
		var (
			v   []byte
			rev uint64
			err error
		)
		if x.rs != nil {
			v, rev, err = x.rs.GetRevision(ctx, key)
		} else {
			x.locks[shard].Lock()
			v, err = x.st.Get(ctx, key)
		}
		unlock := func() {
			if x.rs == nil {
				x.locks[shard].Unlock()
			}
		}
		var es []indexEntry
		switch {
		case err == nil:
			if err := json.Unmarshal(v, &es); err != nil {
				unlock()
				return fmt.Errorf("flow: decode the index: %w", err)
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
		nv, err := json.Marshal(es)
		if err != nil {
			unlock()
			return err
		}
		if x.rs != nil {
			err = x.rs.Update(ctx, key, nv, 0, rev)
		} else {
			err = x.st.Set(ctx, key, nv, 0)
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

// lower adds the conversation's entry, or lowers its due time to due when
// due is earlier (a zero due adds the entry and changes no due time).
func (x *index) lower(ctx context.Context, platform, conversation string, due time.Time) error {
	d := int64(0)
	if !due.IsZero() {
		d = due.UnixNano()
	}
	return x.modify(ctx, shardOf(platform, conversation), func(es []indexEntry) ([]indexEntry, bool) {
		i := slices.IndexFunc(es, func(e indexEntry) bool { return e.P == platform && e.C == conversation })
		if i < 0 {
			return append(es, indexEntry{P: platform, C: conversation, Due: d}), true
		}
		if d != 0 && (es[i].Due == 0 || d < es[i].Due) {
			es[i].Due = d
			return es, true
		}
		return es, false
	})
}

// remove removes the conversation's entry.
func (x *index) remove(ctx context.Context, platform, conversation string) error {
	return x.modify(ctx, shardOf(platform, conversation), func(es []indexEntry) ([]indexEntry, bool) {
		n := len(es)
		es = slices.DeleteFunc(es, func(e indexEntry) bool { return e.P == platform && e.C == conversation })
		return es, len(es) != n
	})
}

// raise sets the conversation's due time to due (0: none) if it is still
// seen, the due time the caller read: a writer that lowered it meanwhile
// wins.
func (x *index) raise(ctx context.Context, platform, conversation string, seen, due int64) error {
	return x.modify(ctx, shardOf(platform, conversation), func(es []indexEntry) ([]indexEntry, bool) {
		i := slices.IndexFunc(es, func(e indexEntry) bool { return e.P == platform && e.C == conversation })
		if i < 0 || es[i].Due != seen || seen == due {
			return es, false
		}
		es[i].Due = due
		return es, true
	})
}

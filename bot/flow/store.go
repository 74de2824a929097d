package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/parleybot/parley/bot"
)

// MaxStateSize is the largest encoded state the engine stores for a
// conversation: 16 KiB. An answer that would make the state larger is
// refused like an invalid one (the re-ask says "That answer is too
// long."); any other advance that would store more, such as a Start with
// large values, fails with an error wrapping ErrTooLarge and changes
// nothing.
const MaxStateSize = 16 << 10

// endedTTL is how long the record of an ended run is kept, so that a
// redelivery of the event that ended it is recognised.
const endedTTL = time.Hour

// maxConflicts bounds the read-decide-write rounds of one advance.
const maxConflicts = 16

// states reads and writes conversation records with compare-and-set: on
// a bot.RevisionStore through its revisions; on any other Store through a
// version kept in the record (record.Rev), which a write compares with the
// stored one under a lock held only for that read and write (shared by
// the process's Engines, and never held while user code such as a Check
// runs), which is safe within one process only.
type states struct {
	st    bot.Store
	rs    bot.RevisionStore // nil: versions in the records
	index *index            // lists the conversations whose records it writes
}

// saveLocks serialize the compare and the write of a record in a Store
// without revisions, by key, across the process's Engines.
var saveLocks [64]sync.Mutex

func newStates(st bot.Store) *states {
	s := &states{st: st}
	s.rs, _ = st.(bot.RevisionStore)
	return s
}

func stateKey(platform, conversation string) string {
	return "flow:" + platform + ":" + conversation
}

func stripe(a, b string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(a); i++ {
		h = (h ^ uint32(a[i])) * 16777619
	}
	h *= 16777619
	for i := 0; i < len(b); i++ {
		h = (h ^ uint32(b[i])) * 16777619
	}
	return h
}

// load reads a conversation's record (nil when there is none) and its
// revision, for save.
func (s *states) load(ctx context.Context, platform, conversation string) (*record, uint64, error) {
	key := stateKey(platform, conversation)
	var (
		v   []byte
		rev uint64
		err error
	)
	if s.rs != nil {
		v, rev, err = s.rs.GetRevision(ctx, key)
	} else {
		v, err = s.st.Get(ctx, key)
	}
	if errors.Is(err, bot.ErrNotFound) {
		return nil, rev, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("flow: read the state of %s/%s: %w", platform, conversation, err)
	}
	rec := new(record)
	if err := json.Unmarshal(v, rec); err != nil {
		return nil, 0, fmt.Errorf("flow: decode the state of %s/%s: %w", platform, conversation, err)
	}
	if s.rs == nil {
		rev = rec.Rev
	}
	return rec, rev, nil
}

// save encodes rec and writes it (see write).
func (s *states) save(ctx context.Context, rec *record, rev uint64, ttl time.Duration) error {
	v, err := s.encode(rec, rev)
	if err != nil {
		return err
	}
	return s.write(ctx, rec, v, rev, ttl)
}

// encode returns rec encoded for a write over revision rev, or an error
// wrapping ErrTooLarge.
func (s *states) encode(rec *record, rev uint64) ([]byte, error) {
	if s.rs == nil {
		rec.Rev = rev + 1
	}
	v, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("flow: encode the state of %s/%s: %w", rec.Platform, rec.Conversation, err)
	}
	if len(v) > MaxStateSize {
		return nil, fmt.Errorf("%w: the state of %s/%s in flow %q would take %d bytes, over the limit of %d",
			ErrTooLarge, rec.Platform, rec.Conversation, rec.Flow, len(v), MaxStateSize)
	}
	return v, nil
}

// write writes v, rec encoded, if the conversation's revision is still
// rev, and otherwise returns an error wrapping bot.ErrConflict. Before, it
// lists the conversation among the active flows if its entry there would
// expire before rec (see index.list).
func (s *states) write(ctx context.Context, rec *record, v []byte, rev uint64, ttl time.Duration) error {
	if s.index != nil {
		if err := s.index.list(ctx, rec, ttl); err != nil {
			return err
		}
	}
	var err error
	key := stateKey(rec.Platform, rec.Conversation)
	if s.rs != nil {
		err = s.rs.Update(ctx, key, v, ttl, rev)
	} else {
		err = s.swap(ctx, key, v, ttl, rev)
	}
	if err != nil && !errors.Is(err, bot.ErrConflict) {
		return fmt.Errorf("flow: write the state of %s/%s: %w", rec.Platform, rec.Conversation, err)
	}
	return err
}

// swap writes v under key if the record stored there still has the
// version rev (0: none is stored), or returns bot.ErrConflict.
func (s *states) swap(ctx context.Context, key string, v []byte, ttl time.Duration, rev uint64) error {
	mu := &saveLocks[stripe(key, "")%uint32(len(saveLocks))]
	mu.Lock()
	defer mu.Unlock()
	cur, err := s.st.Get(ctx, key)
	var have uint64
	switch {
	case err == nil:
		var r struct{ Rev uint64 }
		if err := json.Unmarshal(cur, &r); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		have = r.Rev
	case !errors.Is(err, bot.ErrNotFound):
		return err
	}
	if have != rev {
		return bot.ErrConflict
	}
	return s.st.Set(ctx, key, v, ttl)
}

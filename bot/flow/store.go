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
// conversation: 16 KiB. An advance that would store more fails with an
// error wrapping ErrTooLarge and changes nothing.
const MaxStateSize = 16 << 10

// endedTTL is how long the record of an ended run is kept, so that a
// redelivery of the event that ended it is recognised.
const endedTTL = time.Hour

// maxConflicts bounds the read-decide-write rounds of one advance.
const maxConflicts = 16

// states reads and writes conversation records with compare-and-set: on
// a bot.RevisionStore through its revisions, on any other Store through a
// lock per conversation (striped) held from the read to the write, which
// is safe within one process only.
type states struct {
	st    bot.Store
	rs    bot.RevisionStore // nil: lock instead
	locks [64]sync.Mutex
	index *index // lists the conversations whose records it writes
}

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
// revision, and returns the function that ends the read-modify-write:
// call it after the save, or when giving up.
func (s *states) load(ctx context.Context, platform, conversation string) (*record, uint64, func(), error) {
	unlock := func() {}
	if s.rs == nil {
		mu := &s.locks[stripe(platform, conversation)%uint32(len(s.locks))]
		mu.Lock()
		unlock = mu.Unlock
	}
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
		return nil, rev, unlock, nil
	}
	if err != nil {
		unlock()
		return nil, 0, func() {}, fmt.Errorf("flow: read the state of %s/%s: %w", platform, conversation, err)
	}
	rec := new(record)
	if err := json.Unmarshal(v, rec); err != nil {
		unlock()
		return nil, 0, func() {}, fmt.Errorf("flow: decode the state of %s/%s: %w", platform, conversation, err)
	}
	return rec, rev, unlock, nil
}

// save writes rec if the conversation's revision is still rev, and
// otherwise returns an error wrapping bot.ErrConflict. Before, it lists
// the conversation among the active flows if its entry there would expire
// before rec (see index.list).
func (s *states) save(ctx context.Context, rec *record, rev uint64, ttl time.Duration) error {
	if s.index != nil {
		if err := s.index.list(ctx, rec, ttl); err != nil {
			return err
		}
	}
	v, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("flow: encode the state of %s/%s: %w", rec.Platform, rec.Conversation, err)
	}
	if len(v) > MaxStateSize {
		return fmt.Errorf("%w: the state of %s/%s in flow %q would take %d bytes, over the limit of %d",
			ErrTooLarge, rec.Platform, rec.Conversation, rec.Flow, len(v), MaxStateSize)
	}
	key := stateKey(rec.Platform, rec.Conversation)
	if s.rs != nil {
		err = s.rs.Update(ctx, key, v, ttl, rev)
	} else {
		err = s.st.Set(ctx, key, v, ttl)
	}
	if err != nil && !errors.Is(err, bot.ErrConflict) {
		return fmt.Errorf("flow: write the state of %s/%s: %w", rec.Platform, rec.Conversation, err)
	}
	return err
}

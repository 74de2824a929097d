package bot

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// ownership keeps who owns each conversation in the Store. Only human-owned
// conversations have an entry ("own:<platform>:<conversation>", the time of
// the last activity as 8 bytes); an absent entry means the bot owns it, so
// the common case costs one lookup and no memory — and none at all on a
// MemoryStore, whose entries an ownerFilter counts.
type ownership struct {
	store  Store
	idle   time.Duration
	logger *slog.Logger
	stats  *stats
	checks *ownerChecks // nil: no adapter can read its platform's switch

	// writes serialises, per conversation (striped), the writes to a Store
	// without revisions: an update's read, decision and write, and a set,
	// so that a decision taken on a read is never written over a newer
	// record of this process. A RevisionStore checks the revision instead.
	writes [64]sync.Mutex

	filter *ownerFilter // the MemoryStore's count of owner entries; nil for any other Store
}

// convHash is FNV-1a over platform, a zero byte and conversation.
func convHash(platform, conversation string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(platform); i++ {
		h = (h ^ uint32(platform[i])) * 16777619
	}
	h *= 16777619
	for i := 0; i < len(conversation); i++ {
		h = (h ^ uint32(conversation[i])) * 16777619
	}
	return h
}

// lock locks the write stripe of a conversation and returns its unlock.
func (o *ownership) lock(platform, conversation string) func() {
	mu := &o.writes[convHash(platform, conversation)%uint32(len(o.writes))]
	mu.Lock()
	return mu.Unlock
}

// ownerFilter counts the owner entries of a MemoryStore by stripe of
// conversations, so that a conversation of a stripe with none, the common
// case, is known bot-owned without a lookup. The MemoryStore holds it, so
// every Bot on the MemoryStore shares it, and writes its entries through it
// (ownership.write), so the counts cover every entry: the Store is in the
// process, and only the Bots write "own:" keys. (Any other Store may be
// shared with other processes, which no count here sees: it is read.)
//
// A stripe's count is raised before an entry is created and lowered after
// one is deleted, under the stripe's lock, so it is never below the
// entries the stripe holds: a count of zero read at any moment means no
// entry at that moment.
type ownerFilter struct {
	stripes [256]ownerStripe
}

type ownerStripe struct {
	mu sync.Mutex // serialises the count with the writes of the stripe
	n  atomic.Int64
	_  [48]byte // a cache line per stripe: counts are read on every message
}

func (f *ownerFilter) stripe(platform, conversation string) *ownerStripe {
	return &f.stripes[convHash(platform, conversation)%uint32(len(f.stripes))]
}

// filterFor returns the ownerFilter of st, or nil when st is not a
// MemoryStore.
func filterFor(st Store) *ownerFilter {
	if ms, ok := st.(*MemoryStore); ok {
		return ms.owners
	}
	return nil
}

func ownerKey(platform, conversation string) joinedKey {
	return joinedKey{"own:", platform, conversation}
}

// get returns the owner recorded for a conversation and, for a human-owned
// one, the time of its last activity.
func (o *ownership) get(ctx context.Context, platform, conversation string) (Owner, time.Time, error) {
	if f := o.filter; f != nil && f.stripe(platform, conversation).n.Load() == 0 {
		return OwnerBot, time.Time{}, nil
	}
	v, err := ownerKey(platform, conversation).get(ctx, o.store)
	if errors.Is(err, ErrNotFound) {
		return OwnerBot, time.Time{}, nil
	}
	if err != nil {
		return OwnerUnset, time.Time{}, wrap("bot: read owner", err)
	}
	owner, last := decodeOwner(v)
	return owner, last, nil
}

// set records the owner of a conversation; for humans it also stamps the
// activity time.
func (o *ownership) set(ctx context.Context, platform, conversation string, who Owner, now time.Time) error {
	if _, ok := o.store.(RevisionStore); !ok {
		defer o.lock(platform, conversation)()
	}
	return o.write(ctx, platform, conversation, who, now)
}

// write is set without the lock.
func (o *ownership) write(ctx context.Context, platform, conversation string, who Owner, now time.Time) error {
	key := ownerKey(platform, conversation).String()
	var err error
	if f := o.filter; f != nil {
		// Count the entry created or deleted (see ownerFilter).
		s := f.stripe(platform, conversation)
		s.mu.Lock()
		defer s.mu.Unlock()
		_, gerr := o.store.Get(ctx, key)
		had := gerr == nil
		if who == OwnerHuman && !had {
			s.n.Add(1)
			defer func() {
				if err != nil {
					s.n.Add(-1) // not created
				}
			}()
		}
		if who != OwnerHuman && had {
			defer func() {
				if err == nil {
					s.n.Add(-1)
				}
			}()
		}
	}
	if who == OwnerHuman {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(now.UnixNano()))
		err = o.store.Set(ctx, key, b[:], 0)
	} else {
		// The stamp first: a reply delivered in between must find it.
		if err = o.stampResumed(ctx, platform, conversation, now); err == nil {
			err = o.store.Delete(ctx, key)
		}
	}
	if err != nil {
		return wrap("bot: record owner", err)
	}
	o.checks.track(convRef{platform, conversation}, who)
	return nil
}

// maxOwnerRetries bounds the read-decide-write rounds of update.
const maxOwnerRetries = 16

// decodeOwner reads a stored owner entry.
func decodeOwner(v []byte) (Owner, time.Time) {
	var last time.Time
	if len(v) == 8 {
		last = time.Unix(0, int64(binary.BigEndian.Uint64(v)))
	}
	return OwnerHuman, last
}

// update reads a conversation's owner, asks decide what it should become,
// and writes that when decide says to (write is also how a human owner's
// activity time is refreshed). now is called only when the time is
// needed, to stamp a human owner's activity. With a RevisionStore the
// write is checked against the revision read, and on a conflict the round starts again with
// a fresh read, so that a decision is never taken on state another process
// has changed since. prev is the owner read in the last round (OwnerUnset
// when that read failed), next the owner decided.
func (o *ownership) update(ctx context.Context, platform, conversation string, now func() time.Time,
	decide func(cur Owner, last time.Time) (next Owner, write bool)) (prev, next Owner, err error) {
	rs, ok := o.store.(RevisionStore)
	if !ok {
		cur, last, err := o.get(ctx, platform, conversation)
		if err != nil {
			return OwnerUnset, OwnerUnset, err
		}
		next, write := decide(cur, last)
		if !write {
			return cur, next, nil // the common case takes no lock
		}
		// Decide again on a read under the lock, which a set waits for.
		defer o.lock(platform, conversation)()
		if cur, last, err = o.get(ctx, platform, conversation); err != nil {
			return OwnerUnset, OwnerUnset, err
		}
		if next, write = decide(cur, last); write {
			err = o.write(ctx, platform, conversation, next, now())
		}
		return cur, next, err // write tracked the change
	}
	key := ownerKey(platform, conversation).String()
	for range maxOwnerRetries {
		v, rev, err := rs.GetRevision(ctx, key)
		cur, last := OwnerBot, time.Time{}
		switch {
		case err == nil:
			cur, last = decodeOwner(v)
		case !errors.Is(err, ErrNotFound):
			return OwnerUnset, OwnerUnset, wrap("bot: read owner", err)
		}
		next, write := decide(cur, last)
		if !write {
			return cur, next, nil
		}
		switch {
		case next == OwnerHuman:
			var b [8]byte
			binary.BigEndian.PutUint64(b[:], uint64(now().UnixNano()))
			err = rs.Update(ctx, key, b[:], 0, rev)
		case cur == OwnerHuman:
			// The stamp first, as in write: a reply delivered in
			// between must find it. (Should the delete then conflict and
			// the decision change, a handoff reply being delivered at
			// that moment does not hand off: the smaller harm.)
			if err = o.stampResumed(ctx, platform, conversation, now()); err == nil {
				err = rs.DeleteRevision(ctx, key, rev)
			}
		default:
			err = nil // bot-owned already: nothing stored
		}
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return cur, next, wrap("bot: record owner", err)
		}
		o.checks.track(convRef{platform, conversation}, next)
		return cur, next, nil
	}
	return OwnerUnset, OwnerUnset, wrap(fmt.Sprintf("bot: record owner of %s/%s", platform, conversation),
		fmt.Errorf("%w %d times", ErrConflict, maxOwnerRetries))
}

// idleExpired reports whether a human-owned conversation whose last activity
// was at last has been idle past the timeout.
func (o *ownership) idleExpired(last, now time.Time) bool {
	return o.idle > 0 && !last.IsZero() && now.Sub(last) > o.idle
}

// resumedTTL is how long the time a conversation went back to the bot is
// kept: longer than a handoff reply can wait in the outbox.
const resumedTTL = 24 * time.Hour

func resumedKey(platform, conversation string) joinedKey {
	return joinedKey{"own-resumed:", platform, conversation}
}

// stampResumed records that the conversation went back to the bot at now,
// for a handoff reply queued before and delivered after (see
// outbox.afterSend).
func (o *ownership) stampResumed(ctx context.Context, platform, conversation string, now time.Time) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(now.UnixNano()))
	return o.store.Set(ctx, resumedKey(platform, conversation).String(), b[:], resumedTTL)
}

// resumedAt returns when the conversation last went back to the bot,
// within resumedTTL; zero when it did not.
func (o *ownership) resumedAt(ctx context.Context, platform, conversation string) (time.Time, error) {
	v, err := resumedKey(platform, conversation).get(ctx, o.store)
	switch {
	case errors.Is(err, ErrNotFound):
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, wrap("bot: read owner", err)
	case len(v) != 8:
		return time.Time{}, nil
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v))), nil
}

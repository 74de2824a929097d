package bot

import (
	"context"
	"time"

	"github.com/parleybot/parley/bot/internal/memtable"
)

// A MemoryStore is the in-process [Store] and the Bot's default. It keeps
// everything in memory, so its contents are lost when the process exits and
// are not shared between replicas; use a durable store from storage/ for
// that.
//
// A MemoryStore is safe for concurrent use. Keys are spread over 64 shards,
// each with its own mutex, so operations on different keys rarely contend.
// No operation blocks beyond a shard's lock, so the ctx arguments are not
// consulted. Set and SetIfAbsent copy the value and Get returns a fresh
// copy, so neither side can modify the stored value through a slice it
// holds. An empty value is stored without allocating and Get returns it as
// a nil slice.
//
// Keys are not kept: each is reduced to a 96-bit digest (two keyed hashes
// with seeds chosen per store), and entries are found by digest. This makes
// an entry a few dozen bytes whatever the key's length, and keeps entries
// with an empty value (deduplication entries, idempotency claims — the bulk
// of a busy bot's keys) in a table without pointers, which the garbage
// collector does not scan: 20 bytes an entry in cache-line buckets, about 32
// bytes an entry on average with the table's free room. Two keys share a digest with probability about n²/2⁹⁷ for
// n keys (below 10⁻¹¹ for a billion), and the seeds are secret, so the
// digests cannot be aimed at.
//
// Expired entries are removed in two ways, without any background
// goroutine (a MemoryStore has no lifetime to manage and needs no Close):
//
//   - lazily: an operation that finds an expired entry treats it as absent,
//     and Get and SetIfAbsent remove or replace it;
//   - by an amortized sweep: once a shard has seen max(1024, n/2) writes
//     since its last sweep, where n is its number of entries, and at least
//     one second has passed since that sweep, the writing call removes
//     every expired entry of that shard. The sweep is O(n) and runs at most
//     once per n/2 writes, so writes stay O(1) amortized; a shard whose
//     entries fell below a quarter of their peak is also rebuilt so that its
//     tables' memory is returned.
//
// A shard that receives no writes keeps its expired entries until they are
// read, so memory is bounded by the number of entries written in the last
// TTL plus one sweep period. Expiry is measured on the monotonic clock
// from the store's creation, so a step of the wall clock (an NTP
// correction) neither expires entries early nor keeps them late, and the
// testing/synctest fake clock applies to a MemoryStore created inside a
// synctest bubble.
//
// The zero MemoryStore is not usable; call [NewMemoryStore].
type MemoryStore struct {
	table memtable.Table
	// owners counts the Bots' ownership entries in the store, for every
	// Bot on it (see ownerFilter in ownership.go).
	owners *ownerFilter
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	s := &MemoryStore{owners: new(ownerFilter)}
	s.table.Init()
	return s
}

// Get returns a copy of the value of key, or [ErrNotFound] itself if key is
// absent or expired. It is safe for concurrent use.
func (s *MemoryStore) Get(_ context.Context, key string) ([]byte, error) {
	k, sh := s.table.Locate(key)
	return found(sh.Get(k))
}

// found is the Get result of a shard's: the sentinel itself for a miss, so
// that a miss costs no allocation.
func found(v []byte, ok bool) ([]byte, error) {
	if !ok {
		return nil, ErrNotFound
	}
	return v, nil
}

// Set stores a copy of value under key, replacing any previous value and
// its expiry. ttl <= 0 means no expiry. It is safe for concurrent use.
func (s *MemoryStore) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	k, sh := s.table.Locate(key)
	sh.Set(k, string(value), ttl) // string copies; free for an empty value
	return nil
}

// SetIfAbsent stores a copy of value under key only if key is absent or
// expired, and reports whether it did. ttl <= 0 means no expiry. Of
// concurrent callers for one key, exactly one gets true. It is safe for
// concurrent use.
func (s *MemoryStore) SetIfAbsent(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	k, sh := s.table.Locate(key)
	return sh.SetIfAbsent(k, string(value), ttl), nil // string copies; free for an empty value
}

// Delete removes key. Deleting an absent key is not an error. It is safe for
// concurrent use.
func (s *MemoryStore) Delete(_ context.Context, key string) error {
	k, sh := s.table.Locate(key)
	sh.Delete(k)
	return nil
}

// Len returns the number of entries held: live ones plus expired ones not
// yet removed by a read or a sweep. It locks each shard in turn, so under
// concurrent writes the result mixes counts from slightly different
// instants. It is meant for tests and metrics.
func (s *MemoryStore) Len() int { return s.table.Len() }

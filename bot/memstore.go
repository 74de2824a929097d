package bot

import (
	"context"
	"hash/maphash"
	"math"
	"sync"
	"time"
	"unsafe"
)

// memShards is the number of independently locked parts of a MemoryStore.
// It is a power of two so that a shard is picked with a mask.
const memShards = 64

// Sweep policy of a MemoryStore shard; see MemoryStore.
const (
	sweepMinWrites = 1024        // writes before a shard considers sweeping
	sweepInterval  = time.Second // minimum time between sweeps of one shard
	sweepCheck     = 64          // past the threshold, look at the clock every sweepCheck writes
	shrinkMinPeak  = 4096        // a shard map that never held this many entries is not rebuilt
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
//     map's memory is returned.
//
// A shard that receives no writes keeps its expired entries until they are
// read, so memory is bounded by the number of entries written in the last
// TTL plus one sweep period. Expiry uses the wall clock (time.Now), so the
// testing/synctest fake clock applies to a MemoryStore created inside a
// synctest bubble.
//
// The zero MemoryStore is not usable; call [NewMemoryStore].
type MemoryStore struct {
	seed   maphash.Seed
	shards [memShards]memShard
}

// memEntry is one stored value. It is kept small on purpose: DESIGN §6 allows
// 1 KiB per tracked conversation, which holds dozens of entries.
type memEntry struct {
	value   string // immutable copy of the value; "" for an empty value
	expires int64  // unix nanoseconds; 0 means never
}

// memShardState is the state of one shard, guarded by mu.
type memShardState struct {
	mu        sync.Mutex
	m         map[string]memEntry // nil until the first write
	writes    int                 // writes since the last sweep
	lastSweep int64               // unix nanoseconds of the last sweep
	peak      int                 // largest len(m) since m was made
}

// memShard pads a shard to a multiple of 128 bytes so that the locks of
// neighbouring shards do not share a cache line (or an adjacent-line
// prefetch pair).
type memShard struct {
	memShardState
	_ [(128 - unsafe.Sizeof(memShardState{})%128) % 128]byte
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{seed: maphash.MakeSeed()}
}

func (s *MemoryStore) shard(key string) *memShard {
	return &s.shards[maphash.String(s.seed, key)&(memShards-1)]
}

// Get returns a copy of the value of key, or [ErrNotFound] itself if key is
// absent or expired. It is safe for concurrent use.
func (s *MemoryStore) Get(_ context.Context, key string) ([]byte, error) {
	sh := s.shard(key)
	sh.mu.Lock()
	e, ok := sh.m[key]
	sh.mu.Unlock()
	// The clock is read outside the lock to keep the critical section short.
	if ok && e.expires != 0 && time.Now().UnixNano() >= e.expires {
		sh.mu.Lock()
		// Remove it unless it was rewritten meanwhile; an entry with the same
		// deadline has expired too.
		if cur, still := sh.m[key]; still && cur.expires == e.expires {
			delete(sh.m, key)
		}
		sh.mu.Unlock()
		ok = false
	}
	if !ok {
		return nil, ErrNotFound // the sentinel itself: a miss costs no allocation
	}
	if len(e.value) == 0 {
		return nil, nil
	}
	return []byte(e.value), nil
}

// Set stores a copy of value under key, replacing any previous value and
// its expiry. ttl <= 0 means no expiry. It is safe for concurrent use.
func (s *MemoryStore) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	v := string(value) // copies; free for an empty value
	var now int64
	if ttl > 0 {
		now = time.Now().UnixNano()
	}
	sh := s.shard(key)
	sh.mu.Lock()
	sh.put(key, memEntry{value: v, expires: expiry(now, ttl)})
	sh.noteWrite(now)
	sh.mu.Unlock()
	return nil
}

// SetIfAbsent stores a copy of value under key only if key is absent or
// expired, and reports whether it did. ttl <= 0 means no expiry. Of
// concurrent callers for one key, exactly one gets true. It is safe for
// concurrent use.
func (s *MemoryStore) SetIfAbsent(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	// With a TTL the clock is needed either way (for the new entry's expiry
	// or for the present entry's, which deduplication entries always have),
	// so it is read before taking the lock.
	var now int64
	if ttl > 0 {
		now = time.Now().UnixNano()
	}
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.m[key]; ok {
		if e.expires == 0 {
			return false, nil
		}
		if now == 0 {
			now = time.Now().UnixNano()
		}
		if now < e.expires {
			return false, nil
		}
	}
	sh.put(key, memEntry{value: string(value), expires: expiry(now, ttl)})
	sh.noteWrite(now)
	return true, nil
}

// Delete removes key. Deleting an absent key is not an error. It is safe for
// concurrent use.
func (s *MemoryStore) Delete(_ context.Context, key string) error {
	sh := s.shard(key)
	sh.mu.Lock()
	delete(sh.m, key)
	sh.mu.Unlock()
	return nil
}

// Len returns the number of entries held: live ones plus expired ones not
// yet removed by a read or a sweep. It locks each shard in turn, so under
// concurrent writes the result mixes counts from slightly different
// instants. It is meant for tests and metrics.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// expiry returns the unix-nanosecond deadline of an entry written at now
// with ttl, or 0 for no expiry. A ttl too large to represent never expires
// in practice and is clamped.
func expiry(now int64, ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	if int64(ttl) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(ttl)
}

// put stores e under key. The caller holds sh.mu.
func (sh *memShard) put(key string, e memEntry) {
	if sh.m == nil {
		sh.m = make(map[string]memEntry)
	}
	sh.m[key] = e
	if n := len(sh.m); n > sh.peak {
		sh.peak = n
	}
}

// noteWrite counts a write and sweeps the shard when the policy documented
// on MemoryStore says so. now is the caller's clock reading in unix
// nanoseconds, or 0 if it has none. The caller holds sh.mu.
func (sh *memShard) noteWrite(now int64) {
	sh.writes++
	if sh.writes < sweepMinWrites || sh.writes < len(sh.m)/2 {
		return
	}
	// Past the threshold but possibly within a second of the last sweep:
	// look at the clock only every sweepCheck writes.
	if sh.writes%sweepCheck != 0 && sh.lastSweep != 0 {
		return
	}
	if now == 0 {
		now = time.Now().UnixNano()
	}
	if sh.lastSweep != 0 && now-sh.lastSweep < int64(sweepInterval) {
		return
	}
	sh.sweep(now)
}

// sweep removes the shard's expired entries, rebuilding the map when it has
// shrunk to under a quarter of its peak. The caller holds sh.mu.
func (sh *memShard) sweep(now int64) {
	for k, e := range sh.m {
		if e.expires != 0 && now >= e.expires {
			delete(sh.m, k)
		}
	}
	sh.writes = 0
	sh.lastSweep = now
	if n := len(sh.m); sh.peak >= shrinkMinPeak && n < sh.peak/4 {
		// Go maps never give back their buckets; copy into a right-sized one.
		m := make(map[string]memEntry, n)
		for k, e := range sh.m {
			m[k] = e
		}
		sh.m = m
		sh.peak = n
	}
}

package bot

import (
	"context"
	"hash/maphash"
	"math"
	"sync"
	"time"
	"unsafe"

	"github.com/parleybot/parley/bot/internal/stamptable"
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
	seeds  [2]maphash.Seed
	clock  memClock
	shards [memShards]memShard
	// owners counts the Bots' ownership entries in the store, for every
	// Bot on it (see ownerFilter in ownership.go).
	owners *ownerFilter
}

// A memClock reads the time as unix nanoseconds from the monotonic clock:
// the wall time of its creation plus the monotonic time elapsed since. One
// monotonic reading costs about half of what time.Now does (which reads the
// wall clock as well), and expiries are immune to steps of the wall clock.
type memClock struct {
	start time.Time // with its monotonic reading
	base  int64     // start in unix nanoseconds
}

func newMemClock() memClock {
	now := time.Now()
	return memClock{start: now, base: now.UnixNano()}
}

// now returns the current time in unix nanoseconds.
func (c *memClock) now() int64 { return c.base + int64(time.Since(c.start)) }

// memEntry is one stored value.
type memEntry struct {
	value   string // immutable copy of the value; "" for an empty value
	expires int64  // unix nanoseconds; 0 means never
}

// memShardState is the state of one shard, guarded by mu. A key is in at
// most one of stamps and vals.
type memShardState struct {
	mu        sync.Mutex
	clock     *memClock                   // the store's; immutable
	stamps    stamptable.Table            // empty values: just the expiry; no pointers
	vals      map[stamptable.Key]memEntry // non-empty values
	writes    int                         // writes since the last sweep
	lastSweep int64                       // unix nanoseconds of the last sweep
	peak      int                         // largest len() since the tables were made
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
	s := &MemoryStore{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, clock: newMemClock(),
		owners: new(ownerFilter)}
	for i := range s.shards {
		s.shards[i].clock = &s.clock
	}
	return s
}

// locate returns the digest of key and its shard.
func (s *MemoryStore) locate(key string) (stamptable.Key, *memShard) {
	h0, h1 := maphash.String(s.seeds[0], key), maphash.String(s.seeds[1], key)
	k := stamptable.Key{uint32(h0 >> 32), uint32(h0), uint32(h1)}
	return k, &s.shards[h0&(memShards-1)]
}

// joinedKeyMax is the longest key locateJoined assembles on the stack; a
// longer one is concatenated on the heap.
const joinedKeyMax = 192

// locateJoined is locate(prefix + a + ":" + b) without building the string
// on the heap: the parts are copied into a stack buffer and digested there,
// so the digest (and the shard) is the one locate gives for the whole key.
func (s *MemoryStore) locateJoined(prefix, a, b string) (stamptable.Key, *memShard) {
	n := len(prefix) + len(a) + 1 + len(b)
	if n > joinedKeyMax {
		return s.locate(prefix + a + ":" + b)
	}
	var buf [joinedKeyMax]byte
	p := append(buf[:0], prefix...)
	p = append(p, a...)
	p = append(p, ':')
	p = append(p, b...)
	h0, h1 := maphash.Bytes(s.seeds[0], p), maphash.Bytes(s.seeds[1], p)
	k := stamptable.Key{uint32(h0 >> 32), uint32(h0), uint32(h1)}
	return k, &s.shards[h0&(memShards-1)]
}

// Get returns a copy of the value of key, or [ErrNotFound] itself if key is
// absent or expired. It is safe for concurrent use.
func (s *MemoryStore) Get(_ context.Context, key string) ([]byte, error) {
	k, sh := s.locate(key)
	return sh.getCopy(k)
}

// getCopy is Get for the digest k of shard sh.
func (sh *memShard) getCopy(k stamptable.Key) ([]byte, error) {
	sh.mu.Lock()
	e, ok := sh.get(k)
	sh.mu.Unlock()
	// The clock is read outside the lock to keep the critical section short.
	if ok && e.expires != 0 && sh.clock.now() >= e.expires {
		sh.mu.Lock()
		// Remove it unless it was rewritten meanwhile; an entry with the same
		// deadline has expired too.
		if cur, still := sh.get(k); still && cur.expires == e.expires {
			sh.remove(k)
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
		now = s.clock.now()
	}
	k, sh := s.locate(key)
	sh.mu.Lock()
	sh.remove(k)
	sh.put(k, memEntry{value: v, expires: expiry(now, ttl)})
	sh.noteWrite(now)
	sh.mu.Unlock()
	return nil
}

// SetIfAbsent stores a copy of value under key only if key is absent or
// expired, and reports whether it did. ttl <= 0 means no expiry. Of
// concurrent callers for one key, exactly one gets true. It is safe for
// concurrent use.
func (s *MemoryStore) SetIfAbsent(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	k, sh := s.locate(key)
	return sh.setIfAbsent(k, string(value), ttl), nil // string copies; free for an empty value
}

// setIfAbsent is SetIfAbsent for the digest k of shard sh and an immutable
// value v.
func (sh *memShard) setIfAbsent(k stamptable.Key, v string, ttl time.Duration) bool {
	// With a TTL the clock is needed either way (for the new entry's expiry
	// or for the present entry's, which deduplication entries always have),
	// so it is read before taking the lock.
	var now int64
	if ttl > 0 {
		now = sh.clock.now()
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.get(k); ok {
		if e.expires == 0 {
			return false
		}
		if now == 0 {
			now = sh.clock.now()
		}
		if now < e.expires {
			return false
		}
		sh.remove(k) // expired: replaced below, perhaps in the other table
	}
	sh.put(k, memEntry{value: v, expires: expiry(now, ttl)})
	sh.noteWrite(now)
	return true
}

// Delete removes key. Deleting an absent key is not an error. It is safe for
// concurrent use.
func (s *MemoryStore) Delete(_ context.Context, key string) error {
	k, sh := s.locate(key)
	sh.delete(k)
	return nil
}

// delete is Delete for the digest k of shard sh.
func (sh *memShard) delete(k stamptable.Key) {
	sh.mu.Lock()
	sh.remove(k)
	sh.mu.Unlock()
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
		n += sh.len()
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

// len returns the number of entries. The caller holds sh.mu.
func (sh *memShard) len() int { return sh.stamps.Len() + len(sh.vals) }

// get returns the entry of k. The caller holds sh.mu.
func (sh *memShard) get(k stamptable.Key) (memEntry, bool) {
	if exp, ok := sh.stamps.Get(k); ok {
		return memEntry{expires: exp.UnixNano()}, true
	}
	e, ok := sh.vals[k]
	return e, ok
}

// remove deletes k from whichever table holds it. The caller holds sh.mu.
func (sh *memShard) remove(k stamptable.Key) {
	sh.stamps.Remove(k)
	if len(sh.vals) > 0 {
		delete(sh.vals, k)
	}
}

// put stores e under k, which must be in neither table. The caller holds
// sh.mu.
func (sh *memShard) put(k stamptable.Key, e memEntry) {
	if e.value == "" {
		sh.stamps.Insert(k, stamptable.StampOf(e.expires))
	} else {
		if sh.vals == nil {
			sh.vals = make(map[stamptable.Key]memEntry)
		}
		sh.vals[k] = e
	}
	if n := sh.len(); n > sh.peak {
		sh.peak = n
	}
}

// noteWrite counts a write and sweeps the shard when the policy documented
// on MemoryStore says so. now is the caller's clock reading in unix
// nanoseconds, or 0 if it has none. The caller holds sh.mu.
func (sh *memShard) noteWrite(now int64) {
	sh.writes++
	if sh.writes < sweepMinWrites || sh.writes < sh.len()/2 {
		return
	}
	// Past the threshold but possibly within a second of the last sweep:
	// look at the clock only every sweepCheck writes.
	if sh.writes%sweepCheck != 0 && sh.lastSweep != 0 {
		return
	}
	if now == 0 {
		now = sh.clock.now()
	}
	if sh.lastSweep != 0 && now-sh.lastSweep < int64(sweepInterval) {
		return
	}
	sh.sweep(now)
}

// sweep removes the shard's expired entries, rebuilding the tables when
// they have shrunk to under a quarter of their peak. The caller holds sh.mu.
func (sh *memShard) sweep(now int64) {
	sh.stamps.RemoveExpired(now)
	for k, e := range sh.vals {
		if e.expires != 0 && now >= e.expires {
			delete(sh.vals, k)
		}
	}
	sh.writes = 0
	sh.lastSweep = now
	if n := sh.len(); sh.peak >= shrinkMinPeak && n < sh.peak/4 {
		// Neither table gives back memory as it empties (and maps.Clone
		// keeps a map's capacity); copy into right-sized ones.
		sh.stamps.Shrink()
		sh.vals = resized(sh.vals)
		sh.peak = n
	}
}

// resized returns a copy of m in a map sized for its current length.
func resized[V any](m map[stamptable.Key]V) map[stamptable.Key]V {
	if len(m) == 0 {
		return nil
	}
	c := make(map[stamptable.Key]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

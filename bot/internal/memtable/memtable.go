// Package memtable holds the sharded tables behind bot.MemoryStore: keys
// reduced to keyed digests, values and expiries on a monotonic clock, and
// the amortized sweep of expired entries. The store's documented behaviour
// (sharding, digests, expiry and sweep policy) is implemented here; the
// MemoryStore is its Store interface.
package memtable

import (
	"hash/maphash"
	"math"
	"sync"
	"time"
	"unsafe"

	"github.com/parleybot/parley/bot/internal/stamptable"
)

// numShards is the number of independently locked parts of a Table. It is
// a power of two so that a shard is picked with a mask.
const numShards = 64

// Sweep policy of a shard; see bot.MemoryStore.
const (
	sweepMinWrites = 1024        // writes before a shard considers sweeping
	sweepInterval  = time.Second // minimum time between sweeps of one shard
	sweepCheck     = 64          // past the threshold, look at the clock every sweepCheck writes
	shrinkMinPeak  = 4096        // a shard map that never held this many entries is not rebuilt
)

// A Table is the state of a MemoryStore: 64 shards, each with its own
// mutex, and the seeds of the key digests. Find a key's digest and shard
// with Locate or LocateJoined, then act on the shard. A Table is safe for
// concurrent use. The zero Table is not usable; call Init, and do not copy
// a Table after.
type Table struct {
	seeds  [2]maphash.Seed
	clock  clock
	shards [numShards]Shard
}

// A clock reads the time as unix nanoseconds from the monotonic clock:
// the wall time of its creation plus the monotonic time elapsed since. One
// monotonic reading costs about half of what time.Now does (which reads the
// wall clock as well), and expiries are immune to steps of the wall clock.
type clock struct {
	start time.Time // with its monotonic reading
	base  int64     // start in unix nanoseconds
}

func newClock() clock {
	now := time.Now()
	return clock{start: now, base: now.UnixNano()}
}

// now returns the current time in unix nanoseconds.
func (c *clock) now() int64 { return c.base + int64(time.Since(c.start)) }

// entry is one stored value.
type entry struct {
	value   string // immutable copy of the value; "" for an empty value
	expires int64  // unix nanoseconds; 0 means never
}

// shardState is the state of one shard, guarded by mu. A key is in at
// most one of stamps and vals.
type shardState struct {
	mu        sync.Mutex
	clock     *clock                   // the table's; immutable
	stamps    stamptable.Table         // empty values: just the expiry; no pointers
	vals      map[stamptable.Key]entry // non-empty values
	writes    int                      // writes since the last sweep
	lastSweep int64                    // unix nanoseconds of the last sweep
	peak      int                      // largest len() since the tables were made
}

// A Shard is one independently locked part of a Table. Its methods are
// safe for concurrent use.
//
// It is padded to a multiple of 128 bytes so that the locks of
// neighbouring shards do not share a cache line (or an adjacent-line
// prefetch pair).
type Shard struct {
	shardState
	_ [(128 - unsafe.Sizeof(shardState{})%128) % 128]byte
}

// Init makes t an empty Table, with fresh digest seeds and its clock
// started now.
func (t *Table) Init() {
	t.seeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	t.clock = newClock()
	for i := range t.shards {
		t.shards[i] = Shard{}
		t.shards[i].clock = &t.clock
	}
}

// Locate returns the digest of key and its shard.
func (t *Table) Locate(key string) (stamptable.Key, *Shard) {
	h0, h1 := maphash.String(t.seeds[0], key), maphash.String(t.seeds[1], key)
	k := stamptable.Key{uint32(h0 >> 32), uint32(h0), uint32(h1)}
	return k, &t.shards[h0&(numShards-1)]
}

// joinedKeyMax is the longest key LocateJoined assembles on the stack; a
// longer one is concatenated on the heap.
const joinedKeyMax = 192

// LocateJoined is Locate(prefix + a + ":" + b) without building the string
// on the heap: the parts are copied into a stack buffer and digested there,
// so the digest (and the shard) is the one Locate gives for the whole key.
func (t *Table) LocateJoined(prefix, a, b string) (stamptable.Key, *Shard) {
	n := len(prefix) + len(a) + 1 + len(b)
	if n > joinedKeyMax {
		return t.Locate(prefix + a + ":" + b)
	}
	var buf [joinedKeyMax]byte
	p := append(buf[:0], prefix...)
	p = append(p, a...)
	p = append(p, ':')
	p = append(p, b...)
	h0, h1 := maphash.Bytes(t.seeds[0], p), maphash.Bytes(t.seeds[1], p)
	k := stamptable.Key{uint32(h0 >> 32), uint32(h0), uint32(h1)}
	return k, &t.shards[h0&(numShards-1)]
}

// Get returns a fresh copy of the value of the digest k, a nil slice for
// an empty value, or ok false if k is absent or expired. An expired entry
// it finds is removed.
func (sh *Shard) Get(k stamptable.Key) (v []byte, ok bool) {
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
	if !ok || len(e.value) == 0 {
		return nil, ok
	}
	return []byte(e.value), true
}

// Set stores the immutable value v under the digest k, replacing any
// previous value and its expiry. ttl <= 0 means no expiry.
func (sh *Shard) Set(k stamptable.Key, v string, ttl time.Duration) {
	var now int64
	if ttl > 0 {
		now = sh.clock.now()
	}
	sh.mu.Lock()
	sh.remove(k)
	sh.put(k, entry{value: v, expires: expiry(now, ttl)})
	sh.noteWrite(now)
	sh.mu.Unlock()
}

// SetIfAbsent stores the immutable value v under the digest k only if k is
// absent or expired, and reports whether it did. ttl <= 0 means no expiry.
// Of concurrent callers for one key, exactly one gets true.
func (sh *Shard) SetIfAbsent(k stamptable.Key, v string, ttl time.Duration) bool {
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
	sh.put(k, entry{value: v, expires: expiry(now, ttl)})
	sh.noteWrite(now)
	return true
}

// Delete removes the digest k, if present.
func (sh *Shard) Delete(k stamptable.Key) {
	sh.mu.Lock()
	sh.remove(k)
	sh.mu.Unlock()
}

// Len returns the number of entries held: live ones plus expired ones not
// yet removed by a read or a sweep. It locks each shard in turn, so under
// concurrent writes the result mixes counts from slightly different
// instants.
func (t *Table) Len() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
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
func (sh *Shard) len() int { return sh.stamps.Len() + len(sh.vals) }

// get returns the entry of k. The caller holds sh.mu.
func (sh *Shard) get(k stamptable.Key) (entry, bool) {
	if exp, ok := sh.stamps.Get(k); ok {
		return entry{expires: exp.UnixNano()}, true
	}
	e, ok := sh.vals[k]
	return e, ok
}

// remove deletes k from whichever table holds it. The caller holds sh.mu.
func (sh *Shard) remove(k stamptable.Key) {
	sh.stamps.Remove(k)
	if len(sh.vals) > 0 {
		delete(sh.vals, k)
	}
}

// put stores e under k, which must be in neither table. The caller holds
// sh.mu.
func (sh *Shard) put(k stamptable.Key, e entry) {
	if e.value == "" {
		sh.stamps.Insert(k, stamptable.StampOf(e.expires))
	} else {
		if sh.vals == nil {
			sh.vals = make(map[stamptable.Key]entry)
		}
		sh.vals[k] = e
	}
	if n := sh.len(); n > sh.peak {
		sh.peak = n
	}
}

// noteWrite counts a write and sweeps the shard when the policy documented
// on bot.MemoryStore says so. now is the caller's clock reading in unix
// nanoseconds, or 0 if it has none. The caller holds sh.mu.
func (sh *Shard) noteWrite(now int64) {
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
func (sh *Shard) sweep(now int64) {
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

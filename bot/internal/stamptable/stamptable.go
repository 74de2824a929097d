// Package stamptable holds the table of a MemoryStore shard's entries
// whose value is empty (deduplication entries, idempotency claims): a key
// digest and an expiry each, in cache-line buckets without pointers.
package stamptable

import "math/bits"

// A Key is the 96-bit digest of a store key. The table does not hash it
// again: it must already be a keyed hash.
type Key [3]uint32

// A Stamp is an expiry in unix nanoseconds (0 for none) split in halves:
// with Key, it has 4-byte alignment, so an entry takes 20 bytes instead of
// 24.
type Stamp [2]uint32

// StampOf returns the Stamp of an expiry in unix nanoseconds.
func StampOf(exp int64) Stamp { return Stamp{uint32(uint64(exp) >> 32), uint32(exp)} }

// UnixNano returns the expiry in unix nanoseconds.
func (e Stamp) UnixNano() int64 { return int64(uint64(e[0])<<32 | uint64(e[1])) }

// A Table holds the entries of a MemoryStore shard whose value is
// empty (deduplication entries, idempotency claims): a digest and an expiry
// each. It stands where a map[Key]Stamp stood, on the hottest path of
// the Bot: inserting new keys into tables of millions of entries, where each
// insert is a cache miss and, with 4 KiB pages, a TLB miss. The table keeps
// that to one miss and little else:
//
//   - an entry's place is computed from its digest directly: the digest is
//     already a keyed hash, so it is not hashed again;
//   - entries live in 64-byte buckets of three (a cache line), probed
//     linearly: a lookup reads one line, where a Go map reads a directory
//     entry, a control word and then a slot; an overflow goes to the next,
//     adjacent line, which costs little next to the first;
//   - the insert after a lookup writes the line the lookup read.
//
// Invariant (linear probing over buckets, cyclically): every entry lies in
// its home bucket or a later one, and every bucket from its home up to the
// one before its own is full. A lookup therefore stops at the first bucket
// that is not full, and the first free slot it passes is where a new key
// goes. Removal shifts later entries back (no tombstones), so the invariant
// holds without rebuilding.
//
// The table grows by half when it would be more than 80% full, which keeps
// the average memory per entry at about that of a Go map (whose tables
// double at 7/8 full). Growing rehashes the whole shard's table at once,
// under the shard's lock: 20 to 90 ns an entry (the more when the new
// memory is touched for the first time), so 2 to 9 ms for a shard of
// 100,000 entries (6.4 million in the store), amortized over the inserts
// that filled it; a Go map grows in steps of at most 1,024 slots. Nothing
// in the table is a pointer, so the garbage collector does not scan it. The
// caller (the shard) serializes access. The zero Table is empty and ready
// to use.
type Table struct {
	buckets []bucket
	n       int // entries
}

// bucket is one cache line: three entries and which of them are used.
type bucket struct {
	slots [bucketSlots]slot
	used  uint32 // bit i: slots[i] holds an entry
}

type slot struct {
	k   Key
	exp Stamp
}

const (
	bucketSlots = 3
	fullMask    = 1<<bucketSlots - 1 // used mask of a full bucket
	minBuckets  = 4                  // buckets of a new table
	loadNum     = 4                  // the table grows past 4/5 full
	loadDen     = 5
	hashMult    = 0x9e3779b1 // odd: spreads digests that tests build by hand
)

// home returns the home bucket of k in a table of n buckets: a digest
// word scaled to [0, n) ("fastrange"), so that n need not be a power of
// two.
func home(k Key, n int) int {
	return int(uint64(k[0]*hashMult) * uint64(n) >> 32)
}

// Len returns the number of entries.
func (t *Table) Len() int { return t.n }

// find returns the bucket and slot of k, or ok false.
func (t *Table) find(k Key) (b, s int, ok bool) {
	n := len(t.buckets)
	if t.n == 0 {
		return 0, 0, false
	}
	for b = home(k, n); ; {
		bk := &t.buckets[b]
		for s = range bucketSlots {
			if bk.used&(1<<s) != 0 && bk.slots[s].k == k {
				return b, s, true
			}
		}
		if bk.used != fullMask {
			return 0, 0, false
		}
		if b++; b == n {
			b = 0
		}
	}
}

// Get returns the expiry of k.
func (t *Table) Get(k Key) (Stamp, bool) {
	if b, s, ok := t.find(k); ok {
		return t.buckets[b].slots[s].exp, true
	}
	return Stamp{}, false
}

// Insert adds k, which must be absent, with expiry exp.
func (t *Table) Insert(k Key, exp Stamp) {
	if (t.n+1)*loadDen > len(t.buckets)*bucketSlots*loadNum {
		t.resize(max(minBuckets, len(t.buckets)+len(t.buckets)/2))
	}
	t.place(k, exp)
	t.n++
}

// place puts k in the first free slot from its home bucket on. The table
// has one.
func (t *Table) place(k Key, exp Stamp) {
	n := len(t.buckets)
	b := home(k, n)
	for t.buckets[b].used == fullMask {
		if b++; b == n {
			b = 0
		}
	}
	bk := &t.buckets[b]
	s := freeSlot(bk.used)
	bk.slots[s] = slot{k: k, exp: exp}
	bk.used |= 1 << s
}

// freeSlot returns the first free slot of a bucket that is not full.
func freeSlot(used uint32) int { return bits.TrailingZeros32(^used) }

// Remove deletes k if present.
func (t *Table) Remove(k Key) {
	if b, s, ok := t.find(k); ok {
		t.removeAt(b, s)
	}
}

// removeAt deletes the entry in bucket b, slot s, and restores the
// invariant: an entry of a later bucket whose probe passed through b would
// no longer be found once b has a free slot, so one such entry moves into
// the hole, which moves to where that entry was, and so on. The shift stops
// at a bucket that was not full, since no entry's probe passes one.
func (t *Table) removeAt(b, s int) {
	n := len(t.buckets)
	t.n--
	t.buckets[b].used &^= 1 << s
	for j := b; ; {
		if j++; j == n {
			j = 0
		}
		bj := &t.buckets[j]
		wasFull := bj.used == fullMask
		for sj := range bucketSlots {
			if bj.used&(1<<sj) == 0 {
				continue
			}
			// The entry's probe went from its home h to j; it passed the
			// hole if b is in [h, j) cyclically.
			if h := home(bj.slots[sj].k, n); (b-h+n)%n < (j-h+n)%n {
				bh := &t.buckets[b]
				bh.slots[s] = bj.slots[sj]
				bh.used |= 1 << s
				bj.used &^= 1 << sj
				b, s = j, sj // the hole moves to where the entry was
				break
			}
		}
		if !wasFull {
			return
		}
	}
}

// resize moves the entries into a table of n buckets, which must hold them
// under the load limit.
func (t *Table) resize(n int) {
	old := t.buckets
	t.buckets = make([]bucket, n)
	for i := range old {
		bk := &old[i]
		for s := range bucketSlots {
			if bk.used&(1<<s) != 0 {
				t.place(bk.slots[s].k, bk.slots[s].exp)
			}
		}
	}
}

// RemoveExpired deletes every entry with an expiry at or before now.
func (t *Table) RemoveExpired(now int64) {
	for b := 0; b < len(t.buckets); b++ {
		for s := 0; s < bucketSlots; s++ {
			bk := &t.buckets[b]
			if bk.used&(1<<s) == 0 {
				continue
			}
			if exp := bk.slots[s].exp.UnixNano(); exp != 0 && now >= exp {
				t.removeAt(b, s)
				s-- // an entry from further on may have moved here: look again
			}
		}
	}
}

// Shrink rebuilds the table for its current entries, returning the memory
// of a table that has emptied.
func (t *Table) Shrink() {
	if t.n == 0 {
		t.buckets = nil
		return
	}
	// Half full after the rebuild: room to grow before the next resize.
	t.resize(max(minBuckets, (2*t.n+bucketSlots-1)/bucketSlots))
}

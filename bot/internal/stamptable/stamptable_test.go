package stamptable

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBucket_isACacheLine(t *testing.T) {
	assert.Equal(t, uintptr(64), unsafe.Sizeof(bucket{}))
}

// checkTable verifies the table against want and checks its
// invariants: the count, the load limit, and, from its home bucket to its
// own, every bucket an entry's probe passes is full.
func checkTable(t *testing.T, tb *Table, want map[Key]Stamp) {
	t.Helper()
	require.Equal(t, len(want), tb.Len())
	n := len(tb.buckets)
	count := 0
	for b := range tb.buckets {
		bk := &tb.buckets[b]
		for s := range bucketSlots {
			if bk.used&(1<<s) == 0 {
				continue
			}
			count++
			k := bk.slots[s].k
			exp, ok := want[k]
			require.True(t, ok, "unexpected key %v", k)
			require.Equal(t, exp, bk.slots[s].exp)
			for h := home(k, n); h != b; h = (h + 1) % n {
				require.Equal(t, uint32(fullMask), tb.buckets[h].used, "the probe of %v passes a bucket that is not full", k)
			}
		}
	}
	require.Equal(t, len(want), count)
	require.LessOrEqual(t, tb.Len()*loadDen, n*bucketSlots*loadNum, "over the load limit")
	for k, exp := range want {
		got, ok := tb.Get(k)
		require.True(t, ok, "key %v not found", k)
		require.Equal(t, exp, got)
	}
}

// TestStampTable drives a table and a map with the same random operations,
// with digests confined to few distinct first words so that long clusters,
// shifts across them and the wrap-around at the end of the table occur.
func TestTable(t *testing.T) {
	for _, spread := range []uint32{8, 1 << 10, 0} {
		rng := rand.New(rand.NewPCG(uint64(spread), 7))
		var tb Table
		want := map[Key]Stamp{}
		var keys []Key
		newKey := func() Key {
			k := Key{rng.Uint32(), rng.Uint32(), rng.Uint32()}
			if spread != 0 {
				k[0] %= spread
			}
			return k
		}
		for step := range 10000 {
			switch op := rng.IntN(10); {
			case op < 5 || len(keys) == 0:
				k := newKey()
				if _, ok := want[k]; ok {
					continue
				}
				exp := StampOf(int64(rng.IntN(100)))
				tb.Insert(k, exp)
				want[k] = exp
				keys = append(keys, k)
			case op < 8:
				i := rng.IntN(len(keys))
				k := keys[i]
				tb.Remove(k)
				delete(want, k)
				keys[i] = keys[len(keys)-1]
				keys = keys[:len(keys)-1]
			case op < 9:
				tb.Remove(newKey()) // absent
			default:
				now := int64(rng.IntN(20))
				tb.RemoveExpired(now)
				keys = keys[:0]
				for k, exp := range want {
					if e := exp.UnixNano(); e != 0 && now >= e {
						delete(want, k)
					} else {
						keys = append(keys, k)
					}
				}
				if rng.IntN(4) == 0 {
					tb.Shrink()
				}
			}
			if step%251 == 0 {
				checkTable(t, &tb, want)
			}
		}
		checkTable(t, &tb, want)
	}
}

func TestTable_shrinkEmpty(t *testing.T) {
	var tb Table
	for i := range 1000 {
		tb.Insert(Key{uint32(i), 1, 2}, StampOf(5))
	}
	tb.RemoveExpired(5)
	assert.Zero(t, tb.Len())
	tb.Shrink()
	assert.Nil(t, tb.buckets)
	_, ok := tb.Get(Key{1, 1, 2})
	assert.False(t, ok)
	tb.Remove(Key{1, 1, 2})
	tb.Insert(Key{1, 1, 2}, StampOf(0))
	checkTable(t, &tb, map[Key]Stamp{{1, 1, 2}: StampOf(0)})
}

// TestStampTable_grows grows a table through many resizes, then empties
// it by removals, expiry and a rebuild, checking it at each stage.
func TestTable_grows(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var tb Table
	want := map[Key]Stamp{}
	var keys []Key
	for i := range 40000 {
		k := Key{rng.Uint32(), rng.Uint32(), rng.Uint32()}
		exp := StampOf(int64(1 + rng.IntN(2)))
		tb.Insert(k, exp)
		want[k] = exp
		keys = append(keys, k)
		if i%5000 == 0 {
			checkTable(t, &tb, want)
		}
	}
	checkTable(t, &tb, want)
	for _, k := range keys[:20000] {
		tb.Remove(k)
		delete(want, k)
	}
	checkTable(t, &tb, want)
	tb.RemoveExpired(1)
	for k, exp := range want {
		if exp.UnixNano() <= 1 {
			delete(want, k)
		}
	}
	checkTable(t, &tb, want)
	big := len(tb.buckets)
	tb.Shrink()
	checkTable(t, &tb, want)
	require.NotEmpty(t, want)
	assert.Less(t, len(tb.buckets), big/2, "the rebuilt table is sized for its entries")
}

// TestStampTable_sameHome inserts and removes digests that all have the
// same home bucket: one cluster around the whole table, wrapping at its end.
func TestTable_sameHome(t *testing.T) {
	var tb Table
	want := map[Key]Stamp{}
	for i := range 2000 {
		k := Key{7, uint32(i), 7}
		tb.Insert(k, StampOf(int64(i%2)))
		want[k] = StampOf(int64(i % 2))
	}
	checkTable(t, &tb, want)
	tb.RemoveExpired(1)
	for k, exp := range want {
		if exp.UnixNano() == 1 {
			delete(want, k)
		}
	}
	checkTable(t, &tb, want)
	for i := 0; i < 2000; i += 4 {
		k := Key{7, uint32(i), 7}
		tb.Remove(k)
		delete(want, k)
	}
	checkTable(t, &tb, want)
}

package bot

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStampBucket_isACacheLine(t *testing.T) {
	assert.Equal(t, uintptr(64), unsafe.Sizeof(stampBucket{}))
}

// checkStampTable verifies the table against want and checks its
// invariants: the count, the load limit, and, from its home bucket to its
// own, every bucket an entry's probe passes is full.
func checkStampTable(t *testing.T, tb *stampTable, want map[memKey]stampExp) {
	t.Helper()
	require.Equal(t, len(want), tb.len())
	n := len(tb.buckets)
	count := 0
	for b := range tb.buckets {
		bk := &tb.buckets[b]
		for s := range stampSlots {
			if bk.used&(1<<s) == 0 {
				continue
			}
			count++
			k := bk.slots[s].k
			exp, ok := want[k]
			require.True(t, ok, "unexpected key %v", k)
			require.Equal(t, exp, bk.slots[s].exp)
			for h := stampHome(k, n); h != b; h = (h + 1) % n {
				require.Equal(t, uint32(stampFull), tb.buckets[h].used, "the probe of %v passes a bucket that is not full", k)
			}
		}
	}
	require.Equal(t, len(want), count)
	require.LessOrEqual(t, tb.len()*stampLoadDen, n*stampSlots*stampLoadNum, "over the load limit")
	for k, exp := range want {
		got, ok := tb.get(k)
		require.True(t, ok, "key %v not found", k)
		require.Equal(t, exp, got)
	}
}

// TestStampTable drives a table and a map with the same random operations,
// with digests confined to few distinct first words so that long clusters,
// shifts across them and the wrap-around at the end of the table occur.
func TestStampTable(t *testing.T) {
	for _, spread := range []uint32{8, 1 << 10, 0} {
		rng := rand.New(rand.NewPCG(uint64(spread), 7))
		var tb stampTable
		want := map[memKey]stampExp{}
		var keys []memKey
		newKey := func() memKey {
			k := memKey{rng.Uint32(), rng.Uint32(), rng.Uint32()}
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
				exp := toStamp(int64(rng.IntN(100)))
				tb.insert(k, exp)
				want[k] = exp
				keys = append(keys, k)
			case op < 8:
				i := rng.IntN(len(keys))
				k := keys[i]
				tb.remove(k)
				delete(want, k)
				keys[i] = keys[len(keys)-1]
				keys = keys[:len(keys)-1]
			case op < 9:
				tb.remove(newKey()) // absent
			default:
				now := int64(rng.IntN(20))
				tb.removeExpired(now)
				keys = keys[:0]
				for k, exp := range want {
					if e := exp.unixNano(); e != 0 && now >= e {
						delete(want, k)
					} else {
						keys = append(keys, k)
					}
				}
				if rng.IntN(4) == 0 {
					tb.shrink()
				}
			}
			if step%251 == 0 {
				checkStampTable(t, &tb, want)
			}
		}
		checkStampTable(t, &tb, want)
	}
}

func TestStampTable_shrinkEmpty(t *testing.T) {
	var tb stampTable
	for i := range 1000 {
		tb.insert(memKey{uint32(i), 1, 2}, toStamp(5))
	}
	tb.removeExpired(5)
	assert.Zero(t, tb.len())
	tb.shrink()
	assert.Nil(t, tb.buckets)
	_, ok := tb.get(memKey{1, 1, 2})
	assert.False(t, ok)
	tb.remove(memKey{1, 1, 2})
	tb.insert(memKey{1, 1, 2}, toStamp(0))
	checkStampTable(t, &tb, map[memKey]stampExp{{1, 1, 2}: toStamp(0)})
}

// TestStampTable_grows grows a table through many resizes, then empties
// it by removals, expiry and a rebuild, checking it at each stage.
func TestStampTable_grows(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var tb stampTable
	want := map[memKey]stampExp{}
	var keys []memKey
	for i := range 40000 {
		k := memKey{rng.Uint32(), rng.Uint32(), rng.Uint32()}
		exp := toStamp(int64(1 + rng.IntN(2)))
		tb.insert(k, exp)
		want[k] = exp
		keys = append(keys, k)
		if i%5000 == 0 {
			checkStampTable(t, &tb, want)
		}
	}
	checkStampTable(t, &tb, want)
	for _, k := range keys[:20000] {
		tb.remove(k)
		delete(want, k)
	}
	checkStampTable(t, &tb, want)
	tb.removeExpired(1)
	for k, exp := range want {
		if exp.unixNano() <= 1 {
			delete(want, k)
		}
	}
	checkStampTable(t, &tb, want)
	big := len(tb.buckets)
	tb.shrink()
	checkStampTable(t, &tb, want)
	require.NotEmpty(t, want)
	assert.Less(t, len(tb.buckets), big/2, "the rebuilt table is sized for its entries")
}

// TestStampTable_sameHome inserts and removes digests that all have the
// same home bucket: one cluster around the whole table, wrapping at its end.
func TestStampTable_sameHome(t *testing.T) {
	var tb stampTable
	want := map[memKey]stampExp{}
	for i := range 2000 {
		k := memKey{7, uint32(i), 7}
		tb.insert(k, toStamp(int64(i%2)))
		want[k] = toStamp(int64(i % 2))
	}
	checkStampTable(t, &tb, want)
	tb.removeExpired(1)
	for k, exp := range want {
		if exp.unixNano() == 1 {
			delete(want, k)
		}
	}
	checkStampTable(t, &tb, want)
	for i := 0; i < 2000; i += 4 {
		k := memKey{7, uint32(i), 7}
		tb.remove(k)
		delete(want, k)
	}
	checkStampTable(t, &tb, want)
}

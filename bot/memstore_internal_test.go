package bot

import (
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/parleybot/parley/bot/internal/stamptable"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memKeysInShard returns n distinct keys that s places in shard i.
func memKeysInShard(s *MemoryStore, i, n int) []string {
	keys := make([]string, 0, n)
	for j := 0; len(keys) < n; j++ {
		k := "k" + strconv.Itoa(j)
		if _, sh := s.locate(k); sh == &s.shards[i] {
			keys = append(keys, k)
		}
	}
	return keys
}

func TestMemoryStore_sweepPolicy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		s := NewMemoryStore()
		sh := &s.shards[5]
		keys := memKeysInShard(s, 5, 3000)
		set := func(ks []string, ttl time.Duration) {
			t.Helper()
			for _, k := range ks {
				require.NoError(t, s.Set(ctx, k, nil, ttl))
			}
		}

		// 1,000 entries expire unread; 23 more writes stay under the
		// 1,024-write threshold, so nothing is swept.
		set(keys[:1000], time.Minute)
		time.Sleep(2 * time.Minute)
		set(keys[1000:1023], 0)
		assert.Equal(t, 1023, sh.len(), "below the write threshold")

		// The 1,024th write sweeps the shard: the first sweep is not rate
		// limited.
		set(keys[1023:1024], 0)
		assert.Equal(t, 24, sh.len(), "the threshold write sweeps expired entries")
		assert.Equal(t, 0, sh.writes)

		// Within a second of that sweep, the threshold alone does not sweep.
		set(keys[1024:2048], 500*time.Millisecond)
		assert.Equal(t, 24+1024, sh.len(), "a second has not passed since the last sweep")

		// Once a second has passed, the clock is read every 64 writes.
		time.Sleep(time.Second)
		set(keys[2048:2048+63], 0)
		assert.Equal(t, 24+1024+63, sh.len(), "the clock is consulted every 64 writes")
		set(keys[2048+63:2048+64], 0)
		assert.Equal(t, 24+64, sh.len(), "the 1,088th write sweeps")

		// Other shards are untouched by this shard's sweeps.
		for i := range s.shards {
			if i != 5 {
				assert.Zero(t, s.shards[i].len(), "shard %d", i)
			}
		}
	})
}

func TestMemoryStore_sweepThresholdGrowsWithSize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		s := NewMemoryStore()
		sh := &s.shards[0]
		keys := memKeysInShard(s, 0, 4000)
		for _, k := range keys {
			require.NoError(t, s.Set(ctx, k, nil, 0))
		}
		// 4,000 entries: the threshold is 2,000 writes, and past it the
		// clock is read every 64 writes, so the 2,048th write sweeps.
		time.Sleep(time.Hour)
		sh.writes = 0
		for _, k := range keys[:2047] {
			require.NoError(t, s.Set(ctx, k, nil, 0))
		}
		assert.Equal(t, 2047, sh.writes, "1,024 < writes < len/2 must not sweep")
		require.NoError(t, s.Set(ctx, keys[2047], nil, 0))
		assert.Equal(t, 0, sh.writes, "len/2 writes sweep")
		assert.Equal(t, 4000, sh.len())
	})
}

func TestMemoryStore_sweepShrinksMap(t *testing.T) {
	sh := &memShard{}
	for i := range 8192 {
		sh.put(stamptable.Key{uint32(i), 1}, memEntry{expires: 100})
	}
	for i := range 10 {
		sh.put(stamptable.Key{uint32(i), 2}, memEntry{value: "v"})
	}
	require.Equal(t, 8202, sh.peak)
	sh.sweep(200)
	assert.Equal(t, 10, sh.len())
	assert.Equal(t, 10, sh.peak, "a map under a quarter of its peak is rebuilt")
	assert.Equal(t, int64(200), sh.lastSweep)

	small := &memShard{}
	for i := range 100 {
		small.put(stamptable.Key{uint32(i), 1}, memEntry{expires: 100})
	}
	small.sweep(200)
	assert.Zero(t, small.len())
	assert.Equal(t, 100, small.peak, "small maps are not rebuilt")
}

func TestExpiry(t *testing.T) {
	tests := []struct {
		name string
		now  int64
		ttl  time.Duration
		want int64
	}{
		{"no ttl", 1000, 0, 0},
		{"negative ttl", 1000, -time.Second, 0},
		{"ttl", 1000, time.Second, 1000 + int64(time.Second)},
		{"overflow clamps", time.Now().UnixNano(), math.MaxInt64, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, expiry(tt.now, tt.ttl))
		})
	}
}

func TestMemoryStore_hugeTTLNeverExpires(t *testing.T) {
	ctx := t.Context()
	s := NewMemoryStore()
	require.NoError(t, s.Set(ctx, "k", []byte("v"), math.MaxInt64))
	v, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("v"), v)
}

func TestMemoryStore_shardPadding(t *testing.T) {
	assert.Zero(t, unsafe.Sizeof(memShard{})%128, "shards must not share cache lines")
}

// TestMemoryStore_dedupAcrossGrowth holds deduplication claims written long
// before the latest ones, through the growth of every shard's table and the
// sweeps that newer writes trigger: an old claim is refused until exactly
// its TTL, an old claim deleted by its string key can be claimed again at
// once, and a key written with another TTL expires at its own.
func TestMemoryStore_dedupAcrossGrowth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		s := NewMemoryStore()
		const ttl = 25 * time.Hour
		old := func(i int) joinedKey { return joinedKey{"dedup:", "fake", "old-" + strconv.Itoa(i)} }
		claim := func(k joinedKey, ttl time.Duration) bool {
			t.Helper()
			fresh, err := k.claim(ctx, s, ttl)
			require.NoError(t, err)
			return fresh
		}
		const n = 4000
		for i := range n {
			require.True(t, claim(old(i), ttl))
		}
		short := joinedKey{"dedup:", "fake", "short"}
		require.NoError(t, s.Set(ctx, short.String(), nil, time.Hour))

		// An hour later, 100,000 newer claims grow every shard's table
		// many times over and pass the sweep threshold.
		time.Sleep(time.Hour)
		for i := range 100_000 {
			require.True(t, claim(joinedKey{"dedup:", "fake", "new-" + strconv.Itoa(i)}, ttl))
		}
		assert.True(t, claim(short, ttl), "a key set with a one-hour TTL is free after an hour")
		for i := range n {
			require.False(t, claim(old(i), ttl), "old claim %d is held", i)
		}
		require.NoError(t, s.Delete(ctx, old(7).String()))
		assert.True(t, claim(old(7), ttl), "a deleted old claim is free at once")

		// One nanosecond before the old claims' TTL they are held; at it
		// they are free.
		time.Sleep(ttl - time.Hour - 1)
		for i := range n {
			if i != 7 {
				require.False(t, claim(old(i), ttl), "old claim %d before its TTL", i)
			}
		}
		time.Sleep(1)
		for i := range n {
			if i != 7 {
				require.True(t, claim(old(i), ttl), "old claim %d at its TTL", i)
			}
		}
		assert.False(t, claim(old(7), ttl), "the claim made after the delete runs an hour longer")
		assert.False(t, claim(short, ttl), "the claim made after an hour runs an hour longer")
	})
}

// Of concurrent claims of one key, through its parts and through its
// string, exactly one wins, whether the key is new or its claim has just
// expired.
func TestMemoryStore_concurrentClaimsOneWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		s := NewMemoryStore()
		for i := range 3000 { // a grown table around the contested keys
			_, _ = s.SetIfAbsent(ctx, "dedup:fake:bg-"+strconv.Itoa(i), nil, time.Hour)
		}
		for round := range 50 {
			k := joinedKey{"dedup:", "fake", "k" + strconv.Itoa(round%10)}
			if round == 10 {
				time.Sleep(time.Minute) // the first ten claims expire: contest them again
			}
			var wins atomic.Int32
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					var fresh bool
					var err error
					if g%2 == 0 {
						fresh, err = k.claim(ctx, s, time.Minute)
					} else {
						fresh, err = s.SetIfAbsent(ctx, k.String(), nil, time.Minute)
					}
					if assert.NoError(t, err) && fresh {
						wins.Add(1)
					}
				})
			}
			wg.Wait()
			if round < 20 {
				assert.Equal(t, int32(1), wins.Load(), "round %d: exactly one claim wins", round)
			} else {
				assert.Zero(t, wins.Load(), "round %d: the key is held", round)
			}
		}
	})
}

// TestMemoryStore_oldEntriesThroughGrowth writes entries, then grows every
// shard's table many times over, and acts on the old entries by their
// string and by their parts: Set replaces an old entry and its expiry
// whichever table it moves to, and Delete removes an old entry, each once.
func TestMemoryStore_oldEntriesThroughGrowth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		s := NewMemoryStore()
		key := func(i int) joinedKey { return joinedKey{"out:", "fake", "old-" + strconv.Itoa(i)} }
		const n = 600
		for i := range n {
			fresh, err := key(i).claim(ctx, s, 25*time.Hour)
			require.NoError(t, err)
			require.True(t, fresh)
		}
		for i := range 100_000 {
			require.NoError(t, s.Set(ctx, "dedup:fake:new-"+strconv.Itoa(i), nil, 25*time.Hour))
		}
		require.Equal(t, n+100_000, s.Len())

		// i%3 == 0: replaced by a value with a one-hour TTL; 1: replaced by
		// an empty value with a one-hour TTL; 2: deleted by its parts.
		for i := range n {
			switch k := key(i); i % 3 {
			case 0:
				require.NoError(t, s.Set(ctx, k.String(), []byte("v"+strconv.Itoa(i)), time.Hour))
			case 1:
				require.NoError(t, s.Set(ctx, k.String(), nil, time.Hour))
			default:
				require.NoError(t, k.delete(ctx, s))
			}
		}
		require.Equal(t, n-n/3+100_000, s.Len(), "a replaced entry is held once, a deleted one not at all")
		for i := range n {
			v, err := key(i).get(ctx, s)
			switch i % 3 {
			case 0:
				require.NoError(t, err)
				require.Equal(t, "v"+strconv.Itoa(i), string(v))
			case 1:
				require.NoError(t, err)
				require.Nil(t, v)
			default:
				require.ErrorIs(t, err, ErrNotFound, "deleted entry %d", i)
			}
		}

		// The replacements expire at their own TTL, exactly.
		time.Sleep(time.Hour - 1)
		for i := range n {
			if i%3 != 2 {
				_, err := s.Get(ctx, key(i).String())
				require.NoError(t, err, "entry %d before its new TTL", i)
			}
		}
		time.Sleep(1)
		for i := range n {
			fresh, err := key(i).claim(ctx, s, time.Minute)
			require.NoError(t, err)
			require.True(t, fresh, "entry %d at its new TTL", i)
		}
	})
}

// TestMemoryStore_sweepAtExactExpiry sweeps a shard one nanosecond before
// its entries' expiry, which keeps them all, and at it, which removes them
// all.
func TestMemoryStore_sweepAtExactExpiry(t *testing.T) {
	sh := &memShard{}
	for i := range 5000 {
		sh.put(stamptable.Key{uint32(i), 3, 4}, memEntry{expires: 1000 + int64(i%2)})
	}
	sh.put(stamptable.Key{1, 2, 3}, memEntry{value: "v", expires: 1000})
	sh.put(stamptable.Key{1, 2, 4}, memEntry{})
	sh.sweep(999)
	require.Equal(t, 5002, sh.len())
	sh.sweep(1000)
	require.Equal(t, 2501, sh.len(), "entries expiring at 1000 are gone at 1000")
	_, ok := sh.get(stamptable.Key{1, 2, 4})
	assert.True(t, ok, "an entry without expiry stays")
	sh.sweep(1001)
	require.Equal(t, 1, sh.len())
}

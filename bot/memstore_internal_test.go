package bot

import (
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemoryStore_hugeTTLNeverExpires(t *testing.T) {
	ctx := t.Context()
	s := NewMemoryStore()
	require.NoError(t, s.Set(ctx, "k", []byte("v"), math.MaxInt64))
	v, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("v"), v)
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

package bot

import (
	"math"
	"strconv"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

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
		sh.put(memKey{uint32(i), 1}, memEntry{expires: 100})
	}
	for i := range 10 {
		sh.put(memKey{uint32(i), 2}, memEntry{value: "v"})
	}
	require.Equal(t, 8202, sh.peak)
	sh.sweep(200)
	assert.Equal(t, 10, sh.len())
	assert.Equal(t, 10, sh.peak, "a map under a quarter of its peak is rebuilt")
	assert.Equal(t, int64(200), sh.lastSweep)

	small := &memShard{}
	for i := range 100 {
		small.put(memKey{uint32(i), 1}, memEntry{expires: 100})
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

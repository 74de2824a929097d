package memtable

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/parleybot/parley/bot/internal/stamptable"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newTable returns an initialized Table.
func newTable() *Table {
	t := new(Table)
	t.Init()
	return t
}

// set stores an empty value under key, as MemoryStore.Set(key, nil, ttl).
func set(tb *Table, key string, ttl time.Duration) {
	k, sh := tb.Locate(key)
	sh.Set(k, "", ttl)
}

// keysInShard returns n distinct keys that s places in shard i.
func keysInShard(s *Table, i, n int) []string {
	keys := make([]string, 0, n)
	for j := 0; len(keys) < n; j++ {
		k := "k" + strconv.Itoa(j)
		if _, sh := s.Locate(k); sh == &s.shards[i] {
			keys = append(keys, k)
		}
	}
	return keys
}

func TestShard_sweepPolicy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newTable()
		sh := &s.shards[5]
		keys := keysInShard(s, 5, 3000)
		setAll := func(ks []string, ttl time.Duration) {
			for _, k := range ks {
				set(s, k, ttl)
			}
		}

		// 1,000 entries expire unread; 23 more writes stay under the
		// 1,024-write threshold, so nothing is swept.
		setAll(keys[:1000], time.Minute)
		time.Sleep(2 * time.Minute)
		setAll(keys[1000:1023], 0)
		assert.Equal(t, 1023, sh.len(), "below the write threshold")

		// The 1,024th write sweeps the shard: the first sweep is not rate
		// limited.
		setAll(keys[1023:1024], 0)
		assert.Equal(t, 24, sh.len(), "the threshold write sweeps expired entries")
		assert.Equal(t, 0, sh.writes)

		// Within a second of that sweep, the threshold alone does not sweep.
		setAll(keys[1024:2048], 500*time.Millisecond)
		assert.Equal(t, 24+1024, sh.len(), "a second has not passed since the last sweep")

		// Once a second has passed, the clock is read every 64 writes.
		time.Sleep(time.Second)
		setAll(keys[2048:2048+63], 0)
		assert.Equal(t, 24+1024+63, sh.len(), "the clock is consulted every 64 writes")
		setAll(keys[2048+63:2048+64], 0)
		assert.Equal(t, 24+64, sh.len(), "the 1,088th write sweeps")

		// Other shards are untouched by this shard's sweeps.
		for i := range s.shards {
			if i != 5 {
				assert.Zero(t, s.shards[i].len(), "shard %d", i)
			}
		}
	})
}

func TestShard_sweepThresholdGrowsWithSize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newTable()
		sh := &s.shards[0]
		keys := keysInShard(s, 0, 4000)
		for _, k := range keys {
			set(s, k, 0)
		}
		// 4,000 entries: the threshold is 2,000 writes, and past it the
		// clock is read every 64 writes, so the 2,048th write sweeps.
		time.Sleep(time.Hour)
		sh.writes = 0
		for _, k := range keys[:2047] {
			set(s, k, 0)
		}
		assert.Equal(t, 2047, sh.writes, "1,024 < writes < len/2 must not sweep")
		set(s, keys[2047], 0)
		assert.Equal(t, 0, sh.writes, "len/2 writes sweep")
		assert.Equal(t, 4000, sh.len())
	})
}

func TestShard_sweepShrinksMap(t *testing.T) {
	sh := &Shard{}
	for i := range 8192 {
		sh.put(stamptable.Key{uint32(i), 1}, entry{expires: 100})
	}
	for i := range 10 {
		sh.put(stamptable.Key{uint32(i), 2}, entry{value: "v"})
	}
	require.Equal(t, 8202, sh.peak)
	sh.sweep(200)
	assert.Equal(t, 10, sh.len())
	assert.Equal(t, 10, sh.peak, "a map under a quarter of its peak is rebuilt")
	assert.Equal(t, int64(200), sh.lastSweep)

	small := &Shard{}
	for i := range 100 {
		small.put(stamptable.Key{uint32(i), 1}, entry{expires: 100})
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

func TestShard_padding(t *testing.T) {
	assert.Zero(t, unsafe.Sizeof(Shard{})%128, "shards must not share cache lines")
}

// TestShard_sweepAtExactExpiry sweeps a shard one nanosecond before
// its entries' expiry, which keeps them all, and at it, which removes them
// all.
func TestShard_sweepAtExactExpiry(t *testing.T) {
	sh := &Shard{}
	for i := range 5000 {
		sh.put(stamptable.Key{uint32(i), 3, 4}, entry{expires: 1000 + int64(i%2)})
	}
	sh.put(stamptable.Key{1, 2, 3}, entry{value: "v", expires: 1000})
	sh.put(stamptable.Key{1, 2, 4}, entry{})
	sh.sweep(999)
	require.Equal(t, 5002, sh.len())
	sh.sweep(1000)
	require.Equal(t, 2501, sh.len(), "entries expiring at 1000 are gone at 1000")
	_, ok := sh.get(stamptable.Key{1, 2, 4})
	assert.True(t, ok, "an entry without expiry stays")
	sh.sweep(1001)
	require.Equal(t, 1, sh.len())
}

// LocateJoined gives the digest and shard Locate gives for the joined key,
// on both sides of the longest key it joins on the stack.
func TestTable_locateJoinedAsLocate(t *testing.T) {
	tb := newTable()
	for _, n := range []int{0, 1, joinedKeyMax - 12, joinedKeyMax - 11, joinedKeyMax - 10, 1000} {
		b := strings.Repeat("x", n)
		for _, parts := range [][3]string{{"dedup:", "fake", b}, {"", "", b}, {"own:", b, ""}} {
			k, sh := tb.LocateJoined(parts[0], parts[1], parts[2])
			wk, wsh := tb.Locate(parts[0] + parts[1] + ":" + parts[2])
			assert.Equal(t, wk, k, "key of %d bytes", len(parts[0])+len(parts[1])+1+len(parts[2]))
			assert.Same(t, wsh, sh)
		}
	}
}

func TestShard_getSetDelete(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tb := newTable()
		k, sh := tb.Locate("a")
		_, ok := sh.Get(k)
		assert.False(t, ok, "absent")
		sh.Set(k, "v", time.Minute)
		v, ok := sh.Get(k)
		require.True(t, ok)
		assert.Equal(t, []byte("v"), v)
		v[0] = 'w'
		v, _ = sh.Get(k)
		assert.Equal(t, []byte("v"), v, "Get returns a copy")
		assert.False(t, sh.SetIfAbsent(k, "", time.Minute), "present")
		time.Sleep(time.Minute)
		_, ok = sh.Get(k)
		assert.False(t, ok, "expired at its TTL")
		assert.Zero(t, tb.Len(), "a Get that finds an expired entry removes it")
		assert.True(t, sh.SetIfAbsent(k, "", 0))
		v, ok = sh.Get(k)
		assert.True(t, ok)
		assert.Nil(t, v, "an empty value is a nil slice")
		sh.Delete(k)
		sh.Delete(k)
		assert.Zero(t, tb.Len())
	})
}

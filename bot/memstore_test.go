package bot_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

func TestMemoryStore(t *testing.T) {
	bottest.TestStore(t, func(*testing.T) bot.Store { return bot.NewMemoryStore() })
}

func TestMemoryStore_Len(t *testing.T) {
	ctx := t.Context()
	s := bot.NewMemoryStore()
	assert.Equal(t, 0, s.Len())
	require.NoError(t, s.Set(ctx, "a", []byte("1"), 0))
	require.NoError(t, s.Set(ctx, "a", []byte("2"), 0))
	_, err := s.SetIfAbsent(ctx, "b", nil, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, 2, s.Len())
	require.NoError(t, s.Delete(ctx, "a"))
	assert.Equal(t, 1, s.Len())
}

// TestMemoryStore_sweep checks the amortized sweep from the outside: expired
// entries that are never read again are removed by later writes, with no
// background goroutine.
func TestMemoryStore_sweep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		s := bot.NewMemoryStore()
		const n = 100_000 // about 1,560 per shard: every shard passes the 1,024-write threshold
		for i := range n {
			ok, err := s.SetIfAbsent(ctx, "old:"+strconv.Itoa(i), nil, time.Minute)
			require.NoError(t, err)
			require.True(t, ok)
		}
		require.Equal(t, n, s.Len(), "nothing has expired yet")

		time.Sleep(2 * time.Minute)
		assert.Equal(t, n, s.Len(), "expired entries stay until a read or a sweep")
		for i := range n {
			require.NoError(t, s.Set(ctx, "new:"+strconv.Itoa(i), nil, 0))
		}
		assert.Equal(t, n, s.Len(), "the writes should have swept every expired entry")
	})
}

func TestMemoryStore_expiredIsRemovedOnRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		s := bot.NewMemoryStore()
		require.NoError(t, s.Set(ctx, "k", []byte("v"), time.Second))
		time.Sleep(time.Second)
		_, err := s.Get(ctx, "k")
		require.ErrorIs(t, err, bot.ErrNotFound)
		assert.Equal(t, 0, s.Len())
	})
}

// TestMemoryStore_allocs pins the allocation-free paths that deduplication
// and ownership lookups take at a high rate.
func TestMemoryStore_allocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	ctx := t.Context()
	s := bot.NewMemoryStore()
	require.NoError(t, s.Set(ctx, "empty", nil, time.Hour))
	require.NoError(t, s.Set(ctx, "value", []byte("0123456789abcdef"), time.Hour))

	tests := []struct {
		name string
		want float64
		fn   func()
	}{
		{"Get_missing", 0, func() { _, _ = s.Get(ctx, "missing") }},
		{"Get_empty", 0, func() { _, _ = s.Get(ctx, "empty") }},
		{"Get_value_copies", 1, func() { _, _ = s.Get(ctx, "value") }},
		{"Set_empty", 0, func() { _ = s.Set(ctx, "empty", nil, time.Hour) }},
		{"Set_value_copies", 1, func() { _ = s.Set(ctx, "value", []byte("0123456789abcdef"), time.Hour) }},
		{"SetIfAbsent_present", 0, func() { _, _ = s.SetIfAbsent(ctx, "empty", nil, time.Hour) }},
		{"SetIfAbsent_Delete_empty", 0, func() {
			_, _ = s.SetIfAbsent(ctx, "dedup", nil, time.Hour)
			_ = s.Delete(ctx, "dedup")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, testing.AllocsPerRun(100, tt.fn))
		})
	}
}

func BenchmarkMemoryStore_Get(b *testing.B) {
	ctx := b.Context()
	for _, bb := range []struct {
		name  string
		value []byte
	}{
		{"empty", nil},
		{"16B", []byte("0123456789abcdef")},
	} {
		b.Run(bb.name, func(b *testing.B) {
			s := bot.NewMemoryStore()
			keys := benchKeys(1 << 16)
			for _, k := range keys {
				require.NoError(b, s.Set(ctx, k, bb.value, time.Hour))
			}
			var seq atomic.Uint64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(seq.Add(1) * 7919)
				for pb.Next() {
					if _, err := s.Get(ctx, keys[i&(len(keys)-1)]); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}

func BenchmarkMemoryStore_Set(b *testing.B) {
	ctx := b.Context()
	for _, bb := range []struct {
		name  string
		value []byte
	}{
		{"empty", nil},
		{"16B", []byte("0123456789abcdef")},
	} {
		b.Run(bb.name, func(b *testing.B) {
			s := bot.NewMemoryStore()
			keys := benchKeys(1 << 16)
			var seq atomic.Uint64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(seq.Add(1) * 7919)
				for pb.Next() {
					_ = s.Set(ctx, keys[i&(len(keys)-1)], bb.value, time.Hour)
					i++
				}
			})
		})
	}
}

// BenchmarkMemoryStore_SetIfAbsent measures deduplication: "present" is a
// redelivery (the key exists), "insert_delete" inserts a new key and deletes
// it again, so the map does not grow with b.N, and "insert" inserts b.N new
// keys, as a busy bot does all day: the store grows to b.N entries (run it
// with -benchtime=4000000x to reach the tables of the pipeline benchmark).
func BenchmarkMemoryStore_SetIfAbsent(b *testing.B) {
	ctx := b.Context()
	b.Run("present", func(b *testing.B) {
		s := bot.NewMemoryStore()
		keys := benchKeys(1 << 16)
		for _, k := range keys {
			_, _ = s.SetIfAbsent(ctx, k, nil, 25*time.Hour)
		}
		var seq atomic.Uint64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(seq.Add(1) * 7919)
			for pb.Next() {
				if ok, _ := s.SetIfAbsent(ctx, keys[i&(len(keys)-1)], nil, 25*time.Hour); ok {
					b.Error("present key was inserted")
					return
				}
				i++
			}
		})
	})
	b.Run("insert", func(b *testing.B) {
		s := bot.NewMemoryStore()
		var seq atomic.Uint64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			var buf [32]byte
			for pb.Next() {
				key := append(buf[:0], "dedup:sendbee:"...)
				key = strconv.AppendUint(key, seq.Add(1), 10)
				if ok, _ := s.SetIfAbsent(ctx, string(key), nil, 25*time.Hour); !ok {
					b.Error("new key was present")
					return
				}
			}
		})
	})
	b.Run("insert_delete", func(b *testing.B) {
		s := bot.NewMemoryStore()
		keys := benchKeys(1 << 16)
		var seq atomic.Uint64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			// Each goroutine (up to 16) owns a disjoint stripe of keys, so
			// its insert finds the key absent.
			g := int(seq.Add(1)-1) % 16
			stripe := keys[g<<12 : (g+1)<<12]
			i := 0
			for pb.Next() {
				k := stripe[i&(len(stripe)-1)]
				_, _ = s.SetIfAbsent(ctx, k, nil, 25*time.Hour)
				_ = s.Delete(ctx, k)
				i++
			}
		})
	})
}

// BenchmarkMemoryStore_Footprint measures the heap held per deduplication
// entry: 100,000 keys shaped like the Bot's ("dedup:sendbee:<uuid>"), empty
// values and a 25-hour TTL. The key strings themselves are included.
func BenchmarkMemoryStore_Footprint(b *testing.B) {
	ctx := b.Context()
	const n = 100_000
	var perEntry float64
	for b.Loop() {
		rng := rand.New(rand.NewPCG(1, 2))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := bot.NewMemoryStore()
		for range n {
			_, _ = s.SetIfAbsent(ctx, "dedup:sendbee:"+uuidish(rng), nil, 25*time.Hour)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perEntry = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
		runtime.KeepAlive(s)
	}
	b.ReportMetric(perEntry, "bytes/entry")
}

func benchKeys(n int) []string {
	rng := rand.New(rand.NewPCG(3, 4))
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "dedup:sendbee:" + uuidish(rng)
	}
	return keys
}

// uuidish returns a random string shaped like a UUID, as platform event IDs
// are.
func uuidish(rng *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x",
		rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xfff, rng.Uint32()&0xfff, rng.Uint64()&0xffffffffffff)
}

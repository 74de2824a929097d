package stamptable

import (
	"math/rand/v2"
	"testing"
)

// 64 shards, 8M keys, like the pipeline's keys store
func BenchmarkGrowShards(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for range b.N {
		var ts [64]Table
		for range 8_000_000 {
			k := Key{r.Uint32(), r.Uint32(), r.Uint32()}
			t := &ts[k[2]&63]
			if _, ok := t.Get(k); !ok {
				t.Insert(k, Stamp{1, 2})
			}
		}
	}
}

// BenchmarkStampTable_Insert inserts b.N new keys into 64 tables, as the
// deduplication claims of b.N events fill a MemoryStore's shards, once into
// tables that grow as they fill and once into tables presized for b.N: the
// difference is what growing costs a claim (rehashing and first touches of
// new memory), the rest the lookup and insert themselves. Run it with
// -benchtime=200000x (the workload benchmarks' store) and 4000000x.
func BenchmarkStampTable_Insert(b *testing.B) {
	for _, presized := range []bool{false, true} {
		name := "grow"
		if presized {
			name = "presized"
		}
		b.Run(name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			keys := make([]Key, b.N)
			for i := range keys {
				keys[i] = Key{r.Uint32(), r.Uint32(), r.Uint32()}
			}
			var ts [64]Table
			if presized {
				for i := range ts {
					ts[i].resize(max(minBuckets, 2*b.N/64/bucketSlots+16))
				}
			}
			b.ResetTimer()
			for _, k := range keys {
				t := &ts[k[2]&63]
				if _, ok := t.Get(k); !ok {
					t.Insert(k, Stamp{1, 2})
				}
			}
		})
	}
}

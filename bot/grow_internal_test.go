package bot

import (
	"math/rand/v2"
	"testing"
)

// 64 shards, 8M keys, like the pipeline's keys store
func BenchmarkGrowShards(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for range b.N {
		var ts [64]stampTable
		for range 8_000_000 {
			k := memKey{r.Uint32(), r.Uint32(), r.Uint32()}
			t := &ts[k[2]&63]
			if _, ok := t.get(k); !ok {
				t.insert(k, stampExp{1, 2})
			}
		}
	}
}

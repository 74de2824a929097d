package bot

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// BenchmarkOwnerLookup reads the owner of conversations with no owner
// entry, as the inbound path and the outbox's re-check do for every
// message, on a MemoryStore that holds entries for other conversations
// (none, or 100).
func BenchmarkOwnerLookup(b *testing.B) {
	ctx := context.Background()
	convs := make([]string, 1024)
	for i := range convs {
		convs[i] = "conv-" + strconv.Itoa(i)
	}
	for _, humans := range []int{0, 100} {
		b.Run("humans="+strconv.Itoa(humans), func(b *testing.B) {
			st := NewMemoryStore()
			o := &ownership{store: st, filter: filterFor(st)}
			for i := range humans {
				if err := o.set(ctx, "fake", "human-"+strconv.Itoa(i), OwnerHuman, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if who, _, err := o.get(ctx, "fake", convs[i%len(convs)]); err != nil || who != OwnerBot {
					b.Fatal(who, err)
				}
				i++
			}
		})
	}
}

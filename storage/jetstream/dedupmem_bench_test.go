package jetstream_test

import (
	"context"
	"flag"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/storage/jetstream"
)

// BenchmarkDedupMemory measures what the events held for deduplication
// cost the embedded server: pipeWarmup and then b.N events, each with a
// unique ID and one reply, go through the Bot on a Broker with file
// storage (as BenchmarkDurablePipeline's default); then the Bot stops, the
// inbound, outbound and dead-letter streams are deleted (their messages
// are gone once acknowledged, and their 2-minute duplicate windows are not
// what the dedup TTL holds), and what remains is the Broker's key bucket,
// with a deduplication record for each event and a send claim for each
// reply, both kept for the Bot's dedup TTL (25 hours by default).
//
// It reports, per event: heap-B/event, the growth of the process's live
// heap (the server runs in process) from before the first event to after
// the streams' deletion, once the server's block caches have expired
// (10 seconds without access) and after a garbage collection;
// with -dedup-settle, settled-heap-B/event, the same 2 minutes and 10
// seconds later, once the server's per-block subject indexes have expired
// too (what an event costs for the rest of the dedup TTL);
// stored-B/event, the bytes of the key bucket's stream as the server
// counts them; and msgs/event, its messages. Use -benchtime=Nx with a
// large N (20000x): fixed costs are divided by N. The testing package
// runs it once with N=1 first, so with -dedup-settle it takes about five
// minutes.
var dedupSettle = flag.Bool("dedup-settle", false, "BenchmarkDedupMemory: also measure after the server's subject indexes expire (2m10s)")

func BenchmarkDedupMemory(b *testing.B) {
	js := benchServer(b)
	ctx := context.Background()
	br, err := jetstream.NewBroker(ctx, js, jetstream.WithBrokerLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	store, err := jetstream.NewStore(ctx, js, "state")
	if err != nil {
		b.Fatal(err)
	}
	heap0 := liveHeap()
	benchPipeline(b, pipeInFlight, bot.WithBroker(br), bot.WithStore(store))
	b.StopTimer()
	name := jetstream.DefaultBrokerName
	for _, s := range []string{name + "_IN", name + "_OUT", name + "_DEAD"} {
		if err := js.DeleteStream(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(11 * time.Second) // the block caches' expiry
	heap1 := liveHeap()
	kv, err := js.KeyValue(ctx, name+"_KEYS")
	if err != nil {
		b.Fatal(err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		b.Fatal(err)
	}
	events := float64(pipeWarmup + b.N)
	b.ReportMetric(float64(int64(heap1)-int64(heap0))/events, "heap-B/event")
	if *dedupSettle {
		// The server's per-block subject indexes expire after 2 minutes
		// without access; what remains is what each event costs for the
		// rest of the dedup TTL.
		time.Sleep(2*time.Minute + 10*time.Second)
		b.ReportMetric(float64(int64(liveHeap())-int64(heap0))/events, "settled-heap-B/event")
	}
	b.ReportMetric(float64(st.Bytes())/events, "stored-B/event")
	b.ReportMetric(float64(st.Values())/events, "msgs/event")
}

// liveHeap returns the bytes of live heap objects after a full collection.
func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

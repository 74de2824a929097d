package jetstream_test

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/storage/jetstream"
)

// BenchmarkDurableVsBare measures durable mode against the limit of
// JetStream itself, on the same machine and with the same load: pipeWarmup
// and then b.N messages, each with a unique event ID, over pipeConvs
// conversations, published by pipePublishers goroutines with at most
// pipeInFlight between publish and reply, each on a fresh embedded server
// with file storage.
//
// bot is the whole Bot on the Broker and Store of this package (W1: one
// route, `^echo (.+)$`, replying with its capture; the adapter counts the
// replies). bare is a loop on the nats.go client alone that makes the
// same hops with the same acknowledgement policy and deduplicates the way
// the Broker does, and nothing else:
//
//   - publish: the inbound message (the bytes of bot.MarshalMessage) to
//     the work-queue stream BARE_IN on the subject of its partition (16),
//     with Nats-Msg-Id (2-minute duplicate window);
//   - inbound: one durable pull consumer per partition, MaxAckPending=1,
//     explicit acks, pulling one message at a time; for each message a KV
//     create of its dedup record in a bucket whose entries age out after
//     25 hours (the Bot's default dedup TTL; the Broker's bucket is kept
//     the same way), the publish of the outbound message (the same
//     bytes) to the work-queue stream BARE_OUT on the subject of its lane
//     (4) with Nats-Msg-Id, then a double ack;
//   - outbound: one such consumer per lane; for each message a KV create
//     of its send claim in that bucket, the count, then a double ack.
//
// That is 6 request/reply round trips and 2 deliveries per message. It
// does not decode the messages, run a route, record "handled" or "sent"
// after the work (the Broker does both, so that a lost acknowledgement
// neither runs a handler again nor sends twice), look up ownership, or
// extend leases.
func BenchmarkDurableVsBare(b *testing.B) {
	b.Run("bot", benchDurableEcho)
	b.Run("bare", benchBareJetStream)
}

var echoRE = regexp.MustCompile(`^echo (.+)$`)

// benchDurableEcho is the bot side of BenchmarkDurableVsBare.
func benchDurableEcho(b *testing.B) {
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
	benchPipelineWith(b, pipeInFlight, func(bt *bot.Bot) {
		bt.HandleFunc(bot.Regexp(echoRE), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			return w.Send(ctx, m.Reply(bot.CapturesOf(ctx).Groups[1]))
		})
	}, bot.WithBroker(br), bot.WithStore(store))
}

// benchServer starts a fresh embedded server for b, stopped (after the
// connection) when b ends, and returns a JetStream context on it.
func benchServer(b *testing.B) njs.JetStream {
	srv, err := jetstream.StartEmbedded(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Shutdown)
	nc, err := srv.Connect()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close) // runs before the server's shutdown
	js, err := njs.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	return js
}

// Shape of the bare loop: as the Broker's defaults.
const (
	bareParts = jetstream.DefaultPartitions
	bareLanes = jetstream.DefaultOutboxLanes
	bareTTL   = 25 * time.Hour
)

// benchBareJetStream is the bare side of BenchmarkDurableVsBare.
func benchBareJetStream(b *testing.B) {
	js := benchServer(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, s := range []struct{ name, subj string }{{"BARE_IN", "bare.in.*"}, {"BARE_OUT", "bare.out.*"}} {
		if _, err := js.CreateStream(ctx, njs.StreamConfig{
			Name: s.name, Subjects: []string{s.subj}, Retention: njs.WorkQueuePolicy,
			Storage: njs.FileStorage, Duplicates: jetstream.DefaultDuplicateWindow,
		}); err != nil {
			b.Fatal(err)
		}
	}
	kv, err := js.CreateKeyValue(ctx, njs.KeyValueConfig{Bucket: "BARE_KEYS", History: 1, TTL: bareTTL,
		Storage: njs.FileStorage, LimitMarkerTTL: jetstream.DefaultMarkerTTL})
	if err != nil {
		b.Fatal(err)
	}

	total := pipeWarmup + b.N
	a := newLatencyAdapter(total, pipeInFlight)
	fail := make(chan error, 1)
	failed := func(err error) {
		if ctx.Err() != nil {
			return // the benchmark is over
		}
		select {
		case fail <- err:
		default:
		}
	}
	inbound := func(msg njs.Msg) {
		id := msg.Headers().Get(njs.MsgIDHeader)
		meta, err := msg.Metadata()
		if err != nil {
			failed(err)
			return
		}
		if _, err := kv.Create(ctx, "d."+id, []byte(strconv.FormatUint(meta.Sequence.Stream, 10))); err != nil {
			failed(err)
			return
		}
		i, _ := strconv.Atoi(id)
		out := &nats.Msg{Subject: "bare.out." + strconv.Itoa(i%pipeConvs%bareLanes), Data: msg.Data(),
			Header: nats.Header{njs.MsgIDHeader: []string{id}}}
		if _, err := js.PublishMsg(ctx, out); err != nil {
			failed(err)
			return
		}
		if err := msg.DoubleAck(ctx); err != nil {
			failed(err)
		}
	}
	outbound := func(msg njs.Msg) {
		id := msg.Headers().Get(njs.MsgIDHeader)
		if _, err := kv.Create(ctx, "o."+id, []byte("1")); err != nil {
			failed(err)
			return
		}
		i, _ := strconv.Atoi(id)
		a.done(i)
		if err := msg.DoubleAck(ctx); err != nil {
			failed(err)
		}
	}
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	consume := func(stream, name, subj string, handle func(njs.Msg)) {
		c, err := js.CreateOrUpdateConsumer(ctx, stream, njs.ConsumerConfig{
			Durable: name, FilterSubject: subj, AckPolicy: njs.AckExplicitPolicy,
			AckWait: jetstream.DefaultAckWait, MaxAckPending: 1, MaxDeliver: -1,
			DeliverPolicy: njs.DeliverAllPolicy,
		})
		if err != nil {
			b.Fatal(err)
		}
		it, err := c.Messages(njs.PullMaxMessages(1), njs.PullExpiry(5*time.Second),
			njs.PullHeartbeat(2*time.Second))
		if err != nil {
			b.Fatal(err)
		}
		context.AfterFunc(ctx, it.Stop)
		wg.Go(func() {
			for {
				msg, err := it.Next()
				if errors.Is(err, njs.ErrMsgIteratorClosed) {
					return
				}
				if err == nil {
					handle(msg)
				}
			}
		})
	}
	for p := range bareParts {
		consume("BARE_IN", "in-"+strconv.Itoa(p), "bare.in."+strconv.Itoa(p), inbound)
	}
	for l := range bareLanes {
		consume("BARE_OUT", "out-"+strconv.Itoa(l), "bare.out."+strconv.Itoa(l), outbound)
	}
	publish := func(ctx context.Context, m *bot.Message) error {
		data, err := bot.MarshalMessage(m)
		if err != nil {
			return err
		}
		i, _ := strconv.Atoi(m.ID)
		_, err = js.PublishMsg(ctx, &nats.Msg{Subject: "bare.in." + strconv.Itoa(i%pipeConvs%bareParts),
			Data: data, Header: nats.Header{njs.MsgIDHeader: []string{m.ID}}})
		return err
	}
	check := func() {
		select {
		case err := <-fail:
			b.Fatal(err)
		default:
		}
	}
	if err := a.publishWith(ctx, 0, pipeWarmup, publish); err != nil {
		b.Fatal(err)
	}
	a.drain(b)
	check()
	a.measure(b, func() error { return a.publishWith(ctx, pipeWarmup, total, publish) })
	check()
}

package jetstream_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/storage/jetstream"
)

// Three Bots sharing one JetStream store, each with the same scheduled job:
// every fire runs once across the three, and inbound redeliveries reaching
// different replicas are handled once.
func TestReplicas_shareFiresAndDedup(t *testing.T) {
	srv := startServer(t, t.TempDir())
	_, js := connect(t, srv)
	store, err := jetstream.NewStore(t.Context(), js, "replicas")
	require.NoError(t, err)

	var (
		mu      sync.Mutex
		fires   = map[string]int{} // idempotency key of the job's message → fires
		handled = map[string]int{} // inbound ID → handlings
	)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	adapters := make([]*bottest.FakeAdapter, 3)
	for i := range adapters {
		fa := bottest.NewFakeAdapter("fake")
		adapters[i] = fa
		b, err := bot.New(bot.WithAdapters(fa), bot.WithStore(store), bot.WithLogger(bottest.Logger(t)))
		require.NoError(t, err)
		require.NoError(t, b.Schedule("tick", "@every 1s", bot.JobFunc(func(ctx context.Context, s bot.Sender) error {
			m := &bot.Message{Platform: "fake", Conversation: "room", Text: "tick"}
			if err := s.Send(ctx, m); err != nil {
				return err
			}
			mu.Lock()
			fires[m.Key]++
			mu.Unlock()
			return nil
		})))
		b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			mu.Lock()
			handled[m.ID]++
			mu.Unlock()
			return nil
		}))
		wg.Go(func() { assert.NoError(t, b.Run(ctx)) })
	}

	// The same three events reach every replica, as redeliveries would.
	for _, id := range []string{"e1", "e2", "e3"} {
		for _, fa := range adapters {
			require.NoError(t, fa.Inject(ctx, bottest.NewMessage("hi", bottest.In("fake", "c-"+id), bottest.WithID(id))))
		}
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(fires) >= 3 && len(handled) == 3
	}, 10*time.Second, 10*time.Millisecond)
	cancel()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	for key, n := range fires {
		assert.Equal(t, 1, n, "fire %s ran on more than one replica", key)
	}
	for id, n := range handled {
		assert.Equal(t, 1, n, "event %s handled more than once", id)
	}
	var sent int
	for _, fa := range adapters {
		sent += len(fa.Sent())
	}
	assert.Equal(t, len(fires), sent, "each fire's message delivered once")
}

// replica is one of several Bots sharing a JetStream system, each on its
// own connection as separate processes would be.
type replica struct {
	nc     *nats.Conn
	fa     *bottest.FakeAdapter
	b      *bot.Bot
	cancel context.CancelFunc
	done   chan struct{}
}

// Three replicas on one JetStream share the inbound partitions: events
// delivered to any of them, with duplicates, are handled once each and in
// order per conversation, each gets one reply, and each cron fire runs once.
// One replica dies with a message in hand (its connection is cut and it
// never acknowledges); after the ack wait the others take the message over
// and finish its work.
func TestReplicas_durablePipeline(t *testing.T) {
	srv := startServer(t, t.TempDir())
	ctx := t.Context()

	j := newJournal()
	var (
		mu    sync.Mutex
		fires = map[string]int{}
	)
	hang := make(chan struct{})    // the doomed replica's handler waits here
	hung := make(chan struct{}, 1) // and says so once
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(hang) }) }
	t.Cleanup(release)

	replicas := make([]*replica, 3)
	for i := range replicas {
		nc, err := srv.Connect()
		require.NoError(t, err)
		t.Cleanup(nc.Close)
		js, err := njs.New(nc)
		require.NoError(t, err)
		br, err := jetstream.NewBroker(ctx, js, jetstream.WithPartitions(8), jetstream.WithAckWait(time.Second),
			jetstream.WithBrokerLogger(bottest.Logger(t)))
		require.NoError(t, err)
		store, err := jetstream.NewStore(ctx, js, "state")
		require.NoError(t, err)
		fa := bottest.NewFakeAdapter("fake")
		b, err := bot.New(bot.WithAdapters(fa), bot.WithBroker(br), bot.WithStore(store),
			bot.WithLogger(bottest.Logger(t)), bot.WithShutdownTimeout(2*time.Second))
		require.NoError(t, err)
		doomed := i == 2
		b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			if doomed {
				select {
				case hung <- struct{}{}:
				default:
				}
				<-hang // dead: never returns while the test runs
				return nil
			}
			return j.echo(ctx, w, m)
		}))
		require.NoError(t, b.Schedule("tick", "@every 1s", bot.JobFunc(func(ctx context.Context, s bot.Sender) error {
			m := &bot.Message{Platform: "fake", Conversation: "ticks", Text: "tick"}
			if err := s.Send(ctx, m); err != nil {
				return err
			}
			mu.Lock()
			fires[m.Key]++
			mu.Unlock()
			return nil
		})))
		rctx, cancel := context.WithCancel(ctx)
		r := &replica{nc: nc, fa: fa, b: b, cancel: cancel, done: make(chan struct{})}
		go func() { defer close(r.done); assert.NoError(t, b.Run(rctx)) }()
		replicas[i] = r
	}

	// The doomed replica takes a message, then dies: its connection is
	// cut, so it neither acknowledges nor extends its lease.
	const convs, per = 12, 15
	inject := func(c, n int, via *replica) {
		m := bottest.NewMessage(fmt.Sprintf("msg %d", n), bottest.In("fake", fmt.Sprint("conv-", c)), bottest.WithID(eventID(c, n)))
		require.NoError(t, via.fa.Inject(ctx, m))
	}
	for n := range per {
		for c := range convs {
			// Each event reaches two replicas, as a platform's retry
			// behind a load balancer would.
			inject(c, n, replicas[(c+n)%3])
			inject(c, n, replicas[(c+n+1)%3])
		}
	}
	select {
	case <-hung:
	case <-time.After(10 * time.Second):
		t.Fatal("the doomed replica never took a message")
	}
	replicas[2].nc.Close()
	replicas[2].cancel()

	require.Eventually(t, func() bool { return j.count() == convs*per }, 30*time.Second, 20*time.Millisecond,
		"the surviving replicas finish every event")
	var sent int
	require.Eventually(t, func() bool {
		sent = 0 // the dead replica's outbox lanes delivered some before it died
		for _, r := range replicas {
			for _, m := range r.fa.Sent() {
				if m.Conversation != "ticks" {
					sent++
				}
			}
		}
		return sent == convs*per
	}, 10*time.Second, 20*time.Millisecond)
	for _, r := range replicas[:2] {
		r.cancel()
		<-r.done
	}

	j.mu.Lock()
	for id, n := range j.handled {
		assert.Equal(t, 1, n, "event %s handled %d times", id, n)
	}
	for c := range convs {
		want := make([]int, per)
		for i := range want {
			want[i] = i
		}
		assert.Equal(t, want, j.order[fmt.Sprint("conv-", c)], "conversation %d out of order", c)
	}
	j.mu.Unlock()

	keys := map[string]int{}
	for _, r := range replicas {
		for _, m := range r.fa.Sent() {
			keys[m.Key]++
		}
	}
	mu.Lock()
	defer mu.Unlock()
	assert.NotEmpty(t, fires)
	for key, n := range fires {
		assert.Equal(t, 1, n, "fire %s ran %d times", key, n)
	}
	for key, n := range keys {
		assert.Equal(t, 1, n, "key %s sent %d times", key, n)
	}
	release() // the dead replica's goroutines end with the test
	<-replicas[2].done
}

package jetstream_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/storage/jetstream"
)

// journal records what the handlers of one or more Bots saw.
type journal struct {
	mu      sync.Mutex
	order   map[string][]int // conversation → message numbers, in handling order
	handled map[string]int   // event ID → handlings
}

func newJournal() *journal {
	return &journal{order: map[string][]int{}, handled: map[string]int{}}
}

// echo is a handler that records m and replies once.
func (j *journal) echo(ctx context.Context, w bot.Sender, m *bot.Message) error {
	var n int
	_, _ = fmt.Sscanf(m.Text, "msg %d", &n)
	j.mu.Lock()
	j.order[m.Conversation] = append(j.order[m.Conversation], n)
	j.handled[m.ID]++
	j.mu.Unlock()
	return w.Send(ctx, m.Reply("re: "+m.Text))
}

func (j *journal) count() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.handled)
}

// newDurableBot returns a Bot on fa whose queues are br and whose state is
// store.
func newDurableBot(t *testing.T, fa *bottest.FakeAdapter, br *jetstream.Broker, store *jetstream.Store, j *journal) *bot.Bot {
	t.Helper()
	b, err := bot.New(bot.WithAdapters(fa), bot.WithBroker(br), bot.WithStore(store),
		bot.WithLogger(bottest.Logger(t)), bot.WithShutdownTimeout(5*time.Second))
	require.NoError(t, err)
	b.NotFound(bot.HandlerFunc(j.echo))
	return b
}

// eventID names message n of conversation c.
func eventID(c, n int) string { return fmt.Sprintf("c%d-m%d", c, n) }

// The durable pipeline handles each event once, in order per conversation,
// and sends one reply per event, with every event published twice.
func TestBroker_onceInOrder(t *testing.T) {
	srv := startServer(t, t.TempDir())
	_, js := connect(t, srv)
	ctx := t.Context()
	br, err := jetstream.NewBroker(ctx, js, jetstream.WithBrokerLogger(bottest.Logger(t)))
	require.NoError(t, err)
	store, err := jetstream.NewStore(ctx, js, "state")
	require.NoError(t, err)

	j := newJournal()
	fa := bottest.NewFakeAdapter("fake")
	b := newDurableBot(t, fa, br, store, j)
	stop := bottest.Run(t, b)

	const convs, per = 20, 25
	for n := range per {
		for c := range convs {
			for range 2 { // every event delivered twice
				m := bottest.NewMessage(fmt.Sprintf("msg %d", n), bottest.In("fake", fmt.Sprint("conv-", c)), bottest.WithID(eventID(c, n)))
				require.NoError(t, fa.Inject(ctx, m))
			}
		}
	}
	sent := fa.WaitSent(t, convs*per)
	require.NoError(t, stop())

	assert.Len(t, fa.Sent(), convs*per, "one reply per event")
	keys := map[string]bool{}
	for _, m := range sent {
		assert.False(t, keys[m.Key], "key %s sent twice", m.Key)
		keys[m.Key] = true
	}
	j.mu.Lock()
	defer j.mu.Unlock()
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
	st := b.Stats()
	assert.Equal(t, int64(convs*per), st.Received)
	assert.Equal(t, int64(convs*per), st.Duplicates)
}

// Messages stored but not handled when a Bot stops are handled by the next
// Bot on the same streams, and nothing is handled or sent twice.
func TestBroker_restartFinishesTheWork(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	_, js := connect(t, srv)
	ctx := t.Context()
	br, err := jetstream.NewBroker(ctx, js, jetstream.WithPartitions(4))
	require.NoError(t, err)
	store, err := jetstream.NewStore(ctx, js, "state")
	require.NoError(t, err)

	// The first Bot's handler holds every message until released, so that
	// most of them are still in the stream when it stops.
	j := newJournal()
	gate := make(chan struct{})
	fa1 := bottest.NewFakeAdapter("fake")
	b1, err := bot.New(bot.WithAdapters(fa1), bot.WithBroker(br), bot.WithStore(store), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	b1.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		<-gate
		return j.echo(ctx, w, m)
	}))
	stop1 := bottest.Run(t, b1)
	const total = 40
	for n := range total {
		m := bottest.NewMessage(fmt.Sprintf("msg %d", n), bottest.In("fake", fmt.Sprint("conv-", n%8)), bottest.WithID(eventID(n%8, n)))
		require.NoError(t, fa1.Inject(ctx, m))
	}
	// Let the first messages through, then stop while the others wait.
	for range 3 {
		gate <- struct{}{}
	}
	close(gate)
	require.NoError(t, stop1())
	first := j.count()
	require.Less(t, first, total, "the first Bot should not have finished everything")

	fa2 := bottest.NewFakeAdapter("fake")
	b2 := newDurableBot(t, fa2, br, store, j)
	stop2 := bottest.Run(t, b2)
	require.Eventually(t, func() bool { return j.count() == total }, 20*time.Second, 10*time.Millisecond)
	fa2.WaitSent(t, total-len(fa1.Sent()))
	require.NoError(t, stop2())

	assert.Equal(t, total, len(fa1.Sent())+len(fa2.Sent()), "one reply per event across both runs")
	j.mu.Lock()
	defer j.mu.Unlock()
	for id, n := range j.handled {
		assert.Equal(t, 1, n, "event %s handled %d times", id, n)
	}
}

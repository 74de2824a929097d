package jetstream_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/storage/jetstream"
)

// On the durable pipeline the event feed tells the same journey as in
// memory: received, owner, routed, queued, handled, sent; a redelivery,
// dropped by the Broker, is received then duplicate.
func TestBroker_feed(t *testing.T) {
	srv := startServer(t, t.TempDir())
	_, js := connect(t, srv)
	ctx := t.Context()
	br, err := jetstream.NewBroker(ctx, js, jetstream.WithBrokerLogger(bottest.Logger(t)))
	require.NoError(t, err)
	store, err := jetstream.NewStore(ctx, js, "state")
	require.NoError(t, err)
	fa := bottest.NewFakeAdapter("fake")
	b := newDurableBot(t, fa, br, store, newJournal())
	sub := b.Subscribe(0)
	defer sub.Close()
	bottest.Run(t, b)

	seen := map[bot.EventType]int{}
	var order []bot.EventType
	wait := func(stop func() bool) {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for !stop() {
			select {
			case e := <-sub.Events():
				seen[e.Type]++
				order = append(order, e.Type)
				if e.Type != bot.EventWaiting {
					assert.Equal(t, "c1", e.Conversation, "%s", e.Type)
				}
			case <-timeout:
				require.FailNow(t, "events", "%v", order)
			}
		}
	}
	m := bottest.NewMessage("msg 1", bottest.In("fake", "c1"), bottest.WithID("e1"))
	require.NoError(t, fa.Inject(ctx, m))
	wait(func() bool { return seen[bot.EventHandled] == 1 && seen[bot.EventSent] == 1 })
	assert.Equal(t, []bot.EventType{bot.EventReceived, bot.EventOwner, bot.EventUnrouted, bot.EventQueued},
		order[:4], "the journey's start, in order")

	require.NoError(t, fa.Inject(ctx, bottest.NewMessage("msg 1", bottest.In("fake", "c1"), bottest.WithID("e1"))))
	wait(func() bool { return seen[bot.EventDuplicate] == 1 })
	assert.Equal(t, 2, seen[bot.EventReceived])
	assert.Equal(t, 1, seen[bot.EventHandled], "the redelivery is not handled")
}

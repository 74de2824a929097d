package jetstream_test

import (
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/storage/jetstream"
)

// The NATS server restarts while a durable Bot runs: the client reconnects,
// events published while it was away are delivered again by the platform
// (here: the test retries, as a webhook sender would on 503), and at the
// end every event was handled once and answered once.
func TestBroker_survivesServerRestart(t *testing.T) {
	dir := t.TempDir()
	srv, err := jetstream.StartEmbedded(dir)
	require.NoError(t, err)
	u, err := url.Parse(srv.ClientURL())
	require.NoError(t, err)
	port, err := strconv.Atoi(u.Port())
	require.NoError(t, err)

	nc, err := srv.Connect(nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := njs.New(nc)
	require.NoError(t, err)
	ctx := t.Context()
	br, err := jetstream.NewBroker(ctx, js, jetstream.WithPartitions(4), jetstream.WithAckWait(2*time.Second),
		jetstream.WithBrokerLogger(bottest.Logger(t)))
	require.NoError(t, err)
	store, err := jetstream.NewStore(ctx, js, "state")
	require.NoError(t, err)

	j := newJournal()
	fa := bottest.NewFakeAdapter("fake")
	b := newDurableBot(t, fa, br, store, j)
	stop := bottest.Run(t, b)

	// publish retries until the Bot accepts the event, as a platform
	// redelivers after a 503.
	publish := func(n int) {
		m := bottest.NewMessage(fmt.Sprintf("msg %d", n), bottest.In("fake", fmt.Sprint("conv-", n%5)), bottest.WithID(eventID(n%5, n)))
		require.Eventually(t, func() bool { return fa.Inject(ctx, m) == nil }, 20*time.Second, 20*time.Millisecond)
	}
	const before, after = 30, 30
	for n := range before {
		publish(n)
	}
	srv.Shutdown()
	require.Eventually(t, func() bool { return !nc.IsConnected() }, 5*time.Second, 10*time.Millisecond)
	srv, err = jetstream.StartEmbedded(dir, jetstream.WithServerOptions(func(o *server.Options) { o.Port = port }))
	require.NoError(t, err)
	t.Cleanup(srv.Shutdown)
	for n := before; n < before+after; n++ {
		publish(n)
	}
	require.Eventually(t, func() bool { return j.count() == before+after }, 30*time.Second, 20*time.Millisecond)
	fa.WaitSent(t, before+after)
	require.NoError(t, stop())

	assert.Len(t, fa.Sent(), before+after, "one reply per event")
	keys := map[string]bool{}
	for _, m := range fa.Sent() {
		assert.False(t, keys[m.Key], "key %s sent twice", m.Key)
		keys[m.Key] = true
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for id, n := range j.handled {
		assert.Equal(t, 1, n, "event %s handled %d times", id, n)
	}
	assert.Positive(t, nc.Stats().Reconnects)
}

package jetstream_test

import (
	"context"
	"sync"
	"testing"
	"time"

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

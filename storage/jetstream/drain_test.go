package jetstream_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/storage/jetstream"
)

// A durable Bot whose adapters have all finished (the console at end of
// input) handles every message they stored and delivers every reply before
// Run returns, as a Bot with in-memory queues does, and leaves nothing in
// the streams: whether it stops at once (before its consumers exist) or
// while its handlers are still busy with earlier messages.
func TestBroker_endOfInputHandlesWhatIsStored(t *testing.T) {
	tests := []struct {
		name string
		slow bool // the handlers wait until the adapter has ended
	}{
		{name: "input ends at once"},
		{name: "input ends while the handlers are busy", slow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, t.TempDir())
			_, js := connect(t, srv)
			ctx := t.Context()
			br, err := jetstream.NewBroker(ctx, js, jetstream.WithPartitions(4), jetstream.WithBrokerLogger(bottest.Logger(t)))
			require.NoError(t, err)
			store, err := jetstream.NewStore(ctx, js, "state")
			require.NoError(t, err)

			j := newJournal()
			busy := make(chan struct{}, 1)
			ended := make(chan struct{})
			fa := bottest.NewFakeAdapter("fake")
			b, err := bot.New(bot.WithAdapters(fa), bot.WithBroker(br), bot.WithStore(store),
				bot.WithLogger(bottest.Logger(t)), bot.WithShutdownTimeout(20*time.Second))
			require.NoError(t, err)
			b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
				if tt.slow {
					select {
					case busy <- struct{}{}:
					default:
					}
					<-ended
				}
				return j.echo(ctx, w, m)
			}))
			done := make(chan error, 1)
			go func() { done <- b.Run(context.Background()) }()

			const total = 30
			for n := range total {
				m := bottest.NewMessage(fmt.Sprintf("msg %d", n), bottest.In("fake", fmt.Sprint("conv-", n%6)), bottest.WithID(eventID(n%6, n)))
				require.NoError(t, fa.Inject(ctx, m))
			}
			if tt.slow {
				select {
				case <-busy: // the consumers run, and the rest waits in the streams
				case <-time.After(10 * time.Second):
					t.Fatal("no message handled within 10s")
				}
			}
			fa.End()
			close(ended)
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(30 * time.Second):
				t.Fatal("Run did not return within 30s of the end of input")
			}

			assert.Equal(t, total, j.count(), "every stored message is handled before Run returns")
			assert.Len(t, fa.Sent(), total, "every reply is delivered before Run returns")
			for _, name := range []string{jetstream.DefaultBrokerName + "_IN", jetstream.DefaultBrokerName + "_OUT"} {
				s, err := js.Stream(ctx, name)
				require.NoError(t, err)
				info, err := s.Info(ctx)
				require.NoError(t, err)
				assert.Zero(t, info.State.Msgs, "%s holds messages for a later run", name)
			}
		})
	}
}

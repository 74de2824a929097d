package jetstream_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/storage/jetstream"
)

// In durable mode too, a reply whose connection breaks after the request
// was written is neither lost nor sent twice: over real HTTP to the
// Sendbee emulator, which drops the connection before it acts on the
// request, or after.
func TestBroker_unknownOutcomeNeitherLostNorDoubled(t *testing.T) {
	tests := []struct {
		name          string
		fault         func(*sendbeetest.Server)
		wantConfirmed int64
	}{
		{name: "reset before Sendbee acted", fault: (*sendbeetest.Server).ResetNext},
		{name: "answer lost after Sendbee acted", fault: (*sendbeetest.Server).LoseAnswerNext, wantConfirmed: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var adapter atomic.Pointer[sendbee.Adapter]
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				adapter.Load().ServeHTTP(w, r)
			}))
			t.Cleanup(rcv.Close)
			emu := sendbeetest.NewServer(t, sendbeetest.WithoutDemoData(), sendbeetest.WithWebhook(rcv.URL),
				sendbeetest.WithWebhookEvents(sendbeetest.EventMessageReceived),
				sendbeetest.WithRateLimit(6000, time.Minute))
			sb, err := sendbee.New(sendbee.AdapterConfig{Config: sendbee.Config{
				APIKey: emu.APIKey(), APISecret: emu.APISecret(), BaseURL: emu.URL(), Logger: bottest.Logger(t),
			}, RequestsPerMinute: 6000})
			require.NoError(t, err)
			adapter.Store(sb)

			srv := startServer(t, t.TempDir())
			_, js := connect(t, srv)
			br, err := jetstream.NewBroker(t.Context(), js, jetstream.WithBrokerLogger(bottest.Logger(t)))
			require.NoError(t, err)
			store, err := jetstream.NewStore(t.Context(), js, "state")
			require.NoError(t, err)
			b, err := bot.New(bot.WithAdapters(sb), bot.WithBroker(br), bot.WithStore(store),
				bot.WithLogger(bottest.Logger(t)), bot.WithOutbox(bot.OutboxConfig{BaseBackoff: 20 * time.Millisecond}))
			require.NoError(t, err)
			b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
				if m.Kind.Or() != bot.KindMessage {
					return nil
				}
				tt.fault(emu) // the reply's request is the next one
				return w.Send(ctx, m.Reply("echo: "+m.Text))
			}))
			stop := bottest.Run(t, b)
			emu.CustomerMessage("+385911234567", "Ana", "hello")
			require.Eventually(t, func() bool { st := b.Stats(); return st.Sent+st.Confirmed == 1 },
				10*time.Second, time.Millisecond)
			require.NoError(t, stop())

			sent := emu.Sent()
			require.Len(t, sent, 1, "exactly one reply on the platform")
			assert.Equal(t, "echo: hello", sent[0].Text)
			dl, err := b.DeadLetters(t.Context())
			require.NoError(t, err)
			assert.Empty(t, dl)
			assert.Equal(t, tt.wantConfirmed, b.Stats().Confirmed)
		})
	}
}

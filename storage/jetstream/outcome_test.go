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

// hangingAdapter is a FakeAdapter whose first Send hangs until its ctx
// ends, as a send to a platform that does not answer does.
type hangingAdapter struct {
	*bottest.FakeAdapter
	calls atomic.Int32
	hung  chan struct{} // closed when the first Send hangs
}

func (a *hangingAdapter) Send(ctx context.Context, m *bot.Message) (bot.SendResult, error) {
	if a.calls.Add(1) == 1 {
		close(a.hung)
		<-ctx.Done()
		return bot.SendResult{}, ctx.Err()
	}
	return a.FakeAdapter.Send(ctx, m)
}

// A delivery cut short by the shutdown deadline stays in the outbound
// stream, to be taken again by the next run; it is not also a dead letter,
// which a Replay would send once more.
func TestBroker_deliveryCutShortIsTakenAgainNotDeadLettered(t *testing.T) {
	srv := startServer(t, t.TempDir())
	_, js := connect(t, srv)
	ctx := t.Context()
	br, err := jetstream.NewBroker(ctx, js, jetstream.WithBrokerLogger(bottest.Logger(t)))
	require.NoError(t, err)
	store, err := jetstream.NewStore(ctx, js, "state")
	require.NoError(t, err)

	ha := &hangingAdapter{FakeAdapter: bottest.NewFakeAdapter("fake"), hung: make(chan struct{})}
	b1, err := bot.New(bot.WithAdapters(ha), bot.WithBroker(br), bot.WithStore(store),
		bot.WithLogger(bottest.Logger(t)), bot.WithShutdownTimeout(200*time.Millisecond))
	require.NoError(t, err)
	stop1 := bottest.Run(t, b1)
	require.NoError(t, b1.Send(ctx, &bot.Message{Platform: "fake", Conversation: "c", Key: "k-cut", Text: "cut short"}))
	select {
	case <-ha.hung:
	case <-time.After(10 * time.Second):
		t.Fatal("the message was not delivered")
	}
	require.NoError(t, stop1())
	assert.Empty(t, deadLetters(t, b1), "still in the outbound stream: not a dead letter")

	fa2 := bottest.NewFakeAdapter("fake")
	b2, err := bot.New(bot.WithAdapters(fa2), bot.WithBroker(br), bot.WithStore(store), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	stop2 := bottest.Run(t, b2)
	fa2.WaitSent(t, 1)
	require.NoError(t, stop2())
	assert.Len(t, fa2.Sent(), 1, "delivered once by the next run")
	assert.Empty(t, deadLetters(t, b2))
}

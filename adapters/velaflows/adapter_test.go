package velaflows_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// receiver is the application's server with the adapter mounted at
// velaflows.WebhookPath; it exists before the adapter so that its URL can
// be registered.
type receiver struct {
	srv     *httptest.Server
	adapter atomic.Pointer[velaflows.Adapter]
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	mux := http.NewServeMux()
	mux.HandleFunc(velaflows.WebhookPath, func(w http.ResponseWriter, req *http.Request) {
		if a := r.adapter.Load(); a != nil {
			a.ServeHTTP(w, req)
			return
		}
		http.Error(w, "no adapter", http.StatusServiceUnavailable)
	})
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) url() string { return r.srv.URL + velaflows.WebhookPath }

type setup struct {
	emu *velaflowstest.Server
	vf  *velaflows.Adapter
	b   *bot.Bot
	rcv *receiver
}

// newSetup wires a Bot on the VelaFlows adapter to an emulator over
// loopback, registers the webhook with EnsureWebhook, and raises the write
// budget on both sides so that stories run quickly.
func newSetup(t *testing.T, emuOpts []velaflowstest.Option, botOpts ...bot.Option) *setup {
	t.Helper()
	rcv := newReceiver(t)
	emu := velaflowstest.NewServer(t, append([]velaflowstest.Option{
		velaflowstest.WithRetrySchedule(5*time.Millisecond, 10*time.Millisecond, 20*time.Millisecond, 40*time.Millisecond),
		velaflowstest.WithRateLimits(3000, 1000, 500, 15*time.Minute),
	}, emuOpts...)...)
	vf, err := velaflows.New(velaflows.AdapterConfig{Config: velaflows.Config{
		Token: emu.Token(), WorkspaceID: emu.WorkspaceID(), BaseURL: emu.URL(), Logger: bottest.Logger(t),
	}, WritesPer15Min: 1000 * 15 * 60}) // effectively unpaced in tests
	require.NoError(t, err)
	_, err = vf.EnsureWebhook(t.Context(), rcv.srv.URL)
	require.NoError(t, err)
	rcv.adapter.Store(vf)
	b, err := bot.New(append([]bot.Option{bot.WithAdapters(vf), bot.WithLogger(bottest.Logger(t))}, botOpts...)...)
	require.NoError(t, err)
	return &setup{emu: emu, vf: vf, b: b, rcv: rcv}
}

func echoRoutes(b *bot.Bot) {
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		if m.Kind.Or() != bot.KindMessage {
			return nil
		}
		return w.Send(ctx, m.Reply("echo: "+m.Text))
	}))
}

func owner(t *testing.T, b *bot.Bot, conv string) bot.Owner {
	t.Helper()
	o, err := b.Owner(t.Context(), velaflows.Name, conv)
	require.NoError(t, err)
	return o
}

func handled(t *testing.T, b *bot.Bot, n int64) {
	t.Helper()
	require.Eventually(t, func() bool { return b.Stats().Handled >= n }, 5*time.Second, time.Millisecond)
}

// The ownership story over real HTTP: the bot answers; an agent's
// assignment silences it; unassignment gives it back; closing does too.
func TestAdapter_OwnershipStory(t *testing.T) {
	s := newSetup(t, nil)
	echoRoutes(s.b)
	bottest.Run(t, s.b)

	conv, _ := s.emu.CustomerMessage("whatsapp", "Ada Lovelace", "+442071838750", "where is my parcel?")
	sent := s.emu.WaitSent(t, 1)
	assert.Equal(t, conv, sent[0].ConversationID)
	assert.Equal(t, "echo: where is my parcel?", sent[0].Content)
	assert.Equal(t, "text", sent[0].Type)
	assert.Equal(t, "content", sent[0].Field, "the reply uses the seed's body field")

	require.NoError(t, s.emu.Assign(conv, ""))
	require.Eventually(t, func() bool { return owner(t, s.b, conv) == bot.OwnerHuman }, 5*time.Second, time.Millisecond)
	before := s.b.Stats().Handled
	s.emu.CustomerMessage("whatsapp", "Ada Lovelace", "+442071838750", "hello?")
	handled(t, s.b, before+1)
	assert.Len(t, s.emu.Sent(), 1, "an agent owns the conversation: the bot is silent")

	require.NoError(t, s.emu.Unassign(conv))
	require.Eventually(t, func() bool { return owner(t, s.b, conv) == bot.OwnerBot }, 5*time.Second, time.Millisecond)
	s.emu.CustomerMessage("whatsapp", "Ada Lovelace", "+442071838750", "back to the bot")
	sent = s.emu.WaitSent(t, 2)
	assert.Equal(t, "echo: back to the bot", sent[1].Content)

	require.NoError(t, s.emu.Assign(conv, ""))
	require.Eventually(t, func() bool { return owner(t, s.b, conv) == bot.OwnerHuman }, 5*time.Second, time.Millisecond)
	require.NoError(t, s.emu.CloseConversation(conv))
	require.Eventually(t, func() bool { return owner(t, s.b, conv) == bot.OwnerBot }, 5*time.Second, time.Millisecond,
		"a closed conversation goes back to the bot")
}

// The same story with the docs' event spelling: the subscription is made
// for the names of VelaFlows' Python examples, and the emulator sends the
// docs' names.
func TestAdapter_DocsEventSpelling(t *testing.T) {
	s := newSetup(t, []velaflowstest.Option{velaflowstest.WithEventNaming(velaflowstest.NamingDocs)})
	echoRoutes(s.b)
	bottest.Run(t, s.b)
	conv, _ := s.emu.CustomerMessage("email", "Grace Hopper", "grace@example.com", "hi")
	sent := s.emu.WaitSent(t, 1)
	assert.Equal(t, "echo: hi", sent[0].Content)
	var sawDocs bool
	for _, d := range s.emu.Deliveries() {
		if strings.HasPrefix(d.EventType, "inbox.") {
			sawDocs = true
		}
	}
	assert.True(t, sawDocs, "deliveries used the docs' spelling")
	require.NoError(t, s.emu.Assign(conv, ""))
	require.Eventually(t, func() bool { return owner(t, s.b, conv) == bot.OwnerHuman }, 5*time.Second, time.Millisecond)
}

func TestAdapter_RedeliveryAnsweredOnce(t *testing.T) {
	s := newSetup(t, nil)
	echoRoutes(s.b)
	s.emu.DuplicateDeliveries(2)
	bottest.Run(t, s.b)
	s.emu.CustomerMessage("webchat", "Alan", "alan@example.com", "once")
	s.emu.WaitSent(t, 1)
	require.Eventually(t, func() bool { return s.b.Stats().Duplicates >= 2 }, 5*time.Second, time.Millisecond)
	assert.Len(t, s.emu.Sent(), 1)
}

// Deliveries that arrive before the Bot runs are refused with 503 and
// handled once it runs, because VelaFlows retries them.
func TestAdapter_503UntilRunning(t *testing.T) {
	s := newSetup(t, nil)
	echoRoutes(s.b)
	s.emu.CustomerMessage("sms", "Edsger", "+31201234567", "early")
	require.Eventually(t, func() bool {
		for _, d := range s.emu.Deliveries() {
			if d.StatusCode == http.StatusServiceUnavailable {
				return true
			}
		}
		return false
	}, 5*time.Second, time.Millisecond)
	assert.False(t, s.vf.Receiving(), "Receiving before Run")
	stop := bottest.Run(t, s.b)
	require.Eventually(t, s.vf.Receiving, 5*time.Second, time.Millisecond)
	sent := s.emu.WaitSent(t, 1)
	assert.Equal(t, "echo: early", sent[0].Content)
	require.NoError(t, stop())
	assert.False(t, s.vf.Receiving(), "Receiving after Run returned")
}

// EnsureWebhook registers once and reuses the subscription for the same
// URL afterwards, also with a newly generated secret.
func TestAdapter_EnsureWebhookReuses(t *testing.T) {
	s := newSetup(t, nil)
	subs := s.emu.Subscriptions()
	require.Len(t, subs, 1)
	assert.Equal(t, s.rcv.url(), subs[0].URL)
	assert.True(t, subs[0].HasSecret)
	assert.True(t, strings.HasPrefix(s.vf.WebhookSecret(), "whsec_"))

	// A restarted bot without a stored secret reuses the subscription and
	// gives it a new secret.
	vf2, err := velaflows.New(velaflows.AdapterConfig{Config: velaflows.Config{
		Token: s.emu.Token(), WorkspaceID: s.emu.WorkspaceID(), BaseURL: s.emu.URL(), Logger: bottest.Logger(t)}})
	require.NoError(t, err)
	sub, err := vf2.EnsureWebhook(t.Context(), s.rcv.srv.URL+"/")
	require.NoError(t, err)
	subs = s.emu.Subscriptions()
	require.Len(t, subs, 1, "no duplicate subscription")
	assert.Equal(t, subs[0].ID, sub.ID)
	assert.NotEqual(t, s.vf.WebhookSecret(), vf2.WebhookSecret())

	// The platform now signs with the new secret: a bot on vf2 answers.
	s.rcv.adapter.Store(vf2)
	b2, err := bot.New(bot.WithAdapters(vf2), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	echoRoutes(b2)
	bottest.Run(t, b2)
	s.emu.CustomerMessage("webchat", "Ada", "ada@example.com", "after the restart")
	assert.Equal(t, "echo: after the restart", s.emu.WaitSent(t, 1)[0].Content)

	// With a configured secret the subscription is kept as it is.
	vf3, err := velaflows.New(velaflows.AdapterConfig{Config: velaflows.Config{
		Token: s.emu.Token(), WorkspaceID: s.emu.WorkspaceID(), BaseURL: s.emu.URL()}, WebhookSecret: vf2.WebhookSecret()})
	require.NoError(t, err)
	_, err = vf3.EnsureWebhook(t.Context(), s.rcv.srv.URL)
	require.NoError(t, err)
	assert.Len(t, s.emu.Subscriptions(), 1)
	assert.Equal(t, vf2.WebhookSecret(), vf3.WebhookSecret())

	_, err = vf3.EnsureWebhook(t.Context(), "ftp://nope")
	assert.ErrorContains(t, err, "public URL")
}

func TestAdapter_RunNeedsASecret(t *testing.T) {
	emu := velaflowstest.NewServer(t)
	vf, err := velaflows.New(velaflows.AdapterConfig{Config: velaflows.Config{
		Token: emu.Token(), WorkspaceID: emu.WorkspaceID(), BaseURL: emu.URL()}})
	require.NoError(t, err)
	err = vf.Run(t.Context(), bot.PublisherFunc(func(context.Context, *bot.Message) error { return nil }))
	assert.ErrorContains(t, err, "VELAFLOWS_WEBHOOK_SECRET")
}

func TestAdapter_ServeHTTP(t *testing.T) {
	valid := `{"eventId":"evt_1","eventType":"conversation.message.received","timestamp":"` + time.Now().UTC().Format(time.RFC3339) + `",` +
		`"data":{"conversationId":"c1","message":{"_id":"m1","type":"text","text":"hi","sender":{"type":"contact","name":"A","phone":"+1"}}}}`
	now := time.Now().UTC().Format(time.RFC3339)
	old := strings.Replace(valid, now, "2020-01-01T00:00:00Z", 1)
	withTimestamp := func(ts string) string { return strings.Replace(valid, `"timestamp":"`+now+`",`, ts, 1) }
	future := withTimestamp(`"timestamp":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `",`)
	skewed := withTimestamp(`"timestamp":"` + time.Now().Add(time.Minute).UTC().Format(time.RFC3339) + `",`)
	// The envelope's timestamp is when the event occurred; a recent
	// createdAt does not make an old event new.
	oldCreatedNow := strings.Replace(old, `"text":"hi",`, `"text":"hi","createdAt":"`+now+`",`, 1)
	tests := []struct {
		name       string
		method     string
		body       string
		sign       func(secret, body string) string
		notRunning bool
		wantStatus int
		published  bool
	}{
		{name: "good signature", body: valid, wantStatus: http.StatusOK, published: true},
		{name: "missing signature", body: valid, sign: func(string, string) string { return "" }, wantStatus: http.StatusUnauthorized},
		{name: "wrong secret", body: valid, sign: func(_, b string) string { return velaflows.Sign("whsec_other", []byte(b)) }, wantStatus: http.StatusUnauthorized},
		{name: "body altered by one byte", body: valid, sign: func(s, b string) string {
			return velaflows.Sign(s, []byte(strings.Replace(b, `"hi"`, `"ho"`, 1)))
		}, wantStatus: http.StatusUnauthorized},
		{name: "signature without prefix", body: valid, sign: func(s, b string) string {
			return strings.TrimPrefix(velaflows.Sign(s, []byte(b)), "sha256=")
		}, wantStatus: http.StatusUnauthorized},
		{name: "wrong method", method: http.MethodGet, body: valid, wantStatus: http.StatusMethodNotAllowed},
		{name: "malformed json", body: `{"eventId":`, wantStatus: http.StatusBadRequest},
		{name: "unknown event", body: `{"eventId":"e","eventType":"broadcast.sent","data":{}}`, wantStatus: http.StatusOK},
		{name: "replayed old event", body: old, wantStatus: http.StatusOK},
		{name: "old event with a recent createdAt", body: oldCreatedNow, wantStatus: http.StatusOK},
		{name: "no timestamp", body: withTimestamp(""), wantStatus: http.StatusBadRequest},
		{name: "unreadable timestamp", body: withTimestamp(`"timestamp":"yesterday",`), wantStatus: http.StatusBadRequest},
		{name: "dated in the future", body: future, wantStatus: http.StatusBadRequest},
		{name: "within the clock skew", body: skewed, wantStatus: http.StatusOK, published: true},
		{name: "too large", body: `{"x":"` + strings.Repeat("y", 2<<20) + `"}`, wantStatus: http.StatusRequestEntityTooLarge},
		{name: "not running", body: valid, notRunning: true, wantStatus: http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu := velaflowstest.NewServer(t)
			const secret = "whsec_test_secret"
			vf, err := velaflows.New(velaflows.AdapterConfig{Config: velaflows.Config{
				Token: emu.Token(), WorkspaceID: emu.WorkspaceID(), BaseURL: emu.URL()}, WebhookSecret: secret})
			require.NoError(t, err)
			published := make(chan *bot.Message, 1)
			if !tt.notRunning {
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() {
					done <- vf.Run(ctx, bot.PublisherFunc(func(_ context.Context, m *bot.Message) error {
						published <- m
						return nil
					}))
				}()
				t.Cleanup(func() { cancel(); <-done })
				require.Eventually(t, func() bool {
					rec := httptest.NewRecorder()
					vf.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}")))
					return rec.Code == http.StatusUnauthorized
				}, 5*time.Second, time.Millisecond)
			}
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(method, velaflows.WebhookPath, strings.NewReader(tt.body))
			sig := velaflows.Sign(secret, []byte(tt.body))
			if tt.sign != nil {
				sig = tt.sign(secret, tt.body)
			}
			if sig != "" {
				req.Header.Set("X-Webhook-Signature", sig)
			}
			vf.ServeHTTP(rec, req)
			assert.Equal(t, tt.wantStatus, rec.Code)
			if tt.wantStatus == http.StatusServiceUnavailable {
				assert.NotEmpty(t, rec.Header().Get("Retry-After"))
			}
			if tt.published {
				m := <-published
				assert.Equal(t, "evt_1", m.ID)
				assert.Equal(t, "hi", m.Text)
			} else {
				assert.Empty(t, published)
			}
		})
	}
}

func TestAdapter_Conformance(t *testing.T) {
	bottest.TestAdapter(t, bottest.Features{}, func(t *testing.T) bottest.Harness {
		rcv := newReceiver(t)
		emu := velaflowstest.NewServer(t, velaflowstest.WithRetrySchedule(5*time.Millisecond, 10*time.Millisecond))
		vf, err := velaflows.New(velaflows.AdapterConfig{Config: velaflows.Config{
			Token: emu.Token(), WorkspaceID: emu.WorkspaceID(), BaseURL: emu.URL(), Logger: bottest.Logger(t),
		}})
		require.NoError(t, err)
		// One customer, one conversation, made before the webhook is
		// registered so that its events are not delivered.
		conv, _ := emu.CustomerMessage("webchat", "Conformance", "conformance@example.com", "setup")
		_, err = vf.EnsureWebhook(t.Context(), rcv.srv.URL)
		require.NoError(t, err)
		rcv.adapter.Store(vf)
		base := len(emu.Sent())
		return bottest.Harness{
			Adapter:      vf,
			Conversation: conv,
			Inject: func(ctx context.Context, conversation, text string) error {
				emu.CustomerMessage("webchat", "Conformance", "conformance@example.com", text)
				return nil
			},
			InjectUnknown: func(ctx context.Context, conversation string) error {
				status := emu.Deliver(t, rcv.url(), vf.WebhookSecret(), "broadcast.sent", []byte(`{"eventId":"evt_x","eventType":"broadcast.sent","data":{}}`))
				assert.Equal(t, http.StatusOK, status)
				return nil
			},
			Sent: func() []bottest.SentMessage {
				var out []bottest.SentMessage
				for _, m := range emu.Sent()[base:] {
					out = append(out, bottest.SentMessage{Conversation: m.ConversationID, Text: m.Content})
				}
				return out
			},
			RateLimitNext: emu.RateLimitNext,
		}
	})
}

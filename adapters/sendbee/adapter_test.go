package sendbee_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// receiver is the application's HTTP server with the adapter mounted at
// /webhooks/sendbee. It exists before the adapter, because the emulator
// needs its URL and the adapter needs the emulator's.
type receiver struct {
	srv     *httptest.Server
	adapter atomic.Pointer[sendbee.Adapter]
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	mux := http.NewServeMux()
	mux.HandleFunc("/webhooks/sendbee", func(w http.ResponseWriter, req *http.Request) {
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

func (r *receiver) url() string { return r.srv.URL + "/webhooks/sendbee" }

// setup is a Bot on a Sendbee adapter, wired to an emulator over loopback.
type setup struct {
	emu  *sendbeetest.Server
	sb   *sendbee.Adapter
	b    *bot.Bot
	rcv  *receiver
	done sync.Map // IDs of the inbound messages the Bot has handled
}

// handledID waits until the Bot has handled the inbound message id: a
// count of handled messages can be reached by an ownership event still in
// flight from an earlier step instead.
func (s *setup) handledID(t *testing.T, id string) {
	t.Helper()
	require.Eventually(t, func() bool { _, ok := s.done.Load(id); return ok }, 5*time.Second, time.Millisecond,
		"message %s not handled", id)
}

// newSetup builds the setup. The platform's rate limit is raised from 60
// to 6,000 a minute on both sides so that the stories run quickly (the
// limit itself is tested on its own), and the emulator waits at most 50ms
// for a Retry-After before it delivers again.
func newSetup(t *testing.T, emuOpts []sendbeetest.Option, botOpts ...bot.Option) *setup {
	t.Helper()
	return newSetupWith(t, func(*sendbee.AdapterConfig) {}, emuOpts, botOpts...)
}

func newSetupWith(t *testing.T, tune func(*sendbee.AdapterConfig), emuOpts []sendbeetest.Option, botOpts ...bot.Option) *setup {
	t.Helper()
	rcv := newReceiver(t)
	emu := sendbeetest.NewServer(t, append([]sendbeetest.Option{
		sendbeetest.WithWebhook(rcv.url()),
		sendbeetest.WithRedelivery(20, 20*time.Millisecond),
		sendbeetest.WithRetryAfterCap(50 * time.Millisecond),
		sendbeetest.WithRateLimit(6000, time.Minute),
	}, emuOpts...)...)
	cfg := sendbee.AdapterConfig{Config: sendbee.Config{
		APIKey: emu.APIKey(), APISecret: emu.APISecret(), BaseURL: emu.URL(), Logger: bottest.Logger(t),
	}, RequestsPerMinute: 6000}
	tune(&cfg)
	sb, err := sendbee.New(cfg)
	require.NoError(t, err)
	rcv.adapter.Store(sb)
	s := &setup{emu: emu, sb: sb, rcv: rcv}
	b, err := bot.New(append([]bot.Option{bot.WithAdapters(sb), bot.WithLogger(bottest.Logger(t)),
		bot.WithHooks(bot.Hooks{Handled: func(_ context.Context, m *bot.Message, _ time.Duration, _ error) { s.done.Store(m.ID, true) }})},
		botOpts...)...)
	require.NoError(t, err)
	s.b = b
	return s
}

// supportRoutes: "agent" hands off with a reply, anything else is echoed.
func supportRoutes(b *bot.Bot) {
	b.Handle(bot.Command("agent"), bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		r := m.Reply("Connecting you to a colleague.")
		r.Handoff = true
		return w.Send(ctx, r)
	}))
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		if m.Kind.Or() != bot.KindMessage || m.Author.Agent {
			return nil
		}
		return w.Send(ctx, m.Reply("echo: "+m.Text))
	}))
}

// handled waits until the Bot has handled n inbound messages in all.
func handled(t *testing.T, b *bot.Bot, n int64) {
	t.Helper()
	require.Eventually(t, func() bool { return b.Stats().Handled >= n }, 5*time.Second, time.Millisecond,
		"handled %d, want %d", b.Stats().Handled, n)
}

func owner(t *testing.T, b *bot.Bot, conv string) bot.Owner {
	t.Helper()
	o, err := b.Owner(t.Context(), sendbee.Name, conv)
	require.NoError(t, err)
	return o
}

// The whole chatbot story over real HTTP: bot replies keep the platform
// chatbot on; a handoff reply turns it off and silences the bot; Resume
// turns it back on; a dashboard agent's reply hands the conversation to
// humans; the dashboard's switch gives it back.
func TestAdapter_OwnershipStory(t *testing.T) {
	s := newSetup(t, []sendbeetest.Option{sendbeetest.WithWebhookEvents("message.received", "message.sent", "chatbot.status")})
	supportRoutes(s.b)
	bottest.Run(t, s.b)
	const phone = "+385911234567"

	// 1. A customer writes; the bot answers with prevent_bot_off=true.
	conv, _ := s.emu.CustomerMessage(phone, "Ana", "hello")
	sent := s.emu.WaitSent(t, 1)
	assert.Equal(t, "echo: hello", sent[0].Text)
	require.NotNil(t, sent[0].PreventBotOff)
	assert.True(t, *sent[0].PreventBotOff)
	assert.Equal(t, conv, sent[0].ConversationID)
	assert.True(t, s.emu.ChatbotActive(conv), "an ordinary bot reply leaves the platform chatbot on")
	assert.Equal(t, bot.OwnerBot, owner(t, s.b, conv))

	// 2. The customer asks for a human; the handoff reply goes out without
	// the flag, so Sendbee switches its chatbot off.
	s.emu.CustomerMessage(phone, "Ana", "agent")
	sent = s.emu.WaitSent(t, 2)
	assert.Equal(t, "Connecting you to a colleague.", sent[1].Text)
	assert.Nil(t, sent[1].PreventBotOff, "a handoff reply leaves prevent_bot_off out")
	assert.False(t, s.emu.ChatbotActive(conv))
	require.Eventually(t, func() bool { return owner(t, s.b, conv) == bot.OwnerHuman }, 5*time.Second, time.Millisecond)

	// 3. The next customer message gets no bot reply.
	_, id := s.emu.CustomerMessage(phone, "Ana", "hello? anyone?")
	s.handledID(t, id)
	assert.Len(t, s.emu.Sent(), 2, "a human owns the conversation: the bot is silent")

	// 4. The application resumes: the platform chatbot is on again and the
	// bot answers.
	require.NoError(t, s.b.Resume(t.Context(), sendbee.Name, conv))
	assert.True(t, s.emu.ChatbotActive(conv))
	s.emu.CustomerMessage(phone, "Ana", "back")
	sent = s.emu.WaitSent(t, 3)
	assert.Equal(t, "echo: back", sent[2].Text)

	// 5. An agent replies from the dashboard: human-owned.
	_, err := s.emu.AgentReply(conv, "", "Hi Ana, Marko here.")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return owner(t, s.b, conv) == bot.OwnerHuman }, 5*time.Second, time.Millisecond)
	_, id = s.emu.CustomerMessage(phone, "Ana", "thanks Marko")
	s.handledID(t, id)
	assert.Len(t, s.emu.Sent(), 3, "after the agent's reply the bot is silent")

	// 6. The dashboard switches the chatbot back on: the bot answers again.
	require.NoError(t, s.emu.SetChatbot(conv, true))
	require.Eventually(t, func() bool { return owner(t, s.b, conv) == bot.OwnerBot }, 5*time.Second, time.Millisecond)
	s.emu.CustomerMessage(phone, "Ana", "bot again")
	sent = s.emu.WaitSent(t, 4)
	assert.Equal(t, "echo: bot again", sent[3].Text)
}

func TestAdapter_HandoffCallMirrorsToPlatform(t *testing.T) {
	s := newSetup(t, []sendbeetest.Option{sendbeetest.WithWebhookEvents("message.received")})
	supportRoutes(s.b)
	bottest.Run(t, s.b)
	conv, _ := s.emu.CustomerMessage("+385911111111", "Ivo", "hi")
	s.emu.WaitSent(t, 1)
	require.NoError(t, s.b.Handoff(t.Context(), sendbee.Name, conv))
	assert.False(t, s.emu.ChatbotActive(conv))
	o, err := s.sb.Owner(t.Context(), conv)
	require.NoError(t, err)
	assert.Equal(t, bot.OwnerHuman, o)
	assert.Equal(t, bot.OwnerHuman, owner(t, s.b, conv))
}

// A webhook delivered three times is handled and answered once.
func TestAdapter_RedeliveryAnsweredOnce(t *testing.T) {
	s := newSetup(t, []sendbeetest.Option{sendbeetest.WithWebhookEvents("message.received")})
	supportRoutes(s.b)
	s.emu.DuplicateDeliveries(2)
	bottest.Run(t, s.b)
	s.emu.CustomerMessage("+385912222222", "Eva", "once please")
	s.emu.WaitSent(t, 1)
	require.Eventually(t, func() bool { return s.b.Stats().Duplicates == 2 }, 5*time.Second, time.Millisecond)
	assert.Len(t, s.emu.Sent(), 1)
}

// Messages that arrive while the Bot is not running are refused with 503
// and handled once it runs, because Sendbee delivers them again.
func TestAdapter_503UntilRunning(t *testing.T) {
	s := newSetup(t, []sendbeetest.Option{sendbeetest.WithWebhookEvents("message.received")})
	supportRoutes(s.b)
	s.emu.CustomerMessage("+385913333333", "Lea", "early bird")
	require.Eventually(t, func() bool {
		for _, d := range s.emu.Deliveries() {
			if d.StatusCode == http.StatusServiceUnavailable {
				return true
			}
		}
		return false
	}, 5*time.Second, time.Millisecond)
	assert.False(t, s.sb.Receiving(), "Receiving before Run")
	stop := bottest.Run(t, s.b)
	require.Eventually(t, s.sb.Receiving, 5*time.Second, time.Millisecond)
	sent := s.emu.WaitSent(t, 1)
	assert.Equal(t, "echo: early bird", sent[0].Text)
	require.NoError(t, stop())
	assert.False(t, s.sb.Receiving(), "Receiving after Run returned")
}

func TestAdapter_ServeHTTP(t *testing.T) {
	valid := `{"id":"e1","type":"message.received","created_at":1714644903,"data":{"conversation_id":"c1","message_id":"m1","contact":{"id":"k","name":"A","phone":"+385"},"body":"hi","chatbot_active":true}}`
	tests := []struct {
		name       string
		method     string
		body       string
		token      func(secret string) string
		header     string
		notRunning bool
		wantStatus int
	}{
		{name: "ok", body: valid, wantStatus: http.StatusOK},
		{name: "fallback header name", body: valid, header: "X-Auth-Token", wantStatus: http.StatusOK},
		{name: "wrong method", method: http.MethodGet, body: valid, wantStatus: http.StatusMethodNotAllowed},
		{name: "no token", body: valid, token: func(string) string { return "" }, wantStatus: http.StatusUnauthorized},
		{name: "wrong secret", body: valid, token: func(string) string { return sendbee.Token("not-the-secret", time.Now()) }, wantStatus: http.StatusUnauthorized},
		{name: "expired token", body: valid, token: func(s string) string { return sendbee.Token(s, time.Now().Add(-16*time.Minute)) }, wantStatus: http.StatusUnauthorized},
		{name: "garbage token", body: valid, token: func(string) string { return "!!!" }, wantStatus: http.StatusUnauthorized},
		{name: "malformed json", body: `{"type":`, wantStatus: http.StatusBadRequest},
		{name: "missing conversation", body: `{"id":"e","type":"message.received","data":{"message_id":"m"}}`, wantStatus: http.StatusBadRequest},
		{name: "unknown event type", body: `{"id":"e","type":"contact.created","data":{}}`, wantStatus: http.StatusOK},
		{name: "too large", body: `{"id":"e","type":"message.received","data":{"body":"` + strings.Repeat("x", 2<<20) + `"}}`, wantStatus: http.StatusRequestEntityTooLarge},
		{name: "not running", body: valid, notRunning: true, wantStatus: http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, nil)
			published := make(chan *bot.Message, 1)
			if !tt.notRunning {
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() {
					done <- s.sb.Run(ctx, bot.PublisherFunc(func(_ context.Context, m *bot.Message) error {
						published <- m
						return nil
					}))
				}()
				t.Cleanup(func() { cancel(); <-done })
				waitRunning(t, s.sb)
			}
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req, err := http.NewRequestWithContext(t.Context(), method, s.rcv.url(), strings.NewReader(tt.body))
			require.NoError(t, err)
			token := sendbee.Token(s.emu.APISecret(), time.Now())
			if tt.token != nil {
				token = tt.token(s.emu.APISecret())
			}
			header := "X-Authorization"
			if tt.header != "" {
				header = tt.header
			}
			req.Header.Set(header, token)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			if tt.wantStatus == http.StatusServiceUnavailable {
				assert.NotEmpty(t, resp.Header.Get("Retry-After"))
			}
			if tt.name == "ok" || tt.name == "fallback header name" {
				m := <-published
				assert.Equal(t, "m1", m.ID)
				assert.Equal(t, "hi", m.Text)
			} else {
				assert.Empty(t, published, "nothing is published for a refused or ignored request")
			}
		})
	}
}

// waitRunning waits until the adapter serves webhooks (its Run has
// started): a request without a token gets 401 rather than 503.
func waitRunning(t *testing.T, a *sendbee.Adapter) {
	t.Helper()
	require.Eventually(t, func() bool {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}")))
		return rec.Code == http.StatusUnauthorized
	}, 5*time.Second, time.Millisecond)
}

// A full queue gets 503 + Retry-After, and the platform's redelivery is
// handled once the queue drains: nothing is lost.
func TestAdapter_BusFullIs503(t *testing.T) {
	s := newSetupWith(t, func(c *sendbee.AdapterConfig) { c.PublishTimeout = 50 * time.Millisecond },
		[]sendbeetest.Option{sendbeetest.WithWebhookEvents("message.received")},
		bot.WithWorkers(1), bot.WithQueueSize(1))
	gate := make(chan struct{})
	var got atomic.Int64
	s.b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		<-gate
		got.Add(1)
		return nil
	}))
	bottest.Run(t, s.b)
	for i := range 4 {
		s.emu.CustomerMessage("+38591444444"+string(rune('0'+i)), "C", "queued")
	}
	require.Eventually(t, func() bool {
		for _, d := range s.emu.Deliveries() {
			if d.StatusCode == http.StatusServiceUnavailable {
				return true
			}
		}
		return false
	}, 15*time.Second, 5*time.Millisecond, "a full queue must answer 503")
	close(gate)
	require.Eventually(t, func() bool { return got.Load() == 4 }, 15*time.Second, time.Millisecond)
}

func TestAdapter_Conformance(t *testing.T) {
	bottest.TestAdapter(t, bottest.Features{}, func(t *testing.T) bottest.Harness {
		rcv := newReceiver(t)
		// The harness sends before any customer message, which WhatsApp's
		// 24-hour window would refuse.
		emu := sendbeetest.NewServer(t, sendbeetest.WithWebhook(rcv.url()), sendbeetest.WithoutServiceWindow(),
			sendbeetest.WithWebhookEvents("message.received"), sendbeetest.WithRedelivery(5, 20*time.Millisecond))
		sb, err := sendbee.New(sendbee.AdapterConfig{Config: sendbee.Config{
			APIKey: emu.APIKey(), APISecret: emu.APISecret(), BaseURL: emu.URL(), Logger: bottest.Logger(t),
		}})
		require.NoError(t, err)
		rcv.adapter.Store(sb)
		// Sendbee has one conversation per contact, created by the platform;
		// make it with a first send, which the harness then leaves out.
		const phone = "+385915555555"
		_, _, err = sb.Client().SendMessage(t.Context(), sendbee.SendMessageRequest{Phone: phone, Text: "setup", PreventBotOff: sendbee.Bool(true)})
		require.NoError(t, err)
		c, ok := emu.ConversationByPhone(phone)
		require.True(t, ok)
		base := len(emu.Sent())
		return bottest.Harness{
			Adapter:      sb,
			Conversation: c.ID,
			Inject: func(ctx context.Context, conversation, text string) error {
				emu.CustomerMessage(phone, "Conformance", text)
				return nil
			},
			InjectUnknown: func(ctx context.Context, conversation string) error {
				status := emu.Deliver(t, rcv.url(), []byte(`{"id":"x1","type":"contact.created","data":{"id":"k"}}`))
				assert.Equal(t, http.StatusOK, status)
				return nil
			},
			Sent: func() []bottest.SentMessage {
				var out []bottest.SentMessage
				for _, m := range emu.Sent()[base:] {
					out = append(out, bottest.SentMessage{Conversation: m.ConversationID, Text: m.Text})
				}
				return out
			},
			RateLimitNext: emu.RateLimitNext,
		}
	})
}

// Templates and media go out through the Bot like text, with the same
// chatbot semantics.
func TestAdapter_SendTemplateAndMedia(t *testing.T) {
	s := newSetup(t, []sendbeetest.Option{sendbeetest.WithWebhookEvents("message.received")})
	s.b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		tpl := m.Reply("")
		tpl.Payload = sendbee.Template{Keyword: "welcome", Language: "en", Tags: map[string]string{"1": m.Author.Name}}
		if err := w.Send(ctx, tpl); err != nil {
			return err
		}
		media := m.Reply("your receipt")
		media.Attachments = []bot.Attachment{{Kind: "document", URL: "https://files.example.com/receipt.pdf"}}
		return w.Send(ctx, media)
	}))
	bottest.Run(t, s.b)
	s.emu.CustomerMessage("+385916666666", "Ana", "hi")
	sent := s.emu.WaitSent(t, 2)
	assert.Equal(t, "welcome", sent[0].TemplateKeyword)
	assert.Equal(t, "en", sent[0].TemplateLanguage)
	assert.Equal(t, map[string]string{"1": "Ana"}, sent[0].TemplateTags)
	require.NotNil(t, sent[0].PreventBotOff)
	assert.True(t, *sent[0].PreventBotOff)
	assert.Equal(t, "https://files.example.com/receipt.pdf", sent[1].MediaURL)
	assert.Equal(t, "your receipt", sent[1].Text)
	assert.True(t, sent[1].ChatbotActive)
}

// A template the platform rejects ends in the dead-letter list with the
// platform's validation error, and nothing is retried.
func TestAdapter_RejectedSendIsDeadLettered(t *testing.T) {
	s := newSetup(t, []sendbeetest.Option{sendbeetest.WithWebhookEvents("message.received")})
	s.b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		r := m.Reply("")
		r.Payload = sendbee.Template{Keyword: "no_such_template", Language: "en"}
		return w.Send(ctx, r)
	}))
	bottest.Run(t, s.b)
	s.emu.CustomerMessage("+385917777777", "Ana", "hi")
	var dls []bot.DeadLetter
	require.Eventually(t, func() bool {
		dls, _ = s.b.DeadLetters(context.Background())
		return len(dls) == 1
	}, 5*time.Second, time.Millisecond)
	dl := dls[0]
	var apiErr *sendbee.APIError
	require.ErrorAs(t, dl.Err, &apiErr)
	assert.GreaterOrEqual(t, apiErr.StatusCode, 400)
	assert.Less(t, apiErr.StatusCode, 500)
	assert.Equal(t, 1, dl.Attempts)
	assert.Empty(t, s.emu.Sent())
}

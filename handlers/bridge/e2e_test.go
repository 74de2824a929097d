package bridge_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/handlers/bridge"
)

// receiver is the application's HTTP server with the Sendbee adapter
// mounted at /webhooks/sendbee. It exists before the adapter, because the
// emulator needs its URL and the adapter needs the emulator's.
type receiver struct {
	srv     *httptest.Server
	adapter atomic.Pointer[sendbee.Adapter]
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/sendbee", func(w http.ResponseWriter, req *http.Request) {
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

// handledLog records, through router-wide middleware, every message whose
// handling has finished, as "<platform>: <text>".
type handledLog struct {
	mu   sync.Mutex
	done []string
}

func (l *handledLog) middleware(next bot.Handler) bot.Handler {
	return bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		err := next.HandleMessage(ctx, w, m)
		l.mu.Lock()
		l.done = append(l.done, m.Platform+": "+m.Text)
		l.mu.Unlock()
		return err
	})
}

func (l *handledLog) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Contains(l.done, s)
}

// The whole story over real HTTP and SSE: a Bot with the Sendbee adapter
// (webhooks from the Sendbee emulator) and the Flowdock adapter (streaming
// from the Flowdock emulator), the bridge, and a fallback that echoes
// customers.
func TestBridge_EndToEnd(t *testing.T) {
	const (
		phone   = "+385911234567"
		ana     = "Ana Horvat"
		heading = "[sendbee] Ana Horvat (+385911234567): "
	)
	fdEmu := flowdocktest.NewServer(t, flowdocktest.WithoutDemoData(),
		flowdocktest.WithUsers(flowdocktest.User{ID: 1305, Nick: "dana", Name: "Dana Scully"}),
		flowdocktest.WithFlows(flowdocktest.Flow{Org: "acme", Name: "support"}))
	flow := fdEmu.FlowID("acme/support")
	fd, err := flowdock.New(flowdock.AdapterConfig{
		Config: flowdock.Config{Token: fdEmu.Token(), BaseURL: fdEmu.URL(), Logger: bottest.Logger(t)},
		Stream: flowdock.StreamConfig{URL: fdEmu.StreamURL(), IdleTimeout: 2 * time.Second,
			MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond},
	})
	require.NoError(t, err)

	rcv := newReceiver(t)
	sbEmu := sendbeetest.NewServer(t, sendbeetest.WithoutDemoData(),
		sendbeetest.WithWebhook(rcv.srv.URL+"/webhooks/sendbee"),
		sendbeetest.WithRedelivery(20, 20*time.Millisecond),
		sendbeetest.WithRetryAfterCap(50*time.Millisecond),
		sendbeetest.WithRateLimit(6000, time.Minute))
	sb, err := sendbee.New(sendbee.AdapterConfig{Config: sendbee.Config{
		APIKey: sbEmu.APIKey(), APISecret: sbEmu.APISecret(), BaseURL: sbEmu.URL(), Logger: bottest.Logger(t),
	}, RequestsPerMinute: 6000})
	require.NoError(t, err)
	rcv.adapter.Store(sb)

	b, err := bot.New(bot.WithAdapters(sb, fd), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	var handled handledLog
	b.Use(handled.middleware)
	require.NoError(t, bridge.Handler{Team: bridge.Team{Conversation: flow}}.Install(b))
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		if m.Platform != sendbee.Name || m.Kind.Or() != bot.KindMessage || m.Author.Agent {
			return nil
		}
		return w.Send(ctx, m.Reply("echo: "+m.Text))
	}))
	bottest.Run(t, b)
	require.Eventually(t, func() bool { return fd.Health().Connected }, 5*time.Second, time.Millisecond)
	ctx := t.Context()
	owner := func(conv string) bot.Owner {
		o, err := b.Owner(ctx, sendbee.Name, conv)
		require.NoError(t, err)
		return o
	}

	// 1. A customer writes on Sendbee: a new thread starts in the team
	// flow, and the bot answers the customer.
	conv, _ := sbEmu.CustomerMessage(phone, ana, "Is the shop open today?")
	team := fdEmu.WaitSent(t, 1)
	assert.Equal(t, heading+"Is the shop open today?", team[0].Content)
	assert.Equal(t, "/flows/:org/:flow/messages", team[0].Endpoint)
	thread := team[0].ThreadID
	require.NotEmpty(t, thread)
	customer := sbEmu.WaitSent(t, 1)
	assert.Equal(t, "echo: Is the shop open today?", customer[0].Text)

	raw, err := b.Store().Get(ctx, "bridge:thread:sendbee:"+conv)
	require.NoError(t, err)
	assert.JSONEq(t, `{"flow":"`+flow+`","thread":"`+thread+`"}`, string(raw))
	raw, err = b.Store().Get(ctx, "bridge:customer:"+flow+":"+thread)
	require.NoError(t, err)
	assert.JSONEq(t, `{"platform":"sendbee","conversation":"`+conv+`"}`, string(raw))

	// 2. Her second message lands in the same thread.
	sbEmu.CustomerMessage(phone, ana, "Do you have oat milk?")
	team = fdEmu.WaitSent(t, 2)
	assert.Equal(t, heading+"Do you have oat milk?", team[1].Content)
	assert.Equal(t, thread, team[1].ThreadID)
	customer = sbEmu.WaitSent(t, 2)
	assert.Equal(t, "echo: Do you have oat milk?", customer[1].Text)

	// 3. Dana answers in the thread: the conversation becomes human-owned
	// (the Sendbee chatbot is switched off) and her words reach Ana.
	_, err = fdEmu.Post("acme/support", "dana", "Hi Ana, we do! Open until 8pm.", flowdocktest.InThread(thread))
	require.NoError(t, err)
	customer = sbEmu.WaitSent(t, 3)
	assert.Equal(t, "Hi Ana, we do! Open until 8pm.", customer[2].Text)
	assert.Equal(t, conv, customer[2].ConversationID)
	require.NotNil(t, customer[2].PreventBotOff)
	assert.True(t, *customer[2].PreventBotOff, "a relay is an ordinary send")
	assert.False(t, customer[2].ChatbotActive, "the chatbot was off before the relay went out")
	assert.False(t, sbEmu.ChatbotActive(conv))
	assert.Equal(t, bot.OwnerHuman, owner(conv))
	team = fdEmu.WaitSent(t, 3)
	assert.Equal(t, "dana took over: the bot is quiet in this conversation. Write /bot to give it back.", team[2].Content)
	assert.Equal(t, thread, team[2].ThreadID)

	// 4. Ana writes again: the team sees it, the bot does not answer. Once
	// her message is handled, Dana's next words follow any reply of the bot
	// in the conversation's outbound lane, so the absence of an echo before
	// them is proof.
	sbEmu.CustomerMessage(phone, ana, "Great, thanks!")
	team = fdEmu.WaitSent(t, 4)
	assert.Equal(t, heading+"Great, thanks!", team[3].Content)
	assert.Equal(t, thread, team[3].ThreadID)
	require.Eventually(t, func() bool { return handled.has("sendbee: Great, thanks!") }, 5*time.Second, time.Millisecond)
	_, err = fdEmu.Post("acme/support", "dana", "You're welcome!", flowdocktest.InThread(thread))
	require.NoError(t, err)
	customer = sbEmu.WaitSent(t, 4)
	require.Len(t, customer, 4, "the bot no longer answers Ana")
	assert.Equal(t, "You're welcome!", customer[3].Text)
	assert.False(t, sbEmu.ChatbotActive(conv))
	assert.Equal(t, int64(0), b.Stats().Suppressed, "the bot's routes did not even run")

	// 5. "/resume" in the thread gives Ana back to the bot and switches the
	// Sendbee chatbot on again; the command is not sent to her.
	_, err = fdEmu.Post("acme/support", "dana", "/resume", flowdocktest.InThread(thread))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return sbEmu.ChatbotActive(conv) }, 5*time.Second, time.Millisecond)
	team = fdEmu.WaitSent(t, 5)
	assert.Equal(t, "The bot answers this customer again.", team[4].Content)
	assert.Equal(t, thread, team[4].ThreadID)
	assert.Equal(t, bot.OwnerBot, owner(conv))

	// 6. The bot answers her again, and the team still sees her.
	sbEmu.CustomerMessage(phone, ana, "One more thing")
	customer = sbEmu.WaitSent(t, 5)
	require.Len(t, customer, 5)
	assert.Equal(t, "echo: One more thing", customer[4].Text)
	team = fdEmu.WaitSent(t, 6)
	assert.Equal(t, heading+"One more thing", team[5].Content)
	assert.Equal(t, thread, team[5].ThreadID)

	// The flow holds one thread: Ana's. The bot's posts were not bridged
	// back as agent messages (nothing but Dana's two answers reached Ana).
	threads := map[string]bool{}
	for _, m := range fdEmu.Messages("acme/support") {
		threads[m.ThreadID] = true
	}
	assert.Equal(t, map[string]bool{thread: true}, threads)
	var relayed []string
	for _, s := range sbEmu.Sent() {
		relayed = append(relayed, s.Text)
	}
	assert.Equal(t, []string{"echo: Is the shop open today?", "echo: Do you have oat milk?",
		"Hi Ana, we do! Open until 8pm.", "You're welcome!", "echo: One more thing"}, relayed)
	dl, err := b.DeadLetters(t.Context())
	require.NoError(t, err)
	assert.Empty(t, dl)
}

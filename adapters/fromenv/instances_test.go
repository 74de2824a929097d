package fromenv_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/fromenv"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// Bad settings of the instances: each is an error naming the variable to
// fix, and nothing is built.
func TestBuild_instancesBadInput(t *testing.T) {
	const ws = "64f1a2b3c4d5e6f7a8b9c0d1"
	gone := closedURL(t)
	tests := []struct {
		name string
		env  map[string]string
		want string // the error, as a regular expression
	}{
		{
			name: "listed without credentials",
			env:  map[string]string{"SENDBEE_INSTANCES": "acme"},
			want: `^SENDBEE_INSTANCES lists "acme", but SENDBEE_ACME_API_KEY and SENDBEE_ACME_API_SECRET are not set$`,
		},
		{
			name: "key without secret",
			env:  map[string]string{"SENDBEE_INSTANCES": "acme", "SENDBEE_ACME_API_KEY": "k"},
			want: `^SENDBEE_ACME_API_KEY is set but SENDBEE_ACME_API_SECRET is not$`,
		},
		{
			name: "secret without key, a name with a dash",
			env:  map[string]string{"SENDBEE_INSTANCES": "eu-shop", "SENDBEE_EU_SHOP_API_SECRET": "s"},
			want: `^SENDBEE_EU_SHOP_API_SECRET is set but SENDBEE_EU_SHOP_API_KEY is not$`,
		},
		{
			name: "invalid name",
			env:  map[string]string{"SENDBEE_INSTANCES": "Acme"},
			want: `^SENDBEE_INSTANCES: bot: instance name "Acme": only a-z`,
		},
		{
			name: "a slash in a name",
			env:  map[string]string{"VELAFLOWS_INSTANCES": "eu/1"},
			want: `^VELAFLOWS_INSTANCES: bot: instance name "eu/1"`,
		},
		{
			name: "listed twice",
			env:  map[string]string{"SENDBEE_INSTANCES": "acme, globex,acme"},
			want: `^SENDBEE_INSTANCES: instance "acme" is listed twice$`,
		},
		{
			name: "two names, the same variables",
			env:  map[string]string{"SENDBEE_INSTANCES": "a-b,a_b"},
			want: `^SENDBEE_INSTANCES: instances "a-b" and "a_b" would both be configured by SENDBEE_A_B_…$`,
		},
		{
			name: "bad rate limit",
			env: map[string]string{"SENDBEE_INSTANCES": "acme", "SENDBEE_ACME_API_KEY": "k", "SENDBEE_ACME_API_SECRET": "s",
				"SENDBEE_ACME_RATE_LIMIT": "fast"},
			want: `^SENDBEE_ACME_RATE_LIMIT="fast": want a positive whole number$`,
		},
		{
			name: "workspace listed without credentials",
			env:  map[string]string{"VELAFLOWS_INSTANCES": "eu"},
			want: `^VELAFLOWS_INSTANCES lists "eu", but VELAFLOWS_EU_API_TOKEN and VELAFLOWS_EU_WORKSPACE_ID are not set$`,
		},
		{
			name: "token without workspace",
			env:  map[string]string{"VELAFLOWS_INSTANCES": "eu", "VELAFLOWS_EU_API_TOKEN": "sk_test_x"},
			want: `^VELAFLOWS_EU_API_TOKEN is set but VELAFLOWS_EU_WORKSPACE_ID is not$`,
		},
		{
			name: "workspace without token",
			env:  map[string]string{"VELAFLOWS_INSTANCES": "eu", "VELAFLOWS_EU_WORKSPACE_ID": ws},
			want: `^VELAFLOWS_EU_WORKSPACE_ID is set but VELAFLOWS_EU_API_TOKEN is not$`,
		},
		{
			name: "workspace without a secret or a public URL",
			env:  map[string]string{"VELAFLOWS_INSTANCES": "eu", "VELAFLOWS_EU_API_TOKEN": "sk_test_x", "VELAFLOWS_EU_WORKSPACE_ID": ws},
			want: `VELAFLOWS_EU_WEBHOOK_SECRET \(the secret of one you registered\)$`,
		},
		{
			name: "workspace API not answering",
			env: map[string]string{"VELAFLOWS_INSTANCES": "eu", "VELAFLOWS_EU_API_TOKEN": "sk_test_x", "VELAFLOWS_EU_WORKSPACE_ID": ws,
				"VELAFLOWS_EU_BASE_URL": gone, "PARLEY_PUBLIC_URL": "http://127.0.0.1:8080"},
			want: `^VELAFLOWS_EU_BASE_URL=` + gone + `: no answer from the VelaFlows API \(VELAFLOWS_INSTANCES lists "eu"\): `,
		},
		{
			name: "flowdock listed without a token",
			env:  map[string]string{"FLOWDOCK_INSTANCES": "team-b", "FLOWDOCK_TEAM_B_FLOWS": "acme/main"},
			want: `^FLOWDOCK_INSTANCES lists "team-b", but FLOWDOCK_TEAM_B_API_TOKEN is not set$`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := fromenv.Build(t.Context(), func(k string) string { return tt.env[k] }, bottest.Logger(t))
			require.Error(t, err)
			assert.Nil(t, p)
			assert.Regexp(t, tt.want, err.Error())
			assert.NotContains(t, err.Error(), "sk_test_x")
		})
	}
}

// accounts is one bot served for two Sendbee numbers ("sendbee/acme",
// "sendbee/globex") and two VelaFlows workspaces (the default
// "velaflows", "velaflows/eu"), the numbers accounts of one Sendbee
// emulator and the workspaces of one VelaFlows emulator, built and run by
// fromenv from the environment.
type accounts struct {
	acme, globex *sendbeetest.Server
	vfMain, vfEU *velaflowstest.Server
	b            *bot.Bot
	public       string // the webhooks' address
	admin        string // the admin address

	mu    sync.Mutex
	fired map[string]int // "<adapter> <rule>" → times a rule fired
}

func (a *accounts) fire(m *bot.Message, rule string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fired[m.Platform+" "+rule]++
}

func (a *accounts) firedCounts() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]int{}
	for k, v := range a.fired {
		out[k] = v
	}
	return out
}

func newAccounts(t *testing.T) *accounts {
	t.Helper()
	a := &accounts{public: freeAddr(t), admin: freeAddr(t), fired: map[string]int{}}
	sendbeeHost := sendbeetest.NewHost(t)
	sendbeeEmu := func(name, key string) *sendbeetest.Server {
		s, err := sendbeeHost.Add(name,
			sendbeetest.WithCredentials(key, "secret-"+key),
			sendbeetest.WithWebhook("http://"+a.public+"/webhooks/sendbee/"+name),
			sendbeetest.WithWebhookEvents("message.received"),
			sendbeetest.WithRedelivery(50, 20*time.Millisecond),
			sendbeetest.WithRetryAfterCap(50*time.Millisecond),
			sendbeetest.WithRateLimit(6000, time.Minute))
		require.NoError(t, err)
		return s
	}
	a.acme, a.globex = sendbeeEmu("acme", "key-acme"), sendbeeEmu("globex", "key-globex")
	vfHost := velaflowstest.NewHost(t)
	vfEmu := func(name, token string) *velaflowstest.Server {
		s, err := vfHost.Add(name,
			velaflowstest.WithCredentials(token, ""),
			velaflowstest.WithRetrySchedule(20*time.Millisecond, 20*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond),
			velaflowstest.WithRateLimits(3000, 1000, 500, 15*time.Minute))
		require.NoError(t, err)
		return s
	}
	a.vfMain, a.vfEU = vfEmu("main", "sk_test_main"), vfEmu("eu", "sk_test_eu")
	require.Equal(t, a.acme.URL(), a.globex.URL(), "one Sendbee emulator")
	require.Equal(t, a.vfMain.URL(), a.vfEU.URL(), "one VelaFlows emulator")
	env := map[string]string{
		"PARLEY_ADDR":       a.public,
		"PARLEY_ADMIN_ADDR": a.admin,
		"PARLEY_PUBLIC_URL": "http://" + a.public,

		"SENDBEE_INSTANCES":         " acme, globex ",
		"SENDBEE_ACME_API_KEY":      a.acme.APIKey(),
		"SENDBEE_ACME_API_SECRET":   a.acme.APISecret(),
		"SENDBEE_ACME_BASE_URL":     a.acme.URL(),
		"SENDBEE_ACME_RATE_LIMIT":   "6000",
		"SENDBEE_GLOBEX_API_KEY":    a.globex.APIKey(),
		"SENDBEE_GLOBEX_API_SECRET": a.globex.APISecret(),
		"SENDBEE_GLOBEX_BASE_URL":   a.globex.URL(),
		"SENDBEE_GLOBEX_RATE_LIMIT": "6000",

		"VELAFLOWS_API_TOKEN":       a.vfMain.Token(),
		"VELAFLOWS_WORKSPACE_ID":    a.vfMain.WorkspaceID(),
		"VELAFLOWS_BASE_URL":        a.vfMain.URL(),
		"VELAFLOWS_INSTANCES":       "eu",
		"VELAFLOWS_EU_API_TOKEN":    a.vfEU.Token(),
		"VELAFLOWS_EU_WORKSPACE_ID": a.vfEU.WorkspaceID(),
		"VELAFLOWS_EU_BASE_URL":     a.vfEU.URL(),
	}
	getenv := func(k string) string { return env[k] }
	logger := bottest.Logger(t)
	p, err := fromenv.Build(t.Context(), getenv, logger)
	require.NoError(t, err)
	var summary bytes.Buffer
	p.Out = &summary
	names := make([]string, 0, len(p.Adapters))
	for _, ad := range p.Adapters {
		names = append(names, ad.Name())
	}
	require.Equal(t, []string{"sendbee/acme", "sendbee/globex", "velaflows", "velaflows/eu"}, names)

	b, err := bot.New(bot.WithAdapters(p.Adapters...), bot.WithLogger(logger), bot.WithHooks(p.Metrics.Hooks()),
		// The crafted conversations below exist on no emulator: no reading
		// of the platform's switch for them.
		bot.WithOwnerRecheck(time.Hour))
	require.NoError(t, err)
	a.b = b
	b.Handle(bot.MustExpr(`Adapter == "sendbee/acme"`), bot.HandlerFunc(func(_ context.Context, _ bot.Sender, m *bot.Message) error {
		a.fire(m, "adapter-acme")
		return bot.ErrContinue
	}), bot.Priority(2))
	b.Handle(bot.MustExpr(`Platform == "sendbee"`), bot.HandlerFunc(func(_ context.Context, _ bot.Sender, m *bot.Message) error {
		a.fire(m, "platform-sendbee")
		return bot.ErrContinue
	}), bot.Priority(1))
	b.HandleFunc(bot.Command("agent"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		r := m.Reply("Connecting you to a colleague.")
		r.Handoff = true
		return w.Send(ctx, r)
	})
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		if m.Kind.Or() != bot.KindMessage || m.Author.Agent {
			return nil
		}
		return w.Send(ctx, m.Reply("echo: "+m.Text))
	}))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fromenv.Run(ctx, b, p, getenv, logger) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10s of cancellation")
		}
	})
	// Every instance's route answers an unsigned request 401 once its
	// adapter runs (503 before).
	for _, path := range []string{"/webhooks/sendbee/acme", "/webhooks/sendbee/globex", "/webhooks/velaflows", "/webhooks/velaflows/eu"} {
		require.Eventually(t, func() bool {
			resp, err := http.Post("http://"+a.public+path, "application/json", strings.NewReader(`{}`))
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusUnauthorized
		}, 5*time.Second, 5*time.Millisecond, "%s is served", path)
	}
	require.Eventually(t, func() bool { return strings.Contains(summary.String(), "listening on") }, 5*time.Second, time.Millisecond)
	for _, line := range []string{
		"parley: serving sendbee/acme: API " + a.acme.URL() + "/, webhooks at /webhooks/sendbee/acme\n",
		"parley: serving sendbee/globex: API " + a.globex.URL() + "/, webhooks at /webhooks/sendbee/globex\n",
		"parley: serving velaflows: API " + a.vfMain.URL() + "/, webhooks at /webhooks/velaflows (subscribed for http://" + a.public + ")\n",
		"parley: serving velaflows/eu: API " + a.vfEU.URL() + "/, webhooks at /webhooks/velaflows/eu (subscribed for http://" + a.public + ")\n",
	} {
		assert.Contains(t, summary.String(), line)
	}
	return a
}

// texts returns the texts of a Sendbee emulator's sent messages.
func texts(sent []sendbeetest.SentMessage) []string {
	out := make([]string, 0, len(sent))
	for _, m := range sent {
		out = append(out, m.Text)
	}
	return out
}

// webhook is a Sendbee message.received event, as the platform delivers
// it, for a conversation and message ID chosen by the test: two numbers
// can then name the same conversation and event.
func webhook(conversation, messageID, phone, text string) []byte {
	return webhookAt(conversation, messageID, phone, text, time.Now())
}

// webhookAt is webhook of a message the customer sent at at.
func webhookAt(conversation, messageID, phone, text string, at time.Time) []byte {
	b, err := json.Marshal(map[string]any{
		"id": "evt_" + messageID, "type": "message.received", "business_id": "biz_1", "created_at": time.Now().Unix(),
		"data": map[string]any{
			"conversation_id": conversation, "message_id": messageID, "direction": "inbound", "body": text,
			"contact": map[string]any{"id": "ct_" + phone, "name": "Ana", "phone": phone},
			"sent_at": float64(at.UnixMilli()) / 1000,
		},
	})
	if err != nil {
		panic(err)
	}
	return b
}

// One bot for two Sendbee numbers and two VelaFlows workspaces: each
// customer is answered through their own account only; deduplication and
// ownership are per account even for the same IDs; rules see the
// instance apart from the platform; the metrics and the admin API show
// each account apart.
func TestRun_severalAccounts(t *testing.T) {
	a := newAccounts(t)
	const phone = "+385911234567"

	// 1. Each customer is answered through their own account only.
	a.acme.CustomerMessage(phone, "Ana", "hi acme")
	a.globex.CustomerMessage(phone, "Ana", "hi globex")
	a.vfMain.CustomerMessage("whatsapp", "Ada", "+442071838750", "hi main")
	a.vfEU.CustomerMessage("whatsapp", "Ada", "+442071838750", "hi eu")
	assert.Equal(t, []string{"echo: hi acme"}, texts(a.acme.WaitSent(t, 1)))
	assert.Equal(t, []string{"echo: hi globex"}, texts(a.globex.WaitSent(t, 1)))
	require.Equal(t, "echo: hi main", a.vfMain.WaitSent(t, 1)[0].Content)
	require.Equal(t, "echo: hi eu", a.vfEU.WaitSent(t, 1)[0].Content)

	// 2. The same conversation and event ID on both numbers: handled on
	// each, answered through each. A redelivery to one is handled once.
	const shared = "c0ffee00-1111-4222-8333-444455556666"
	acmeURL, globexURL := "http://"+a.public+"/webhooks/sendbee/acme", "http://"+a.public+"/webhooks/sendbee/globex"
	require.Equal(t, http.StatusOK, a.acme.Deliver(t, acmeURL, webhook(shared, "m-1", phone, "same")))
	require.Equal(t, http.StatusOK, a.globex.Deliver(t, globexURL, webhook(shared, "m-1", phone, "same")))
	assert.Equal(t, []string{"echo: hi acme", "echo: same"}, texts(a.acme.WaitSent(t, 2)))
	assert.Equal(t, []string{"echo: hi globex", "echo: same"}, texts(a.globex.WaitSent(t, 2)))
	before := a.b.Stats().Duplicates
	require.Equal(t, http.StatusOK, a.acme.Deliver(t, acmeURL, webhook(shared, "m-1", phone, "same")))
	require.Eventually(t, func() bool { return a.b.Stats().Duplicates == before+1 }, 5*time.Second, time.Millisecond)

	// 3. A handoff on acme's conversation leaves globex's conversation of
	// the same ID with the bot.
	require.Equal(t, http.StatusOK, a.acme.Deliver(t, acmeURL, webhook(shared, "m-2", phone, "agent")))
	assert.Equal(t, "Connecting you to a colleague.", a.acme.WaitSent(t, 3)[2].Text)
	require.Eventually(t, func() bool {
		o, err := a.b.Owner(t.Context(), "sendbee/acme", shared)
		return err == nil && o == bot.OwnerHuman
	}, 5*time.Second, time.Millisecond)
	o, err := a.b.Owner(t.Context(), "sendbee/globex", shared)
	require.NoError(t, err)
	assert.Equal(t, bot.OwnerBot, o)
	handled := a.b.Stats().Handled
	require.Equal(t, http.StatusOK, a.acme.Deliver(t, acmeURL, webhook(shared, "m-3", phone, "anyone?")))
	require.Equal(t, http.StatusOK, a.globex.Deliver(t, globexURL, webhook(shared, "m-3", phone, "anyone?")))
	assert.Equal(t, "echo: anyone?", a.globex.WaitSent(t, 3)[2].Text, "globex's conversation is the bot's")
	require.Eventually(t, func() bool { return a.b.Stats().Handled >= handled+2 }, 5*time.Second, time.Millisecond)
	assert.Len(t, a.acme.Sent(), 3, "acme's conversation is a human's: the bot is silent")

	// 4. A rule on the adapter fires on acme only; one on the platform on
	// both numbers, never on VelaFlows. acme's last message reached no
	// route: a human owns its conversation.
	assert.Equal(t, map[string]int{
		"sendbee/acme adapter-acme": 3, "sendbee/acme platform-sendbee": 3,
		"sendbee/globex platform-sendbee": 3,
	}, a.firedCounts())

	// 5. Windows and opt-outs are per account, for the same conversation
	// ID too: its customer wrote to globex 25 hours ago and to acme now,
	// and opted out on acme only.
	const other = "c0ffee00-1111-4222-8333-777777777777"
	const phone2 = "+385911000002"
	a.acme.CustomerMessage(phone2, "Ana", "hello") // acme's emulator knows the customer
	assert.Equal(t, "echo: hello", a.acme.WaitSent(t, 4)[3].Text)
	require.Equal(t, http.StatusOK, a.globex.Deliver(t, globexURL, webhookAt(other, "w-1", phone2, "old", time.Now().Add(-25*time.Hour))))
	require.Equal(t, http.StatusOK, a.acme.Deliver(t, acmeURL, webhook(other, "w-1", phone2, "STOP")))
	require.Eventually(t, func() bool {
		out, _, err := a.b.OptedOut(t.Context(), "sendbee/acme", other)
		w, werr := a.b.Window(t.Context(), "sendbee/globex", other)
		return err == nil && out && werr == nil && w.Applies && !w.Open
	}, 5*time.Second, time.Millisecond)
	w, err := a.b.Window(t.Context(), "sendbee/acme", other)
	require.NoError(t, err)
	assert.True(t, w.Open, "acme's window is open")
	out, _, err := a.b.OptedOut(t.Context(), "sendbee/globex", other)
	require.NoError(t, err)
	assert.False(t, out, "the customer opted out on acme only")
	news := func(platform string) *bot.Message {
		return &bot.Message{Platform: platform, Conversation: other, Text: "news"}
	}
	assert.ErrorIs(t, a.b.Send(t.Context(), news("sendbee/acme")), bot.ErrOptedOut)
	assert.ErrorIs(t, a.b.Send(t.Context(), news("sendbee/globex")), bot.ErrWindowClosed)
	assert.Equal(t, bot.DefaultOptOutReply, a.acme.WaitSent(t, 5)[4].Text, "the opt-out answered on acme")
	assert.Len(t, a.globex.Sent(), 3, "nothing more on globex")

	// 6. The metrics count each account apart. (A send is counted once
	// the platform's answer is in, after the emulator recorded it.)
	var metrics string
	require.Eventually(t, func() bool {
		metrics = getOK(t, "http://"+a.admin+"/metrics")
		return strings.Contains(metrics, `parley_outbound_sent_total{platform="sendbee/globex"} 3`+"\n") &&
			strings.Contains(metrics, `parley_handled_total{platform="sendbee/acme"} 6`+"\n") &&
			strings.Contains(metrics, `parley_outbound_sent_total{platform="sendbee/acme"} 5`+"\n")
	}, 5*time.Second, 5*time.Millisecond)
	for _, line := range []string{
		`parley_handled_total{platform="sendbee/acme"} 6`,
		`parley_handled_total{platform="sendbee/globex"} 4`,
		`parley_handled_total{platform="velaflows"} `,
		`parley_handled_total{platform="velaflows/eu"} `,
		`parley_inbound_duplicates_total{platform="sendbee/acme"} 1`,
		`parley_outbound_sent_total{platform="sendbee/acme"} 5`,
		`parley_outbound_sent_total{platform="sendbee/globex"} 3`,
		`parley_outbound_sent_total{platform="velaflows"} 1`,
		`parley_outbound_sent_total{platform="velaflows/eu"} 1`,
		`parley_ownership_changes_total{owner="human",platform="sendbee/acme",source=`,
	} {
		assert.Contains(t, metrics, line)
	}
	assert.NotContains(t, metrics, `parley_inbound_duplicates_total{platform="sendbee/globex"} 1`)
	assert.NotContains(t, metrics, `platform="sendbee"}`, "no series of a default Sendbee instance")

	// 7. The admin API names each account's conversations apart, and
	// addresses one by the instance's name, the slash escaped.
	var list struct {
		Conversations []struct{ Platform, Conversation string }
	}
	require.NoError(t, json.Unmarshal([]byte(getOK(t, "http://"+a.admin+"/admin/v1/conversations")), &list))
	var sharedOn []string
	for _, c := range list.Conversations {
		if c.Conversation == shared {
			sharedOn = append(sharedOn, c.Platform)
		}
	}
	assert.ElementsMatch(t, []string{"sendbee/acme", "sendbee/globex"}, sharedOn)
	// The window and the opt-out of one conversation ID on each number.
	type policy struct {
		Window *struct {
			Open     bool
			ClosesAt *time.Time `json:"closes_at"`
		}
		OptedOut *time.Time `json:"opted_out"`
	}
	var acme, globex policy
	require.NoError(t, json.Unmarshal([]byte(getOK(t, "http://"+a.admin+"/admin/v1/conversations/sendbee%2Facme/"+other)), &acme))
	require.NoError(t, json.Unmarshal([]byte(getOK(t, "http://"+a.admin+"/admin/v1/conversations/sendbee%2Fglobex/"+other)), &globex))
	require.NotNil(t, acme.Window)
	require.NotNil(t, globex.Window)
	assert.True(t, acme.Window.Open)
	assert.False(t, globex.Window.Open)
	assert.NotNil(t, acme.OptedOut)
	assert.Nil(t, globex.OptedOut)
	for platform, owner := range map[string]string{"sendbee/acme": "human", "sendbee/globex": "bot"} {
		var detail struct{ Platform, Conversation, Owner string }
		body := getOK(t, "http://"+a.admin+"/admin/v1/conversations/"+url.PathEscape(platform)+"/"+shared)
		require.NoError(t, json.Unmarshal([]byte(body), &detail), body)
		assert.Equal(t, platform, detail.Platform)
		assert.Equal(t, owner, detail.Owner, platform)
	}
}

// getOK returns the body of a GET of u, failing unless it is answered 200.
func getOK(t *testing.T, u string) string {
	t.Helper()
	code, body := get(t, u)
	require.Equal(t, http.StatusOK, code, "GET %s: %s", u, body)
	return body
}

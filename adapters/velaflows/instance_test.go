package velaflows_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

func TestNew_instance(t *testing.T) {
	const ws = "64f1a2b3c4d5e6f7a8b9c0d1"
	tests := []struct {
		name     string
		instance string
		token    string
		wantName string
		wantPath string
		wantErr  string
	}{
		{name: "default", instance: "", token: "sk_test_x", wantName: "velaflows", wantPath: "/webhooks/velaflows"},
		{name: "named", instance: "acme", token: "sk_test_x", wantName: "velaflows/acme", wantPath: "/webhooks/velaflows/acme"},
		{name: "invalid name", instance: "ACME", token: "sk_test_x", wantErr: `velaflows: AdapterConfig.Instance: bot: instance name "ACME"`},
		{name: "named without a token", instance: "acme", wantErr: `velaflows: instance "acme": Config.Token and Config.WorkspaceID are required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Set for the default instance, never read by a named one.
			t.Setenv(velaflows.EnvToken, "sk_test_default")
			a, err := velaflows.New(velaflows.AdapterConfig{Config: velaflows.Config{Token: tt.token, WorkspaceID: ws},
				Instance: tt.instance})
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				assert.Nil(t, a)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantName, a.Name())
			assert.Equal(t, tt.wantPath, a.WebhookPath())
		})
	}
}

// A named instance registers its webhook at its own path, its messages
// carry its name as their Platform, so that replies go back through it,
// and its rate-limit errors name it.
func TestAdapter_instance(t *testing.T) {
	emu := velaflowstest.NewServer(t, velaflowstest.WithRateLimits(3000, 1000, 500, 15*time.Minute))
	var a *velaflows.Adapter
	mux := http.NewServeMux()
	mux.HandleFunc(velaflows.WebhookPath+"/acme", func(w http.ResponseWriter, r *http.Request) { a.ServeHTTP(w, r) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	a, err := velaflows.New(velaflows.AdapterConfig{Config: velaflows.Config{
		Token: emu.Token(), WorkspaceID: emu.WorkspaceID(), BaseURL: emu.URL(), Logger: bottest.Logger(t),
	}, Instance: "acme", WritesPer15Min: 1000 * 15 * 60})
	require.NoError(t, err)
	_, err = a.EnsureWebhook(t.Context(), srv.URL)
	require.NoError(t, err)
	subs := emu.Subscriptions()
	require.Len(t, subs, 1)
	assert.Equal(t, srv.URL+"/webhooks/velaflows/acme", subs[0].URL)

	b, err := bot.New(bot.WithAdapters(a), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	var (
		mu        sync.Mutex
		platforms []string
	)
	b.HandleFunc(bot.Always(), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		if m.Kind.Or() != bot.KindMessage {
			return nil
		}
		mu.Lock()
		platforms = append(platforms, m.Platform)
		mu.Unlock()
		return w.Send(ctx, m.Reply("echo: "+m.Text))
	})
	bottest.Run(t, b)

	conv, _ := emu.CustomerMessage("whatsapp", "Ada Lovelace", "+442071838750", "hi")
	sent := emu.WaitSent(t, 1)
	assert.Equal(t, conv, sent[0].ConversationID)
	assert.Equal(t, "echo: hi", sent[0].Content)
	mu.Lock()
	assert.Equal(t, []string{"velaflows/acme"}, platforms)
	mu.Unlock()

	emu.RateLimitNext(0)
	_, _, err = a.Client().Conversation(t.Context(), conv)
	rl, ok := errors.AsType[*bot.RateLimitError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, "velaflows/acme", rl.Platform)
}

package sendbee_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/flow"
)

func TestNew_instance(t *testing.T) {
	tests := []struct {
		instance string
		want     string
		wantErr  string
	}{
		{instance: "", want: "sendbee"},
		{instance: "acme", want: "sendbee/acme"},
		{instance: "acme-2_b", want: "sendbee/acme-2_b"},
		{instance: "Acme", wantErr: `sendbee: AdapterConfig.Instance: bot: instance name "Acme"`},
		{instance: "-acme", wantErr: "sendbee: AdapterConfig.Instance: "},
		{instance: "a/b", wantErr: "sendbee: AdapterConfig.Instance: "},
	}
	for _, tt := range tests {
		t.Run(tt.instance, func(t *testing.T) {
			t.Parallel()
			a, err := sendbee.New(sendbee.AdapterConfig{Config: sendbee.Config{APIKey: "k", APISecret: "s"}, Instance: tt.instance})
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				assert.Nil(t, a)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, a.Name())
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A named instance's messages carry its name as their Platform, so that
// the replies go back through it; its rate-limit errors, logs and
// ownership calls name it too.
func TestAdapter_instance(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newSetupWith(t, func(c *sendbee.AdapterConfig) { c.Instance, c.Logger, c.Debug = "acme", logger, true },
		[]sendbeetest.Option{sendbeetest.WithWebhookEvents("message.received")})
	var (
		mu        sync.Mutex
		platforms []string
	)
	s.b.HandleFunc(bot.Always(), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		mu.Lock()
		platforms = append(platforms, m.Platform)
		mu.Unlock()
		return w.Send(ctx, m.Reply("echo: "+m.Text))
	})
	bottest.Run(t, s.b)

	conv, _ := s.emu.CustomerMessage("+385911234567", "Ana", "hello")
	sent := s.emu.WaitSent(t, 1)
	assert.Equal(t, "echo: hello", sent[0].Text)
	mu.Lock()
	assert.Equal(t, []string{"sendbee/acme"}, platforms)
	mu.Unlock()
	assert.Nil(t, s.b.Adapter(sendbee.Name), "no default instance")

	// Ownership is addressed by the instance's name.
	require.NoError(t, s.b.Handoff(t.Context(), "sendbee/acme", conv))
	assert.False(t, s.emu.ChatbotActive(conv))

	// A 429 names the instance, so that the Bot paces this number alone.
	s.emu.RateLimitNext(0)
	_, _, err := s.sb.Client().Conversation(t.Context(), conv)
	rl, ok := errors.AsType[*bot.RateLimitError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, "sendbee/acme", rl.Platform)

	out := logs.String()
	assert.Contains(t, out, `msg="receiving webhooks" adapter=sendbee/acme`)
	assert.Contains(t, out, `msg="sendbee: request" adapter=sendbee/acme`)
}

// The contact action looks up the call's conversation with its client only
// when the conversation is of the client's adapter: a conversation of
// another Sendbee number is not.
func TestUpdateContactAction_instance(t *testing.T) {
	emu := sendbeetest.NewServer(t, sendbeetest.WithoutServiceWindow())
	conv, _ := emu.CustomerMessage("+385911234567", "Ana", "hello")
	a, err := sendbee.New(sendbee.AdapterConfig{Config: sendbee.Config{
		APIKey: emu.APIKey(), APISecret: emu.APISecret(), BaseURL: emu.URL(), Logger: bottest.Logger(t),
	}, Instance: "acme"})
	require.NoError(t, err)
	act := sendbee.UpdateContactAction(a.Client())

	err = act.Run(t.Context(), flow.ActionCall{Platform: "sendbee/globex", Conversation: conv,
		Args: map[string]any{"name": "Ana B"}})
	var ve *sendbee.ValidationError
	require.ErrorAs(t, err, &ve, "another number's conversation is not looked up")
	assert.Equal(t, "args.phone", ve.Field)

	require.NoError(t, act.Run(t.Context(), flow.ActionCall{Platform: "sendbee/acme", Conversation: conv,
		Args: map[string]any{"name": "Ana B"}}))
	c, ok := emu.Conversation(conv)
	require.True(t, ok)
	assert.Equal(t, "Ana B", c.Contact.Name)
}

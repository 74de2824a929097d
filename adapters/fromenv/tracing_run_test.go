package fromenv_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/parleybot/parley/adapters/fromenv"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// With an OTLP endpoint set, a bot built from the environment traces a
// webhook from its request to the reply's API call: the collector gets
// the request's span, the Bot's publish, handle, delivery and attempt
// spans, and the Sendbee client's, once Run has returned (it flushes);
// the summary says where traces go.
func TestRun_tracing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	c := newCollector(t)
	defer c.Close() // before goleak: the exporter's connections end with it
	// A webhook may come before the bot runs, which answers 503 with
	// Retry-After, and is redelivered.
	sb := sendbeetest.NewServer(t, sendbeetest.WithCredentials("k", "s"),
		sendbeetest.WithRedelivery(50, 20*time.Millisecond), sendbeetest.WithRetryAfterCap(50*time.Millisecond))
	defer sb.Close()
	addr := freeAddr(t)
	env := map[string]string{
		"SENDBEE_API_KEY": "k", "SENDBEE_API_SECRET": "s", "SENDBEE_BASE_URL": sb.URL(), "SENDBEE_RATE_LIMIT": "6000",
		"PARLEY_ADDR": addr, "OTEL_EXPORTER_OTLP_ENDPOINT": c.URL, "OTEL_SERVICE_NAME": "tracedbot",
	}
	getenv := func(k string) string { return env[k] }
	logger := bottest.Logger(t)
	p, err := fromenv.Build(t.Context(), getenv, logger)
	require.NoError(t, err)
	out := &syncBuffer{}
	p.Out = out
	b, err := bot.New(bot.WithAdapters(p.Adapters...), bot.WithLogger(logger), bot.WithHooks(p.Metrics.Hooks()),
		bot.WithTracerProvider(p.Tracer))
	require.NoError(t, err)
	b.HandleFunc(bot.Command("ping"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("pong"))
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fromenv.Run(ctx, b, p, getenv, logger) }()
	require.Eventually(t, func() bool { return bytes.Contains([]byte(out.String()), []byte("PARLEY_ADDR")) },
		5*time.Second, time.Millisecond, "summary: %s", out)
	require.NoError(t, sb.SetWebhook("http://"+addr+"/webhooks/sendbee"))
	sb.CustomerMessage("+385911234567", "Ana", "/ping")
	sent := sb.WaitSent(t, 1)
	assert.Equal(t, "pong", sent[0].Text)
	require.Eventually(t, func() bool { return b.Stats().Sent == 1 }, 5*time.Second, time.Millisecond)
	sb.Close() // its keep-alive webhook connection would hold up the shutdown
	cancel()
	require.NoError(t, <-done)

	var body []byte
	for len(c.got) > 0 {
		body = append(body, (<-c.got).body...)
	}
	for _, name := range []string{"POST /webhooks/sendbee", "sendbee POST", "parley.publish", "parley.handle", "parley.deliver", "parley.attempt", "tracedbot"} {
		assert.Contains(t, string(body), name, "exported")
	}
	assert.NotContains(t, string(body), "/ping", "no message text")
	assert.Contains(t, out.String(), "parley: traces exported over OTLP/HTTP to "+c.URL+"/v1/traces\n")
}

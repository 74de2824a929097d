package fromenv_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/adapters/fromenv"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// syncBuffer is a buffer safe for a writer and a reader at once.
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

// Run prints a start-up summary at the default log level: the platforms
// and where each talks to, the addresses, the state; never a secret.
func TestRun_summary(t *testing.T) {
	fd := flowdocktest.NewServer(t)
	public, admin := freeAddr(t), freeAddr(t)
	env := map[string]string{
		"SENDBEE_API_KEY": "sb-key-secret", "SENDBEE_API_SECRET": "sb-api-secret",
		"SENDBEE_BASE_URL":   "http://127.0.0.1:8701",
		"FLOWDOCK_API_TOKEN": fd.Token(), "FLOWDOCK_API_URL": fd.URL(), "FLOWDOCK_STREAM_URL": fd.StreamURL(),
		"FLOWDOCK_FLOWS": "acme/support", "FLOWDOCK_FLOW_TOKEN": "fd-flow-secret",
		"PARLEY_ADDR": public, "PARLEY_ADMIN_ADDR": admin,
	}
	getenv := func(k string) string { return env[k] }
	logger, err := fromenv.Logger(&bytes.Buffer{}, "") // the default level
	require.NoError(t, err)
	p, err := fromenv.Build(t.Context(), getenv, logger)
	require.NoError(t, err)
	out := &syncBuffer{}
	p.Out = out
	b, err := bot.New(bot.WithAdapters(p.Adapters...), bot.WithLogger(logger), bot.WithHooks(p.Metrics.Hooks()))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fromenv.Run(ctx, b, p, getenv, logger) }()
	require.Eventually(t, func() bool { return bytes.Contains([]byte(out.String()), []byte("PARLEY_ADMIN_ADDR")) },
		5*time.Second, time.Millisecond, "summary: %s", out)
	cancel()
	require.NoError(t, <-done)

	assert.Equal(t, "parley: serving sendbee: API http://127.0.0.1:8701/, webhooks at /webhooks/sendbee\n"+
		"parley: serving flowdock: API "+fd.URL()+"/, stream "+fd.StreamURL()+", flows acme/support\n"+
		"parley: state and queues in memory, lost when the process stops (PARLEY_DATA_DIR or NATS_URL makes them durable)\n"+
		"parley: listening on "+public+" (PARLEY_ADDR): webhooks\n"+
		"parley: listening on "+admin+" (PARLEY_ADMIN_ADDR): /metrics, /healthz, /readyz, /admin/v1/ (no PARLEY_ADMIN_TOKEN: local requests only)\n", out.String())
	for _, secret := range []string{"sb-key-secret", "sb-api-secret", fd.Token(), "fd-flow-secret"} {
		assert.NotContains(t, out.String(), secret)
	}
}

// durableStore is a Store that is not the Bot's MemoryStore, for the
// summary's line about durable state.
type durableStore struct{ bot.Store }

// runSummary runs a bot built from env with store until the summary has
// printed its line about the state and, when one is set, PARLEY_ADMIN_ADDR,
// and returns the summary.
func runSummary(t *testing.T, env map[string]string, store bot.Store) string {
	t.Helper()
	getenv := func(k string) string { return env[k] }
	logger := bottest.Logger(t)
	p, err := fromenv.Build(t.Context(), getenv, logger)
	require.NoError(t, err)
	out := &syncBuffer{}
	p.Out = out
	b, err := bot.New(bot.WithAdapters(p.Adapters...), bot.WithLogger(logger), bot.WithStore(store))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fromenv.Run(ctx, b, p, getenv, logger) }()
	last := "parley: state"
	if env["PARLEY_ADMIN_ADDR"] != "" {
		last = "(PARLEY_ADMIN_ADDR)"
	}
	require.Eventually(t, func() bool { return strings.Contains(out.String(), last) },
		5*time.Second, time.Millisecond, "summary: %s", out)
	cancel()
	require.NoError(t, <-done)
	return out.String()
}

// NATS_URL may list several servers, each with its credentials: the
// summary names every server without them.
func TestRun_summaryNATSServerList(t *testing.T) {
	fd := flowdocktest.NewServer(t)
	env := map[string]string{
		"FLOWDOCK_API_TOKEN": fd.Token(), "FLOWDOCK_API_URL": fd.URL(), "FLOWDOCK_STREAM_URL": fd.StreamURL(),
		"FLOWDOCK_FLOWS": "acme/support",
		"NATS_URL":       "nats://u:nats-secret-a@a.example:4222,nats://u:nats-secret-b@b.example:4222,nats://tok-secret@c.example:4222",
	}
	out := runSummary(t, env, durableStore{bot.NewMemoryStore()})
	assert.Contains(t, out, "parley: state and queues durable on NATS JetStream at nats://a.example:4222,nats://b.example:4222,nats://c.example:4222\n")
	for _, secret := range []string{"nats-secret-a", "nats-secret-b", "tok-secret"} {
		assert.NotContains(t, out, secret)
	}
}

// With an admin address of its own and no platform taking webhooks (only
// Flowdock, which streams), the public address serves nothing, and the
// summary says so rather than "webhooks".
func TestRun_summaryPublicAddrWithoutWebhooks(t *testing.T) {
	fd := flowdocktest.NewServer(t)
	public, admin := freeAddr(t), freeAddr(t)
	env := map[string]string{
		"FLOWDOCK_API_TOKEN": fd.Token(), "FLOWDOCK_API_URL": fd.URL(), "FLOWDOCK_STREAM_URL": fd.StreamURL(),
		"FLOWDOCK_FLOWS": "acme/support",
		"PARLEY_ADDR":    public, "PARLEY_ADMIN_ADDR": admin,
	}
	out := runSummary(t, env, bot.NewMemoryStore())
	assert.Contains(t, out, "parley: listening on "+public+" (PARLEY_ADDR): nothing, no platform here takes webhooks\n"+
		"parley: listening on "+admin+" (PARLEY_ADMIN_ADDR): /metrics, /healthz, /readyz, /admin/v1/ (no PARLEY_ADMIN_TOKEN: local requests only)\n")
}

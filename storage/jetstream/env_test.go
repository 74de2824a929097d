package jetstream_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/storage/jetstream"
)

func TestFromEnv_notConfigured(t *testing.T) {
	d, err := jetstream.FromEnv(t.Context(), func(string) string { return "" }, nil)
	require.NoError(t, err)
	assert.Empty(t, d.Options)
	assert.Empty(t, d.Collectors)
	assert.Nil(t, d.Conn)
	d.Close() // does nothing
}

// With PARLEY_DATA_DIR, FromEnv starts an embedded server, and a Bot built
// with its options handles messages through the durable Broker; the
// collector reports the connection and the backlog.
func TestFromEnv_embedded(t *testing.T) {
	env := map[string]string{"PARLEY_DATA_DIR": t.TempDir(), "PARLEY_NAME": "envtest"}
	d, err := jetstream.FromEnv(t.Context(), func(k string) string { return env[k] }, bottest.Logger(t))
	require.NoError(t, err)
	t.Cleanup(d.Close)
	require.NotNil(t, d.Conn.Server, "an embedded server")
	require.Len(t, d.Options, 2)

	fa := bottest.NewFakeAdapter("fake")
	b, err := bot.New(append(d.Options, bot.WithAdapters(fa), bot.WithLogger(bottest.Logger(t)))...)
	require.NoError(t, err)
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("re: "+m.Text))
	}))
	stop := bottest.Run(t, b)
	require.NoError(t, fa.Inject(t.Context(), bottest.NewMessage("hi", bottest.In("fake", "c"), bottest.WithID("e1"))))
	assert.Equal(t, "re: hi", fa.WaitSent(t, 1)[0].Text)
	require.NoError(t, stop())

	reg := prometheus.NewRegistry()
	for _, c := range d.Collectors {
		require.NoError(t, reg.Register(c))
	}
	fams, err := reg.Gather()
	require.NoError(t, err)
	var sb strings.Builder
	for _, f := range fams {
		_, err := expfmt.MetricFamilyToText(&sb, f)
		require.NoError(t, err)
	}
	text := sb.String()
	assert.Contains(t, text, "parley_nats_connected 1")
	assert.Contains(t, text, `parley_broker_pending_messages{stream="in"} 0`)
	assert.Contains(t, text, `parley_broker_pending_messages{stream="out"} 0`)
	for _, c := range d.Checks {
		require.NoError(t, c(t.Context()))
	}
}

// StateFromEnv opens the bucket FromEnv's Store keeps the bot's state in:
// what one writes, the other reads. Without the variables it opens nothing.
func TestStateFromEnv(t *testing.T) {
	st, conn, err := jetstream.StateFromEnv(t.Context(), func(string) string { return "" })
	require.NoError(t, err)
	assert.Nil(t, st)
	assert.Nil(t, conn)

	env := map[string]string{"PARLEY_DATA_DIR": t.TempDir(), "PARLEY_NAME": "statetest"}
	getenv := func(k string) string { return env[k] }
	st, conn, err = jetstream.StateFromEnv(t.Context(), getenv)
	require.NoError(t, err)
	require.NoError(t, st.Set(t.Context(), "campaign:x", []byte("sent"), 0))
	conn.Close()

	d, err := jetstream.FromEnv(t.Context(), getenv, bottest.Logger(t))
	require.NoError(t, err)
	t.Cleanup(d.Close)
	b, err := bot.New(append(d.Options, bot.WithAdapters(bottest.NewFakeAdapter("fake")))...)
	require.NoError(t, err)
	v, err := b.Store().Get(t.Context(), "campaign:x")
	require.NoError(t, err)
	assert.Equal(t, "sent", string(v))
}

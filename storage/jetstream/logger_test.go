package jetstream_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/storage/jetstream"
)

// runWithUndecodable runs a Bot logging to botLog on a one-partition
// Broker made with opts, whose inbound stream holds a message that cannot
// be decoded, until the Broker has dropped it.
func runWithUndecodable(t *testing.T, botLog *lockedBuffer, dropped func() bool, opts ...jetstream.BrokerOption) {
	t.Helper()
	srv := startServer(t, t.TempDir())
	_, js := connect(t, srv)
	ctx := t.Context()
	br, err := jetstream.NewBroker(ctx, js, append([]jetstream.BrokerOption{jetstream.WithPartitions(1)}, opts...)...)
	require.NoError(t, err)
	_, err = js.Publish(ctx, "parley."+jetstream.DefaultBrokerName+".in.0", []byte("not a message"))
	require.NoError(t, err)

	fa := bottest.NewFakeAdapter("fake")
	b, err := bot.New(bot.WithAdapters(fa), bot.WithBroker(br),
		bot.WithLogger(slog.New(slog.NewTextHandler(botLog, nil))))
	require.NoError(t, err)
	stop := bottest.Run(t, b)
	require.Eventually(t, dropped, 10*time.Second, time.Millisecond)
	require.NoError(t, stop())
}

// A Broker made without WithBrokerLogger logs to the Bot's logger.
func TestBroker_logsToTheBotsLogger(t *testing.T) {
	var botLog lockedBuffer
	dropped := func() bool { return strings.Contains(botLog.String(), "cannot be decoded; dropped") }
	runWithUndecodable(t, &botLog, dropped)
	assert.Contains(t, botLog.String(), "component=jetstream-broker")
	assert.NotContains(t, botLog.String(), "not a message", "message text is never logged")
}

// WithBrokerLogger wins over the Bot's logger.
func TestBroker_ownLoggerWins(t *testing.T) {
	var botLog, own lockedBuffer
	dropped := func() bool { return strings.Contains(own.String(), "cannot be decoded; dropped") }
	runWithUndecodable(t, &botLog, dropped,
		jetstream.WithBrokerLogger(slog.New(slog.NewTextHandler(&own, nil))))
	assert.Contains(t, own.String(), "component=jetstream-broker")
	assert.NotContains(t, botLog.String(), "jetstream-broker")
}

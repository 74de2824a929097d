package sendbee_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// The Bot's logger reaches an adapter built without Config.Logger: its
// start, and the API client's warnings.
func TestAdapter_takesBotLogger(t *testing.T) {
	logger, logs := captureLogger()
	s := newSetupWith(t, func(c *sendbee.AdapterConfig) { c.Logger = nil }, nil, bot.WithLogger(logger))
	supportRoutes(s.b)
	bottest.Run(t, s.b)

	require.Eventually(t, func() bool { return containsAll(logs.String(), "receiving webhooks", "adapter=sendbee") },
		5*time.Second, time.Millisecond, "log: %s", logs.String())
	s.emu.WarnNext("number quality is low")
	s.emu.CustomerMessage("+385911234567", "Ana", "hello")
	s.emu.WaitSent(t, 1)
	require.Eventually(t, func() bool { return containsAll(logs.String(), "sendbee: API warning") },
		5*time.Second, time.Millisecond, "log: %s", logs.String())
}

// An adapter's own Config.Logger wins over the Bot's.
func TestAdapter_configLoggerWins(t *testing.T) {
	own, ownLogs := captureLogger()
	botLogger, botLogs := captureLogger()
	s := newSetupWith(t, func(c *sendbee.AdapterConfig) { c.Logger = own }, nil, bot.WithLogger(botLogger))
	bottest.Run(t, s.b)

	require.Eventually(t, func() bool { return containsAll(ownLogs.String(), "receiving webhooks", "adapter=sendbee") },
		5*time.Second, time.Millisecond, "log: %s", ownLogs.String())
	assert.NotContains(t, botLogs.String(), "adapter=sendbee")
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// A bot holding a stale secret rejects Sendbee's webhooks: the warning
// names the setting to check, once for a flood.
func TestAdapter_ServeHTTP_staleSecretWarning(t *testing.T) {
	logger, logs := captureLogger()
	s := newSetupWith(t, func(c *sendbee.AdapterConfig) {
		c.Logger = nil
		c.SecretSource = "SENDBEE_API_SECRET"
	}, []sendbeetest.Option{sendbeetest.WithWebhookSecret("rotated-on-the-dashboard")}, bot.WithLogger(logger))
	bottest.Run(t, s.b)
	require.Eventually(t, func() bool { return containsAll(logs.String(), "receiving webhooks") },
		5*time.Second, time.Millisecond)

	payload := []byte(`{"id":"e1","type":"message.received","created_at":1700000000,"data":{}}`)
	for range 20 {
		require.Equal(t, http.StatusUnauthorized, s.emu.Deliver(t, s.rcv.url(), payload))
	}
	lines := strings.Count(logs.String(), "webhook rejected")
	assert.Equal(t, 1, lines, "log: %s", logs.String())
	assert.Contains(t, logs.String(), "check SENDBEE_API_SECRET")
	assert.NotContains(t, logs.String(), "rotated-on-the-dashboard")
	assert.NotContains(t, logs.String(), s.emu.APISecret())
}

package velaflows_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// A bot holding a stale webhook secret rejects VelaFlows' deliveries: the
// warning, logged through the Bot's logger, names the setting to check,
// once for a flood.
func TestAdapter_ServeHTTP_staleSecretWarning(t *testing.T) {
	emu := velaflowstest.NewServer(t)
	vf, err := velaflows.New(velaflows.AdapterConfig{
		Config:        velaflows.Config{Token: emu.Token(), WorkspaceID: emu.WorkspaceID(), BaseURL: emu.URL()},
		WebhookSecret: "whsec_before_the_rotation",
		SecretSource:  velaflows.EnvWebhookSecret,
	})
	require.NoError(t, err)
	logger, logs := captureLogger()
	b, err := bot.New(bot.WithAdapters(vf), bot.WithLogger(logger))
	require.NoError(t, err)
	srv := httptest.NewServer(vf)
	t.Cleanup(srv.Close)
	bottest.Run(t, b)
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "receiving webhook deliveries") },
		5*time.Second, time.Millisecond)

	payload := []byte(`{"eventId":"evt_1","eventType":"message.created","data":{}}`)
	for range 20 {
		require.Equal(t, http.StatusUnauthorized, emu.Deliver(t, srv.URL, "whsec_after_the_rotation", "message.created", payload))
	}
	assert.Equal(t, 1, strings.Count(logs.String(), "delivery rejected"), "log: %s", logs.String())
	assert.Contains(t, logs.String(), "check VELAFLOWS_WEBHOOK_SECRET")
	assert.NotContains(t, logs.String(), "whsec_")
}

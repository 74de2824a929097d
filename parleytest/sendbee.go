package parleytest

import (
	"testing"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/bot/bottest"
)

// SendbeeWebhookPath is where the receiver of [Sendbee] serves the adapter,
// the path the example bots mount it on.
const SendbeeWebhookPath = "/webhooks/sendbee"

// Sendbee returns a Sendbee adapter on the started emulator emu, for a Bot
// under test:
//
//   - its API client uses emu's URL and credentials, and its webhooks are
//     checked with emu's webhook secret;
//   - it declares [SendbeeRequestsPerMinute] as its limit, so the Bot does
//     not wait a second between requests;
//   - a loopback HTTP server serves it at [SendbeeWebhookPath], and emu
//     delivers its webhooks there (this replaces any webhook URL emu had);
//   - it logs through t (bottest.Logger).
//
// The tune functions, called in order, may change the configuration before
// the adapter is built. When the test ends, emu stops delivering webhooks,
// the server closes and the client's idle connections are closed; run the
// Bot with [Run] so that it stops first. Sendbee fails the test if the
// adapter cannot be built.
func Sendbee(t testing.TB, emu *sendbeetest.Server, tune ...func(*sendbee.AdapterConfig)) *sendbee.Adapter {
	t.Helper()
	cfg := sendbee.AdapterConfig{
		Config: sendbee.Config{
			APIKey:    emu.APIKey(),
			APISecret: emu.APISecret(),
			BaseURL:   emu.URL(),
			Logger:    bottest.Logger(t),
		},
		WebhookSecret:     emu.WebhookSecret(),
		RequestsPerMinute: SendbeeRequestsPerMinute,
	}
	for _, f := range tune {
		f(&cfg)
	}
	a, err := sendbee.New(cfg)
	if err != nil {
		t.Fatalf("parleytest: %v", err)
	}
	root := receive(t, SendbeeWebhookPath, a)
	t.Cleanup(a.Client().CloseIdleConnections)
	if err := emu.SetWebhook(root + SendbeeWebhookPath); err != nil {
		t.Fatalf("parleytest: %v", err)
	}
	// Undelivered events would be retried at a closed server.
	t.Cleanup(func() { _ = emu.SetWebhook("") })
	return a
}

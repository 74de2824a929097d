package parleytest

import (
	"testing"

	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/bot/bottest"
)

// VelaFlows returns a VelaFlows adapter on the started emulator emu, for a
// Bot under test:
//
//   - its API client uses emu's URL, token and workspace;
//   - it declares [VelaFlowsWritesPer15Min] as its write budget, so the Bot
//     does not wait between replies;
//   - a loopback HTTP server serves it at velaflows.WebhookPath, and
//     Adapter.EnsureWebhook registers that URL with emu through the API,
//     as a bot does at start-up (with a generated secret, unless a tune
//     function sets AdapterConfig.WebhookSecret);
//   - it logs through t (bottest.Logger).
//
// The tune functions, called in order, may change the configuration before
// the adapter is built. When the test ends, the subscription is
// deactivated, the server closes and the client's idle connections are
// closed; run the Bot with [Run] so that it stops first. VelaFlows fails the
// test if the adapter cannot be built or the webhook registered.
func VelaFlows(t testing.TB, emu *velaflowstest.Server, tune ...func(*velaflows.AdapterConfig)) *velaflows.Adapter {
	t.Helper()
	cfg := velaflows.AdapterConfig{
		Config: velaflows.Config{
			Token:       emu.Token(),
			WorkspaceID: emu.WorkspaceID(),
			BaseURL:     emu.URL(),
			Logger:      bottest.Logger(t),
		},
		WritesPer15Min: VelaFlowsWritesPer15Min,
	}
	for _, f := range tune {
		f(&cfg)
	}
	a, err := velaflows.New(cfg)
	if err != nil {
		t.Fatalf("parleytest: %v", err)
	}
	root := receive(t, velaflows.WebhookPath, a)
	t.Cleanup(a.Client().CloseIdleConnections)
	sub, err := a.EnsureWebhook(t.Context(), root)
	if err != nil {
		t.Fatalf("parleytest: %v", err)
	}
	// Undelivered events would be retried at a closed server.
	t.Cleanup(func() { _ = emu.SetSubscriptionActive(sub.ID, false) })
	return a
}

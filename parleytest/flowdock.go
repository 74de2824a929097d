package parleytest

import (
	"testing"
	"time"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/bot/bottest"
)

// Flowdock returns a Flowdock adapter on the started emulator emu, for a
// Bot under test:
//
//   - its API client uses emu's REST URL and the bot user's token, and it
//     receives from emu's streaming API (Flowdock has no webhooks: the
//     adapter's Run opens the stream);
//   - a failed connect is tried again after 5ms to 50ms, not Flowdock's
//     500ms to 60s;
//   - it logs through t (bottest.Logger).
//
// Flowdock declares no rate limit, so the Bot does not pace its replies.
// The tune functions, called in order, may change the configuration before
// the adapter is built. When the test ends, the client's idle connections
// are closed; run the Bot with [Run], which returns once the stream is
// connected: the adapter starts from each flow's newest message when its
// Run starts, so post the test's messages after that. Flowdock fails the
// test if the adapter cannot be built.
func Flowdock(t testing.TB, emu *flowdocktest.Server, tune ...func(*flowdock.AdapterConfig)) *flowdock.Adapter {
	t.Helper()
	cfg := flowdock.AdapterConfig{
		Config: flowdock.Config{
			Token:   emu.Token(),
			BaseURL: emu.URL(),
			Logger:  bottest.Logger(t),
		},
		Stream: flowdock.StreamConfig{
			URL:        emu.StreamURL(),
			MinBackoff: 5 * time.Millisecond,
			MaxBackoff: 50 * time.Millisecond,
		},
	}
	for _, f := range tune {
		f(&cfg)
	}
	a, err := flowdock.New(cfg)
	if err != nil {
		t.Fatalf("parleytest: %v", err)
	}
	t.Cleanup(a.Client().CloseIdleConnections)
	return a
}

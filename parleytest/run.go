package parleytest

import (
	"testing"
	"time"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// Run runs b for the rest of the test with bottest.Run, and returns once
// b's Sendbee, VelaFlows and Flowdock adapters receive: the webhook
// adapters once their Run serves webhooks (before, they answer 503 and the
// emulator delivers again after a Retry-After of seconds), the Flowdock
// adapter once its stream is connected. Adapters of other platforms are
// not waited for.
//
// stop, and the cleanup bottest.Run registers, stop b and wait for Run to
// return; see bottest.Run. Run fails the test, with b's error, if the
// adapters do not receive within ten seconds.
func Run(t testing.TB, b *bot.Bot) (stop func() error) {
	t.Helper()
	stop = bottest.Run(t, b)
	var waits []func() bool
	if a, ok := b.Adapter(sendbee.Name).(*sendbee.Adapter); ok {
		waits = append(waits, func() bool { return a.Receiving() })
	}
	if a, ok := b.Adapter(velaflows.Name).(*velaflows.Adapter); ok {
		waits = append(waits, func() bool { return a.Receiving() })
	}
	if a, ok := b.Adapter(flowdock.Name).(*flowdock.Adapter); ok {
		waits = append(waits, func() bool { return a.Health().Connected })
	}
	deadline := time.Now().Add(readyTimeout)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for _, ready := range waits {
		for !ready() {
			if time.Now().After(deadline) {
				t.Fatalf("parleytest: the Bot's adapters do not receive after %v (Bot.Run: %v)", readyTimeout, stop())
			}
			<-tick.C
		}
	}
	return stop
}

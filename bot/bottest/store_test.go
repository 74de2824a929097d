package bottest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// TestTestStore_realTimeTTL exercises the suite's real-clock TTL path, the
// one a store backed by a server (which ignores the synctest clock) uses.
// The synctest path runs in bot's own TestMemoryStore.
func TestTestStore_realTimeTTL(t *testing.T) {
	if testing.Short() {
		t.Skip("waits on the real clock")
	}
	bottest.TestStore(t, func(*testing.T) bot.Store { return bot.NewMemoryStore() }, bottest.RealTimeTTL(50*time.Millisecond))
}

func TestRealTimeTTL_panicsOnNonPositive(t *testing.T) {
	assert.PanicsWithValue(t, "bottest: RealTimeTTL granularity must be positive", func() { bottest.RealTimeTTL(0) })
}

package rulefile_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// On the Bot's event feed, the rule of a rules file that took a message
// is reported with its name, line and the part of its condition that
// decided, as rules explain says it.
func TestEngine_feedNamesTheRule(t *testing.T) {
	h := newHarness(t, lines(
		"rules:",
		"  - name: quiet",
		`    when: Text == "never"`,
		"    actions:",
		`      - reply: "no"`,
		"  - name: greet",
		`    when: Text == "hi" || lower(Text) startsWith "hello"`,
		"    actions:",
		`      - reply: "Hi!"`,
	))
	sub := h.b.Subscribe(0)
	defer sub.Close()
	bottest.Run(t, h.b)
	h.say(t, "Hello there")
	h.sb.WaitSent(t, 1)

	var reasons []string
	timeout := time.After(5 * time.Second)
	for len(reasons) < 2 {
		select {
		case e := <-sub.Events():
			if e.Type == bot.EventRouted {
				reasons = append(reasons, e.Reason)
			}
		case <-timeout:
			require.FailNow(t, "routed events", "%q", reasons)
		}
	}
	assert.Equal(t, "", reasons[0], "the engine's own route on the Bot")
	assert.Equal(t, `rule "greet" (line 6): lower(Text) startsWith "hello"`, reasons[1])
}

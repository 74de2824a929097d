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
// is reported by its name and line, with the part of its condition that
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

	var routed []bot.Event
	timeout := time.After(5 * time.Second)
	for len(routed) < 2 {
		select {
		case e := <-sub.Events():
			if e.Type == bot.EventRouted {
				routed = append(routed, e)
			}
		case <-timeout:
			require.FailNow(t, "routed events", "%+v", routed)
		}
	}
	assert.Equal(t, "rules file", routed[0].Route, "the engine's own route on the Bot")
	assert.Equal(t, `rule "greet" (line 6)`, routed[1].Route)
	assert.Equal(t, `lower(Text) startsWith "hello"`, routed[1].Reason)
}

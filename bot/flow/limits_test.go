package flow_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/flow"
)

// indexed reports whether a conversation has an entry in the engine's
// list of active flows, as the Store holds it ("flow-active:<shard>").
func indexed(t *testing.T, r *rig, conv string) bool {
	t.Helper()
	for i := range 256 {
		v, err := r.b.Store().Get(t.Context(), "flow-active:"+strconv.Itoa(i))
		if err == nil && strings.Contains(string(v), `"c":"`+conv+`"`) {
			return true
		}
	}
	return false
}

// An answer that would make the state too large is refused like an
// invalid one, with a re-ask that says so; a start with values too large
// leaves nothing behind, not even an index entry.
func TestState_answerTooLarge(t *testing.T) {
	r := newRig(t, rigOption{flows: []flow.Flow{lead()}})
	require.NoError(t, r.e.Start(t.Context(), "fake", "c1", "lead", nil))
	r.say("c1", strings.Repeat("x", flow.MaxStateSize))
	r.waitTexts("c1", "Your name?", "That answer is too long.")
	s := r.state("c1")
	assert.Equal(t, "name", s.Step)
	assert.Equal(t, 1, s.Attempts)
	assert.Zero(t, r.b.Stats().HandlerErrors)

	err := r.e.Start(t.Context(), "fake", "c2", "lead", flow.Values{"big": strings.Repeat("x", flow.MaxStateSize)})
	require.ErrorIs(t, err, flow.ErrTooLarge)
	require.True(t, indexed(t, r, "c1"), "the flow started is listed")
	assert.False(t, indexed(t, r, "c2"), "the refused start left an index entry")
}

// An action gets its own copy of the call's arguments: changing them
// changes nothing for the next call.
func TestAction_argsAreACopy(t *testing.T) {
	var seen []any
	f := flow.Flow{Name: "f", Steps: []flow.Step{{Name: "a", Ask: flow.Text("A?"),
		Actions: []flow.Call{{Action: "mut", Args: map[string]any{"tag": "orig"}}}}}}
	r := newRig(t, rigOption{flows: []flow.Flow{f}, noRun: true, setup: func(r *rig) {
		require.NoError(t, r.e.RegisterAction("mut", flow.ActionFunc(func(_ context.Context, c flow.ActionCall) error {
			seen = append(seen, c.Args["tag"])
			c.Args["tag"] = "changed"
			return nil
		})))
	}})
	for _, conv := range []string{"c1", "c2"} {
		require.NoError(t, r.e.Start(t.Context(), "fake", conv, "f", nil))
		require.NoError(t, r.b.HandleMessage(t.Context(), r.b, newAnswer(conv, "x")))
	}
	assert.Equal(t, []any{"orig", "orig"}, seen)
}

// Define refuses a reminder or a timeout that would come after the
// flow's state expired.
func TestDefine_timerPastTTL(t *testing.T) {
	r := newRig(t, rigOption{noRun: true})
	ask := flow.Text("?")
	var de *flow.DefinitionError
	err := r.e.Define(flow.Flow{Name: "t", TTL: time.Hour, Steps: []flow.Step{{Name: "a", Ask: ask,
		Timeout: &flow.Timeout{After: 2 * time.Hour}}}})
	require.ErrorAs(t, err, &de)
	assert.Contains(t, de.Reason, "longer than the flow's TTL")
	err = r.e.Define(flow.Flow{Name: "r", Steps: []flow.Step{{Name: "a", Ask: ask,
		Remind: &flow.Reminder{After: flow.DefaultTTL + time.Second}}}})
	require.ErrorAs(t, err, &de)
	require.NoError(t, r.e.Define(flow.Flow{Name: "ok", TTL: time.Hour, Steps: []flow.Step{{Name: "a", Ask: ask,
		Timeout: &flow.Timeout{After: time.Hour}}}}))
}

// Unsigned integers that fit an int64 are saved as int64; larger ones
// are refused.
func TestValues_unsigned(t *testing.T) {
	r := newRig(t, rigOption{flows: []flow.Flow{lead()}, noRun: true})
	require.NoError(t, r.e.Start(t.Context(), "fake", "c1", "lead", flow.Values{"u": uint(7), "u64": uint64(8), "p": uintptr(9)}))
	assert.Equal(t, flow.Values{"u": int64(7), "u64": int64(8), "p": int64(9)}, r.state("c1").Values)
	err := r.e.Start(t.Context(), "fake", "c2", "lead", flow.Values{"u": uint64(math.MaxUint64)})
	require.ErrorContains(t, err, "does not fit an int64")
}

// newAnswer returns a customer message in conv with a fresh ID.
func newAnswer(conv, text string) *bot.Message {
	answers++
	return bottest.NewMessage(text, bottest.In("fake", conv), bottest.WithID(fmt.Sprintf("answer-%s-%d", conv, answers)))
}

var answers int

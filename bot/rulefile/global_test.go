package rulefile_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/flow"
	"github.com/parleybot/parley/bot/rulefile"
)

// globalFile is a rules file with a flow and the rules a support bot
// answers at any time: help, agent and stop are global, price is not.
var globalFile = lines(
	"flows:",
	"  lead:",
	"    steps:",
	"      - name: name",
	`        ask: "Hi! What is your name?"`,
	"        save: name",
	"      - name: email",
	`        ask: "Your e-mail, {{.Values.name}}?"`,
	"        expect: email",
	"        save: email",
	"rules:",
	"  - name: start",
	`    when: lower(Text) == "demo"`,
	"    actions:",
	"      - start_flow: lead",
	"  - name: help",
	"    global: true",
	`    when: lower(Text) == "help"`,
	"    actions:",
	`      - reply: "Answer the question, or write stop."`,
	"  - name: agent",
	"    global: true",
	`    when: lower(Text) in ["agent", "human"]`,
	"    actions:",
	`      - handoff: "An agent will take over."`,
	"  - name: stop",
	"    global: true",
	`    when: lower(Text) in ["stop", "cancel"]`,
	"    actions:",
	"      - cancel_flow: true",
	`      - reply: "Stopped."`,
	"  - name: price",
	`    when: lower(Text) == "price"`,
	"    actions:",
	`      - reply: "It costs 10 EUR."`,
)

// step says text in the harness's conversation and requires the bot to
// answer exactly want.
func (h *harness) step(t *testing.T, text string, want ...string) {
	t.Helper()
	n := len(h.sb.Sent())
	h.say(t, text)
	got := texts(h.sb.WaitSent(t, n+len(want))[n:])
	require.Equal(t, append([]string{}, want...), got, "after %q", text)
}

// A global rule answers while a flow waits, and the flow asks its question
// again; a rule that is not global does not interrupt the flow, whose
// answer the message is; a global stop rule with cancel_flow ends it.
func TestEngine_globalRules(t *testing.T) {
	h := newHarness(t, globalFile)
	bottest.Run(t, h.b)
	h.step(t, "help", "Answer the question, or write stop.") // no flow: just the answer
	h.step(t, "demo", "Hi! What is your name?")
	h.step(t, "help", "Answer the question, or write stop.", "Hi! What is your name?")
	h.step(t, "price", "Your e-mail, price?") // not global: the flow's answer
	h.step(t, "stop", "Stopped.")
	_, err := h.e.Flows().State(t.Context(), "sendbee", "c1")
	require.ErrorIs(t, err, flow.ErrNoFlow)
	h.step(t, "price", "It costs 10 EUR.")
	assert.Never(t, func() bool { return len(h.sb.Sent()) > 7 }, 50*time.Millisecond, 5*time.Millisecond)
}

// A global rule that hands off pauses the waiting flow; when the
// conversation comes back to the bot, the flow asks its question again.
func TestEngine_globalHandoff(t *testing.T) {
	h := newHarness(t, globalFile)
	bottest.Run(t, h.b)
	h.step(t, "demo", "Hi! What is your name?")
	h.step(t, "Ana", "Your e-mail, Ana?")
	h.step(t, "agent", "An agent will take over.")
	require.Eventually(t, func() bool {
		st, err := h.e.Flows().State(t.Context(), "sendbee", "c1")
		return err == nil && st.Paused
	}, 5*time.Second, time.Millisecond)
	owner, err := h.b.Owner(t.Context(), "sendbee", "c1")
	require.NoError(t, err)
	assert.Equal(t, bot.OwnerHuman, owner)

	require.NoError(t, h.b.Resume(t.Context(), "sendbee", "c1"))
	h.step(t, "hello?", "Your e-mail, Ana?")
	st, err := h.e.Flows().State(t.Context(), "sendbee", "c1")
	require.NoError(t, err)
	assert.False(t, st.Paused)
	assert.Equal(t, "email", st.Step)
}

// Without flows a global rule is a rule tried first.
func TestEngine_globalWithoutFlows(t *testing.T) {
	h := newHarness(t, lines(
		"rules:",
		"  - name: any",
		"    priority: 100",
		"    when: true",
		"    actions:",
		`      - reply: "any"`,
		"  - name: help",
		"    global: true",
		`    when: Text == "help"`,
		"    actions:",
		`      - reply: "help"`,
	))
	assert.Nil(t, h.e.Flows())
	bottest.Run(t, h.b)
	h.step(t, "help", "help")
	h.step(t, "x", "any")
	rules := h.e.Set().Rules()
	require.Len(t, rules, 2)
	assert.Equal(t, "help", rules[0].Name)
	assert.True(t, rules[0].Global)
}

// An Engine used as a plain Handler tries its global rules first too.
func TestEngine_globalAsAHandler(t *testing.T) {
	t.Parallel()
	e := rulefile.NewEngine(mustParse(t, lines(
		"rules:",
		"  - name: any",
		"    priority: 100",
		"    when: true",
		"    actions:",
		`      - reply: "any"`,
		"  - name: help",
		"    global: true",
		`    when: Text == "help"`,
		"    actions:",
		`      - reply: "help"`,
	)))
	var rec bottest.Recorder
	require.NoError(t, e.HandleMessage(t.Context(), &rec, bottest.NewMessage("help")))
	require.NoError(t, e.HandleMessage(t.Context(), &rec, bottest.NewMessage("x")))
	assert.Equal(t, []string{"help", "any"}, rec.Texts())
	routes := e.Routes()
	require.Len(t, routes, 2)
	assert.Equal(t, 0, routes[0].Priority, "the global rule is listed first")
}

// The prompts of a flow are templates over the message that led to them:
// the answer just given, refused or not, and its author.
func TestEngine_flowTemplatesSeeTheMessage(t *testing.T) {
	h := newHarness(t, lines(
		"flows:",
		"  lead:",
		"    steps:",
		"      - name: company",
		`        ask: "Hi {{.Author.Name}}! Your company?"`,
		"        save: company",
		"      - name: size",
		`        ask: "How many people work at {{.Text}}?"`,
		"        expect:",
		"          integer: {min: 1}",
		`          reask: "{{printf \"%q\" .Text}} is not a number of people, {{.Author.Name}}."`,
		"        save: size",
		"      - name: phone",
		`        ask: "Your phone number?"`,
		`        expect: {regexp: '\+[0-9 ]{8,20}'}`,
		`        retry: {message: "Sorry, {{.Text}} is not a phone number. Your phone number, {{.Values.company}}?"}`,
		"        save: phone",
		`    done: "Thanks {{.Author.Name}}, we will call {{.Text}}."`,
		"rules:",
		"  - name: start",
		`    when: lower(Text) == "demo"`,
		"    actions:",
		"      - start_flow: lead",
	))
	bottest.Run(t, h.b)
	h.step(t, "demo", "Hi Ana! Your company?")
	h.step(t, "Acme", "How many people work at Acme?")
	h.step(t, "lots", `"lots" is not a number of people, Ana.`)
	h.step(t, "12", "Your phone number?")
	h.step(t, "abc", "Sorry, abc is not a phone number. Your phone number, Acme?")
	h.step(t, "+385 91 123 4567", "Thanks Ana, we will call +385 91 123 4567.")
}

// Explain shows the global rules first, before the waiting flow, and what
// their answer does to the flow.
func TestSet_ExplainIn_global(t *testing.T) {
	t.Parallel()
	set, err := rulefile.Parse("rules.yaml", []byte(globalFile))
	require.NoError(t, err)
	waiting := rulefile.Conversation{Flow: &flow.State{Platform: "sendbee", Conversation: "c1", Flow: "lead", Step: "name"}}
	msg := func(text string) *bot.Message { return bottest.NewMessage(text, bottest.In("sendbee", "c1")) }
	tests := []struct {
		name string
		msg  *bot.Message
		conv rulefile.Conversation
	}{
		{"help_no_flow", msg("help"), rulefile.Conversation{}},
		{"help_interrupts", msg("help"), waiting},
		{"agent_pauses", msg("agent"), waiting},
		{"stop_cancels", msg("stop"), waiting},
		{"price_is_an_answer", msg("price"), waiting},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			require.NoError(t, rulefile.Format(&buf, set.ExplainIn(t.Context(), tt.msg, tt.conv)))
			golden := filepath.Join("testdata", "explainglobal", tt.name+".golden")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
				require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -update to create the golden file")
			assert.Equal(t, string(want), buf.String())
		})
	}
}

// A global rule with handoff: true (Bot.Handoff, no message) pauses the
// waiting flow at once; when the conversation comes back to the bot, the
// flow asks its question again.
func TestEngine_globalHandoffTrue(t *testing.T) {
	h := newHarness(t, lines(
		"flows:",
		"  lead:",
		"    steps:",
		"      - name: name",
		`        ask: "Hi! What is your name?"`,
		"        save: name",
		"      - name: email",
		`        ask: "Your e-mail, {{.Values.name}}?"`,
		"        save: email",
		"rules:",
		"  - name: start",
		`    when: lower(Text) == "demo"`,
		"    actions:",
		"      - start_flow: lead",
		"  - name: agent",
		"    global: true",
		`    when: lower(Text) == "agent"`,
		"    actions:",
		"      - handoff: true",
	))
	bottest.Run(t, h.b)
	h.step(t, "demo", "Hi! What is your name?")
	h.step(t, "Ana", "Your e-mail, Ana?")
	h.say(t, "agent")
	require.Eventually(t, func() bool {
		st, err := h.e.Flows().State(t.Context(), "sendbee", "c1")
		return err == nil && st.Paused
	}, 5*time.Second, time.Millisecond)
	require.NoError(t, h.b.Resume(t.Context(), "sendbee", "c1"))
	h.step(t, "hello?", "Your e-mail, Ana?")
	st, err := h.e.Flows().State(t.Context(), "sendbee", "c1")
	require.NoError(t, err)
	assert.Equal(t, "email", st.Step)
	assert.False(t, st.Paused)
}

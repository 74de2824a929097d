package rulefile_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/flow"
	"github.com/parleybot/parley/bot/rulefile"
)

// leadFile is a rules file with a lead flow started by a rule.
var leadFile = lines(
	"vars:",
	"  team: Sales",
	"flows:",
	"  lead:",
	"    steps:",
	"      - name: name",
	`        ask: "Hi! What is your name?"`,
	"        expect: {text: {min: 2, max: 40}}",
	"        save: name",
	"      - name: size",
	`        ask: "How many people work at your company, {{.Values.name}}?"`,
	"        expect:",
	"          integer: {min: 1, max: 100000}",
	`          reask: "A number of people, please: 1, 25, 300…"`,
	"        save: size",
	"        next:",
	"          - when: values.size >= 50",
	"            goto: call",
	"        default: end",
	"      - name: call",
	`        ask: "When can {{.Vars.team}} call you?"`,
	"        save: when",
	`    done: "Thanks, {{.Values.name}}! {{.Vars.team}} will be in touch."`,
	"    on_done:",
	"      - call: crm",
	"        args:",
	`          title: "Lead: {{.Values.name}}"`,
	"          size: '{{.Values.size}}'",
	"          priority: 2",
	"rules:",
	"  - name: start",
	`    when: lower(Text) == "demo"`,
	"    actions:",
	"      - set: {source: demo}",
	"      - start_flow: lead",
	"  - name: vip",
	`    when: vars.source == "demo" && lower(Text) == "status"`,
	"    actions:",
	`      - reply: "You asked for a demo."`,
)

// calls records the runs of an action.
type calls struct {
	mu   sync.Mutex
	runs []flow.ActionCall
}

func (c *calls) Run(_ context.Context, ac flow.ActionCall) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runs = append(c.runs, ac)
	return nil
}

func (c *calls) all() []flow.ActionCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]flow.ActionCall(nil), c.runs...)
}

func TestEngine_flow(t *testing.T) {
	crm := &calls{}
	h := newHarness(t, leadFile, rulefile.WithAction("crm", crm))
	require.NotNil(t, h.e.Flows())
	bottest.Run(t, h.b)

	step := func(text string, want ...string) {
		t.Helper()
		n := len(h.sb.Sent())
		h.say(t, text)
		got := texts(h.sb.WaitSent(t, n+len(want))[n:])
		require.Equal(t, append([]string{}, want...), got, "after %q", text)
	}
	step("status") // no variable yet: no rule
	step("demo", "Hi! What is your name?")
	step("A", "Please write at least 2 characters.") // too short: asked again
	step("Ana", "How many people work at your company, Ana?")
	step("lots", "A number of people, please: 1, 25, 300…")
	step("120", "When can Sales call you?") // 120 >= 50: the branch
	step("tomorrow at 10", "Thanks, Ana! Sales will be in touch.")

	require.Eventually(t, func() bool { return len(crm.all()) == 1 }, 2*time.Second, time.Millisecond)
	run := crm.all()[0]
	assert.Equal(t, map[string]any{"title": "Lead: Ana", "size": "120", "priority": 2}, run.Args)
	assert.Equal(t, "lead", run.Flow)
	assert.Equal(t, int64(120), run.Values["size"])
	_, err := h.e.Flows().State(t.Context(), "sendbee", "c1")
	assert.ErrorIs(t, err, flow.ErrNoFlow)

	// A variable set by a rule is seen by a later rule's when.
	step("status", "You asked for a demo.")
	assert.Len(t, crm.all(), 1, "on_done ran once")
}

func TestEngine_flowDefaultBranch(t *testing.T) {
	crm := &calls{}
	h := newHarness(t, leadFile, rulefile.WithAction("crm", crm))
	bottest.Run(t, h.b)
	for _, text := range []string{"demo", "Ana", "12"} {
		h.say(t, text)
	}
	sent := h.sb.WaitSent(t, 3)
	assert.Equal(t, "Thanks, Ana! Sales will be in touch.", sent[2].Text)
	require.Eventually(t, func() bool { return len(crm.all()) == 1 }, 2*time.Second, time.Millisecond)
	assert.Equal(t, "12", crm.all()[0].Args["size"])
}

func TestEngine_flowNeedsItsActions(t *testing.T) {
	b, err := bot.New(bot.WithAdapters(bottest.NewFakeAdapter("sendbee")), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	set, err := rulefile.Parse("rules.yaml", []byte(leadFile))
	require.NoError(t, err)
	err = rulefile.NewEngine(set, rulefile.WithAction("crn", &calls{})).Install(b)
	var le *rulefile.LoadError
	require.ErrorAs(t, err, &le)
	require.Len(t, le.Problems, 1)
	assert.Equal(t, `rules.yaml:25:15: flow "lead": on_done: call 1: no action named "crm" was given to the rules engine (rulefile.WithAction) (did you mean "crn"?)`,
		le.Problems[0].String())
	assert.Empty(t, b.Jobs())
}

func TestEngine_flowReload(t *testing.T) {
	crm := &calls{}
	h := newHarness(t, leadFile, rulefile.WithAction("crm", crm))
	bottest.Run(t, h.b)
	h.say(t, "demo")
	h.say(t, "Ana")
	h.say(t, "120")
	h.sb.WaitSent(t, 3) // at the step "call"

	// A reload without the step "call" ends the run; one that keeps the
	// step keeps it.
	other := lines(
		"flows:",
		"  lead:",
		"    steps:",
		"      - name: name",
		`        ask: "Name?"`,
		"rules:",
		"  - name: start",
		`    when: lower(Text) == "demo"`,
		"    actions:",
		"      - start_flow: lead",
	)
	set, err := rulefile.Parse("rules.yaml", []byte(other))
	require.NoError(t, err)
	require.NoError(t, h.e.Swap(set))
	_, err = h.e.Flows().State(t.Context(), "sendbee", "c1")
	assert.ErrorIs(t, err, flow.ErrNoFlow)

	h.say(t, "demo")
	assert.Equal(t, "Name?", h.sb.WaitSent(t, 4)[3].Text)
	require.NoError(t, h.e.Swap(mustParse(t, leadFile)))
	st, err := h.e.Flows().State(t.Context(), "sendbee", "c1")
	require.NoError(t, err)
	assert.Equal(t, "name", st.Step, "the step is still there: the run goes on")
	h.say(t, "Bo")
	assert.Equal(t, "How many people work at your company, Bo?", h.sb.WaitSent(t, 5)[4].Text)
}

func TestEngine_flowsAddedByAReloadAreRefused(t *testing.T) {
	h := newHarness(t, lines("rules:", "  - name: a", `    when: Text == "a"`, "    actions:", "      - reply: a"))
	assert.Nil(t, h.e.Flows())
	err := h.e.Swap(mustParse(t, leadFile))
	var le *rulefile.LoadError
	require.ErrorAs(t, err, &le)
	assert.Contains(t, fmt.Sprint(le.Problems), "restart it to run flows")
}

func mustParse(t *testing.T, src string) *rulefile.Set {
	t.Helper()
	set, err := rulefile.Parse("rules.yaml", []byte(src))
	require.NoError(t, err)
	return set
}

// retry's say is said when a step gives up, before it goes to then.
func TestEngine_flowRetrySay(t *testing.T) {
	h := newHarness(t, lines(
		"flows:",
		"  lead:",
		"    steps:",
		"      - name: size",
		`        ask: "How many people?"`,
		"        expect: {integer: {min: 1}}",
		"        retry: {max: 1, say: \"Sorry {{.Author.Name}}, a person will help.\", then: handoff}",
		"        save: size",
		"rules:",
		"  - name: start",
		`    when: lower(Text) == "demo"`,
		"    actions:",
		"      - start_flow: lead",
	))
	bottest.Run(t, h.b)
	h.step(t, "demo", "How many people?")
	h.step(t, "many", "Please send a whole number of at least 1.")
	h.step(t, "lots", "Sorry Ana, a person will help.")
	require.Eventually(t, func() bool {
		o, _ := h.b.Owner(t.Context(), "sendbee", "c1")
		return o == bot.OwnerHuman
	}, 5*time.Second, time.Millisecond)
}

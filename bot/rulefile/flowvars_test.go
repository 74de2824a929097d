package rulefile_test

import (
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

// qualifyFile is a flow whose step and on_done set and clear conversation
// variables, which rules read afterwards.
var qualifyFile = lines(
	"vars:",
	"  tier: basic",
	"flows:",
	"  lead:",
	"    steps:",
	"      - name: name",
	`        ask: "Name?"`,
	"        save: name",
	"        actions:",
	`          - set: {asked: "{{.Step}}", tier: gold}`,
	"      - name: need",
	`        ask: "Need, {{.Values.name}}?"`,
	"        save: need",
	`    done: "Thanks!"`,
	"    on_done:",
	"      - call: crm",
	`      - set: {qualified: "{{.Values.name}} needs {{.Values.need}} ({{.Vars.asked}})"}`,
	"      - clear: [tier]",
	"rules:",
	"  - name: qualified",
	"    when: vars.qualified != nil",
	"    actions:",
	`      - reply: "Known: {{.Vars.qualified}}, tier {{.Vars.tier}}."`,
	"  - name: tier",
	`    when: flow.name == "lead" && lower(Text) == "tier"`,
	"    global: true",
	"    actions:",
	`      - reply: "Tier {{.Vars.tier}}."`,
	"  - name: start",
	"    when: 'true'",
	"    actions:",
	"      - start_flow: lead",
)

// A flow's step actions and on_done set and clear conversation variables,
// as a rule's set and clear do, once per completion: the rules see them.
func TestEngine_flowSetsVars(t *testing.T) {
	crm := &calls{}
	h := newHarness(t, qualifyFile, rulefile.WithAction("crm", crm))
	bottest.Run(t, h.b)
	h.step(t, "hi", "Name?")
	h.step(t, "Ana", "Need, Ana?")
	h.step(t, "tier", "Tier gold.", "Need, Ana?")
	h.step(t, "a CRM", "Thanks!")
	require.Eventually(t, func() bool { return len(crm.all()) == 1 }, 2*time.Second, time.Millisecond)
	h.step(t, "hello again", "Known: Ana needs a CRM (name), tier basic.")
	assert.Len(t, crm.all(), 1)
}

// clock is a settable clock for the flow engine's timers.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// A reminder's say repeats the step's question as .Ask, rendered as it
// would be asked now.
func TestEngine_remindRepeatsTheQuestion(t *testing.T) {
	sb := bottest.NewFakeAdapter("sendbee")
	b, err := bot.New(bot.WithAdapters(sb), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	clk := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	fe := flow.New(b, flow.WithClock(clk.Now), flow.WithSweepInterval(time.Millisecond))
	require.NoError(t, rulefile.NewEngine(mustParse(t, lines(
		"flows:",
		"  lead:",
		"    steps:",
		"      - name: name",
		`        ask: "Name?"`,
		"        save: name",
		"      - name: email",
		`        ask: "Your e-mail, {{.Values.name}}?"`,
		"        remind: {after: 10m, say: \"Still there? {{.Ask}}\"}",
		"rules:",
		"  - name: start",
		"    when: 'true'",
		"    actions:",
		"      - start_flow: lead",
	)), rulefile.WithFlows(fe)).Install(b))
	fe.Install()
	bottest.Run(t, b)
	for i, text := range []string{"hi", "Ana"} {
		require.NoError(t, sb.Inject(t.Context(), bottest.NewMessage(text, bottest.In("sendbee", "c1"))))
		sb.WaitSent(t, i+1)
	}
	clk.Add(10 * time.Minute)
	assert.Equal(t, "Still there? Your e-mail, Ana?", sb.WaitSent(t, 3)[2].Text)
}

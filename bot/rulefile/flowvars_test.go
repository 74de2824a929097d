package rulefile_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot/bottest"
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

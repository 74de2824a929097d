package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testRules = `rules:
  - name: order
    command: order
    help: {usage: "order <n>", description: "where an order is"}
    actions:
      - reply: "order {{.Captures.Args}} is on its way"
  - name: refund
    when: 'lower(Text) contains "refund"'
    actions:
      - reply: "refunds take 5 days"
`

func writeRules(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	return p
}

func TestRulesCheck(t *testing.T) {
	var out, errOut strings.Builder
	good := writeRules(t, testRules)
	require.NoError(t, run(t.Context(), []string{"rules", "check", good}, strings.NewReader(""), &out, &errOut, env()))
	assert.Equal(t, good+": ok, 2 rules, 0 flows, 0 schedules\n", out.String())

	bad := writeRules(t, "rules:\n  - name: x\n    when: Text contains\n    actions: [{reply: hi}]\n")
	err := run(t.Context(), []string{"rules", "check", bad}, strings.NewReader(""), &out, &errOut, env())
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad+":3:")
	assert.Contains(t, err.Error(), "column 13 of the expression")

	var ue *usageError
	assert.ErrorAs(t, run(t.Context(), []string{"rules", "lint", good}, strings.NewReader(""), &out, &errOut, env()), &ue)
	assert.ErrorAs(t, run(t.Context(), []string{"rules", "explain", good}, strings.NewReader(""), &out, &errOut, env()), &ue,
		"explain needs a message")
}

func TestRulesExplain(t *testing.T) {
	var out, errOut strings.Builder
	p := writeRules(t, testRules)
	require.NoError(t, run(t.Context(), []string{"rules", "explain", p, "-text", "I want a REFUND", "-platform", "sendbee"},
		strings.NewReader(""), &out, &errOut, env()))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 4)
	assert.Contains(t, lines[1], "order")
	assert.Contains(t, lines[1], "not matched")
	assert.Contains(t, lines[2], "refund")
	assert.Contains(t, lines[2], "matched, runs")
	assert.Equal(t, `   reply: "refunds take 5 days"`, lines[3], "what the rule that runs would do")

	out.Reset()
	require.NoError(t, run(t.Context(), []string{"rules", "explain", p, "-json", `{"Platform":"console","Conversation":"c","Text":"/order 7","Direct":true}`},
		strings.NewReader(""), &out, &errOut, env()))
	assert.Contains(t, out.String(), "matched, runs")
}

// parley run on the console: the rules answer, help lists them.
func TestRun_rulesOnConsole(t *testing.T) {
	p := writeRules(t, testRules)
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(t.Context(), []string{"run", "-rules", p}, strings.NewReader("order 42\nhelp\n"), &out, &errOut, env())
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("parley run did not end with its input")
	}
	assert.Contains(t, out.String(), "order 42 is on its way")
	assert.Contains(t, out.String(), "order <n>")

	var ue *usageError
	assert.ErrorAs(t, run(t.Context(), []string{"run"}, strings.NewReader(""), &out, &errOut, env()), &ue)
	err := run(t.Context(), []string{"run", "-rules", filepath.Join(t.TempDir(), "missing.yaml")}, strings.NewReader(""), &out, &errOut, env())
	assert.ErrorContains(t, err, "missing.yaml")
}

// rules check reports, with their positions, the conditions and templates
// that are too costly whatever the message.
func TestRulesCheck_limits(t *testing.T) {
	var out, errOut strings.Builder
	p := writeRules(t, `rules:
  - name: regexp
    when: Text matches repeat("(a*)*", 10000)
    actions: [reply: hi]
  - name: loop
    when: 'Text == "x" || all(1..100000000, # > 0)'
    actions: [reply: hi]
  - name: template
    when: Text == "y"
    actions: [reply: "{{range 1000000}}.{{end}}"]
`)
	err := run(t.Context(), []string{"rules", "check", p}, strings.NewReader(""), &out, &errOut, env())
	require.Error(t, err)
	assert.Empty(t, out.String())
	msg := err.Error()
	assert.Contains(t, msg, "3 problems")
	assert.Contains(t, msg, p+`:3:24: rule "regexp": when: regular expression too large: 10000 capturing groups, the limit is 100 (column 14 of the expression)`)
	assert.Contains(t, msg, p+`:6:27: rule "loop": when: over the budget of 1000000 steps on every message (column 16 of the expression)`)
	assert.Contains(t, msg, p+`:10:31: rule "template": action 1 (reply): bad template: range over 1000000 is more than the 100000 iterations the templates of a rule may run per message`)
}

// rules explain tells what a flow waiting in the conversation does with
// the message, from --flow, --step, --value, --var and --attempts.
func TestRulesExplain_flow(t *testing.T) {
	file := filepath.Join("..", "..", "bot", "rulefile", "testdata", "explainflow", "rules.yaml")
	for _, tc := range []struct {
		name string
		args []string
		want []string // lines of the output, in order
		code int
	}{
		{"answer saved", []string{"--text", "Ana", "--flow", "lead", "--step", "name"},
			[]string{`(flow lead)  -         matched, runs  waits at step "name"`, `save: name = "Ana"`}, 0},
		{"branch on a value", []string{"--text", "120", "--flow", "lead", "--step", "size", "--value", "name=Ana", "--var", "team=Support"},
			[]string{`save: size = 120`, `next: step "call"`, `When can Support call you?`}, 0},
		{"refused", []string{"--flow", "lead", "--step", "size", "--attempts", "1", "--text", "lots"},
			[]string{`refused: not a number`}, 0},
		{"step without flow", []string{"--text", "x", "--step", "size"}, []string{"name it with --flow"}, 2},
		{"flow without step", []string{"--text", "x", "--flow", "lead"}, []string{"--flow needs the --step"}, 2},
		{"bad value", []string{"--text", "x", "--flow", "lead", "--step", "size", "--value", "size"}, []string{`--value "size": want NAME=VALUE`}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := parley(t, append([]string{"rules", "explain", file}, tc.args...)...)
			assert.Equal(t, tc.code, code, "stderr: %s", stderr)
			out := stdout + stderr
			at := 0
			for _, w := range tc.want {
				i := strings.Index(out[at:], w)
				require.GreaterOrEqual(t, i, 0, "output lacks %q after byte %d:\n%s", w, at, out)
				at += i + len(w)
			}
		})
	}
}

const flowRules = `flows:
  lead:
    steps:
      - name: name
        ask: "What is your name?"
        expect: {text: {min: 2, max: 40}}
        save: name
      - name: size
        ask: "How many people work with you, {{.Values.name}}?"
        expect: {integer: {min: 1, max: 100000}, reask: "A number, please."}
        save: size
    done: "Thanks, {{.Values.name}}: {{.Values.size}} people."
rules:
  - name: start
    when: lower(Text) == "demo"
    actions:
      - start_flow: lead
`

// parley run holds a rules file's flow on the console: it asks, re-asks a
// refused answer and ends with what it saved.
func TestRun_flowOnConsole(t *testing.T) {
	p := writeRules(t, flowRules)
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(t.Context(), []string{"run", p}, strings.NewReader("demo\nAna\nlots\n120\n"), &out, &errOut, env())
	}()
	select {
	case err := <-done:
		require.NoError(t, err, errOut.String())
	case <-time.After(10 * time.Second):
		t.Fatal("parley run did not end with its input")
	}
	assert.Equal(t, "bot: What is your name?\nbot: How many people work with you, Ana?\nbot: A number, please.\nbot: Thanks, Ana: 120 people.\n", out.String())
}

// A flow calling a platform action of a platform that is not configured
// runs on the console all the same: the action is skipped, with a warning
// that names what would configure it; an action nobody offers is refused
// at start, with the file's position.
func TestRun_flowActionOfAnUnconfiguredPlatform(t *testing.T) {
	p := writeRules(t, strings.Replace(flowRules, `    done: "Thanks`, "    on_done:\n      - call: velaflows.create_lead\n    done: \"Thanks", 1))
	var out, errOut syncBuffer
	require.NoError(t, run(t.Context(), []string{"run", p}, strings.NewReader("demo\nAna\n120\n"), &out, &errOut, env()))
	assert.Contains(t, out.String(), "bot: Thanks, Ana: 120 people.\n")
	assert.Contains(t, errOut.String(), `flow action skipped: VelaFlows is not configured (VELAFLOWS_API_TOKEN, VELAFLOWS_WORKSPACE_ID)" action=velaflows.create_lead`)

	p = writeRules(t, strings.Replace(flowRules, `    done: "Thanks`, "    on_done:\n      - call: crm.create\n    done: \"Thanks", 1))
	err := run(t.Context(), []string{"run", p}, strings.NewReader(""), &out, &errOut, env())
	require.Error(t, err)
	assert.Contains(t, err.Error(), p+":13:15:")
	assert.Contains(t, err.Error(), `no action named "crm.create"`)
}

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
	assert.Equal(t, good+": ok, 2 rules, 0 schedules\n", out.String())

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

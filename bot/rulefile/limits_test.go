package rulefile_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/rulefile"
)

// newEngine parses src and returns an Engine on no Bot, with its own
// MemoryStore.
func newEngine(t *testing.T, src string) (*rulefile.Engine, bot.Store) {
	t.Helper()
	set, err := rulefile.Parse("rules.yaml", []byte(src))
	require.NoError(t, err)
	store := bot.NewMemoryStore()
	return rulefile.NewEngine(set, rulefile.WithStore(store), rulefile.WithLogger(slog.New(slog.DiscardHandler))), store
}

// What can be found too costly when the file is loaded is a load error,
// at its position.
func TestParse_limits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "regexp_computed_from_constants",
			src:  lines("rules:", "  - name: a", `    when: Text matches repeat("(a*)*", 10000)`, "    actions: [reply: hi]"),
			want: []string{`rules.yaml:3:24: rule "a": when: regular expression too large: 10000 capturing groups, the limit is 100 (column 14 of the expression)`},
		},
		{
			name: "regexp_literal",
			src:  lines("rules:", "  - name: a", `    when: Text matches "x{1000}x{1000}x{1000}x{1000}x{1000}y"`, "    actions: [reply: hi]"),
			want: []string{`rules.yaml:3:24: rule "a": when: regular expression too large: 5003 instructions, the limit is 5000 (column 14 of the expression)`},
		},
		{
			name: "constant_over_budget",
			src:  lines("rules:", "  - name: a", `    when: 'Text == "x" || all(1..100000000, # > 0)'`, "    actions: [reply: hi]"),
			want: []string{`rules.yaml:3:27: rule "a": when: over the budget of 1000000 steps on every message (column 16 of the expression)`},
		},
		{
			name: "template_range_over_a_large_number",
			src:  lines("rules:", "  - name: a", `    when: Text == "x"`, `    actions: [reply: "{{range 1000000}}.{{end}}"]`),
			want: []string{`rules.yaml:4:31: rule "a": action 1 (reply): bad template: range over 1000000 is more than the 100000 iterations the templates of a rule may run per message`},
		},
		{
			name: "default_too_large",
			src:  lines("vars:", "  v: "+strings.Repeat("x", rulefile.MaxVarSize+1), "rules:", "  - name: a", `    when: Text == "x"`, "    actions: [reply: hi]"),
			want: []string{fmt.Sprintf(`rules.yaml:2:6: vars: v: %d bytes, more than the %d a variable may hold`, rulefile.MaxVarSize+1, rulefile.MaxVarSize)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, problems(t, tt.src))
		})
	}
}

// A condition that would run away on a message fails that message, with
// the error reported by the Bot like a handler error, while the other
// rules still answer it and the next message.
func TestEngine_runawayCondition(t *testing.T) {
	t.Parallel()
	handled := make(chan error, 4)
	sb := bottest.NewFakeAdapter("sendbee")
	b, err := bot.New(bot.WithAdapters(sb), bot.WithLogger(bottest.Logger(t)),
		bot.WithHooks(bot.Hooks{Handled: func(_ context.Context, _ *bot.Message, _ time.Duration, err error) { handled <- err }}))
	require.NoError(t, err)
	set, err := rulefile.Parse("rules.yaml", []byte(lines(
		"rules:",
		"  - name: runaway",
		"    priority: 1",
		`    when: 'reduce(1..1000, #acc + Text, "") != ""'`,
		"    actions: [reply: never]",
		"  - name: hello",
		`    when: Text startsWith "hi"`,
		"    actions: [reply: hello]",
	)))
	require.NoError(t, err)
	require.NoError(t, set.Install(b))
	bottest.Run(t, b)

	require.NoError(t, sb.Inject(t.Context(), bottest.NewMessage("hi"+strings.Repeat(" there", 20), bottest.In("sendbee", "c1"))))
	err = <-handled
	require.ErrorIs(t, err, bot.ErrExprLimit)
	var he *bot.HandlerError
	require.ErrorAs(t, err, &he)
	assert.Contains(t, err.Error(), `evaluate rule "reduce(1..1000, #acc + Text, \"\") != \"\"": line 1, column 22: over the budget of 1000000 steps`)
	assert.Equal(t, []string{"hello"}, texts(sb.WaitSent(t, 1)))

	require.NoError(t, sb.Inject(t.Context(), bottest.NewMessage("x", bottest.In("sendbee", "c1"))))
	require.NoError(t, <-handled, "a short text is within the budget")
	assert.Equal(t, []string{"hello", "never"}, texts(sb.WaitSent(t, 2)))
}

// A variable set from itself doubles on every message until it reaches the
// limit of a variable: that message fails with a clear error and the
// variables stay as they were.
func TestEngine_variableDoubling(t *testing.T) {
	t.Parallel()
	e, store := newEngine(t, lines(
		"vars: {v: ab}",
		"rules:",
		"  - name: double",
		"    when: 'true'",
		"    actions:",
		"      - set: {v: '{{.Vars.v}}{{.Vars.v}}', n: '{{len .Vars.v}}'}",
		"      - reply: '{{len .Vars.v}}'",
	))
	var rec bottest.Recorder
	ctx := t.Context()
	var err error
	n := 0
	for ; n < 20; n++ {
		if err = e.HandleMessage(ctx, &rec, bottest.NewMessage("again")); err != nil {
			break
		}
	}
	require.Error(t, err, "the variable doubled 20 times, to %d bytes", 2<<20)
	assert.Equal(t, 13, n, "2 bytes doubled 13 times are 16 KiB; the 14th doubling is refused")
	assert.EqualError(t, err, fmt.Sprintf(`rulefile: rule "double": action 1 (set): v: %d bytes, more than the %d a variable may hold`, 2<<14, rulefile.MaxVarSize))
	raw, err := store.Get(ctx, "rulefile:vars:"+bottest.DefaultPlatform+":"+bottest.DefaultConversation)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"n":"8192"`, "the failed set changed nothing")
	assert.Len(t, rec.Texts(), 13)
}

// A template's rendered text has a limit; past it, the action fails and
// nothing is sent.
func TestEngine_renderedTextLimit(t *testing.T) {
	t.Parallel()
	e, _ := newEngine(t, lines(
		"rules:",
		"  - name: echo",
		"    when: 'true'",
		"    actions: [reply: '{{.Text}}{{.Text}}']",
	))
	var rec bottest.Recorder
	err := e.HandleMessage(t.Context(), &rec, bottest.NewMessage(strings.Repeat("x", rulefile.MaxTextSize/2+1)))
	assert.EqualError(t, err, fmt.Sprintf(`rulefile: rule "echo": action 1 (reply): the rendered text is longer than %d bytes`, rulefile.MaxTextSize))
	assert.Zero(t, len(rec.Texts()), "nothing sent")

	require.NoError(t, e.HandleMessage(t.Context(), &rec, bottest.NewMessage(strings.Repeat("x", rulefile.MaxTextSize/2))))
	assert.Equal(t, 1, len(rec.Texts()))
}

// The loops of a rule's templates share a budget per message, so that
// ranges nested over the length of the text cannot run for minutes.
func TestEngine_templateLoopBudget(t *testing.T) {
	t.Parallel()
	e, _ := newEngine(t, lines(
		"rules:",
		"  - name: loops",
		"    when: 'true'",
		"    actions: [reply: '{{range len .Text}}{{range len $.Text}}{{end}}{{end}}done']",
	))
	var rec bottest.Recorder
	err := e.HandleMessage(t.Context(), &rec, bottest.NewMessage(strings.Repeat("x", 1500)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("more than the %d iterations the templates of a rule may run per message", rulefile.MaxTemplateSteps))
	assert.Empty(t, rec.Texts())

	require.NoError(t, e.HandleMessage(t.Context(), &rec, bottest.NewMessage(strings.Repeat("x", 300))))
	assert.Equal(t, []string{"done"}, rec.Texts())
}

var _ = context.Background

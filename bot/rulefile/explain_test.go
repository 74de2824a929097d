package rulefile_test

import (
	"bytes"
	"errors"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/rulefile"
)

var update = flag.Bool("update", false, "rewrite the golden files of the explain tests")

func TestSet_Explain(t *testing.T) {
	t.Parallel()
	set, err := rulefile.Load(filepath.Join("testdata", "explain", "rules.yaml"))
	require.NoError(t, err)
	tests := []struct {
		name string
		msg  *bot.Message
	}{
		{"refund", bottest.NewMessage("I want a REFUND", bottest.In("sendbee", "c1"))},
		{"vip_help_on_flowdock", bottest.NewMessage("/help", bottest.In("flowdock", "main"), bottest.WithTags("VIP"))},
		{"human_owner", bottest.NewMessage("refund please", bottest.In("sendbee", "c1"), bottest.WithOwner(bot.OwnerHuman))},
		{"evaluation_error", bottest.NewMessage("order #12a", bottest.In("velaflows", "c2"))},
		{"big_order_from_a_bot", bottest.NewMessage("#2024", bottest.In("velaflows", "c2"),
			bottest.From(bot.User{ID: "b1", Name: "Other bot", Bot: true}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			require.NoError(t, rulefile.Format(&buf, set.Explain(t.Context(), tt.msg)))
			golden := filepath.Join("testdata", "explain", tt.name+".golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -update to create the golden file")
			assert.Equal(t, string(want), buf.String())
		})
	}
}

func TestSet_Explain_fields(t *testing.T) {
	t.Parallel()
	set, err := rulefile.Load(filepath.Join("testdata", "explain", "rules.yaml"))
	require.NoError(t, err)
	ex := set.Explain(t.Context(), bottest.NewMessage("order #12a", bottest.In("sendbee", "c1")))
	require.Len(t, ex, 7)
	byName := map[string]rulefile.Explanation{}
	for _, x := range ex {
		byName[x.Rule] = x
	}
	assert.Equal(t, "refund", ex[0].Rule, "priority order")
	assert.Equal(t, "fallback", ex[6].Rule)

	refund := byName["refund"]
	assert.Equal(t, rulefile.NotMatched, refund.Result)
	assert.Equal(t, `lower(Text) contains "refund" || hasTag("billing")`, refund.Decider, "the false operand of &&: an || with no true operand")

	order := byName["order-number"]
	assert.Equal(t, rulefile.Failed, order.Result)
	assert.Equal(t, `int(trim(Text, "# ")) > 1000`, order.Decider)
	var ee *bot.ExprError
	require.ErrorAs(t, order.Err, &ee)
	assert.False(t, order.Runs)

	audit := byName["audit"]
	assert.Equal(t, rulefile.Matched, audit.Result)
	assert.True(t, audit.Runs)
	assert.True(t, byName["fallback"].Runs, "audit continues")
	assert.Equal(t, "command help", byName["help"].Decider)
}

// TestSet_Explain_agreesWithRouting checks that the rules Explain says run
// are the rules whose actions the Engine runs.
func TestSet_Explain_agreesWithRouting(t *testing.T) {
	t.Parallel()
	set, err := rulefile.Parse("rules.yaml", []byte(lines(
		"rules:",
		"  - name: a",
		`    when: Platform == "sendbee" && (Text contains "x" || hasTag("t"))`,
		"    priority: 3",
		"    actions: [reply: a, continue: true]",
		"  - name: b",
		`    when: not (Text startsWith "/") && len(Text) > 3`,
		"    actions: [reply: b, continue: true]",
		"  - name: c",
		"    command: go",
		"    actions: [reply: c]",
		"  - name: d",
		`    when: Kind in ["message", "edit"] && lower(Text) contains "y"`,
		"    actions: [reply: d]",
		"  - name: e",
		`    when: int(Text) > 3 || Text == "zzz"`,
		"    priority: -1",
		"    actions: [reply: e]",
		"  - name: f",
		"    when: true",
		"    priority: -2",
		"    actions: [reply: f]",
	)))
	require.NoError(t, err)
	e := rulefile.NewEngine(set, rulefile.WithLogger(slog.New(slog.DiscardHandler)))
	for _, m := range []*bot.Message{
		bottest.NewMessage("xylophone", bottest.In("sendbee", "c")),
		bottest.NewMessage("/go now", bottest.In("sendbee", "c"), bottest.WithTags("t")),
		bottest.NewMessage("/go", bottest.In("flowdock", "c")),
		bottest.NewMessage("YES", bottest.In("flowdock", "c"), bottest.WithKind(bot.KindEdit)),
		bottest.NewMessage("zzz", bottest.In("velaflows", "c")),
		bottest.NewMessage("42", bottest.In("velaflows", "c")),
		bottest.NewMessage("", bottest.In("velaflows", "c"), bottest.WithKind(bot.KindStatus)),
	} {
		var want []string
		for _, x := range set.Explain(t.Context(), m) {
			if x.Runs {
				want = append(want, x.Rule)
			}
		}
		var rec bottest.Recorder
		err := e.HandleMessage(t.Context(), &rec, m)
		if want == nil {
			assert.ErrorIs(t, err, bot.ErrContinue)
		} else {
			assert.NoError(t, err)
		}
		assert.Equal(t, want, rec.Texts(), "message %q", m.Text)
	}
}

// TestCompileEnvExpr covers what package bot exports for Explain (in
// bot/expr_explain.go): expressions over bot.Env of any type, and the Env
// of a message for an owner and time zone.
func TestCompileEnvExpr(t *testing.T) {
	t.Parallel()
	zone := time.FixedZone("UTC+2", 2*60*60)
	m := bottest.NewMessage("Hello", bottest.WithTags("VIP"), bottest.WithTime(time.Date(2026, 1, 2, 23, 30, 0, 0, time.UTC)))
	env := bot.NewEnv(m, bot.OwnerHuman, zone)
	assert.Equal(t, "human", env.Owner)
	assert.Equal(t, zone, env.Time.Location())
	assert.Equal(t, "message", bot.NewEnv(&bot.Message{}, bot.OwnerUnset, nil).Kind)
	assert.Equal(t, "bot", bot.NewEnv(&bot.Message{}, bot.OwnerUnset, nil).Owner)

	for src, want := range map[string]any{
		`upper(Text) + "!"`:      "HELLO!",
		`len(Tags)`:              1,
		`hasTag("vip")`:          true,
		`Time.Day()`:             3, // in the Env's zone
		`Owner == "human" ? 1:2`: 1,
	} {
		x, err := bot.CompileEnvExpr(src)
		require.NoError(t, err, src)
		got, err := x.Eval(env)
		require.NoError(t, err, src)
		assert.Equal(t, want, got, src)
		assert.Equal(t, src, x.String())
	}

	_, err := bot.CompileEnvExpr(`Text + Nope`)
	var ee *bot.ExprError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 8, ee.Column)
	_, err = bot.CompileEnvExpr(`between("9", "10:00")`)
	require.ErrorAs(t, err, &ee, "constant checks as in bot.Expr")

	x, err := bot.CompileEnvExpr(`int(Text)`)
	require.NoError(t, err)
	_, err = x.Eval(env)
	require.ErrorAs(t, err, &ee)
	assert.Contains(t, ee.Error(), "bot: evaluate rule")
	assert.Error(t, errors.Unwrap(ee), "expr-lang's error")
}

// TestFormat_actions checks that Explain shows what the rules that run
// would do: texts rendered with the message when nothing but the message
// decides them, the other actions described, and the fallback.
func TestFormat_actions(t *testing.T) {
	t.Parallel()
	set, err := rulefile.Parse("rules.yaml", []byte(lines(
		"commands: {prefixes: ['/']}",
		"vars: {team: Support}",
		"rules:",
		"  - name: refund",
		`    when: lower(Text) contains "refund"`,
		"    actions:",
		"      - tag: [refund, billing]",
		"      - set: {topic: 'refund for {{.Author.Name}}', since: '{{.Vars.topic}}'}",
		"      - forward: {platform: flowdock, conversation: support, text: 'Refund from {{.Author.Name}}: {{.Text}}'}",
		"      - reply: 'Noted: {{.Vars.topic}}.'",
		"      - reply: 'The {{.Vars.team}} team will write.'",
		"      - continue: true",
		"  - name: order",
		"    command: order",
		"    actions:",
		"      - template: {keyword: order_status, language: en, tags: {'1': '{{.Author.Name}}', '2': '{{.Captures.Args}}'}}",
		"      - clear: [topic]",
		"      - reply: 'Topic: {{.Vars.topic | default \"none\"}}'",
		"      - handoff: 'Order {{.Captures.Args}}: an agent will take over.'",
		"  - name: bye",
		"    command: bye",
		"    actions: [resume: true, handoff: true]",
		"fallback:",
		"  - reply: 'Sorry {{.Author.Name}}, I did not get that.'",
	)))
	require.NoError(t, err)
	explain := func(m *bot.Message) string {
		var buf bytes.Buffer
		require.NoError(t, rulefile.Format(&buf, set.Explain(t.Context(), m)))
		return buf.String()
	}
	ana := bottest.From(bot.User{ID: "u1", Name: "Ana"})

	assert.Equal(t, lines(
		"#  RULE        PRIORITY  RESULT         DECIDED BY",
		`1  refund      0         matched, runs  lower(Text) contains "refund"`,
		"   tag: refund, billing",
		`   set: topic = "refund for Ana", since = "{{.Vars.topic}}" (not rendered: it reads the conversation's variables)`,
		`   forward: to flowdock/support: "Refund from Ana: I want a refund"`,
		`   reply: "Noted: refund for Ana."`,
		`   reply: "The {{.Vars.team}} team will write." (not rendered: it reads the conversation's variables)`,
		"   continue: routing goes on with the next rule that matches",
		"2  order       0         not matched    command order",
		"3  bye         0         not matched    command bye",
		"4  (fallback)  -         matched, runs  no rule handled the message",
		`   reply: "Sorry Ana, I did not get that."`,
		"   (unless another route of the bot, such as a help command, answers first)",
	), explain(bottest.NewMessage("I want a refund", ana, bottest.Direct())))

	assert.Equal(t, lines(
		"#  RULE        PRIORITY  RESULT         DECIDED BY",
		`1  refund      0         not matched    lower(Text) contains "refund"`,
		"2  order       0         matched, runs  command order",
		`   template: order_status (en), tags 1 = "Ana", 2 = "42"`,
		"   clear: topic",
		`   reply: "Topic: none"`,
		`   handoff: "Order 42: an agent will take over.", then hand the conversation to humans`,
		"3  bye         0         not matched    command bye",
		`4  (fallback)  -         matched        rule "order" handled the message`,
	), explain(bottest.NewMessage("/order 42", ana, bottest.In("flowdock", "main"))))

	assert.Equal(t, lines(
		"#  RULE        PRIORITY  RESULT         DECIDED BY",
		`1  refund      0         not matched    lower(Text) contains "refund"`,
		"2  order       0         not matched    command order",
		"3  bye         0         matched, runs  command bye",
		"   resume: give the conversation back to the bot",
		"   handoff: hand the conversation to humans",
		`4  (fallback)  -         matched        rule "bye" handled the message`,
	), explain(bottest.NewMessage("/bye", ana)))

	assert.Equal(t, lines(
		"#  RULE        PRIORITY  RESULT       DECIDED BY",
		`1  refund      0         not matched  lower(Text) contains "refund"`,
		"2  order       0         not matched  command order",
		"3  bye         0         not matched  command bye",
		"4  (fallback)  -         not matched  not addressed to the bot: not Direct, and no command or name of the file's syntax",
	), explain(bottest.NewMessage("chatter", ana, bottest.In("flowdock", "main"))))

	assert.Equal(t, lines(
		"#  RULE        PRIORITY  RESULT                 DECIDED BY",
		"1  refund      0         skipped (human owner)",
		"2  order       0         skipped (human owner)",
		"3  bye         0         skipped (human owner)",
		"4  (fallback)  -         skipped (human owner)",
	), explain(bottest.NewMessage("hello?", ana, bottest.Direct(), bottest.WithOwner(bot.OwnerHuman))))
}

// TestSet_Explain_fallback checks the fallback's Explanation.
func TestSet_Explain_fallback(t *testing.T) {
	t.Parallel()
	set, err := rulefile.Parse("rules.yaml", []byte(lines(
		"rules: [{name: big, when: 'int(Text) > 3', actions: [reply: big]}]",
		"fallback: [reply: 'Sorry?', tag: unknown]",
	)))
	require.NoError(t, err)
	ex := set.Explain(t.Context(), bottest.NewMessage("2", bottest.Direct()))
	require.Len(t, ex, 2)
	fb := ex[1]
	assert.True(t, fb.Fallback)
	assert.Equal(t, "fallback", fb.Rule)
	assert.Equal(t, rulefile.Matched, fb.Result)
	assert.True(t, fb.Runs)
	assert.Equal(t, []rulefile.ActionInfo{{Kind: "reply", Detail: `"Sorry?"`}, {Kind: "tag", Detail: "unknown"}}, fb.Actions)
	assert.False(t, ex[0].Fallback)
	assert.Nil(t, ex[0].Actions, "no actions for a rule that does not run")

	for text, kind := range map[string]bot.Kind{"2": bot.KindEdit, "": bot.KindStatus} {
		fb := set.Explain(t.Context(), bottest.NewMessage(text, bottest.Direct(), bottest.WithKind(kind)))[1]
		assert.Equal(t, rulefile.NotMatched, fb.Result, kind)
		assert.False(t, fb.Runs, kind)
		assert.Contains(t, fb.Decider, "chat messages only", kind)
	}
	fb = set.Explain(t.Context(), bottest.NewMessage("2", bottest.Direct(), bottest.From(bot.User{ID: "b", Bot: true})))[1]
	assert.Equal(t, "the author is a bot", fb.Decider)

	noFallback, err := rulefile.Parse("rules.yaml", []byte("rules: [{name: big, when: 'int(Text) > 3', actions: [reply: big]}]\n"))
	require.NoError(t, err)
	assert.Len(t, noFallback.Explain(t.Context(), bottest.NewMessage("2", bottest.Direct())), 1, "no fallback, no row")
}

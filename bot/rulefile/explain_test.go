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

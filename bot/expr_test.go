package bot_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr/file"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
)

func TestExpr_Match(t *testing.T) {
	t.Parallel()
	full := &bot.Message{
		ID:           "m1",
		Platform:     "sendbee",
		Conversation: "c9",
		Thread:       "t3",
		Author:       bot.User{ID: "u1", Name: "Ann", Phone: "+3851", Email: "ann@example.com", Agent: true},
		Text:         "Where is my ORDER #42?",
		Tags:         []string{"VIP", "lead"},
		Time:         time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
		Direct:       true,
	}
	tests := []struct {
		src  string
		msg  *bot.Message
		want bool
	}{
		{`Text contains "ORDER"`, full, true},
		{`Text contains "order"`, full, false},
		{`lower(Text) contains "order"`, full, true},
		{`Text matches "#\\d+"`, full, true},
		{`Platform == "sendbee" && Conversation == "c9" && Thread == "t3"`, full, true},
		{`Platform in ["velaflows", "flowdock"]`, full, false},
		{`Author.Name == "Ann" && Author.Agent && !Author.Bot && Author.Email endsWith "example.com"`, full, true},
		{`Author.ID == "u1" && Author.Phone == "+3851"`, full, true},
		{`Direct`, full, true},
		{`Direct`, ruleMsg("x"), false},
		{`Kind == "message"`, full, true},
		{`Kind == "edit"`, ofKind(ruleMsg("x"), bot.KindEdit), true},
		{`Owner == "bot"`, full, true},
		{`"lead" in Tags`, full, true},
		{`hasTag("vip")`, full, true},
		{`hasTag("VIP") && hasTag("Lead")`, full, true},
		{`hasTag("spam")`, full, false},
		{`any(Tags, hasTag(#))`, full, true},
		{`Time.Year() == 2024 && int(Time.Month()) == 5`, full, true},
		{`Time.IsZero()`, ruleMsg("x"), true},
		{`isCommand("help")`, ruleMsg("/help me"), true},
		{`isCommand("HELP")`, ruleMsg("!Help"), true},
		{`isCommand("help")`, ruleMsg("help"), false},
		{`isCommand("help")`, direct(ruleMsg("help")), true},
		{`isCommand("help")`, ruleMsg("/helpme"), false},
		{`hour() >= 0 && hour() < 24`, full, true},
		{`weekday() in ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]`, full, true},
		{`between("00:00", "24:00")`, full, true},
		{`between("10:00", "10:00")`, full, false},
		{"Text contains \"ORDER\" &&\n  Platform == \"sendbee\"", full, true},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			rule, err := bot.Expr(tt.src)
			require.NoError(t, err)
			got, err := rule.Match(t.Context(), tt.msg)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestExpr_compileError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		src    string
		opts   []bot.ExprOption
		line   int
		column int
		msg    string
	}{
		{"syntax error", `Text contains`, nil, 1, 13, "unexpected token EOF"},
		{"unknown field", `Txt == "x"`, nil, 1, 1, "unknown name Txt"},
		{"unknown field, second line", "Platform == \"x\" &&\n  Foo", nil, 2, 3, "unknown name Foo"},
		{"type error", `Text + 1 > 2`, nil, 1, 6, "invalid operation: + (mismatched types string and int)"},
		{"helper argument type", `hasTag(1)`, nil, 1, 8, "cannot use int as argument (type string) to call hasTag"},
		{"helper too few arguments", `between("09:00")`, nil, 1, 1, "not enough arguments to call between"},
		{"helper too many arguments", `hour(1)`, nil, 1, 1, "too many arguments to call hour"},
		{"not boolean", `Text`, nil, 0, 0, "expected bool, but got string"},
		{"not boolean number", `len(Text)`, nil, 0, 0, "expected bool, but got int"},
		{"bad clock", `Direct && between("9am", "17:00")`, nil, 1, 19, `between: invalid clock time "9am" (want HH:MM or HH:MM:SS)`},
		{"bad clock, second argument", `between("09:00", "25:00")`, nil, 1, 18, `between: invalid clock time "25:00" (want HH:MM or HH:MM:SS)`},
		{"too many nodes", `Text == "a" || Text == "b" || Text == "c"`, []bot.ExprOption{bot.ExprMaxNodes(5)}, 1, 28, "compilation failed: expression exceeds maximum allowed nodes"},
		{"empty", ``, nil, 1, 1, "unexpected token EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rule, err := bot.Expr(tt.src, tt.opts...)
			require.Error(t, err)
			assert.Nil(t, rule)
			var ee *bot.ExprError
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, tt.src, ee.Source)
			assert.Equal(t, tt.line, ee.Line, "line")
			assert.Equal(t, tt.column, ee.Column, "column")
			assert.Equal(t, tt.msg, ee.Msg)
			assert.True(t, strings.HasPrefix(err.Error(), `bot: compile rule "`), err.Error())
		})
	}
}

func TestExprError_Error(t *testing.T) {
	t.Parallel()
	_, err := bot.Expr(`Platform == "sendbee" && Txt`)
	assert.EqualError(t, err, `bot: compile rule "Platform == \"sendbee\" && Txt": line 1, column 26: unknown name Txt`)
	var fe *file.Error
	assert.ErrorAs(t, err, &fe, "the expr-lang error is wrapped")

	_, err = bot.Expr(`Text`)
	assert.EqualError(t, err, `bot: compile rule "Text": expected bool, but got string`)
}

func TestExpr_runtimeError(t *testing.T) {
	t.Parallel()
	rule := bot.MustExpr(`Direct || int(Text) > 3`)
	ok, err := rule.Match(t.Context(), ruleMsg("private words"))
	assert.False(t, ok)
	var ee *bot.ExprError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, `bot: evaluate rule "Direct || int(Text) > 3": line 1, column 11: evaluation failed`, err.Error())
	assert.NotContains(t, err.Error(), "private", "message text must stay out of the error text")
	assert.Contains(t, errors.Unwrap(err).Error(), "private", "the cause is kept for debugging")

	ok, err = rule.Match(t.Context(), ruleMsg("7"))
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestMustExpr(t *testing.T) {
	t.Parallel()
	assert.NotPanics(t, func() { bot.MustExpr(`true`) })
	assert.PanicsWithError(t, `bot: compile rule "Text ==": line 1, column 7: unexpected token EOF`, func() { bot.MustExpr(`Text ==`) })
}

func TestExpr_concurrent(t *testing.T) {
	t.Parallel()
	rule := bot.MustExpr(`lower(Text) contains "ping" && hasTag("a")`)
	done := make(chan bool)
	for i := range 8 {
		go func() {
			ok := true
			for j := range 200 {
				m := ruleMsg("PING")
				if (i+j)%2 == 0 {
					m.Tags = []string{"a"}
				}
				got, err := rule.Match(t.Context(), m)
				ok = ok && err == nil && got == ((i+j)%2 == 0)
			}
			done <- ok
		}()
	}
	for range 8 {
		assert.True(t, <-done)
	}
}

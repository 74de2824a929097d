package bot_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// doubling returns an expression that doubles Text n times with let.
func doubling(n int) string {
	var b strings.Builder
	b.WriteString("let v0 = Text; ")
	for i := range n {
		b.WriteString("let v" + string(rune('a'+i)) + " = ")
		prev := "v0"
		if i > 0 {
			prev = "v" + string(rune('a'+i-1))
		}
		b.WriteString(prev + " + " + prev + "; ")
	}
	b.WriteString("len(v" + string(rune('a'+n-1)) + ") > 0")
	return b.String()
}

// Every way an expression can make its evaluation grow without bound ends
// that evaluation with an error wrapping ErrExprLimit, whatever the
// message, instead of eating the memory or the CPU of the process. The
// inputs are small enough to finish, unbounded, in well under a second.
func TestExpr_evaluationLimits(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 2000)
	tests := []struct {
		name, src, text string
		always          bool // whatever the message
	}{
		{"concatenation in reduce", `reduce(1..3000, #acc + Text, "") != ""`, strings.Repeat("a", 100), false},
		{"concatenation of typed strings", `reduce(1..3000, #acc + "` + strings.Repeat("b", 100) + `", Text) != ""`, "a", true},
		{"doubling with let", doubling(17), "0123456789", false},
		{"nested loops", `let r = 1..1000; all(r, all(r, # > 0))`, "x", true},
		{"join", `len(join(map(1..1000, Text))) > 0`, long, false},
		{"string of an array", `len(string(map(1..1000, Text))) > 0`, long, false},
		{"toJSON", `len(toJSON(map(1..1000, Text))) > 0`, long, false},
		{"replace", `len(replace(Text, "", Text)) > 0`, long, false},
		{"repeat", `len(repeat(Text, 1000)) > 0`, long, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// No time limit, which a slow machine or the race detector
			// could reach before the budget.
			rule, err := bot.Expr(tt.src, bot.ExprTimeLimit(0))
			require.NoError(t, err)
			ok, err := rule.Match(t.Context(), ruleMsg(tt.text))
			assert.False(t, ok)
			require.ErrorIs(t, err, bot.ErrExprLimit)
			var ee *bot.ExprError
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, "over the budget of 1000000 steps", ee.Msg)
			if len(tt.text) >= 10 {
				assert.NotContains(t, ee.Error(), tt.text, "no message text in the error")
			}
			if !tt.always {
				_, err = rule.Match(t.Context(), ruleMsg(""))
				assert.NoError(t, err, "the same expression on an empty message is fine")
			}
		})
	}
}

// repeat refuses a string it cannot afford before building it: expr-lang's
// own repeat built it first and only then counted it.
func TestExpr_repeatAllocatesNothingPastTheBudget(t *testing.T) {
	rule := bot.MustExpr(`len(repeat(Text, 100)) > 0`)
	m := ruleMsg(strings.Repeat("a", 20000)) // 2 MB repeated
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := rule.Match(t.Context(), m)
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, bot.ErrExprLimit)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "bytes allocated by the refused repeat")
}

// A regular expression too large for the matcher to run in bounded memory
// is a compile error when the pattern is constant, also when it is
// computed from constants, with the position of the pattern.
func TestExpr_regexpTooLarge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		col       int
	}{
		{"literal", `Text matches "` + strings.Repeat("(a*)*", 1000) + `"`, 14},
		{"computed", `Text matches repeat("(a*)*", 10000)`, 14},
		{"computed by concatenation", `Platform == "x" || Text matches "(a*)*" + repeat("(a*)*", 999)`, 33},
		{"too many groups", `Text matches "` + strings.Repeat("(a)", 200) + `"`, 14},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := bot.Expr(tt.src)
			var ee *bot.ExprError
			require.ErrorAs(t, err, &ee)
			require.ErrorIs(t, err, bot.ErrExprLimit)
			assert.Equal(t, 1, ee.Line)
			assert.Equal(t, tt.col, ee.Column)
			assert.Contains(t, ee.Msg, "regular expression")
		})
	}
}

// A pattern that comes from the message is checked when it is compiled,
// at run time: a pattern too large is an error for that message.
func TestExpr_regexpFromTheMessage(t *testing.T) {
	t.Parallel()
	rule := bot.MustExpr(`Text matches Conversation`)
	m := ruleMsg("aaaa")
	m.Conversation = strings.Repeat("(a*)*", 1000)
	ok, err := rule.Match(t.Context(), m)
	assert.False(t, ok)
	require.ErrorIs(t, err, bot.ErrExprLimit)
	assert.Contains(t, err.Error(), "regular expression")

	m.Conversation = "^a+$"
	ok, err = rule.Match(t.Context(), m)
	require.NoError(t, err)
	assert.True(t, ok)

	m.Conversation = "(" // a bad pattern is an evaluation error, as before
	_, err = rule.Match(t.Context(), m)
	require.Error(t, err)
	assert.NotErrorIs(t, err, bot.ErrExprLimit)
}

// Parts of an expression that depend on nothing are evaluated once, at
// compile time, so that one that can never fit its budget is a compile
// error with its position instead of an error on every message.
func TestExpr_constantOverBudget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		col       int
	}{
		{"range", `Text == "x" || all(1..100000000, # > 0)`, 16},
		{"repeat", `Text == repeat("ab", 600000)`, 9},
		{"loops", `Text == "x" && any(1..1000, any(1..1000, # == 0))`, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := bot.Expr(tt.src, bot.ExprTimeLimit(0))
			var ee *bot.ExprError
			require.ErrorAs(t, err, &ee)
			require.ErrorIs(t, err, bot.ErrExprLimit)
			assert.Equal(t, tt.col, ee.Column, ee.Error())
			assert.Contains(t, ee.Msg, "budget")
		})
	}
	// Constant parts that fit are fine, and so is what the optimizer folds.
	for _, src := range []string{`Text == repeat("ab", 3)`, `Text in map(1..10, string(#))`, `Text == "a" + "b"`, `now().Year() > 2000`} {
		_, err := bot.Expr(src)
		assert.NoError(t, err, src)
	}
}

// An evaluation that runs past its time limit stops with an error, even
// when it is within its budget.
func TestExpr_timeLimit(t *testing.T) {
	t.Parallel()
	rule := bot.MustExpr(`let r = 1..1000; all(r, all(r, # > 0))`, bot.ExprBudget(0), bot.ExprTimeLimit(time.Nanosecond))
	_, err := rule.Match(t.Context(), ruleMsg("x"))
	require.ErrorIs(t, err, bot.ErrExprLimit)
	assert.Contains(t, err.Error(), "time limit of 1ns")
}

// An evaluation stops when its context is done.
func TestExpr_contextDone(t *testing.T) {
	t.Parallel()
	rule := bot.MustExpr(`let r = 1..1000; all(r, all(r, # > 0))`, bot.ExprBudget(0), bot.ExprTimeLimit(0))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := rule.Match(ctx, ruleMsg("x"))
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, bot.ErrExprLimit)
}

// Ordinary expressions are well within the default limits.
func TestExpr_withinLimits(t *testing.T) {
	t.Parallel()
	m := ruleMsg(strings.Repeat("refund please ", 300))
	m.Tags = []string{"vip", "lead"}
	for _, src := range []string{
		`lower(Text) contains "refund" && any(Tags, # in ["vip", "gold"])`,
		`len(filter(split(Text, " "), # == "refund")) > 10`,
		`Text + Text + Text != ""`,
		`reduce(split(Text, " "), #acc + 1, 0) > 100`,
		`len(join(Tags, ",") + string(Tags) + toJSON(Tags)) > 0`,
		`Text matches "(?i)(refund|money back)"`,
		`let p = "^re" + "fund"; Text matches p`,
		`1 + 2 == 3 && Time + duration("1h") > Time`,
	} {
		rule, err := bot.Expr(src)
		require.NoError(t, err, src)
		ok, err := rule.Match(t.Context(), m)
		require.NoError(t, err, src)
		assert.True(t, ok, src)
	}
}

// A Router routes on past a rule over its limit, so that one runaway rule
// does not stop the others, and returns that rule's error for the message
// instead of only logging it.
func TestRouter_exprLimitFailsTheMessage(t *testing.T) {
	t.Parallel()
	r := bot.NewRouter()
	r.Handle(bot.MustExpr(`reduce(1..3000, #acc + Text, "") != ""`), replyWith("heavy", nil), bot.Priority(1))
	r.Handle(bot.Always(), replyWith("light", nil))
	w, sent := recordingSender()
	err := r.HandleMessage(t.Context(), w, ruleMsg(strings.Repeat("a", 100)))
	require.ErrorIs(t, err, bot.ErrExprLimit)
	assert.Equal(t, []string{"light"}, sent())
}

// The handler timeout stops an expression that would run for hours, and
// the worker goes on with the next message.
func TestBot_exprStoppedByHandlerTimeout(t *testing.T) {
	t.Parallel()
	handled := make(chan error, 2)
	b, fa := newBot(t, bot.WithWorkers(1), bot.WithHandlerTimeout(100*time.Millisecond),
		bot.WithHooks(bot.Hooks{Handled: func(_ context.Context, _ *bot.Message, _ time.Duration, err error) { handled <- err }}))
	b.Handle(bot.MustExpr(`Text == "slow" && (let r = 1..100000; all(r, all(r, # > 0)))`, bot.ExprBudget(0), bot.ExprTimeLimit(0)),
		bot.HandlerFunc(echo))
	b.Handle(bot.Always(), bot.HandlerFunc(echo))
	bottest.Run(t, b)

	require.NoError(t, fa.Inject(t.Context(), msg("c", "1", "slow")))
	select {
	case err := <-handled:
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var he *bot.HandlerError
		assert.ErrorAs(t, err, &he)
	case <-time.After(10 * time.Second):
		t.Fatal("the expression was not stopped by the handler timeout")
	}
	require.NoError(t, fa.Inject(t.Context(), msg("c", "2", "fast")))
	require.NoError(t, <-handled)
	assert.Equal(t, "fast", fa.WaitSent(t, 1)[0].Text)
}

// Shutting down stops an expression that would run for hours once the
// shutdown deadline passes, as it stops a handler.
func TestBot_exprStoppedAtShutdown(t *testing.T) {
	t.Parallel()
	b, fa := newBot(t, bot.WithWorkers(1), bot.WithHandlerTimeout(0), bot.WithShutdownTimeout(100*time.Millisecond))
	slow := bot.MustExpr(`let r = 1..100000; all(r, all(r, # > 0))`, bot.ExprBudget(0), bot.ExprTimeLimit(0))
	started := make(chan struct{})
	b.Handle(bot.RuleFunc(func(ctx context.Context, m *bot.Message) (bool, error) {
		close(started)
		return slow.Match(ctx, m)
	}), bot.HandlerFunc(echo))
	stop := bottest.Run(t, b)
	require.NoError(t, fa.Inject(t.Context(), msg("c", "1", "slow")))
	<-started
	done := make(chan error, 1)
	go func() { done <- stop() }()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown waited for the expression")
	}
	assert.Empty(t, fa.Sent())
}

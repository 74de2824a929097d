package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleybot/parley/bot"
)

// FuzzExpr compiles arbitrary expressions and evaluates those that compile
// on a message: compiling must not panic (Expr turns a panic into an
// "internal error"), and an evaluation must end, within its limits, with a
// result or an error.
//
//	go test -run '^$' -fuzz FuzzExpr -parallel 1 ./bot/
func FuzzExpr(f *testing.F) {
	for _, seed := range []struct{ src, text string }{
		{`Text contains "help"`, "help me"},
		{`lower(Text) contains "refund" && hasTag("vip")`, "Refund"},
		{`Text matches "^(?i)order #\\d+$"`, "order #42"},
		{`Text matches Text`, "(a*)*"},
		{`between("09:00", "17:30") || hour() > 20 || weekday() == "Sunday"`, ""},
		{`isCommand("help") && Direct`, "/help"},
		{`reduce(1..100, #acc + Text, "") != ""`, "abc"},
		{`len(join(map(split(Text, " "), upper(#)), ",")) > 3`, "a b c"},
		{`let r = 1..50; any(r, any(r, # == len(Text)))`, "xyz"},
		{`toJSON({"t": Text, "tags": Tags}) != string(Tags)`, "x"},
		{`replace(Text, "a", repeat("b", 3)) == Text`, "banana"},
		{`Time.Year() > 2000 && Author.Name startsWith "A"`, ""},
		{`count(Tags, # in ["vip", "lead"]) >= 1`, ""},
		{`Platform == "sendbee" ? Text endsWith "?" : Kind == "message"`, "why?"},
	} {
		f.Add(seed.src, seed.text)
	}
	f.Fuzz(func(t *testing.T, src, text string) {
		if len(src) > 1<<10 || len(text) > 4<<10 {
			return
		}
		m := &bot.Message{ID: "m1", Platform: "sendbee", Conversation: "c1", Text: text, Tags: []string{"vip", text},
			Author: bot.User{ID: "u1", Name: "Ana"}, Time: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}
		rule, err := bot.Expr(src)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("Expr(%q): %v", src, err)
			}
		} else {
			_, _ = rule.Match(t.Context(), m)
		}
		x, err := bot.CompileEnvExpr(src)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("CompileEnvExpr(%q): %v", src, err)
			}
			return
		}
		_, _ = x.Eval(bot.NewEnv(m, bot.OwnerBot, time.UTC))
	})
}

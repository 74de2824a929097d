package bot_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/parleybot/parley/bot"
)

// benchWord returns a distinct made-up word for rule i, so that rules do not
// share their literals and the message below contains none of them.
func benchWord(i int) string {
	syll := []string{"ka", "ro", "vin", "te", "lu", "mar", "qe", "zo"}
	return syll[i%8] + syll[(i/8)%8] + syll[(i/64)%8] + fmt.Sprint(i)
}

// benchRules returns n rules of a kind, modelled on what bots register.
func benchRules(kind string, n int) []bot.Rule {
	rules := make([]bot.Rule, n)
	for i := range rules {
		w := benchWord(i)
		switch kind {
		case "commands":
			rules[i] = bot.Command(w)
		case "regexps":
			tmpl := []string{`(?i)\b%s\b`, `^%s\s+(\d+)$`, `(?i)(?:order|ticket)\s+%s-(\d+)`, `%s+!`}[i%4]
			rules[i] = bot.Regexp(regexp.MustCompile(fmt.Sprintf(tmpl, w)))
		case "exprs":
			tmpl := []string{
				`Platform == "sendbee" && lower(Text) contains %q`,
				`Text matches "(?i)\\b%s"`,
				`Kind == "message" && (Text contains %[1]q || Text startsWith "/" + %[1]q)`,
				`isCommand(%q) && Direct`,
				`lower(Text) contains %q && hasTag("vip")`,
			}[i%5]
			rules[i] = bot.MustExpr(fmt.Sprintf(tmpl, w))
		}
	}
	return rules
}

var benchMiss = &bot.Message{
	ID: "m1", Platform: "sendbee", Conversation: "c1",
	Text: "Hello! Could you tell me the opening hours of the shop on Saturday, please?",
}

func benchHit(kind string, n int) *bot.Message {
	m := *benchMiss
	w := benchWord(n - 1) // the last rule registered matches
	switch kind {
	case "commands":
		m.Text = "/" + w + " some arguments"
	case "regexps":
		m.Text = w + " 42"
		if (n-1)%4 == 0 || (n-1)%4 == 3 {
			m.Text = "please " + w + "!"
		}
	case "exprs":
		m.Text = "hello " + w + " there"
		m.Direct = true
		m.Tags = []string{"vip"}
	}
	return &m
}

func BenchmarkRouter(b *testing.B) {
	ctx := context.Background()
	h := bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error { return nil })
	for _, kind := range []string{"commands", "regexps", "exprs"} {
		for _, n := range []int{10, 100, 1000, 10000} {
			rules := benchRules(kind, n)
			r := bot.NewRouter()
			for _, rule := range rules {
				r.Handle(rule, h)
			}
			// The first message freezes the routes and builds the index.
			if err := r.HandleMessage(ctx, nil, benchMiss); err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/%d/miss", kind, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := r.HandleMessage(ctx, nil, benchMiss); err != nil {
						b.Fatal(err)
					}
				}
			})
			hit := benchHit(kind, n)
			matched := false
			probe := bot.NewRouter()
			for i, rule := range rules {
				probe.HandleFunc(rule, func(context.Context, bot.Sender, *bot.Message) error {
					matched = matched || i == n-1
					return nil
				})
			}
			if err := probe.HandleMessage(ctx, nil, hit); err != nil || !matched {
				b.Fatalf("%s/%d: the hit message does not reach the last rule", kind, n)
			}
			b.Run(fmt.Sprintf("%s/%d/hit", kind, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := r.HandleMessage(ctx, nil, hit); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}

	// The reference: the same 1,000 expression rules asked one by one, as a
	// router without the index would (the rules are hidden behind
	// RuleFuncs, which the index cannot see into; the final visible Expr
	// makes the router build the Env once per message for all of them).
	rules := benchRules("exprs", 1000)
	linear := bot.NewRouter()
	for _, rule := range rules {
		linear.Handle(bot.RuleFunc(rule.Match), h)
	}
	linear.Handle(bot.MustExpr(`false`), h)
	if err := linear.HandleMessage(ctx, nil, benchMiss); err != nil {
		b.Fatal(err)
	}
	b.Run("exprs/1000/miss-linear-scan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := linear.HandleMessage(ctx, nil, benchMiss); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package rulefile_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/rulefile"
)

// benchWhen returns the expression of rule i, in the shapes a support bot's
// rules file has: a platform or kind, and a literal the text must contain,
// sometimes compared in lower case, sometimes with a tag.
func benchWhen(i int) string {
	switch i % 6 {
	case 0:
		return fmt.Sprintf(`Platform == "sendbee" && Text contains "refund-%d"`, i)
	case 1:
		return fmt.Sprintf(`Platform == "sendbee" && lower(Text) contains "refund-%d"`, i)
	case 2:
		return fmt.Sprintf(`Kind == "message" && lower(Text) contains "order-%d"`, i)
	case 3:
		return fmt.Sprintf(`Platform in ["sendbee", "velaflows"] && Text startsWith "ticket-%d"`, i)
	case 4:
		return fmt.Sprintf(`Platform == "flowdock" && Kind == "message" && Text contains "deploy-%d"`, i)
	default:
		return fmt.Sprintf(`hasTag("vip") && lower(Text) contains "refund-%d"`, i)
	}
}

// benchFile returns a rules file of n rules, each replying.
func benchFile(n int) []byte {
	var b strings.Builder
	b.WriteString("rules:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: r%d\n    when: '%s'\n    actions:\n      - reply: 'Rule %d for {{.Author.Name}}'\n", i, benchWhen(i), i)
	}
	return []byte(b.String())
}

// benchMiss matches none of the rules, though it mentions a refund and an
// order, as real messages to such a bot do.
var benchMiss = &bot.Message{
	ID: "m1", Platform: "sendbee", Conversation: "c1", Kind: bot.KindMessage,
	Author: bot.User{ID: "u1", Name: "Ana"},
	Text:   "Hello! I would like a refund for my order from last week, please. Thanks, Ana",
}

var discard = bot.SenderFunc(func(context.Context, *bot.Message) error { return nil })

func BenchmarkEngine(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{10, 100, 1000, 10000} {
		set, err := rulefile.Parse("bench.yaml", benchFile(n))
		if err != nil {
			b.Fatal(err)
		}
		e := rulefile.NewEngine(set)
		// The first message builds the router's index.
		if err := e.HandleMessage(ctx, discard, benchMiss); err != bot.ErrContinue {
			b.Fatalf("the miss message is handled: %v", err)
		}
		b.Run(fmt.Sprintf("rules=%d/engine-miss", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = e.HandleMessage(ctx, discard, benchMiss)
			}
		})

		hit := *benchMiss
		hit.Text = fmt.Sprintf("Hello! I would like refund-%d, please", (n-1)/6*6) // a case-0 rule near the end
		if err := e.HandleMessage(ctx, discard, &hit); err != nil {
			b.Fatalf("the hit message is not handled: %v", err)
		}
		b.Run(fmt.Sprintf("rules=%d/engine-hit", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = e.HandleMessage(ctx, discard, &hit)
			}
		})

		// The reference: every rule's expression, compiled once, evaluated in
		// order against one Env per message, as a router without the
		// prefilter would.
		progs := make([]*bot.EnvExpr, n)
		for i := range progs {
			if progs[i], err = bot.CompileEnvExpr(benchWhen(i)); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("rules=%d/linear-scan-miss", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				env := bot.NewEnv(benchMiss, bot.OwnerBot, time.UTC)
				for _, p := range progs {
					if v, err := p.Eval(env); err != nil || v == true {
						b.Fatalf("rule %s: %v %v", p, v, err)
					}
				}
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	for _, n := range []int{100, 1000} {
		data := benchFile(n)
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rulefile.Parse("bench.yaml", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

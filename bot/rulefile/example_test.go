package rulefile_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/rulefile"
)

// ExampleParse shows how a file with mistakes is reported: every problem,
// with the file, line and column, including a position inside an
// expression.
func ExampleParse() {
	src := `rules:
  - name: refund
    when: Platform == "sendbee" && lower(Txt) contains "refund"
    actions:
      - reply: "Hi {{.Author.Name}}"
      - tagg: [refund]
  - name: refund
    when: Text == "x"
    actions: [stop: true]
`
	_, err := rulefile.Parse("rules.yaml", []byte(src))
	var le *rulefile.LoadError
	if errors.As(err, &le) {
		for _, p := range le.Problems {
			fmt.Println(p)
		}
	}
	// Output:
	// rules.yaml:3:42: rule "refund": when: unknown name Txt (column 32 of the expression)
	// rules.yaml:6:9: rule "refund": action 2: unknown action "tagg" (did you mean "tag"?)
	// rules.yaml:7:11: rule "refund": duplicate rule name (first at line 2)
}

// ExampleSet_Explain prints why each rule does or does not apply to a
// message, and what the rules that run would do.
func ExampleSet_Explain() {
	src := `rules:
  - name: refund
    when: Platform == "sendbee" && (lower(Text) contains "refund" || hasTag("billing"))
    actions: [reply: "On it, {{.Author.Name}}."]
  - name: vip
    when: hasTag("vip") && Kind == "message"
    priority: 5
    actions: [tag: seen, continue: true]
fallback:
  - reply: Sorry, I did not get that.
`
	set, err := rulefile.Parse("rules.yaml", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	m := &bot.Message{Platform: "sendbee", Conversation: "c1", Text: "Refund, please", Tags: []string{"VIP"},
		Author: bot.User{ID: "u1", Name: "Ana"}, Direct: true}
	if err := rulefile.Format(os.Stdout, set.Explain(context.Background(), m)); err != nil {
		fmt.Println(err)
	}
	// Output:
	// #  RULE        PRIORITY  RESULT         DECIDED BY
	// 1  vip         5         matched, runs  hasTag("vip") && Kind == "message"
	//    tag: seen
	//    continue: routing goes on with the next rule that matches
	// 2  refund      0         matched, runs  Platform == "sendbee" && (lower(Text) contains "refund" || hasTag("billing"))
	//    reply: "On it, Ana."
	// 3  (fallback)  -         matched        rule "refund" handled the message
}

// ExampleEngine runs the rules file of the package documentation on a Bot
// with two in-memory platforms, and prints what each received.
func ExampleEngine() {
	sendbee, flowdock := bottest.NewFakeAdapter("sendbee"), bottest.NewFakeAdapter("flowdock")
	b, err := bot.New(bot.WithAdapters(sendbee, flowdock), bot.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	set, err := rulefile.Load("testdata/doc_example.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := rulefile.NewEngine(set).Install(b); err != nil {
		fmt.Println(err)
		return
	}

	ctx := context.Background()
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	ana := bot.User{ID: "u1", Name: "Ana"}
	for _, m := range []*bot.Message{
		{ID: "m1", Conversation: "c1", Author: ana, Text: "I want a REFUND"},
		{ID: "m2", Conversation: "c2", Author: ana, Text: "/order 42", Direct: true},
	} {
		if err := sendbee.Inject(ctx, m); err != nil {
			fmt.Println(err)
		}
	}
	sendbee.End()
	flowdock.End()
	if err := <-done; err != nil {
		fmt.Println(err)
	}

	for _, conv := range []string{"c1", "c2"} {
		for _, m := range sendbee.Sent() {
			if m.Conversation != conv {
				continue
			}
			if t, ok := m.Payload.(bot.Template); ok {
				fmt.Printf("sendbee/%s: template %s %s %v\n", conv, t.Keyword, t.Language, t.Tags)
			} else {
				fmt.Printf("sendbee/%s: %q handoff=%v\n", conv, m.Text, m.Handoff)
			}
		}
	}
	for _, m := range flowdock.Sent() {
		fmt.Printf("flowdock/%s: %q\n", m.Conversation, m.Text)
	}
	fmt.Println("tags of c1:", sendbee.Tags("c1", ""))
	owner, _ := b.Owner(ctx, "sendbee", "c1")
	fmt.Println("owner of c1:", owner)
	// Output:
	// sendbee/c1: "Sorry to hear that, Ana. An agent will take over." handoff=true
	// sendbee/c2: template order_status en map[1:Ana 2:42]
	// flowdock/support: "Refund request from Ana: I want a REFUND"
	// tags of c1: [refund]
	// owner of c1: human
}

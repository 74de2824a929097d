package bot_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/parleybot/parley/bot"
)

// Example_router drives a Router directly, without a Bot, and prints what
// its handlers sent.
func Example_router() {
	r := bot.NewRouter()
	r.Handle(bot.Command("echo"), bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply(bot.CapturesOf(ctx).Args))
	}), bot.Help("/echo <text>", "repeat the text"))
	r.Handle(bot.Regexp(regexp.MustCompile(`(?i)order #(\d+)`)), bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Replyf("Order %s is on its way.", bot.CapturesOf(ctx).Groups[1]))
	}))
	// VIP customers on Sendbee are greeted first, then routing goes on.
	r.Handle(bot.MustExpr(`Platform == "sendbee" && hasTag("vip")`), bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		if err := w.Send(ctx, m.Reply("Welcome back!")); err != nil {
			return err
		}
		return bot.ErrContinue
	}), bot.Priority(10))
	r.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("Sorry, try /echo."))
	}))

	// A recording Sender.
	var mu sync.Mutex
	var sent []*bot.Message
	w := bot.SenderFunc(func(_ context.Context, m *bot.Message) error {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, m)
		return nil
	})

	ctx := context.Background()
	for _, m := range []*bot.Message{
		{ID: "1", Platform: "console", Conversation: "ann", Text: "/echo hello"},
		{ID: "2", Platform: "console", Conversation: "ann", Text: "Where is ORDER #42?"},
		{ID: "3", Platform: "sendbee", Conversation: "bob", Text: "hi", Tags: []string{"VIP"}},
		{ID: "4", Platform: "console", Conversation: "ann", Text: "echo no slash needed", Direct: true},
	} {
		if err := r.HandleMessage(ctx, w, m); err != nil {
			fmt.Println("error:", err)
		}
	}
	for _, m := range sent {
		fmt.Printf("%s/%s (re %s): %s\n", m.Platform, m.Conversation, m.ReplyTo, m.Text)
	}
	for _, info := range r.Routes() {
		fmt.Printf("%d %q %q %s\n", info.Priority, info.Usage, info.Description, info.Rule)
	}
	// Output:
	// console/ann (re 1): hello
	// console/ann (re 2): Order 42 is on its way.
	// sendbee/bob (re 3): Welcome back!
	// sendbee/bob (re 3): Sorry, try /echo.
	// console/ann (re 4): no slash needed
	// 10 "" "" Expr("Platform == \"sendbee\" && hasTag(\"vip\")")
	// 0 "/echo <text>" "repeat the text" Command("echo")
	// 0 "" "" Regexp("(?i)order #(\\d+)")
}

func ExampleExpr() {
	rule, err := bot.Expr(`Platform == "sendbee" && lower(Text) contains "refund" && !Author.Agent`)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range []*bot.Message{
		{Platform: "sendbee", Text: "I want a REFUND"},
		{Platform: "sendbee", Text: "I want a refund", Author: bot.User{Agent: true}},
		{Platform: "flowdock", Text: "refund policy?"},
	} {
		ok, err := rule.Match(context.Background(), m)
		fmt.Println(ok, err)
	}

	// Mistakes are reported with their position, as an *ExprError.
	_, err = bot.Expr(`Platform == "sendbee" && Txt contains "refund"`)
	fmt.Println(err)
	// Output:
	// true <nil>
	// false <nil>
	// false <nil>
	// bot: compile rule "Platform == \"sendbee\" && Txt contains \"refund\"": line 1, column 26: unknown name Txt
}

func ExampleCommandSyntax() {
	syntax := bot.CommandSyntax{Prefixes: []string{"/"}, Names: []string{"parley"}}
	for _, in := range []struct {
		text   string
		direct bool
	}{
		{"/deploy api now", false},
		{"@Parley: deploy api", false},
		{"parley, /status", false},
		{"deploy api", false},
		{"deploy api", true},
		{"!deploy", false},
	} {
		name, args, ok := syntax.Parse(in.text, in.direct)
		fmt.Printf("%-20q direct=%-5v -> %v %q %q\n", in.text, in.direct, ok, name, args)
	}

	// The rule for one command, with that syntax.
	deploy := syntax.Command("deploy")
	ok, _ := deploy.Match(context.Background(), &bot.Message{Text: "parley deploy web"})
	fmt.Println(ok)
	// Output:
	// "/deploy api now"    direct=false -> true "deploy" "api now"
	// "@Parley: deploy api" direct=false -> true "deploy" "api"
	// "parley, /status"    direct=false -> true "status" ""
	// "deploy api"         direct=false -> false "" ""
	// "deploy api"         direct=true  -> true "deploy" "api"
	// "!deploy"            direct=false -> false "" ""
	// true
}

func ExampleChain() {
	trace := func(name string) bot.Middleware {
		return func(next bot.Handler) bot.Handler {
			return bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
				fmt.Println("enter", name)
				defer fmt.Println("leave", name)
				return next.HandleMessage(ctx, w, m)
			})
		}
	}
	h := bot.Chain(trace("outer"), trace("inner"))(bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error {
		fmt.Println("handler")
		return nil
	}))
	_ = h.HandleMessage(context.Background(), nil, &bot.Message{Text: "hi"})

	// On a Router, Use takes router-wide middleware, and Handle takes
	// per-route middleware among its options.
	r := bot.NewRouter()
	r.Use(trace("router"))
	r.Handle(bot.Always(), h, bot.Middleware(trace("route")))
	_ = r.HandleMessage(context.Background(), nil, &bot.Message{Text: "hi"})
	// Output:
	// enter outer
	// enter inner
	// handler
	// leave inner
	// leave outer
	// enter router
	// enter route
	// enter outer
	// enter inner
	// handler
	// leave inner
	// leave outer
	// leave route
	// leave router
}

func ExampleMessage_Reply() {
	in := &bot.Message{
		ID:           "wamid.42",
		Platform:     "sendbee",
		Conversation: "conv-7",
		Thread:       "t-1",
		Author:       bot.User{ID: "u1", Name: "Ann"},
		Text:         "hello",
	}
	out := in.Reply(strings.ToUpper(in.Text))
	fmt.Printf("platform=%s conversation=%s thread=%s reply-to=%s text=%q author=%q\n",
		out.Platform, out.Conversation, out.Thread, out.ReplyTo, out.Text, out.Author.Name)
	// Output:
	// platform=sendbee conversation=conv-7 thread=t-1 reply-to=wamid.42 text="HELLO" author=""
}

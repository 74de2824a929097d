package flow_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/flow"
)

// A flow that asks a name and a team size, re-asks a size that is not a
// number, hands "agent" to a global route, and registers the lead with an
// action when it ends.
func Example() {
	fa := bottest.NewFakeAdapter("")
	b, err := bot.New(bot.WithAdapters(fa), bot.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	e := flow.New(b)
	err = e.RegisterAction("register", flow.ActionFunc(func(ctx context.Context, c flow.ActionCall) error {
		name, _ := c.Values.String("name")
		size, _ := c.Values.Int("size")
		fmt.Printf("register %s (%d people)\n", name, size)
		return nil
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	number := flow.CheckFunc(func(ctx context.Context, a flow.Answer) (any, error) {
		n, err := strconv.Atoi(a.Text)
		if err != nil || n <= 0 {
			return nil, flow.Invalid("not a positive number", "How many people? A number, please.")
		}
		return n, nil
	})
	err = e.Define(flow.Flow{
		Name: "lead",
		Steps: []flow.Step{
			{Name: "name", Ask: flow.Text("Your name?"), Save: "name"},
			{Name: "size", Ask: flow.Text("How many people?"), Check: number, Save: "size"},
		},
		OnDone: []flow.Call{{Action: "register"}},
		Done: flow.PromptFunc(func(ctx context.Context, s *flow.State) (*bot.Message, error) {
			name, _ := s.Values.String("name")
			return &bot.Message{Text: "Thanks, " + name + "."}, nil
		}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	b.HandleFunc(bot.Command("help"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("I am collecting your details."))
	}, e.Global())
	e.Install()

	ctx := context.Background()
	if err := e.Start(ctx, bottest.DefaultPlatform, bottest.DefaultConversation, "lead", nil); err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	for _, text := range []string{"Ada", "/help", "many", "12"} {
		if err := fa.Inject(ctx, bottest.NewMessage(text)); err != nil {
			fmt.Println(err)
		}
	}
	fa.End()
	if err := <-done; err != nil {
		fmt.Println(err)
	}
	var said []string
	for _, m := range fa.Sent() {
		said = append(said, m.Text)
	}
	fmt.Println(strings.Join(said, "\n"))
	// Output:
	// register Ada (12 people)
	// Your name?
	// How many people?
	// I am collecting your details.
	// How many people?
	// How many people? A number, please.
	// Thanks, Ada.
}

// State tells a handler where a conversation stands.
func ExampleEngine_State() {
	b, err := bot.New(bot.WithAdapters(bottest.NewFakeAdapter("")), bot.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	e := flow.New(b)
	if err := e.Define(flow.Flow{Name: "survey", Steps: []flow.Step{{Name: "score", Ask: flow.Text("Score 1-5?")}}}); err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	_, err = e.State(ctx, "fake", "c1")
	fmt.Println(err)
	if err := e.Start(ctx, "fake", "c1", "survey", flow.Values{"order": 1042}); err != nil {
		fmt.Println(err)
		return
	}
	s, err := e.State(ctx, "fake", "c1")
	if err != nil {
		fmt.Println(err)
		return
	}
	order, _ := s.Values.Int("order")
	fmt.Println(s.Flow, s.Step, order)
	// Output:
	// flow: no flow in the conversation fake/c1
	// survey score 1042
}

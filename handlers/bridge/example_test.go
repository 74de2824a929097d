package bridge_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/handlers/bridge"
)

// The bridge on a Bot with in-memory adapters, driven through the Bot's
// router with a Recorder. The ThreadStarter stands in for Flowdock, which
// names the thread a top-level message starts.
func Example() {
	b, err := bot.New(
		bot.WithAdapters(bottest.NewFakeAdapter("sendbee"), bottest.NewFakeAdapter("flowdock")),
		bot.WithLogger(slog.New(slog.DiscardHandler)),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	h := bridge.Handler{
		Team: bridge.Team{Conversation: "support-flow"},
		Starter: bridge.ThreadStarterFunc(func(_ context.Context, flow, _, text string) (string, error) {
			fmt.Printf("new thread in %s: %s\n", flow, text)
			return "thread-1", nil
		}),
	}
	if err := h.Install(b); err != nil {
		fmt.Println(err)
		return
	}

	ctx := context.Background()
	route := func(m *bot.Message) {
		var rec bottest.Recorder
		if err := b.HandleMessage(ctx, &rec, m); err != nil {
			fmt.Println("error:", err)
		}
		for _, s := range rec.Sent() {
			fmt.Printf("to %s %s %s relay=%v: %s\n", s.Platform, s.Conversation, s.Thread, s.Relay, s.Text)
		}
	}
	owner := func() {
		o, _ := b.Owner(ctx, "sendbee", "conv-1")
		fmt.Println("owner:", o)
	}
	ana := bottest.From(bot.User{ID: "c-1", Name: "Ana", Phone: "+385911234567"})
	dana := bottest.From(bot.User{ID: "1305", Name: "dana"})
	inThread := bottest.InThread("thread-1")

	route(bottest.NewMessage("Is the shop open?", bottest.In("sendbee", "conv-1"), ana))
	route(bottest.NewMessage("Hello?", bottest.In("sendbee", "conv-1"), ana))
	route(bottest.NewMessage("Yes, until 8pm.", bottest.In("flowdock", "support-flow"), inThread, dana))
	owner()
	route(bottest.NewMessage("/bot", bottest.In("flowdock", "support-flow"), inThread, dana))
	owner()
	// Output:
	// new thread in support-flow: [sendbee] Ana (+385911234567): Is the shop open?
	// to flowdock support-flow thread-1 relay=false: [sendbee] Ana (+385911234567): Hello?
	// to flowdock support-flow thread-1 relay=false: dana took over: the bot is quiet in this conversation. Write /bot to give it back.
	// to sendbee conv-1  relay=true: Yes, until 8pm.
	// owner: human
	// to flowdock support-flow thread-1 relay=false: The bot answers this customer again.
	// owner: bot
}

// A support bot: customers write on Sendbee, agents answer from threads of
// a Flowdock flow. (Compile-only: it needs the platforms.)
func ExampleHandler_Install() {
	sb, err := sendbee.New(sendbee.AdapterConfig{Config: sendbee.Config{
		APIKey: os.Getenv("SENDBEE_API_KEY"), APISecret: os.Getenv("SENDBEE_API_SECRET"),
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fd, err := flowdock.New(flowdock.AdapterConfig{Config: flowdock.ConfigFromEnv(os.Getenv)})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := bot.New(bot.WithAdapters(sb, fd))
	if err != nil {
		fmt.Println(err)
		return
	}
	// The support flow's id, as in Message.Conversation of its messages.
	team := bridge.Team{Conversation: os.Getenv("SUPPORT_FLOW_ID")}
	if err := (bridge.Handler{Team: team}).Install(b); err != nil {
		fmt.Println(err)
		return
	}
	// The bot's own routes answer customers while it owns the conversation.
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		if m.Platform != sendbee.Name || m.Kind.Or() != bot.KindMessage {
			return nil
		}
		return w.Send(ctx, m.Reply("Thanks! A colleague will be with you shortly."))
	}))

	// Serve mux on the application's HTTP server, next to b.Run (see
	// examples/echobot).
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/sendbee", sb)
	if err := b.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
}

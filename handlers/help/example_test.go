package help_test

import (
	"context"
	"fmt"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/handlers/echo"
	"github.com/parleybot/parley/handlers/help"
)

// The help handler lists the routes of the Router it is registered on,
// from their bot.Help documentation.
func Example() {
	r := bot.NewRouter()
	r.Handle(help.DefaultRule(), help.Handler{Routes: r}, bot.Help("help", "list the commands"))
	r.Handle(echo.DefaultRule(), echo.Handler{}, bot.Help("echo <text>", "repeat <text>"))
	r.Handle(bot.Command("ping"), bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("pong"))
	}), bot.Help("ping", "check that the bot is alive"))

	var rec bottest.Recorder
	if err := r.HandleMessage(context.Background(), &rec, bottest.NewMessage("/help")); err != nil {
		fmt.Println(err)
	}
	fmt.Println(rec.Texts()[0])
	// Output:
	// Commands:
	// help         — list the commands
	// echo <text>  — repeat <text>
	// ping         — check that the bot is alive
}

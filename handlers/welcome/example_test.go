package welcome_test

import (
	"context"
	"fmt"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/handlers/welcome"
)

// The first message of a conversation is greeted and still answered by
// the next route; later messages are only answered.
func Example() {
	r := bot.NewRouter()
	r.Handle(welcome.DefaultRule(), welcome.Handler{
		Text:  "Hi {{.Author.Name}}, I'm the Parley bot. Type /agent to talk to a person.",
		Store: bot.NewMemoryStore(), // in a bot, Install uses the Bot's
	}, bot.Priority(welcome.Priority))
	r.HandleFunc(bot.Command("ping"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("pong"))
	})

	var rec bottest.Recorder
	ann := bottest.From(bot.User{ID: "u-1", Name: "Ann"})
	for _, text := range []string{"/ping", "/ping"} {
		if err := r.HandleMessage(context.Background(), &rec, bottest.NewMessage(text, ann)); err != nil {
			fmt.Println(err)
		}
	}
	for _, text := range rec.Texts() {
		fmt.Println(text)
	}
	// Output:
	// Hi Ann, I'm the Parley bot. Type /agent to talk to a person.
	// pong
	// pong
}

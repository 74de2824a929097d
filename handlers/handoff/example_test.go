package handoff_test

import (
	"context"
	"fmt"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/handlers/handoff"
)

// printResumer stands in for the *bot.Bot that a ResumeHandler resumes
// conversations with.
type printResumer struct{}

func (printResumer) Resume(_ context.Context, platform, conversation string) error {
	fmt.Printf("(Bot.Resume %s %s)\n", platform, conversation)
	return nil
}

// A customer asks for a person; the handler replies with a handoff reply
// and notifies the team flow, where an agent later types the resume
// command. A Recorder stands in for the Bot's outbox; in a bot,
// handoff.Plugin.Install registers both routes.
func Example() {
	team := handoff.Flow{Platform: "flowdock", Conversation: "support"}
	r := bot.NewRouter()
	r.Handle(handoff.DefaultRule(), handoff.Handler{Team: team})
	r.Handle(handoff.ResumeRule(), handoff.ResumeHandler{Bot: printResumer{}, Team: team}, bot.Observer())

	var rec bottest.Recorder
	ctx := context.Background()
	for _, m := range []*bot.Message{
		bottest.NewMessage("Can I talk to a person?", bottest.In("sendbee", "c-42"), bottest.From(bot.User{ID: "u-1", Name: "Ann"})),
		bottest.NewMessage("/resume sendbee c-42", bottest.In("flowdock", "support"), bottest.From(bot.User{ID: "u-9", Name: "Bo"})),
	} {
		if err := r.HandleMessage(ctx, &rec, m); err != nil {
			fmt.Println(err)
		}
	}
	for _, m := range rec.Sent() {
		fmt.Printf("to %s/%s (handoff %t):\n  %s\n", m.Platform, m.Conversation, m.Handoff, m.Text)
	}
	// Output:
	// (Bot.Resume sendbee c-42)
	// to sendbee/c-42 (handoff true):
	//   Connecting you to a colleague…
	// to flowdock/support (handoff false):
	//   Ann asks for a person on sendbee (c-42): Can I talk to a person?
	// Answer them there. To give the conversation back to the bot, type: /resume sendbee c-42
	// to flowdock/support (handoff false):
	//   The bot is answering sendbee c-42 again.
}

package faq_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/handlers/faq"
)

// The FAQ handler answers the questions it knows and lets routing continue
// for the others, here to a NotFound handler. A Recorder stands in for the
// Bot.
func Example() {
	entries, err := faq.Parse(strings.NewReader(`
- question: What are your opening hours?
  keywords: [hours, opening times]
  answer: We are open Monday to Friday, 9:00 to 17:00.
- question: How do I reset my password?
  keywords: [password]
  answer: Choose "Reset password" in Settings.
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	r := bot.NewRouter()
	r.Handle(faq.DefaultRule(), faq.Handler{Entries: entries})
	r.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("Sorry, I don't know. Type /agent to ask a person."))
	}))

	var rec bottest.Recorder
	for _, text := range []string{"What are your hours on Friday?", "I forgot my password", "Do you sell gift cards?"} {
		if err := r.HandleMessage(context.Background(), &rec, bottest.NewMessage(text)); err != nil {
			fmt.Println(err)
		}
	}
	for _, text := range rec.Texts() {
		fmt.Println(text)
	}
	// Output:
	// We are open Monday to Friday, 9:00 to 17:00.
	// Choose "Reset password" in Settings.
	// Sorry, I don't know. Type /agent to ask a person.
}

// Parse reports mistakes with their position.
func ExampleParse_error() {
	_, err := faq.Parse(strings.NewReader(`
- question: Do you ship abroad?
  answer: Yes, to the whole EU.
- question: Can I pay by card?
`))
	fmt.Println(err)
	// Output:
	// faq: 4:3: entry 2: no answer
}

package console_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/parleybot/parley/adapters/console"
	"github.com/parleybot/parley/bot"
)

// A bot that chats on the terminal: run it, type a line, read the answer,
// and end with Ctrl-D.
func ExampleNew() {
	c, err := console.New(console.Config{}) // standard input and output
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	b, err := bot.New(bot.WithAdapters(c))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("you said: "+m.Text))
	}))
	if err := b.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}

// The adapter on its own: Run publishes each line, here to a publisher that
// answers straight away, and returns nil at the end of the input.
func ExampleAdapter_Run() {
	in := strings.NewReader("hello\n\nhow are you?\n")
	quiet := slog.New(slog.DiscardHandler)
	a, err := console.New(console.Config{In: in, Out: os.Stdout, User: "ada", Logger: quiet})
	if err != nil {
		fmt.Println(err)
		return
	}
	answer := bot.PublisherFunc(func(ctx context.Context, m *bot.Message) error {
		_, err := a.Send(ctx, m.Reply(m.Author.Name+" said: "+m.Text))
		return err
	})
	if err := a.Run(context.Background(), answer); err != nil {
		fmt.Println(err)
	}
	// Output:
	// bot: ada said: hello
	// bot: ada said: how are you?
}

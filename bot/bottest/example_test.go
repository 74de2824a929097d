package bottest_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// shout is the handler under test in the examples.
func shout(ctx context.Context, w bot.Sender, m *bot.Message) error {
	return w.Send(ctx, m.Reply(strings.ToUpper(bot.CommandArgs(m))))
}

// ExampleRecorder tests a handler without a Bot: NewMessage builds the
// inbound message and a Recorder, passed as the Sender, records the replies.
func ExampleRecorder() {
	var rec bottest.Recorder
	m := bottest.NewMessage("/shout hello", bottest.In("sendbee", "c-7"), bottest.WithID("evt-1"))

	if err := bot.HandlerFunc(shout).HandleMessage(context.Background(), &rec, m); err != nil {
		fmt.Println("error:", err)
	}
	for _, r := range rec.Sent() {
		fmt.Printf("%s/%s (re %s): %s\n", r.Platform, r.Conversation, r.ReplyTo, r.Text)
	}
	// Output:
	// sendbee/c-7 (re evt-1): HELLO
}

// ExampleNewMessage shows the defaults of a test message and how options
// change them.
func ExampleNewMessage() {
	m := bottest.NewMessage("hi", bottest.From(bot.User{ID: "u-9", Name: "Ann"}), bottest.Direct())
	fmt.Println(m.Platform, m.Conversation, m.Author.Name, m.Direct, m.Kind, m.Time.Format("2006-01-02"))
	// Output:
	// fake conversation-1 Ann true message 2026-01-02
}

// ExampleFakeAdapter runs a Bot end to end on an in-memory adapter: it
// injects inbound messages, then ends the adapter's input so that Run
// drains the queues and the outbox and returns, and prints what the
// platform received. In a test, bottest.Run and FakeAdapter.WaitSent do the
// running and waiting.
func ExampleFakeAdapter() {
	fa := bottest.NewFakeAdapter("")
	b, err := bot.New(
		bot.WithAdapters(fa),
		bot.WithLogger(slog.New(slog.DiscardHandler)),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	b.HandleFunc(bot.Command("shout"), shout)

	ctx := context.Background()
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()

	// Messages of one conversation are handled, and their replies
	// delivered, in order.
	for _, text := range []string{"/shout hello", "/shout goodbye"} {
		if err := fa.Inject(ctx, bottest.NewMessage(text)); err != nil {
			fmt.Println("inject:", err)
		}
	}
	fa.End()
	if err := <-done; err != nil {
		fmt.Println("run:", err)
	}
	for _, m := range fa.Sent() {
		fmt.Printf("%s: %s\n", m.Conversation, m.Text)
	}
	// Output:
	// conversation-1: HELLO
	// conversation-1: GOODBYE
}

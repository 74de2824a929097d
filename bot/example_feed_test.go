package bot_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// A subscriber of the event feed sees each step of a message: here the
// steps of one message answered by an echo route, up to the end of its
// handling.
func ExampleBot_Subscribe() {
	fa := bottest.NewFakeAdapter("fake")
	b, _ := bot.New(bot.WithAdapters(fa), bot.WithLogger(slog.New(slog.DiscardHandler)))
	b.HandleFunc(bot.Command("echo"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply(m.Text))
	})
	sub := b.Subscribe(0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()

	_ = b.Publish(ctx, bottest.NewMessage("/echo hi", bottest.In("fake", "c1"), bottest.WithID("m1")))
	for e := range sub.Events() {
		switch e.Type {
		case bot.EventSent:
			continue // the reply's delivery runs beside the handler's return
		case bot.EventRouted:
			fmt.Println(e.Type, e.Message, e.Route)
		case bot.EventQueued:
			fmt.Println(e.Type, e.Key)
		default:
			fmt.Println(e.Type, e.Message)
		}
		if e.Type == bot.EventHandled {
			break
		}
	}
	cancel()
	<-done
	// Output:
	// received m1
	// owner m1
	// routed m1 Command("echo")
	// queued fake:m1:0
	// handled m1
}

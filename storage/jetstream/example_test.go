package jetstream_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/storage/jetstream"
)

// A durable Bot on an embedded server: the Broker carries its messages
// through JetStream streams and the Store keeps its state in a KV bucket.
// Restarting on the same data directory carries on where it stopped.
func ExampleNewBroker() {
	dir, err := os.MkdirTemp("", "parley-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	srv, err := jetstream.StartEmbedded(dir)
	if err != nil {
		panic(err)
	}
	defer srv.Shutdown()
	nc, err := srv.Connect()
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	js, err := njs.New(nc)
	if err != nil {
		panic(err)
	}

	ctx := context.Background()
	quiet := jetstream.WithBrokerLogger(slog.New(slog.DiscardHandler))
	br, err := jetstream.NewBroker(ctx, js, quiet)
	if err != nil {
		panic(err)
	}
	store, err := jetstream.NewStore(ctx, js, "example_state")
	if err != nil {
		panic(err)
	}

	fa := bottest.NewFakeAdapter("fake")
	b, err := bot.New(bot.WithAdapters(fa), bot.WithBroker(br), bot.WithStore(store),
		bot.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("you said: "+m.Text))
	}))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Run(runCtx) }()

	// The same event delivered twice is handled once.
	for range 2 {
		m := bottest.NewMessage("hello", bottest.In("fake", "c1"), bottest.WithID("event-1"))
		if err := fa.Inject(ctx, m); err != nil {
			panic(err)
		}
	}
	for len(fa.Sent()) < 1 {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		panic(err)
	}
	for _, m := range fa.Sent() {
		fmt.Println(m.Text)
	}
	fmt.Println("duplicates:", b.Stats().Duplicates)
	// Output:
	// you said: hello
	// duplicates: 1
}

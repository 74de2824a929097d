package middleware_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/middleware"
)

// stdoutLogger returns a Debug logger writing to standard output without
// the time and duration, so that examples print the same every run.
func stdoutLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == "duration") {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// Example composes middleware on a Router: IgnoreBots for every message,
// RateLimit and Timeout for one route. It drives the Router with a
// Recorder, without a Bot, and prints what was sent.
func Example() {
	r := bot.NewRouter()
	r.Use(middleware.IgnoreBots())
	r.Handle(bot.Command("ping"), bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("pong"))
	}), middleware.RateLimit(2, time.Minute), middleware.Timeout(5*time.Second))

	var rec bottest.Recorder
	ann := bot.User{ID: "u-1", Name: "Ann"}
	echoBot := bot.User{ID: "b-1", Name: "EchoBot", Bot: true}
	for _, m := range []*bot.Message{
		bottest.NewMessage("/ping", bottest.From(ann), bottest.WithID("1")),
		bottest.NewMessage("/ping", bottest.From(echoBot), bottest.WithID("2")), // ignored
		bottest.NewMessage("/ping", bottest.From(ann), bottest.WithID("3")),
	} {
		if err := r.HandleMessage(context.Background(), &rec, m); err != nil {
			fmt.Println("error:", err)
		}
	}
	for _, m := range rec.Sent() {
		fmt.Printf("%s (re %s): %s\n", m.Conversation, m.ReplyTo, m.Text)
	}
	// Output:
	// conversation-1 (re 1): pong
	// conversation-1 (re 3): pong
}

// ExampleLogger shows the Debug line Logger writes per message: the
// message's identity and the error, but never its text.
func ExampleLogger() {
	h := middleware.Logger(stdoutLogger())(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return fmt.Errorf("lookup order: not found")
	}))
	m := bottest.NewMessage("where is my order? my address is …", bottest.In("sendbee", "c-42"), bottest.WithID("evt-7"))
	_ = h.HandleMessage(context.Background(), &bottest.Recorder{}, m)
	// Output:
	// level=DEBUG msg="message handled" msg.platform=sendbee msg.conversation=c-42 msg.id=evt-7 error="lookup order: not found"
}

// ExampleTimeout bounds a slow handler with a deadline shorter than the
// Bot's handler timeout.
func ExampleTimeout() {
	slow := bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Minute):
			return w.Send(ctx, m.Reply("done"))
		}
	})
	h := middleware.Timeout(10 * time.Millisecond)(slow)
	err := h.HandleMessage(context.Background(), &bottest.Recorder{}, bottest.NewMessage("/report"))
	fmt.Println(err)
	// Output:
	// middleware: handler timed out after 10ms: context deadline exceeded
}

// ExampleIgnoreBotsWithOpts lets one integration bot through.
func ExampleIgnoreBotsWithOpts() {
	h := middleware.IgnoreBotsWithOpts(middleware.IgnoreBotsOptions{AllowIDs: []string{"ci-bot"}})(
		bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			return w.Send(ctx, m.Reply("hello "+m.Author.ID))
		}))
	var rec bottest.Recorder
	for _, id := range []string{"ci-bot", "spam-bot"} {
		_ = h.HandleMessage(context.Background(), &rec, bottest.NewMessage("hi", bottest.From(bot.User{ID: id, Bot: true})))
	}
	fmt.Println(rec.Texts())
	// Output:
	// [hello ci-bot]
}

// ExampleRateLimit lets a conversation receive two replies a minute. The
// third is dropped, and reported at Warn on the Bot's logger: here, outside
// a Bot, on slog.Default().
func ExampleRateLimit() {
	old := slog.Default()
	slog.SetDefault(stdoutLogger())
	defer slog.SetDefault(old)

	h := middleware.RateLimit(2, time.Minute)(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		for _, text := range []string{"one", "two", "three"} {
			if err := w.Send(ctx, m.Reply(text)); err != nil {
				return err
			}
		}
		return nil
	}))
	var rec bottest.Recorder
	err := h.HandleMessage(context.Background(), &rec, bottest.NewMessage("count", bottest.In("fake", "c-1")))
	fmt.Println(rec.Texts(), err)
	// Output:
	// level=WARN msg="reply dropped by rate limit" msg.platform=fake msg.conversation=c-1
	// [one two] <nil>
}

// ExampleRateLimitWithOpts counts dropped replies instead of logging them,
// and limits per platform rather than per conversation.
func ExampleRateLimitWithOpts() {
	dropped := 0 // the handlers below run one at a time
	h := middleware.RateLimitWithOpts(middleware.RateLimitOptions{
		Requests: 1,
		Per:      time.Second,
		Burst:    3,
		Key:      func(m *bot.Message) string { return m.Platform },
		OnLimit:  func(ctx context.Context, m *bot.Message) { dropped++ },
		MaxKeys:  100,
	})(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("ok"))
	}))
	var rec bottest.Recorder
	for i := range 5 {
		m := bottest.NewMessage("hi", bottest.In("sendbee", fmt.Sprintf("c-%d", i)))
		_ = h.HandleMessage(context.Background(), &rec, m)
	}
	fmt.Println(len(rec.Sent()), "sent,", dropped, "dropped")
	// Output:
	// 3 sent, 2 dropped
}

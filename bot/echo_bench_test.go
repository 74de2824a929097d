package bot_test

import (
	"context"
	"regexp"
	"sync/atomic"
	"testing"

	"github.com/parleybot/parley/bot"
)

// The echo benchmarks measure the path of the most common route: one
// regular expression, `^echo (.+)$`, whose handler replies with the
// captured text. BenchmarkEchoRoute drives a Router alone, so that its
// allocations are the routing's; BenchmarkEchoRouteInBot (an internal
// test) routes with a Bot's routing state; the whole Bot against a bare
// pipeline is workload W1 (BenchmarkWorkloadVsBare).

var echoRE = regexp.MustCompile(`^echo (.+)$`)

// echoHandler replies with the route's first group.
func echoHandler(ctx context.Context, w bot.Sender, m *bot.Message) error {
	return w.Send(ctx, m.Reply(bot.CapturesOf(ctx).Groups[1]))
}

// countSender counts what it is sent.
type countSender struct{ n atomic.Int64 }

func (s *countSender) Send(context.Context, *bot.Message) error { s.n.Add(1); return nil }

func BenchmarkEchoRoute(b *testing.B) {
	r := bot.NewRouter()
	r.HandleFunc(bot.Regexp(echoRE), echoHandler)
	ctx := context.Background()
	w := &countSender{}
	m := &bot.Message{ID: "m1", Platform: "fake", Conversation: "c1", Text: "echo hello there"}
	b.ReportAllocs()
	for b.Loop() {
		if err := r.HandleMessage(ctx, w, m); err != nil {
			b.Fatal(err)
		}
	}
	if w.n.Load() == 0 {
		b.Fatal("no reply")
	}
}

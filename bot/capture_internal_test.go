package bot

import (
	"context"
	"regexp"
	"testing"
)

type discardSender struct{}

func (discardSender) Send(context.Context, *Message) error { return nil }

// BenchmarkEchoRouteInBot routes a message to one route, `^echo (.+)$`,
// whose handler replies with the captured text, with the routing state a
// Bot's worker gives the Router: the routing and capture work of one
// message of the echo workload, without the Bot's queues.
func BenchmarkEchoRouteInBot(b *testing.B) {
	r := NewRouter()
	r.HandleFunc(Regexp(regexp.MustCompile(`^echo (.+)$`)), func(ctx context.Context, w Sender, m *Message) error {
		return w.Send(ctx, m.Reply(CapturesOf(ctx).Groups[1]))
	})
	m := &Message{ID: "m1", Platform: "fake", Conversation: "c1", Text: "echo hello there"}
	var st msgState
	ctx := withState(context.Background(), &st)
	b.ReportAllocs()
	for b.Loop() {
		st = msgState{owner: OwnerBot}
		if err := r.HandleMessage(ctx, discardSender{}, m); err != nil {
			b.Fatal(err)
		}
	}
}

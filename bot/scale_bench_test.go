package bot_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/parleybot/parley/bot"
)

// BenchmarkScaleConversations measures the cost of a message through the
// whole Bot (W1: one route `^echo (.+)$` answering with its capture,
// stream mode, defaults) as the number of conversations its messages are
// spread over grows: 1, 100, 10,000 and 1,000,000. Each message has an ID
// of its own; with a million conversations nearly every message opens a
// conversation the Bot has not seen. It reports messages per second and
// the allocations per message (building the inbound message takes 2 or 3
// here: the message, its ID and, unless Go keeps it, its conversation's
// name).
func BenchmarkScaleConversations(b *testing.B) {
	w := &workloads[0] // W1
	for _, convs := range []int{1, 100, 10_000, 1_000_000} {
		b.Run(fmt.Sprintf("conversations=%d", convs), func(b *testing.B) {
			conv := int64(convs)
			run := runWorkloadWith(b, w, false, func(m *bot.Message) {
				n, _ := strconv.ParseInt(m.ID, 10, 64)
				m.Conversation = "conv-" + strconv.FormatInt(n%conv, 10)
			})
			b.ReportMetric(run.rate(b.N), "msgs/s")
			b.ReportMetric(run.allocs, "allocs/msg")
		})
	}
}

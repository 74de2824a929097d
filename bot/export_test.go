package bot

// LaneOf exposes the conversation-to-lane hash to black-box tests.
func LaneOf(platform, conversation string, n int) int { return laneOf(platform, conversation, n) }

// QueuedTraces counts the trace contexts the Bot holds for queued
// messages.
func (b *Bot) QueuedTraces() int {
	n := 0
	b.traces.Range(func(any, any) bool { n++; return true })
	return n
}

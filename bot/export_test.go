package bot

// LaneOf exposes the conversation-to-lane hash to black-box tests.
func LaneOf(platform, conversation string, n int) int { return laneOf(platform, conversation, n) }

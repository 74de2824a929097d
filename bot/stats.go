package bot

import "sync/atomic"

// Stats are the Bot's counters since New. They are read with atomic loads,
// so a snapshot may mix counts from slightly different instants.
type Stats struct {
	Received      int64 // inbound messages accepted by Publish
	Duplicates    int64 // inbound redeliveries acknowledged and not handled
	Handled       int64 // inbound messages whose routing finished
	HandlerErrors int64 // handler calls that failed or panicked
	Panics        int64 // of HandlerErrors, the panics
	Queued        int64 // outbound messages accepted by Send
	Sent          int64 // outbound messages delivered
	SendSkipped   int64 // outbound messages whose key was already delivered, or sent again
	Confirmed     int64 // interrupted deliveries the platform confirmed, not sent again
	Suppressed    int64 // bot messages not sent because a human owns the conversation
	Retries       int64 // outbound delivery retries
	DeadLettered  int64 // outbound messages moved to the dead-letter list
	Replayed      int64 // dead letters queued again by Replay
	Handoffs      int64 // conversations that became human-owned
	Resumes       int64 // conversations handed back to the bot
	JobRuns       int64 // scheduled job fires run by this process
	// WindowFallbacks counts free-form messages outside the customer
	// service window sent as the adapter's fallback template instead;
	// WindowClosed those not sent (dead letters, or refused by Send).
	WindowFallbacks int64
	WindowClosed    int64
	OptOuts         int64 // customers who opted out with a keyword
	OptIns          int64 // customers who opted in again with a keyword
	OptedOut        int64 // proactive messages not sent because the customer opted out
}

// stats holds the live counters. Each hot counter sits on its own cache line
// so that workers on different cores do not contend.
type stats struct {
	received, duplicates, handled, queued, sent paddedCounter
	handlerErrors, panics, sendSkipped, suppressed, retries,
	deadLettered, replayed, handoffs, resumes, confirmed atomic.Int64
	windowFallbacks, windowClosed, optOuts, optIns, optedOut atomic.Int64
}

type paddedCounter struct {
	atomic.Int64
	_ [56]byte
}

func (s *stats) snapshot() Stats {
	return Stats{
		Received:        s.received.Load(),
		Duplicates:      s.duplicates.Load(),
		Handled:         s.handled.Load(),
		HandlerErrors:   s.handlerErrors.Load(),
		Panics:          s.panics.Load(),
		Queued:          s.queued.Load(),
		Sent:            s.sent.Load(),
		SendSkipped:     s.sendSkipped.Load(),
		Confirmed:       s.confirmed.Load(),
		Suppressed:      s.suppressed.Load(),
		Retries:         s.retries.Load(),
		DeadLettered:    s.deadLettered.Load(),
		Replayed:        s.replayed.Load(),
		Handoffs:        s.handoffs.Load(),
		Resumes:         s.resumes.Load(),
		WindowFallbacks: s.windowFallbacks.Load(),
		WindowClosed:    s.windowClosed.Load(),
		OptOuts:         s.optOuts.Load(),
		OptIns:          s.optIns.Load(),
		OptedOut:        s.optedOut.Load(),
	}
}

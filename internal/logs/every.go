package logs

import (
	"sync"
	"time"
)

// An Every lets one event through per Interval and counts the others, so
// that a flood of the same warning (forged or stale-signed webhooks) logs
// one record per Interval, with the number held back. Its zero value lets
// every event through; it is safe for concurrent use.
type Every struct {
	Interval time.Duration

	mu   sync.Mutex
	next time.Time // events before it are held back
	held int
}

// Allow reports whether the event at now is let through and, if it is,
// how many events were held back since the last one let through.
func (e *Every) Allow(now time.Time) (ok bool, held int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if now.Before(e.next) {
		e.held++
		return false, 0
	}
	held, e.held = e.held, 0
	e.next = now.Add(e.Interval)
	return true, held
}

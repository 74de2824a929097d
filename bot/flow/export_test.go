package flow

import "context"

// Sweep runs one tick of the timer sweep, for benchmarks that measure it.
func (e *Engine) Sweep(ctx context.Context) { e.sweep(ctx) }

// The timer retry schedule, for tests that step through it.
const (
	TimerAttempts = timerAttempts
	TimerBackoff  = timerBackoff
)

// The shape of the due index, for tests that read its keys.
const (
	DueShards = dueShards
	DueCap    = dueCap
)

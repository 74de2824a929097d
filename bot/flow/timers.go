package flow

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/parleybot/parley/bot"
)

// sweepLoop looks for due timers every interval until ctx is done.
func (e *Engine) sweepLoop(ctx context.Context) {
	t := time.NewTicker(e.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.sweep(ctx)
		}
	}
}

// sweep reads the index and, for each conversation whose due time has
// come, reads its state: a timer of the state that is due is published
// into the Bot as a TimerKind event, whose ID names the run, the advance
// and the timer, so that the Bot's deduplication hands it to a handler
// once across replicas and sweeps; a due time the state does not back
// (answered since, paused, ended) is corrected.
func (e *Engine) sweep(ctx context.Context) {
	now := e.now()
	for shard := range indexShards {
		es, err := e.index.read(ctx, shard)
		if err != nil {
			e.report(ctx, "flow: timer sweep: read the index", err)
			continue
		}
		for _, en := range es {
			if en.Due == 0 || en.Due > now.UnixNano() {
				continue
			}
			if ctx.Err() != nil {
				return
			}
			e.sweepOne(ctx, en, now)
		}
	}
}

func (e *Engine) sweepOne(ctx context.Context, en indexEntry, now time.Time) {
	rec, err := e.peek(ctx, en.P, en.C)
	if err != nil {
		e.report(ctx, "flow: timer sweep: read a state", err)
		return
	}
	var f *compiled
	if rec != nil {
		f = e.flow(rec.Flow)
	}
	if rec == nil || f == nil {
		if rec == nil {
			err = e.index.remove(ctx, en.P, en.C)
		}
		if err != nil {
			e.report(ctx, "flow: timer sweep: update the index", err)
		}
		return
	}
	kind := rec.dueTimer(f, now)
	if kind == "" {
		var due int64
		if d := rec.deadline(f); !d.IsZero() {
			due = d.UnixNano()
		}
		if err := e.index.raise(ctx, en.P, en.C, en.Due, due); err != nil {
			e.report(ctx, "flow: timer sweep: update the index", err)
		}
		return
	}
	m := &bot.Message{
		ID:       "flow-timer:" + rec.Run + ":" + strconv.Itoa(rec.Seq) + ":" + kind,
		Platform: en.P, Conversation: en.C, Kind: TimerKind, Time: now,
	}
	if err := e.b.Publish(ctx, m); err != nil && !errors.Is(err, bot.ErrClosed) && ctx.Err() == nil {
		e.report(ctx, "flow: timer sweep: publish a timer", err)
	}
}

func (e *Engine) report(ctx context.Context, msg string, err error) {
	e.logger.LogAttrs(ctx, slog.LevelError, msg, slog.Any("error", err))
}

package flow

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleybot/parley/bot"
)

// The retries of a timer whose handling failed: the sweep publishes a due
// timer again timerBackoff after its time, then after twice that, and so
// on, timerAttempts times in all (about two hours), then gives it up.
const (
	timerAttempts = 8
	timerBackoff  = 30 * time.Second
)

// sweeper is the sweep's memory: the last second swept, as last read,
// and the last second this engine read.
type sweeper struct {
	mu          sync.Mutex
	swept, read int64
	known       bool
}

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

// sweep reads the due index's seconds that came due since it last read,
// and the current one, and, for each entry whose time has come, reads its
// conversation's state: a timer of the state that is due, or whose
// advance is not done, is published into the Bot as a TimerKind event
// (see sweepOne); an entry the state does not back is moved to the
// state's deadline or dropped. Once finalizeBatch seconds are past by
// finalizeLag since the last second swept, it reads them again and, if
// their entries were all handled, marks them swept.
func (e *Engine) sweep(ctx context.Context) {
	e.sweeper.mu.Lock()
	defer e.sweeper.mu.Unlock()
	now := e.now()
	if !e.sweeper.known {
		m, err := e.index.swept(ctx)
		if err != nil {
			e.report(ctx, "flow: timer sweep: read the swept second", err)
			return
		}
		e.sweeper.swept, e.sweeper.read, e.sweeper.known = m, m, true
	}
	cur := secondOf(now)
	swept := e.sweeper.swept
	finalEnd := min(secondOf(now.Add(-finalizeLag))-1, swept+maxCatchUp)
	finalize := finalEnd-swept >= finalizeBatch
	readFrom := max(e.sweeper.read+1, swept+1)
	readTo := min(cur, readFrom+maxCatchUp-1)
	read := readTo // the seconds up to read are read
	done := swept  // the seconds up to done are all handled
	var chains map[int64][dueShards]int
	for b := swept + 1; b <= max(readTo, finalEnd); b++ {
		final := finalize && b <= finalEnd
		if !final && (b < readFrom || b > readTo) {
			continue
		}
		ok := true
		var seen map[[2]string]bool // the conversations whose entry was handled
		for shard := range dueShards {
			for n := 0; ; n++ {
				es, found, err := e.index.dueEntries(ctx, b, shard, n)
				if err != nil {
					e.report(ctx, "flow: timer sweep: read the index", err)
					ok = false
					break
				}
				if !found {
					break
				}
				if final && n > 0 {
					if chains == nil {
						chains = map[int64][dueShards]int{}
					}
					c := chains[b]
					c[shard] = n + 1
					chains[b] = c
				}
				for _, en := range es {
					if en.Due > now.UnixNano() {
						continue
					}
					if ctx.Err() != nil {
						return
					}
					if seen == nil {
						seen = map[[2]string]bool{}
					}
					var err error
					if c := [2]string{en.P, en.C}; seen[c] {
						// Another entry of the conversation was handled.
						err = e.index.moveDue(ctx, b, n, en, time.Time{}, !final)
					} else {
						seen[c] = true
						err = e.sweepOne(ctx, b, n, en, now, !final)
					}
					if err != nil {
						e.report(ctx, "flow: timer sweep", err)
						ok = false
					}
				}
			}
		}
		if !ok && b >= readFrom {
			read = min(read, b-1)
		}
		if ok && final && done == b-1 {
			done = b
		}
	}
	e.sweeper.read = max(e.sweeper.read, min(read, cur-1))
	if done > swept {
		m, err := e.index.advance(ctx, done, chains)
		if err != nil {
			e.report(ctx, "flow: timer sweep: mark the swept seconds", err)
			return
		}
		e.sweeper.swept = m
	}
}

// sweepOne handles en, a due entry of key k of second m's chain (whose
// keys stay when keep). The timer it publishes is the state's: the one whose advance was
// written but not done (rec.Fired), else the step's due reminder or
// timeout. Each attempt of a timer has an ID of its own, the timer's ID
// with ":<attempt>" from the second on, so that the Bot's deduplication
// lets each attempt through once across the replicas and the sweeps; the
// attempt counts from the timer's time (see attempt), so that every
// replica names it alike. The entry is moved to the next attempt's time
// before the event is published, and the handling finds out from the
// state whether the timer is still to do. After timerAttempts the timer
// is given up, with an error in the log, unless this is its first
// attempt (a timer that came due while no Bot ran).
func (e *Engine) sweepOne(ctx context.Context, m int64, k int, en dueEntry, now time.Time, keep bool) error {
	rec, _, err := e.states.load(ctx, en.P, en.C)
	if err != nil {
		return err
	}
	if rec == nil || (rec.Ended && rec.Fired == nil) {
		return e.index.moveDue(ctx, m, k, en, time.Time{}, keep)
	}
	f := e.flow(rec.Flow)
	if f == nil {
		// Defined on another replica, or no longer: look again later;
		// the state expires in the end.
		return e.index.moveDue(ctx, m, k, en, now.Add(timerBackoff), keep)
	}
	id, at, after := rec.owedTimer(f, now)
	if id == "" {
		return e.index.moveDue(ctx, m, k, en, rec.deadline(f), keep)
	}
	n, next := attempt(at, now)
	if n > timerAttempts && en.Due > at.UnixNano() {
		// Tried before (the entry is a retry's): a timer first seen
		// that late, after a stop, is tried all the same.
		e.logger.LogAttrs(ctx, slog.LevelError, "flow: timer given up", slog.String("platform", rec.Platform),
			slog.String("conversation", rec.Conversation), slog.String("flow", rec.Flow), slog.String("step", rec.Step),
			slog.String("timer", id), slog.Int("attempts", timerAttempts))
		return e.index.moveDue(ctx, m, k, en, after, keep)
	}
	if err := e.index.moveDue(ctx, m, k, en, next, keep); err != nil {
		return err
	}
	if n > 1 {
		id += ":" + strconv.Itoa(n)
	}
	msg := &bot.Message{ID: id, Platform: en.P, Conversation: en.C, Kind: TimerKind, Time: now}
	if err := e.b.Publish(ctx, msg); err != nil && !errors.Is(err, bot.ErrClosed) && ctx.Err() == nil {
		return err
	}
	return nil
}

// attempt returns which attempt of a timer due at at is made at now, and
// when the next one is: the first until timerBackoff after at, then each
// for twice as long as the one before.
func attempt(at, now time.Time) (int, time.Time) {
	end, wait := at.Add(timerBackoff), timerBackoff
	n := 1
	for !now.Before(end) {
		n++
		wait *= 2
		end = end.Add(wait)
	}
	return n, end
}

// timerID returns the ID of the kind of timer of rec's current advance:
// "flow-timer:<run>:<advance>:<kind>".
func (rec *record) timerID(kind string) string {
	return "flow-timer:" + rec.Run + ":" + strconv.Itoa(rec.Seq) + ":" + kind
}

// timerOf returns the timer an event of TimerKind is an attempt of: its
// ID without the attempt.
func timerOf(id string) string {
	if i := strings.LastIndexByte(id, ':'); i >= 0 && strings.Count(id, ":") == 4 {
		return id[:i]
	}
	return id
}

// owedTimer returns the timer that rec owes at now, its ID and when it was
// due, and the deadline that follows if it is given up: the timer whose
// advance was written but not done, else the step's due timer.
func (rec *record) owedTimer(f *compiled, now time.Time) (id string, at, after time.Time) {
	if rec.Fired != nil {
		if !rec.Ended {
			after = rec.deadline(f)
		}
		return rec.Fired.ID, rec.Fired.At, after
	}
	kind := rec.dueTimer(f, now)
	if kind == "" {
		return "", time.Time{}, time.Time{}
	}
	if kind == "remind" {
		after = rec.timerAt(f, "timeout")
	}
	return rec.timerID(kind), rec.timerAt(f, kind), after
}

// timerAt returns when the kind of timer of rec's step is due, or zero if
// the step has none.
func (rec *record) timerAt(f *compiled, kind string) time.Time {
	st := f.step(rec.Step)
	switch {
	case st == nil:
	case kind == "remind" && st.Remind != nil:
		return rec.Asked.Add(st.Remind.After)
	case kind == "timeout" && st.Timeout != nil:
		return rec.Asked.Add(st.Timeout.After)
	}
	return time.Time{}
}

// firing returns the timer a TimerKind event m fires in rec at now: the
// kind of the step's due timer, when m is an attempt of it, and the note
// the advance keeps until it is done (see record.Fired). It returns ""
// when the timer is no longer due (answered, paused or done since) or m
// is an attempt of an earlier one.
func (rec *record) firing(f *compiled, m *bot.Message, now time.Time) (string, *firedTimer) {
	kind := rec.dueTimer(f, now)
	if kind == "" || timerOf(m.ID) != rec.timerID(kind) {
		return "", nil
	}
	return kind, &firedTimer{ID: rec.timerID(kind), At: rec.timerAt(f, kind)}
}

// timerDone clears the conversation's record of the timer whose advance
// the event m did, once it is done.
func (e *Engine) timerDone(ctx context.Context, m *bot.Message) error {
	id := timerOf(m.ID)
	return e.update(ctx, m.Platform, m.Conversation, func(rec *record) bool {
		if rec == nil || rec.Fired == nil || rec.Fired.ID != id {
			return false
		}
		rec.Fired = nil
		return true
	})
}

func (e *Engine) report(ctx context.Context, msg string, err error) {
	e.logger.LogAttrs(ctx, slog.LevelError, msg, slog.Any("error", err))
}

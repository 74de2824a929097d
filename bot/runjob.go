package bot

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"time"
)

// RunJob runs the scheduled job called name now, in this process, and
// returns when it has: its error, or an error wrapping ErrClosed when the
// Bot is not running (before Run has started its jobs, and from the start
// of its shutdown), or wrapping ErrNotFound when no job is called name.
// It is for operators ("run it now") and does not change the schedule.
//
// The run is like a fire's, except for what marks it as manual: the job
// gets ctx bounded by the Bot's job timeout (see [WithJobTimeout]) and
// cancelled at shutdown, and the Bot as its Sender; a message it sends with
// an empty Key gets the key "cron:<name>:run:<id>:<n>", where id is unique
// to this run, so that a manual run neither repeats nor is mistaken for a
// fire. It is not claimed in the Store (the caller asked for this run, on
// this replica) and does not count in Stats.JobRuns. A panic is recovered
// and returned as an error. The job's error is logged and passed to the
// error hook as a fire's is. The feed reports an [EventJobFired] with
// Reason "run now".
//
// A job runs once at a time in a process: RunJob returns an error
// wrapping ErrJobRunning while a fire or another run of it is running,
// and a fire due while RunJob runs it is skipped, as a fire due while the
// previous one runs is.
func (b *Bot) RunJob(ctx context.Context, name string) error {
	s := b.sched
	s.mu.Lock()
	var job *cronJob
	for _, j := range s.jobs {
		if j.name == name {
			job = j
			break
		}
	}
	// The jobs' context, cancelled at shutdown; nil until Run starts the
	// scheduler.
	runCtx, running := s.runCtx, s.started && !s.stopped && s.cancel != nil
	if running {
		s.manual.Add(1) // waited for by stop
		defer s.manual.Done()
	}
	s.mu.Unlock()
	switch {
	case !running || runCtx.Err() != nil:
		return wrap(fmt.Sprintf("bot: run job %q: the Bot is not running", name), ErrClosed)
	case job == nil:
		return wrap(fmt.Sprintf("bot: run job %q", name), ErrNotFound)
	case !job.running.CompareAndSwap(false, true):
		return wrap(fmt.Sprintf("bot: run job %q", name), ErrJobRunning)
	}
	defer job.running.Store(false)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(runCtx, cancel)()
	if s.jobTimeout > 0 {
		var cancelTimeout context.CancelFunc
		ctx, cancelTimeout = context.WithTimeout(ctx, s.jobTimeout)
		defer cancelTimeout()
	}
	prefix := "cron:" + name + ":run:" + b.nonce + "-" + strconv.FormatUint(b.keySeq.Add(1), 36) + ":"

	s.logger.LogAttrs(ctx, slog.LevelDebug, "cron job run now", slog.String("job", name))
	start := time.Now()
	stack, err := runJobOnce(ctx, name, job.job, &cronSender{send: b, prefix: prefix})
	d := time.Since(start)
	b.Emit(Event{Type: EventJobFired, Job: name, Duration: d, Error: errorText(err), Reason: "run now"})
	switch {
	case stack != nil:
		s.logger.LogAttrs(ctx, slog.LevelError, "cron job panicked",
			slog.String("job", name), slog.Duration("duration", d), slog.String("reason", "run now"),
			slog.Any("error", err), slog.String("stack", string(stack)))
	case err != nil:
		s.logger.LogAttrs(ctx, slog.LevelError, "cron job failed",
			slog.String("job", name), slog.Duration("duration", d), slog.String("reason", "run now"), slog.Any("error", err))
	}
	if err != nil {
		if s.onError != nil {
			s.onError(ctx, err)
		}
		return err
	}
	s.logger.LogAttrs(ctx, slog.LevelDebug, "cron job done",
		slog.String("job", name), slog.Duration("duration", d), slog.String("reason", "run now"))
	return nil
}

// runJobOnce runs j, turning its error and its panic into an error naming
// the job; stack is the panic's stack, nil when there was none.
func runJobOnce(ctx context.Context, name string, j Job, s Sender) (stack []byte, err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		stack, err = debug.Stack(), fmt.Errorf("bot: job %q panicked: %v", name, r)
		if e, ok := r.(error); ok {
			err = wrap(fmt.Sprintf("bot: job %q panicked", name), e)
		}
	}()
	if err := j.Run(ctx, s); err != nil {
		return nil, wrap(fmt.Sprintf("bot: job %q", name), err)
	}
	return nil, nil
}

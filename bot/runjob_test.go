package bot_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// yearly is a schedule that does not fire during a test (unless it runs
// over midnight on New Year's Eve).
const yearly = "0 0 1 1 *"

// runWithJobs runs b, as bottest.Run does, and returns once its jobs can
// be run: the scheduler starts a moment after Run. It schedules a job
// "ready" to find out.
func runWithJobs(t *testing.T, b *bot.Bot) (stop func() error) {
	t.Helper()
	require.NoError(t, b.Schedule("ready", yearly, bot.JobFunc(func(context.Context, bot.Sender) error { return nil })))
	require.ErrorIs(t, b.RunJob(t.Context(), "ready"), bot.ErrClosed, "before Run")
	stop = bottest.Run(t, b)
	require.Eventually(t, func() bool { return b.RunJob(t.Context(), "ready") == nil }, 5*time.Second, time.Millisecond)
	return stop
}

// RunJob runs a scheduled job now: its sends are delivered under keys of
// this run, a second run gets other keys, the feed reports a job_fired
// "run now", and the schedule does not count it.
func TestRunJob(t *testing.T) {
	b, fa := newBot(t)
	require.NoError(t, b.Schedule("report", yearly, bot.JobFunc(func(ctx context.Context, s bot.Sender) error {
		if err := s.Send(ctx, out("c1", "", "first")); err != nil {
			return err
		}
		return s.Send(ctx, out("c1", "", "second"))
	})))
	sub := b.Subscribe(0)
	defer sub.Close()
	runWithJobs(t, b)

	require.NoError(t, b.RunJob(t.Context(), "report"))
	require.NoError(t, b.RunJob(t.Context(), "report"))
	sent := fa.WaitSent(t, 4)
	keys := map[string]bool{}
	for i, m := range sent {
		require.True(t, strings.HasPrefix(m.Key, "cron:report:run:"), "key %q", m.Key)
		keys[m.Key] = true
		if i%2 == 1 {
			assert.Equal(t, strings.TrimSuffix(sent[i-1].Key, ":0")+":1", m.Key, "one run's keys count from 0")
		}
	}
	assert.Len(t, keys, 4, "each run has keys of its own: %v", keys)
	assert.Zero(t, b.Stats().JobRuns, "a manual run is not a fire")

	got := collect(t, sub, func(e bot.Event) bool { return e.Type == bot.EventJobFired && e.Job == "report" })
	fired := got[len(got)-1]
	assert.Equal(t, "report", fired.Job)
	assert.Equal(t, "run now", fired.Reason)
	assert.Empty(t, fired.Error)
}

// An unknown job is ErrNotFound; after Run returned, ErrClosed.
func TestRunJob_unknownAndClosed(t *testing.T) {
	b, _ := newBot(t)
	require.NoError(t, b.Schedule("report", yearly, bot.JobFunc(func(context.Context, bot.Sender) error { return nil })))
	stop := runWithJobs(t, b)
	err := b.RunJob(t.Context(), "nope")
	require.ErrorIs(t, err, bot.ErrNotFound)
	assert.Contains(t, err.Error(), `run job "nope"`)
	require.NoError(t, stop())
	require.ErrorIs(t, b.RunJob(t.Context(), "report"), bot.ErrClosed)
}

// A job's error and its panic are returned naming the job, reported to the
// error hook, and on the job_fired event.
func TestRunJob_errorAndPanic(t *testing.T) {
	var hooked atomic.Int32
	b, _ := newBot(t, bot.WithErrorHandler(func(context.Context, error) { hooked.Add(1) }))
	require.NoError(t, b.Schedule("fails", yearly, bot.JobFunc(func(context.Context, bot.Sender) error {
		return errors.New("the report broke")
	})))
	require.NoError(t, b.Schedule("panics", yearly, bot.JobFunc(func(context.Context, bot.Sender) error {
		panic("out of paper")
	})))
	sub := b.Subscribe(0)
	defer sub.Close()
	runWithJobs(t, b)

	err := b.RunJob(t.Context(), "fails")
	require.Error(t, err)
	assert.Equal(t, `bot: job "fails": the report broke`, err.Error())
	e := collect(t, sub, func(e bot.Event) bool { return e.Type == bot.EventJobFired && e.Job == "fails" })
	assert.Equal(t, "fails", e[len(e)-1].Job)
	assert.Contains(t, e[len(e)-1].Error, "the report broke")

	err = b.RunJob(t.Context(), "panics")
	require.Error(t, err)
	assert.Equal(t, `bot: job "panics" panicked: out of paper`, err.Error())
	assert.Equal(t, int32(2), hooked.Load())
}

// The job's context ends at the job timeout, and when the Bot stops.
func TestRunJob_timeoutAndShutdown(t *testing.T) {
	b, _ := newBot(t, bot.WithJobTimeout(20*time.Millisecond))
	require.NoError(t, b.Schedule("slow", yearly, bot.JobFunc(func(ctx context.Context, _ bot.Sender) error {
		<-ctx.Done()
		return ctx.Err()
	})))
	runWithJobs(t, b)
	require.ErrorIs(t, b.RunJob(t.Context(), "slow"), context.DeadlineExceeded)

	b2, _ := newBot(t, bot.WithJobTimeout(0))
	started := make(chan struct{})
	require.NoError(t, b2.Schedule("slow", yearly, bot.JobFunc(func(ctx context.Context, _ bot.Sender) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})))
	stop := runWithJobs(t, b2)
	done := make(chan error, 1)
	go func() { done <- b2.RunJob(context.Background(), "slow") }()
	<-started
	require.NoError(t, stop())
	require.ErrorIs(t, <-done, context.Canceled)
}

// A job runs once at a time: RunJob while a run of it runs returns
// ErrJobRunning and runs nothing; once it has returned, the job runs again.
func TestRunJob_onceAtATime(t *testing.T) {
	b, _ := newBot(t)
	release := make(chan struct{})
	var runs, running, most atomic.Int32
	require.NoError(t, b.Schedule("slow", yearly, bot.JobFunc(func(ctx context.Context, _ bot.Sender) error {
		runs.Add(1)
		n := running.Add(1)
		defer running.Add(-1)
		if n > most.Load() {
			most.Store(n)
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})))
	runWithJobs(t, b)

	first := make(chan error, 1)
	go func() { first <- b.RunJob(t.Context(), "slow") }()
	require.Eventually(t, func() bool { return running.Load() == 1 }, 5*time.Second, time.Millisecond)
	err := b.RunJob(t.Context(), "slow")
	require.ErrorIs(t, err, bot.ErrJobRunning)
	assert.EqualError(t, err, `bot: run job "slow": job is running`)
	close(release)
	require.NoError(t, <-first)
	require.NoError(t, b.RunJob(t.Context(), "slow"))
	assert.Equal(t, int32(2), runs.Load())
	assert.Equal(t, int32(1), most.Load(), "never twice at once")
}

// Run does not return while a job run with RunJob is still running: its
// context is cancelled at shutdown and Run waits for it to return, as it
// waits for a scheduled fire.
func TestRunJob_awaitedAtShutdown(t *testing.T) {
	b, _ := newBot(t)
	started := make(chan struct{})
	var finished atomic.Bool
	require.NoError(t, b.Schedule("slow", yearly, bot.JobFunc(func(ctx context.Context, _ bot.Sender) error {
		close(started)
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // cleaning up after the cancel
		finished.Store(true)
		return ctx.Err()
	})))
	stop := runWithJobs(t, b)
	ran := make(chan error, 1)
	go func() { ran <- b.RunJob(context.Background(), "slow") }()
	<-started
	require.NoError(t, stop())
	assert.True(t, finished.Load(), "Run returned before the job did")
	assert.ErrorIs(t, <-ran, context.Canceled)
}

// A scheduled fire that panics is reported on the feed as any fire is,
// with the panic as its error.
func TestFeed_panickingFire(t *testing.T) {
	b, _ := newBot(t)
	require.NoError(t, b.Schedule("boom", "@every 1s", bot.JobFunc(func(context.Context, bot.Sender) error {
		panic("kaboom")
	})))
	sub := b.Subscribe(4, bot.EventJobFired)
	defer sub.Close()
	bottest.Run(t, b)
	select {
	case e := <-sub.Events():
		assert.Equal(t, "boom", e.Job)
		assert.Contains(t, e.Error, `job "boom" panicked: kaboom`)
	case <-time.After(5 * time.Second):
		t.Fatal("no job_fired event for the panicking fire")
	}
}

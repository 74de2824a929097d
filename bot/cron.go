package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
)

// A Job is scheduled work run by the Bot's cron scheduler (see
// [Bot.Schedule]).
//
// Run is called at each fire time of its schedule, on its own goroutine. A
// fire that comes while the previous run of the same job is still going is
// skipped, so Run is never called concurrently with itself; different jobs
// run concurrently. ctx carries the Bot's job timeout and is cancelled when
// the Bot shuts down: Run must return promptly once ctx is done, because
// shutdown waits for it (up to the shutdown timeout).
//
// s sends messages like a handler's Sender. A message sent through it with
// an empty Key is given the idempotency key
// "cron:<job name>:<fire time in unix seconds>:<n>", n counting from 0 within
// the fire, so that the same fire never delivers the same message twice.
// The key is written into the message before it is handed to the Bot.
//
// An error returned by Run is logged at Error level with the job's name;
// a panic is recovered and logged the same way. Neither stops the schedule.
type Job interface {
	Run(ctx context.Context, s Sender) error
}

// JobFunc lets an ordinary function serve as a Job.
type JobFunc func(ctx context.Context, s Sender) error

// Run calls f(ctx, s).
func (f JobFunc) Run(ctx context.Context, s Sender) error { return f(ctx, s) }

// A ScheduledJob describes a registered job, for listing.
type ScheduledJob struct {
	Name string    // the name given to Bot.Schedule
	Spec string    // the schedule as given
	Next time.Time // the next fire time, in the Bot's location; zero if none
}

// cronParser accepts five fields (minute first) or six (second first),
// descriptors such as @daily and "@every 1h", and a CRON_TZ= or TZ= prefix.
var cronParser = cron.NewParser(
	cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor,
)

// Cross-replica claims of a fire live this long: far longer than any clock
// skew between replicas, far shorter than memory matters.
const cronClaimTTL = 24 * time.Hour

// scheduler runs the Bot's jobs on robfig/cron/v3.
//
// Fire times. Every fire is identified by its scheduled time (the time the
// schedule named, to the second, not the moment the goroutine happened to
// run), which is the same on every replica. That time names the fire's
// claim key "cron:<name>:<unix>" and prefixes its messages' idempotency
// keys. robfig does not hand the scheduled time to the job, so fireTime
// recomputes it as the latest time of the schedule not after now. This is
// exact as long as the job goroutine starts within one period of its
// scheduled time; a goroutine stalled past the next fire time would take
// that later time and then share its claim (so one of the two is skipped).
// "@every d" schedules are aligned to multiples of d since the Unix epoch
// (robfig counts from the scheduler's start instead), so that replicas
// started at different times agree on the fire times.
//
// Replicas. With a store, each fire is claimed with SetIfAbsent before the
// job runs; a replica that loses the claim skips the fire. If the claim
// itself fails the fire is skipped and the error logged: without the store
// replicas cannot agree, and a missed fire is easier to live with than one
// run by every replica.
//
// Concurrency. add, start, stop and entries are safe for concurrent use;
// add must come before start, and start at most once.
type scheduler struct {
	feed       *feed // the Bot's event feed; nil outside a Bot
	loc        *time.Location
	logger     *slog.Logger
	store      Store         // nil: no cross-replica claims
	jobTimeout time.Duration // 0: none

	// onError, if set before start, is also called with each job's error or
	// panic (the Bot's error hook).
	onError func(ctx context.Context, err error)
	// runs counts the fires this process ran (claimed and started).
	runs atomic.Int64

	mu      sync.Mutex
	jobs    []*cronJob
	names   map[string]bool
	started bool
	stopped bool
	cron    *cron.Cron // nil before start, after stop, or with no jobs yet
	// cronDone is closed when the goroutine of cron has stopped.
	cronDone chan struct{}
	cancel   context.CancelFunc // cancels the jobs' parent context
	runCtx   context.Context    // the jobs' parent context, from start
	send     Sender             // the jobs' Sender, from start
	// manual counts the runs of Bot.RunJob in progress, which stop waits
	// for as it waits for the fires. Added to under mu while the
	// scheduler runs.
	manual sync.WaitGroup
}

type cronJob struct {
	name  string
	spec  string
	sched cron.Schedule
	job   Job
	id    cron.EntryID // set once the job is on the running cron
	// running is held by the fire or the manual run (Bot.RunJob) in
	// progress, so that a job never runs twice at once in a process.
	running atomic.Bool
}

func newScheduler(loc *time.Location, logger *slog.Logger, store Store, jobTimeout time.Duration) *scheduler {
	if loc == nil {
		loc = time.Local
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &scheduler{
		loc:        loc,
		logger:     logger,
		store:      store,
		jobTimeout: max(jobTimeout, 0),
		names:      make(map[string]bool),
	}
}

// add registers j under name on spec. A malformed spec returns an error
// naming the job and the problem; misuse (empty name, nil job, duplicate
// name, add after stop) panics. Added while running, the job starts with
// its next fire time.
func (s *scheduler) add(name, spec string, j Job) error {
	if name == "" {
		panic("bot: Schedule with an empty job name")
	}
	if j == nil {
		panic("bot: Schedule " + strconv.Quote(name) + " with a nil job")
	}
	if f, ok := j.(JobFunc); ok && f == nil {
		panic("bot: Schedule " + strconv.Quote(name) + " with a nil JobFunc")
	}
	sched, err := parseSchedule(spec)
	if err != nil {
		return wrap(fmt.Sprintf("bot: schedule %q", name), err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		panic("bot: Schedule " + strconv.Quote(name) + " after the Bot stopped")
	}
	if s.names[name] {
		panic("bot: Schedule: duplicate job name " + strconv.Quote(name))
	}
	s.names[name] = true
	cj := &cronJob{name: name, spec: spec, sched: sched, job: j}
	s.jobs = append(s.jobs, cj)
	if s.started {
		if s.cron == nil {
			s.newCronLocked()
			s.cron.Start()
		}
		s.scheduleLocked(cj)
	}
	return nil
}

// remove unregisters the job called name and reports whether there was
// one. A fire of it already running finishes.
func (s *scheduler) remove(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.jobs, func(j *cronJob) bool { return j.name == name })
	if i < 0 {
		return false
	}
	if s.cron != nil && s.jobs[i].id != 0 {
		s.cron.Remove(s.jobs[i].id)
	}
	s.jobs = slices.Delete(s.jobs, i, i+1)
	delete(s.names, name)
	return true
}

// newCronLocked makes the robfig scheduler. The caller holds s.mu.
func (s *scheduler) newCronLocked() {
	s.cronDone = make(chan struct{})
	s.cron = cron.New(
		cron.WithLocation(s.loc),
		cron.WithParser(cronParser),
		cron.WithLogger(cronLogger{l: s.logger, stopped: s.cronDone}),
	)
}

// scheduleLocked puts j on the running cron. The caller holds s.mu.
func (s *scheduler) scheduleLocked(j *cronJob) {
	ctx, send := s.runCtx, s.send
	run := cron.NewChain(s.recoverJob(j.name)).Then(cron.FuncJob(func() { s.fire(ctx, send, j) }))
	j.id = s.cron.Schedule(j.sched, run)
}

// parseSchedule parses a cron spec, turning the parser's panics into errors
// and rejecting specs the parser would silently change or never fire.
func parseSchedule(spec string) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("bad spec %q: %v", spec, r)
		}
	}()

	body := spec
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		// The parser finds the zone's end at the first space and panics
		// when there is none.
		eq := strings.IndexByte(spec, '=')
		sp := strings.IndexByte(spec, ' ')
		switch {
		case sp < 0 || strings.TrimSpace(spec[sp:]) == "":
			return nil, fmt.Errorf("bad spec %q: a time zone must be followed by a schedule", spec)
		case sp == eq+1:
			return nil, fmt.Errorf("bad spec %q: empty time zone", spec)
		}
		body = strings.TrimSpace(spec[sp:])
	}

	sched, err = cronParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("bad spec %q: %w", spec, err)
	}

	if every, ok := strings.CutPrefix(body, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(every))
		if err != nil { // the parser accepted it, so this does not happen
			return nil, fmt.Errorf("bad spec %q: %w", spec, err)
		}
		// The parser would round these to a whole second of at least one.
		if d < time.Second {
			return nil, fmt.Errorf("bad spec %q: @every needs a duration of at least 1s", spec)
		}
		if d%time.Second != 0 {
			return nil, fmt.Errorf("bad spec %q: @every needs a whole number of seconds", spec)
		}
		return everySchedule{d: d}, nil
	}
	if sched.Next(time.Now()).IsZero() {
		return nil, fmt.Errorf("bad spec %q: the schedule never fires", spec)
	}
	return sched, nil
}

// everySchedule fires at every multiple of d since the Unix epoch.
type everySchedule struct{ d time.Duration }

// Next returns the first multiple of d after t.
func (e everySchedule) Next(t time.Time) time.Time {
	u, d := t.UnixNano(), int64(e.d)
	r := u % d
	if r < 0 {
		r += d
	}
	return time.Unix(0, u-r+d).In(t.Location())
}

// fireTime returns the scheduled time of the fire running at now: the latest
// time of sched that is not after now, looked for within the last second
// and then the last minute. If there is none (the goroutine started more
// than a minute late, or the wall clock stepped back), it returns now
// truncated to the second.
func fireTime(sched cron.Schedule, now time.Time) time.Time {
	for _, back := range [...]time.Duration{time.Second, time.Minute} {
		f := sched.Next(now.Add(-back))
		if f.IsZero() || f.After(now) {
			continue
		}
		for {
			n := sched.Next(f)
			if n.IsZero() || n.After(now) {
				return f
			}
			f = n
		}
	}
	return now.Truncate(time.Second)
}

// start runs the jobs until stop. Jobs get contexts derived from ctx, which
// are cancelled when ctx is or when stop is called, and send their messages
// through send. start panics if called twice.
func (s *scheduler) start(ctx context.Context, send Sender) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		panic("bot: scheduler started twice")
	}
	s.started = true
	ctx, s.cancel = context.WithCancel(ctx)
	s.runCtx, s.send = ctx, send
	if len(s.jobs) == 0 {
		return // no goroutine needed until a job is added
	}
	s.newCronLocked()
	for _, j := range s.jobs {
		s.scheduleLocked(j)
	}
	s.cron.Start()
	s.logger.LogAttrs(ctx, slog.LevelDebug, "cron started", slog.Int("jobs", len(s.jobs)))
}

// stop stops scheduling, cancels the running jobs' contexts and waits for
// them to return, or for ctx to be done; then it returns an error wrapping
// ctx.Err(). The goroutine waiting for the jobs ends when they do. stop
// before start, or a second stop, returns nil at once.
func (s *scheduler) stop(ctx context.Context) error {
	s.mu.Lock()
	c, cancel, cronDone := s.cron, s.cancel, s.cronDone
	s.cron, s.cancel = nil, nil
	s.stopped = s.started
	s.mu.Unlock()
	if cancel == nil {
		return nil
	}
	if c == nil {
		cancel()
		return nil
	}
	done := c.Stop() // no fire starts after this returns
	cancel()
	// robfig's goroutine logs its stop after Stop returned: wait for it,
	// so that nothing of the scheduler outlives Run.
	<-cronDone
	manual := make(chan struct{})
	go func() { s.manual.Wait(); close(manual) }()
	for _, c := range []<-chan struct{}{done.Done(), manual} {
		select {
		case <-c:
		case <-ctx.Done():
			return fmt.Errorf("bot: cron: jobs still running at shutdown: %w", ctx.Err())
		}
	}
	return nil
}

// entries lists the registered jobs in registration order.
func (s *scheduler) entries() []ScheduledJob {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now().In(s.loc)
	out := make([]ScheduledJob, len(s.jobs))
	for i, j := range s.jobs {
		out[i] = ScheduledJob{Name: j.name, Spec: j.spec, Next: j.sched.Next(now)}
	}
	return out
}

// fire runs one fire of j: claim, then run with a stamping Sender.
func (s *scheduler) fire(runCtx context.Context, send Sender, j *cronJob) {
	if runCtx.Err() != nil {
		return // shutting down
	}
	if !j.running.CompareAndSwap(false, true) {
		s.logger.LogAttrs(runCtx, slog.LevelInfo, "cron fire skipped: the job is still running", slog.String("job", j.name))
		return
	}
	defer j.running.Store(false)
	at := fireTime(j.sched, time.Now().In(s.loc))
	key := "cron:" + j.name + ":" + strconv.FormatInt(at.Unix(), 10)

	ctx, cancel := runCtx, context.CancelFunc(func() {})
	if s.jobTimeout > 0 {
		ctx, cancel = context.WithTimeout(runCtx, s.jobTimeout)
	}
	defer cancel()

	if s.store != nil {
		won, err := s.store.SetIfAbsent(ctx, key, nil, cronClaimTTL)
		switch {
		case err != nil && runCtx.Err() != nil:
			return // shutting down
		case err != nil:
			s.logger.LogAttrs(ctx, slog.LevelError, "cron fire skipped: claim failed",
				slog.String("job", j.name), slog.Time("fire", at), slog.Any("error", err))
			return
		case !won:
			s.logger.LogAttrs(ctx, slog.LevelDebug, "cron fire claimed by another replica",
				slog.String("job", j.name), slog.Time("fire", at))
			return
		}
	}

	s.runs.Add(1)
	s.logger.LogAttrs(ctx, slog.LevelDebug, "cron job started",
		slog.String("job", j.name), slog.Time("fire", at))
	start := time.Now()
	// A panic is recovered here, like a manual run's, so that the fire
	// is reported whichever way it ended.
	stack, err := runJobOnce(ctx, j.name, j.job, &cronSender{send: send, prefix: key + ":"})
	d := time.Since(start)
	if s.feed != nil && s.feed.wants(EventJobFired) {
		e := Event{Type: EventJobFired, Job: j.name, Duration: d}
		if err != nil {
			e.Error = err.Error()
		}
		s.feed.emit(&e)
	}
	switch {
	case stack != nil:
		s.logger.LogAttrs(ctx, slog.LevelError, "cron job panicked",
			slog.String("job", j.name), slog.Duration("duration", d), slog.Any("error", err), slog.String("stack", string(stack)))
	case err != nil:
		s.logger.LogAttrs(ctx, slog.LevelError, "cron job failed",
			slog.String("job", j.name), slog.Duration("duration", d), slog.Any("error", err))
	}
	if err != nil {
		if s.onError != nil {
			s.onError(ctx, err)
		}
		return
	}
	s.logger.LogAttrs(ctx, slog.LevelDebug, "cron job done",
		slog.String("job", j.name), slog.Duration("duration", d))
}

// recoverJob turns a panic of a job into an error logged at Error level. It
// replaces robfig's Recover, which logs through robfig's logger.
func (s *scheduler) recoverJob(name string) cron.JobWrapper {
	return func(j cron.Job) cron.Job {
		return cron.FuncJob(func() {
			start := time.Now()
			defer func() {
				r := recover()
				if r == nil {
					return
				}
				err := fmt.Errorf("bot: job %q panicked: %v", name, r)
				if e, ok := r.(error); ok {
					err = wrap(fmt.Sprintf("bot: job %q panicked", name), e)
				}
				s.logger.LogAttrs(context.Background(), slog.LevelError, "cron job panicked",
					slog.String("job", name), slog.Duration("duration", time.Since(start)),
					slog.Any("error", err), slog.String("stack", string(debug.Stack())))
				if s.onError != nil {
					s.onError(context.Background(), err)
				}
			}()
			j.Run()
		})
	}
}

// cronSender stamps outbound messages of one fire with idempotency keys.
type cronSender struct {
	send   Sender
	prefix string // "cron:<name>:<unix>:"
	n      atomic.Int64
}

func (c *cronSender) Send(ctx context.Context, m *Message) error {
	if m == nil {
		return errors.New("bot: send of a nil message")
	}
	if m.Key == "" {
		m.Key = c.prefix + strconv.FormatInt(c.n.Add(1)-1, 10)
	}
	return c.send.Send(ctx, m)
}

// cronLogger adapts slog to robfig's logger: its Info lines (start, wake,
// run) become Debug, its errors Error. Its "stop" line, the last thing
// robfig's goroutine does, closes stopped instead (when not nil).
type cronLogger struct {
	l       *slog.Logger
	stopped chan struct{}
}

func (c cronLogger) Info(msg string, keysAndValues ...any) {
	if msg == "stop" && c.stopped != nil {
		close(c.stopped)
		return
	}
	if c.l.Enabled(context.Background(), slog.LevelDebug) {
		c.l.Debug("cron: "+msg, keysAndValues...)
	}
}

func (c cronLogger) Error(err error, msg string, keysAndValues ...any) {
	c.l.Error("cron: "+msg, append([]any{"error", err}, keysAndValues...)...)
}

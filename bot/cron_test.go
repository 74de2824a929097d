package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	_ "time/tzdata" // CRON_TZ tests must not depend on the machine's zoneinfo

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// cronRecorder is a Sender that records what jobs send.
type cronRecorder struct {
	mu   sync.Mutex
	msgs []*Message
	err  error // returned by Send when set
}

func (r *cronRecorder) Send(ctx context.Context, m *Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.msgs = append(r.msgs, m)
	return nil
}

func (r *cronRecorder) keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.msgs))
	for i, m := range r.msgs {
		out[i] = m.Key
	}
	return out
}

// cronLog is a slog.Handler that keeps the records it gets, for assertions
// on what the scheduler logged.
type cronLog struct {
	mu   *sync.Mutex
	recs *[]cronLogRecord
	pre  []slog.Attr
}

type cronLogRecord struct {
	level slog.Level
	msg   string
	attrs map[string]any
}

func newCronLog() *cronLog {
	return &cronLog{mu: new(sync.Mutex), recs: new([]cronLogRecord)}
}

func (h *cronLog) Enabled(context.Context, slog.Level) bool { return true }

func (h *cronLog) Handle(_ context.Context, r slog.Record) error {
	rec := cronLogRecord{level: r.Level, msg: r.Message, attrs: map[string]any{}}
	for _, a := range h.pre {
		rec.attrs[a.Key] = a.Value.Resolve().Any()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.Resolve().Any()
		return true
	})
	h.mu.Lock()
	*h.recs = append(*h.recs, rec)
	h.mu.Unlock()
	return nil
}

func (h *cronLog) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.pre = append(append([]slog.Attr(nil), h.pre...), as...)
	return &c
}

func (h *cronLog) WithGroup(string) slog.Handler { return h }

// find returns the records at level whose message is msg.
func (h *cronLog) find(level slog.Level, msg string) []cronLogRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []cronLogRecord
	for _, r := range *h.recs {
		if r.level == level && r.msg == msg {
			out = append(out, r)
		}
	}
	return out
}

func newTestScheduler(loc *time.Location, store Store, jobTimeout time.Duration) (*scheduler, *cronLog) {
	h := newCronLog()
	return newScheduler(loc, slog.New(h), store, jobTimeout), h
}

func cronNoop(context.Context, Sender) error { return nil }

func TestScheduler_fires(t *testing.T) {
	tests := []struct {
		name  string
		spec  string
		delay time.Duration // before start
		run   time.Duration // after start
		want  []time.Duration
	}{
		{"every_minute", "@every 1m", 0, 5*time.Minute + 30*time.Second,
			[]time.Duration{1 * time.Minute, 2 * time.Minute, 3 * time.Minute, 4 * time.Minute, 5 * time.Minute}},
		{"every_minute_aligned_when_started_late", "@every 1m", 20 * time.Second, 3 * time.Minute,
			[]time.Duration{1 * time.Minute, 2 * time.Minute, 3 * time.Minute}},
		{"every_90s", "@every 90s", 0, 5 * time.Minute,
			[]time.Duration{90 * time.Second, 180 * time.Second, 270 * time.Second}},
		{"seconds_field", "*/10 * * * * *", 0, 55 * time.Second,
			[]time.Duration{10 * time.Second, 20 * time.Second, 30 * time.Second, 40 * time.Second, 50 * time.Second}},
		{"five_fields", "*/5 * * * *", 0, 16 * time.Minute,
			[]time.Duration{5 * time.Minute, 10 * time.Minute, 15 * time.Minute}},
		{"hourly", "@hourly", 0, 3*time.Hour + time.Second,
			[]time.Duration{time.Hour, 2 * time.Hour, 3 * time.Hour}},
		{"daily", "@daily", 0, 49 * time.Hour,
			[]time.Duration{24 * time.Hour, 48 * time.Hour}},
		{"weekdays_at_nine", "0 9 * * 1-5", 0, 7 * 24 * time.Hour,
			// 2000-01-01 is a Saturday: Monday 3rd to Friday 7th.
			[]time.Duration{(2*24 + 9) * time.Hour, (3*24 + 9) * time.Hour, (4*24 + 9) * time.Hour, (5*24 + 9) * time.Hour, (6*24 + 9) * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				epoch := time.Now()
				s, _ := newTestScheduler(time.UTC, nil, 0)
				var (
					mu  sync.Mutex
					got []time.Duration
				)
				require.NoError(t, s.add("job", tt.spec, JobFunc(func(context.Context, Sender) error {
					mu.Lock()
					got = append(got, time.Since(epoch))
					mu.Unlock()
					return nil
				})))
				time.Sleep(tt.delay)
				s.start(t.Context(), &cronRecorder{})
				time.Sleep(tt.run)
				synctest.Wait()
				require.NoError(t, s.stop(t.Context()))

				mu.Lock()
				defer mu.Unlock()
				assert.Equal(t, tt.want, got)
				assert.Equal(t, int64(len(tt.want)), s.runs.Load())
			})
		})
	}
}

func TestScheduler_location(t *testing.T) {
	zagreb, err := time.LoadLocation("Europe/Zagreb")
	require.NoError(t, err)
	tests := []struct {
		name string
		loc  *time.Location
		spec string
		want string // first fire, UTC
	}{
		// In January Zagreb is UTC+1.
		{"CRON_TZ_overrides_UTC", time.UTC, "CRON_TZ=Europe/Zagreb 0 9 * * *", "2000-01-01T08:00:00Z"},
		{"TZ_prefix", time.UTC, "TZ=Europe/Zagreb 0 9 * * *", "2000-01-01T08:00:00Z"},
		{"scheduler_location", zagreb, "0 9 * * *", "2000-01-01T08:00:00Z"},
		{"CRON_TZ_overrides_location", zagreb, "CRON_TZ=UTC 0 9 * * *", "2000-01-01T09:00:00Z"},
		{"weekdays_in_zone", time.UTC, "CRON_TZ=Europe/Zagreb 0 9 * * 1-5", "2000-01-03T08:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, _ := newTestScheduler(tt.loc, nil, 0)
				fired := make(chan time.Time, 10)
				require.NoError(t, s.add("job", tt.spec, JobFunc(func(context.Context, Sender) error {
					fired <- time.Now()
					return nil
				})))
				s.start(t.Context(), &cronRecorder{})
				time.Sleep(3 * 24 * time.Hour)
				require.NoError(t, s.stop(t.Context()))
				require.NotEmpty(t, fired)
				assert.Equal(t, tt.want, (<-fired).UTC().Format(time.RFC3339))
			})
		})
	}
}

func TestScheduler_skipIfStillRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, logs := newTestScheduler(time.UTC, nil, 0)
		var running, maxRunning, runs atomic.Int32
		require.NoError(t, s.add("slow", "@every 1m", JobFunc(func(ctx context.Context, _ Sender) error {
			runs.Add(1)
			n := running.Add(1)
			defer running.Add(-1)
			if n > maxRunning.Load() {
				maxRunning.Store(n)
			}
			select { // 150s: longer than two periods
			case <-time.After(150 * time.Second):
			case <-ctx.Done():
			}
			return nil
		})))
		s.start(t.Context(), &cronRecorder{})
		// Fires at 1m (runs to 3m30), 2m and 3m (skipped), 4m (runs), 5m (skipped).
		time.Sleep(5*time.Minute + 30*time.Second)
		require.NoError(t, s.stop(t.Context()))

		assert.Equal(t, int32(2), runs.Load())
		assert.Equal(t, int32(1), maxRunning.Load(), "a job must never run concurrently with itself")
		skips := logs.find(slog.LevelInfo, "cron fire skipped: the job is still running")
		assert.Len(t, skips, 3)
		for _, r := range skips {
			assert.Equal(t, "slow", r.attrs["job"])
		}
	})
}

func TestScheduler_panicAndErrorAreLogged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, logs := newTestScheduler(time.UTC, nil, 0)
		var hooked []error
		var hookMu sync.Mutex
		s.onError = func(_ context.Context, err error) {
			hookMu.Lock()
			hooked = append(hooked, err)
			hookMu.Unlock()
		}
		var calls atomic.Int32
		require.NoError(t, s.add("boom", "@every 1m", JobFunc(func(context.Context, Sender) error {
			switch calls.Add(1) {
			case 1:
				panic("kaboom")
			case 2:
				return errors.New("no luck")
			}
			return nil
		})))
		s.start(t.Context(), &cronRecorder{})
		time.Sleep(3*time.Minute + 30*time.Second)
		require.NoError(t, s.stop(t.Context()))

		assert.Equal(t, int32(3), calls.Load(), "the fires after a panic still run")

		panics := logs.find(slog.LevelError, "cron job panicked")
		require.Len(t, panics, 1)
		assert.Equal(t, "boom", panics[0].attrs["job"])
		assert.ErrorContains(t, panics[0].attrs["error"].(error), `bot: job "boom" panicked: kaboom`)
		assert.Contains(t, panics[0].attrs["stack"], "cron_test.go")

		failed := logs.find(slog.LevelError, "cron job failed")
		require.Len(t, failed, 1)
		assert.Equal(t, "boom", failed[0].attrs["job"])
		assert.EqualError(t, failed[0].attrs["error"].(error), `bot: job "boom": no luck`)
		assert.Contains(t, failed[0].attrs, "duration")

		assert.Len(t, logs.find(slog.LevelDebug, "cron job done"), 1)

		hookMu.Lock()
		defer hookMu.Unlock()
		require.Len(t, hooked, 2)
		assert.ErrorContains(t, hooked[0], "kaboom")
		assert.EqualError(t, hooked[1], `bot: job "boom": no luck`)
	})
}

func TestScheduler_jobContext(t *testing.T) {
	t.Run("cancelled_by_stop", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s, _ := newTestScheduler(time.UTC, nil, 0)
			got := make(chan error, 1)
			require.NoError(t, s.add("wait", "@every 1m", JobFunc(func(ctx context.Context, _ Sender) error {
				<-ctx.Done()
				got <- ctx.Err()
				return nil
			})))
			s.start(t.Context(), &cronRecorder{})
			time.Sleep(90 * time.Second)
			synctest.Wait()
			require.Empty(t, got, "the job is still running")

			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			before := time.Now()
			require.NoError(t, s.stop(ctx))
			assert.Equal(t, time.Duration(0), time.Since(before), "stop returns as soon as the job does")
			assert.ErrorIs(t, <-got, context.Canceled)
		})
	})
	t.Run("cancelled_with_run_context", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s, _ := newTestScheduler(time.UTC, nil, 0)
			got := make(chan error, 1)
			var calls atomic.Int32
			require.NoError(t, s.add("wait", "@every 1m", JobFunc(func(ctx context.Context, _ Sender) error {
				calls.Add(1)
				<-ctx.Done()
				got <- ctx.Err()
				return nil
			})))
			runCtx, cancelRun := context.WithCancel(t.Context())
			s.start(runCtx, &cronRecorder{})
			time.Sleep(90 * time.Second)
			cancelRun()
			assert.ErrorIs(t, <-got, context.Canceled)
			time.Sleep(5 * time.Minute)
			assert.Equal(t, int32(1), calls.Load(), "fires after the run context is done do not run")
			require.NoError(t, s.stop(t.Context()))
		})
	})
	t.Run("job_timeout", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s, _ := newTestScheduler(time.UTC, nil, 10*time.Second)
			type result struct {
				err     error
				elapsed time.Duration
			}
			got := make(chan result, 10)
			require.NoError(t, s.add("wait", "@every 1m", JobFunc(func(ctx context.Context, _ Sender) error {
				start := time.Now()
				<-ctx.Done()
				got <- result{ctx.Err(), time.Since(start)}
				return ctx.Err()
			})))
			s.start(t.Context(), &cronRecorder{})
			time.Sleep(61 * time.Second)
			r := <-got
			assert.ErrorIs(t, r.err, context.DeadlineExceeded)
			assert.Equal(t, 10*time.Second, r.elapsed)
			require.NoError(t, s.stop(t.Context()))
		})
	})
}

func TestScheduler_stopWaitsForJobs(t *testing.T) {
	t.Run("job_finishes_within_deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s, _ := newTestScheduler(time.UTC, nil, 0)
			finished := make(chan struct{})
			require.NoError(t, s.add("slow", "@every 1m", JobFunc(func(ctx context.Context, _ Sender) error {
				<-ctx.Done()
				time.Sleep(3 * time.Second) // cleaning up
				close(finished)
				return nil
			})))
			s.start(t.Context(), &cronRecorder{})
			time.Sleep(90 * time.Second)

			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			before := time.Now()
			require.NoError(t, s.stop(ctx))
			assert.Equal(t, 3*time.Second, time.Since(before))
			select {
			case <-finished:
			default:
				t.Fatal("stop returned before the job did")
			}
		})
	})
	t.Run("deadline_hit", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s, _ := newTestScheduler(time.UTC, nil, 0)
			release := make(chan struct{})
			require.NoError(t, s.add("stuck", "@every 1m", JobFunc(func(context.Context, Sender) error {
				<-release // ignores its context
				return nil
			})))
			s.start(t.Context(), &cronRecorder{})
			time.Sleep(90 * time.Second)

			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			before := time.Now()
			err := s.stop(ctx)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.ErrorContains(t, err, "bot: cron: jobs still running")
			assert.Equal(t, 5*time.Second, time.Since(before))

			// Once the job returns, every goroutine of the scheduler ends
			// (the bubble would not exit otherwise).
			close(release)
			synctest.Wait()
		})
	})
	t.Run("before_start_and_twice", func(t *testing.T) {
		s, _ := newTestScheduler(time.UTC, nil, 0)
		require.NoError(t, s.stop(t.Context()), "stop before start")
		s.start(t.Context(), &cronRecorder{})
		require.NoError(t, s.stop(t.Context()))
		require.NoError(t, s.stop(t.Context()), "second stop")
	})
}

// TestScheduler_noGoroutineLeft runs on the real clock, outside a bubble.
func TestScheduler_noGoroutineLeft(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s, _ := newTestScheduler(time.UTC, NewMemoryStore(), time.Minute)
	require.NoError(t, s.add("daily", "@daily", JobFunc(cronNoop)))
	require.NoError(t, s.add("often", "* * * * * *", JobFunc(cronNoop)))
	s.start(t.Context(), &cronRecorder{})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.stop(ctx))
}

func TestScheduler_keys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		epoch := time.Now()
		s, logs := newTestScheduler(time.UTC, nil, 0)
		rec := &cronRecorder{}
		require.NoError(t, s.add("greet", "@every 1m", JobFunc(func(ctx context.Context, w Sender) error {
			for _, m := range []*Message{
				{Platform: "fake", Conversation: "c", Text: "a"},
				{Platform: "fake", Conversation: "c", Text: "b", Key: "custom"},
				{Platform: "fake", Conversation: "c", Text: "c"},
			} {
				if err := w.Send(ctx, m); err != nil {
					return err
				}
			}
			return nil
		})))
		s.start(t.Context(), rec)
		time.Sleep(2*time.Minute + 30*time.Second)
		synctest.Wait()

		first, second := epoch.Add(time.Minute).Unix(), epoch.Add(2*time.Minute).Unix()
		assert.Equal(t, []string{
			fmt.Sprintf("cron:greet:%d:0", first), "custom", fmt.Sprintf("cron:greet:%d:1", first),
			fmt.Sprintf("cron:greet:%d:0", second), "custom", fmt.Sprintf("cron:greet:%d:1", second),
		}, rec.keys())

		// A failing send fails the job, which is logged.
		rec.mu.Lock()
		rec.err = errors.New("outbox full")
		rec.mu.Unlock()
		time.Sleep(time.Minute)
		require.NoError(t, s.stop(t.Context()))
		failed := logs.find(slog.LevelError, "cron job failed")
		require.Len(t, failed, 1)
		assert.EqualError(t, failed[0].attrs["error"].(error), `bot: job "greet": outbox full`)
	})
}

func TestScheduler_replicasFireOnce(t *testing.T) {
	tests := []struct {
		name string
		spec string
		run  time.Duration
		want int
	}{
		{"every", "@every 1m", 5*time.Minute + 30*time.Second, 5},
		{"spec_with_seconds", "*/10 * * * * *", 65 * time.Second, 6},
		{"five_fields", "*/2 * * * *", 9 * time.Minute, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				store := NewMemoryStore()
				var (
					mu    sync.Mutex
					fires = map[int64]int{} // fire time → runs
				)
				job := JobFunc(func(context.Context, Sender) error {
					mu.Lock()
					fires[time.Now().Unix()]++
					mu.Unlock()
					return nil
				})
				replicas := make([]*scheduler, 3)
				for i := range replicas {
					replicas[i], _ = newTestScheduler(time.UTC, store, 0)
					require.NoError(t, replicas[i].add("report", tt.spec, job))
				}
				// Replicas start at different times, yet agree on fire times.
				for _, r := range replicas {
					r.start(t.Context(), &cronRecorder{})
					time.Sleep(3 * time.Second)
				}
				time.Sleep(tt.run - 3*time.Second*time.Duration(len(replicas)))
				var total int64
				for _, r := range replicas {
					require.NoError(t, r.stop(t.Context()))
					total += r.runs.Load()
				}

				mu.Lock()
				defer mu.Unlock()
				assert.Len(t, fires, tt.want)
				for at, n := range fires {
					assert.Equal(t, 1, n, "fire at %v ran on %d replicas", time.Unix(at, 0).UTC(), n)
				}
				assert.Equal(t, int64(tt.want), total)
			})
		})
	}
}

// cronFailStore is a Store whose SetIfAbsent fails.
type cronFailStore struct{ *MemoryStore }

func (cronFailStore) SetIfAbsent(context.Context, string, []byte, time.Duration) (bool, error) {
	return false, errors.New("store down")
}

func TestScheduler_claimFailureSkipsFire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, logs := newTestScheduler(time.UTC, cronFailStore{NewMemoryStore()}, 0)
		var calls atomic.Int32
		require.NoError(t, s.add("job", "@every 1m", JobFunc(func(context.Context, Sender) error {
			calls.Add(1)
			return nil
		})))
		s.start(t.Context(), &cronRecorder{})
		time.Sleep(90 * time.Second)
		require.NoError(t, s.stop(t.Context()))
		assert.Zero(t, calls.Load())
		skipped := logs.find(slog.LevelError, "cron fire skipped: claim failed")
		require.Len(t, skipped, 1)
		assert.Equal(t, "job", skipped[0].attrs["job"])
		assert.EqualError(t, skipped[0].attrs["error"].(error), "store down")
	})
}

func TestScheduler_badSpecs(t *testing.T) {
	tests := []struct {
		name    string
		spec    string
		wantErr string // "" for a spec that must be accepted
	}{
		{"five_fields", "*/5 * * * *", ""},
		{"six_fields_with_seconds", "*/10 * * * * *", ""},
		{"every", "@every 1h", ""},
		{"every_whole_seconds", "@every 1m30s", ""},
		{"daily", "@daily", ""},
		{"names", "0 9 * * MON-FRI", ""},
		{"leap_day", "0 0 29 2 *", ""},
		{"CRON_TZ", "CRON_TZ=Europe/Zagreb 0 9 * * 1-5", ""},
		{"TZ_with_descriptor", "TZ=UTC @every 90s", ""},

		{"should_fail_empty", "", "empty spec string"},
		{"should_fail_three_fields", "* * *", "expected 5 to 6 fields, found 3"},
		{"should_fail_seven_fields", "* * * * * * *", "expected 5 to 6 fields, found 7"},
		{"should_fail_minute_61", "61 * * * *", "end of range (61) above maximum (59): 61"},
		{"should_fail_hour_24", "0 24 * * *", "above maximum (23)"},
		{"should_fail_month_13", "0 0 1 13 *", "above maximum (12)"},
		{"should_fail_zero_step", "*/0 * * * *", "step of range should be a positive number"},
		{"should_fail_word", "soon * * * *", "failed to parse int from soon"},
		{"should_fail_unknown_zone", "CRON_TZ=Nowhere/Land * * * * *", "provided bad location Nowhere/Land"},
		{"should_fail_unknown_TZ", "TZ=Bad/Zone 0 9 * * *", "provided bad location Bad/Zone"},
		{"should_fail_CRON_TZ_alone", "CRON_TZ=", "a time zone must be followed by a schedule"},
		{"should_fail_TZ_alone", "TZ=", "a time zone must be followed by a schedule"},
		{"should_fail_zone_without_schedule", "CRON_TZ=UTC", "a time zone must be followed by a schedule"},
		{"should_fail_zone_and_blanks", "CRON_TZ=UTC   ", "a time zone must be followed by a schedule"},
		{"should_fail_empty_zone", "CRON_TZ= * * * * *", "empty time zone"},
		{"should_fail_every_negative", "@every -1s", "at least 1s"},
		{"should_fail_every_zero", "@every 0s", "at least 1s"},
		{"should_fail_every_subsecond", "@every 500ms", "at least 1s"},
		{"should_fail_every_fraction", "@every 1500ms", "whole number of seconds"},
		{"should_fail_every_garbage", "@every soon", "failed to parse duration"},
		{"should_fail_every_nothing", "@every", "unrecognized descriptor"},
		{"should_fail_unknown_descriptor", "@fortnightly", "unrecognized descriptor: @fortnightly"},
		{"should_fail_never_fires", "0 0 30 2 *", "the schedule never fires"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newTestScheduler(time.UTC, nil, 0)
			var err error
			require.NotPanics(t, func() { err = s.add("report", tt.spec, JobFunc(cronNoop)) })
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), `bot: schedule "report": bad spec `), "error %q", err)
			assert.ErrorContains(t, err, tt.wantErr)
			assert.Empty(t, s.entries(), "a rejected job must not be registered")
		})
	}
}

func TestScheduler_misuse(t *testing.T) {
	started := func() *scheduler {
		s, _ := newTestScheduler(time.UTC, nil, 0)
		s.start(context.Background(), &cronRecorder{}) // no jobs: no goroutine
		return s
	}
	tests := []struct {
		name      string
		fn        func()
		wantPanic string
	}{
		{"should_panic_empty_name", func() {
			s, _ := newTestScheduler(nil, nil, 0)
			_ = s.add("", "@daily", JobFunc(cronNoop))
		}, "bot: Schedule with an empty job name"},
		{"should_panic_nil_job", func() {
			s, _ := newTestScheduler(nil, nil, 0)
			_ = s.add("x", "@daily", nil)
		}, `bot: Schedule "x" with a nil job`},
		{"should_panic_nil_JobFunc", func() {
			s, _ := newTestScheduler(nil, nil, 0)
			_ = s.add("x", "@daily", JobFunc(nil))
		}, `bot: Schedule "x" with a nil JobFunc`},
		{"should_panic_duplicate_name", func() {
			s, _ := newTestScheduler(nil, nil, 0)
			_ = s.add("x", "@daily", JobFunc(cronNoop))
			_ = s.add("x", "@hourly", JobFunc(cronNoop))
		}, `bot: Schedule: duplicate job name "x"`},
		{"should_panic_add_after_stop", func() {
			s := started()
			_ = s.stop(context.Background())
			_ = s.add("late", "@daily", JobFunc(cronNoop))
		}, `bot: Schedule "late" after the Bot stopped`},
		{"should_panic_start_twice", func() {
			started().start(context.Background(), &cronRecorder{})
		}, "bot: scheduler started twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.PanicsWithValue(t, tt.wantPanic, tt.fn)
		})
	}
}

func TestScheduler_entries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := newTestScheduler(time.UTC, nil, 0)
		require.NoError(t, s.add("tick", "@every 1m", JobFunc(cronNoop)))
		require.NoError(t, s.add("standup", "CRON_TZ=Europe/Zagreb 0 9 * * 1-5", JobFunc(cronNoop)))
		got := s.entries()
		require.Len(t, got, 2)
		assert.Equal(t, "tick", got[0].Name)
		assert.Equal(t, "@every 1m", got[0].Spec)
		assert.Equal(t, "2000-01-01T00:01:00Z", got[0].Next.Format(time.RFC3339))
		assert.Equal(t, "standup", got[1].Name)
		assert.Equal(t, "2000-01-03T08:00:00Z", got[1].Next.UTC().Format(time.RFC3339))
	})
}

func TestFireTime(t *testing.T) {
	base := time.Date(2024, 3, 4, 10, 0, 0, 0, time.UTC) // a Monday
	tests := []struct {
		name string
		spec string
		now  time.Time
		want time.Time
	}{
		{"on_time", "0 10 * * *", base, base},
		{"late_by_300ms", "0 10 * * *", base.Add(300 * time.Millisecond), base},
		{"late_by_20s", "0 10 * * *", base.Add(20 * time.Second), base},
		{"every_second_late_by_half", "* * * * * *", base.Add(1500 * time.Millisecond), base.Add(time.Second)},
		{"every_aligned", "@every 15m", base.Add(2 * time.Millisecond), base},
		{"every_late", "@every 15m", base.Add(40 * time.Second), base},
		{"too_late_falls_back_to_now", "0 10 * * *", base.Add(2*time.Minute + 500*time.Millisecond), base.Add(2 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sched, err := parseSchedule(tt.spec)
			require.NoError(t, err)
			assert.Equal(t, tt.want, fireTime(sched, tt.now))
		})
	}
}

func TestEverySchedule(t *testing.T) {
	e := everySchedule{d: 15 * time.Minute}
	zagreb, err := time.LoadLocation("Europe/Zagreb")
	require.NoError(t, err)
	at := time.Date(2024, 3, 4, 10, 7, 12, 5, time.UTC)
	assert.Equal(t, time.Date(2024, 3, 4, 10, 15, 0, 0, time.UTC), e.Next(at))
	assert.Equal(t, time.Date(2024, 3, 4, 10, 30, 0, 0, time.UTC), e.Next(time.Date(2024, 3, 4, 10, 15, 0, 0, time.UTC)), "strictly after")
	next := e.Next(at.In(zagreb))
	assert.Equal(t, zagreb, next.Location(), "keeps the location")
	assert.True(t, next.Equal(time.Date(2024, 3, 4, 10, 15, 0, 0, time.UTC)))
}

func TestCronLogger(t *testing.T) {
	h := newCronLog()
	l := cronLogger{l: slog.New(h)}
	l.Info("wake", "now", time.Unix(0, 0))
	l.Error(errors.New("bad"), "oops", "entry", 1)
	assert.Len(t, h.find(slog.LevelDebug, "cron: wake"), 1)
	errs := h.find(slog.LevelError, "cron: oops")
	require.Len(t, errs, 1)
	assert.EqualError(t, errs[0].attrs["error"].(error), "bad")
	assert.Equal(t, int64(1), errs[0].attrs["entry"])
}

// Jobs can be added to and removed from a running scheduler.
func TestScheduler_addRemoveWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := newTestScheduler(time.UTC, nil, 0)
		rec := &cronRecorder{}
		s.start(t.Context(), rec) // no jobs yet: no cron running
		var fires atomic.Int64
		require.NoError(t, s.add("late", "@every 1m", JobFunc(func(context.Context, Sender) error {
			fires.Add(1)
			return nil
		})))
		time.Sleep(3*time.Minute + time.Second)
		synctest.Wait()
		assert.Equal(t, int64(3), fires.Load(), "a job added while running fires")
		assert.True(t, s.remove("late"))
		assert.False(t, s.remove("late"), "removed once")
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		assert.Equal(t, int64(3), fires.Load(), "a removed job does not fire")
		require.NoError(t, s.add("late", "@every 1m", JobFunc(cronNoop)), "the name is free again")
		require.NoError(t, s.stop(t.Context()))
	})
}

package rulefile_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/rulefile"
)

// pingRules is a rules file that answers "ping" with answer.
func pingRules(answer string) string {
	return lines(
		"rules:",
		"  - name: ping",
		`    when: Text == "ping"`,
		"    actions:",
		"      - reply: "+answer,
	)
}

// brokenRules has an expression error on line 3, column 11.
const brokenRules = "rules:\n  - name: ping\n    when: Txt == \"ping\"\n    actions: [reply: broken]\n"

// writeFile replaces the file at path atomically, as editors do.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, []byte(content), 0o600))
	require.NoError(t, os.Rename(tmp, path))
}

// reloads records what the reload hook was told.
type reloads struct {
	mu   sync.Mutex
	ok   int
	errs []error
}

func (r *reloads) hook(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.ok++
	} else {
		r.errs = append(r.errs, err)
	}
}

func (r *reloads) counts() (ok, failed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ok, len(r.errs)
}

func (r *reloads) lastErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) == 0 {
		return nil
	}
	return r.errs[len(r.errs)-1]
}

// watchHarness runs a Bot with an Engine loaded from a file in a temporary
// directory, and the Engine's Watch.
type watchHarness struct {
	*harness
	path   string
	sighup chan os.Signal
	rl     *reloads
}

func newWatchHarness(t *testing.T, poll time.Duration) *watchHarness {
	t.Helper()
	w := &watchHarness{
		path:   filepath.Join(t.TempDir(), "rules.yaml"),
		sighup: make(chan os.Signal, 1),
		rl:     &reloads{},
	}
	writeFile(t, w.path, pingRules("v1"))
	set, err := rulefile.Load(w.path)
	require.NoError(t, err)
	h := &harness{sb: bottest.NewFakeAdapter("sendbee"), fd: bottest.NewFakeAdapter("flowdock")}
	h.b, err = bot.New(bot.WithAdapters(h.sb, h.fd), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	h.e = rulefile.NewEngine(set, rulefile.WithPollInterval(poll), rulefile.WithReloadHook(w.rl.hook))
	require.NoError(t, h.e.Install(h.b))
	w.harness = h
	bottest.Run(t, h.b)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.e.Watch(ctx, w.path, w.sighup) }()
	t.Cleanup(func() { // runs before the Bot's cleanup
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Error("Watch did not return within 5s of cancellation")
		}
	})
	return w
}

// ping says "ping" and returns the answer, the n-th message sent.
func (w *watchHarness) ping(t *testing.T, n int) string {
	t.Helper()
	w.say(t, "ping")
	return w.sb.WaitSent(t, n)[n-1].Text
}

func TestEngine_Watch_fileChanges(t *testing.T) {
	w := newWatchHarness(t, 5*time.Millisecond)
	assert.Equal(t, "v1", w.ping(t, 1))

	// A good edit is applied.
	writeFile(t, w.path, pingRules("v2"))
	require.Eventually(t, func() bool { ok, _ := w.rl.counts(); return ok == 1 }, 2*time.Second, 5*time.Millisecond)
	assert.Equal(t, "v2", w.ping(t, 2))

	// A broken edit is refused, says why, and the previous rules go on.
	writeFile(t, w.path, brokenRules)
	require.Eventually(t, func() bool { _, failed := w.rl.counts(); return failed == 1 }, 2*time.Second, 5*time.Millisecond)
	var le *rulefile.LoadError
	require.ErrorAs(t, w.rl.lastErr(), &le)
	assert.Equal(t, w.path+`:3:11: rule "ping": when: unknown name Txt (column 1 of the expression)`, le.Problems[0].String())
	assert.Equal(t, "v2", w.ping(t, 3))

	// The fix is applied; the broken content is not retried meanwhile.
	writeFile(t, w.path, pingRules("v3"))
	require.Eventually(t, func() bool { ok, _ := w.rl.counts(); return ok == 2 }, 2*time.Second, 5*time.Millisecond)
	assert.Equal(t, "v3", w.ping(t, 4))
	_, failed := w.rl.counts()
	assert.Equal(t, 1, failed)
}

func TestEngine_Watch_signal(t *testing.T) {
	w := newWatchHarness(t, 0) // no polling: only the signal reloads
	assert.Equal(t, "v1", w.ping(t, 1))

	// A signal always reloads, even an unchanged file. (Watch looks at the
	// file once when it starts, before it takes signals, so after this the
	// signal is the only way left to reload.)
	w.sighup <- syscall.SIGHUP
	require.Eventually(t, func() bool { ok, _ := w.rl.counts(); return ok == 1 }, 2*time.Second, 5*time.Millisecond)

	writeFile(t, w.path, pingRules("v2"))
	w.sighup <- syscall.SIGHUP
	require.Eventually(t, func() bool { ok, _ := w.rl.counts(); return ok == 2 }, 2*time.Second, 5*time.Millisecond)
	assert.Equal(t, "v2", w.ping(t, 2))

	writeFile(t, w.path, brokenRules)
	w.sighup <- syscall.SIGHUP
	require.Eventually(t, func() bool { _, failed := w.rl.counts(); return failed == 1 }, 2*time.Second, 5*time.Millisecond)
	assert.ErrorContains(t, w.rl.lastErr(), `rules.yaml:3:11: rule "ping": when: unknown name Txt`)
	assert.Equal(t, "v2", w.ping(t, 3))
}

func TestEngine_Watch_startsWithANewerFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rules.yaml")
	writeFile(t, path, pingRules("new"))
	old, err := rulefile.Parse(path, []byte(pingRules("old")))
	require.NoError(t, err)
	rl := &reloads{}
	e := rulefile.NewEngine(old, rulefile.WithPollInterval(time.Hour), rulefile.WithReloadHook(rl.hook),
		rulefile.WithLogger(slog.New(slog.DiscardHandler)))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.Watch(ctx, path, nil) }()
	require.Eventually(t, func() bool { ok, _ := rl.counts(); return ok == 1 }, 2*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)

	var rec bottest.Recorder
	require.NoError(t, e.HandleMessage(t.Context(), &rec, bottest.NewMessage("ping")))
	assert.Equal(t, []string{"new"}, rec.Texts())
}

func TestEngine_Swap(t *testing.T) {
	t.Parallel()
	b, err := bot.New(bot.WithAdapters(bottest.NewFakeAdapter("sendbee")), bot.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	v1, err := rulefile.Parse("rules.yaml", []byte(pingRules("v1")))
	require.NoError(t, err)
	e := rulefile.NewEngine(v1)
	require.NoError(t, e.Install(b))

	bad, err := rulefile.Parse("rules.yaml", []byte(lines(
		"rules:",
		"  - name: fwd",
		`    when: Text == "x"`,
		"    actions: [forward: {platform: flowdock, conversation: main, text: hi}]",
	)))
	require.NoError(t, err, "valid on its own")
	err = e.Swap(bad)
	assert.EqualError(t, err, `rulefile: rules.yaml:4:35: rule "fwd": action 1 (forward): platform: no adapter named "flowdock" on the Bot`)
	assert.Same(t, v1, e.Set(), "a refused set is not swapped in")

	v2, err := rulefile.Parse("rules.yaml", []byte(pingRules("v2")))
	require.NoError(t, err)
	require.NoError(t, e.Swap(v2))
	assert.Same(t, v2, e.Set())

	assert.Error(t, e.Reload(filepath.Join(t.TempDir(), "missing.yaml")))
	assert.Same(t, v2, e.Set())
	assert.ErrorContains(t, e.Watch(t.Context(), "", nil), "empty path")
}

// A reload replaces the schedules of a running Bot: changed actions and
// new schedules apply, removed ones stop.
func TestEngine_Swap_schedules(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sched := func(name, text string) string {
			return lines(
				"schedules:",
				"  - name: "+name,
				`    cron: "@every 1m"`,
				"    actions:",
				"      - send: {platform: fake, conversation: room, text: "+text+"}",
			)
		}
		first, err := rulefile.Parse("r.yaml", []byte(sched("report", "old")))
		require.NoError(t, err)
		fa := bottest.NewFakeAdapter("fake")
		b, err := bot.New(bot.WithAdapters(fa), bot.WithLogger(bottest.Logger(t)), bot.WithLocation(time.UTC))
		require.NoError(t, err)
		e := rulefile.NewEngine(first)
		require.NoError(t, e.Install(b))
		bottest.Run(t, b)

		texts := func() []string {
			var out []string
			for _, m := range fa.Sent() {
				out = append(out, m.Text)
			}
			return out
		}
		time.Sleep(time.Minute + time.Second)
		synctest.Wait()
		assert.Equal(t, []string{"old"}, texts())

		second, err := rulefile.Parse("r.yaml", []byte(sched("digest", "new")))
		require.NoError(t, err)
		require.NoError(t, e.Swap(second))
		assert.Equal(t, []string{"rulefile:digest"}, jobNames(b.Jobs()))
		time.Sleep(time.Minute)
		synctest.Wait()
		assert.Equal(t, []string{"old", "new"}, texts(), "the new schedule fires; the old one is gone")
	})
}

func jobNames(jobs []bot.ScheduledJob) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.Name)
	}
	return out
}

// A swap whose schedules cannot be installed (a job name the application
// took) changes nothing: the old flows and the old schedules stay.
func TestEngine_Swap_allOrNothing(t *testing.T) {
	sched := func(name, spec string) string {
		return lines(
			"schedules:",
			"  - name: "+name,
			`    cron: "`+spec+`"`,
			"    actions:",
			"      - send: {platform: sendbee, conversation: room, text: hi}",
		)
	}
	h := newHarness(t, leadFile+sched("report", "@every 1m"), rulefile.WithAction("crm", &calls{}))
	require.NoError(t, h.b.Schedule("rulefile:daily", "@daily", bot.JobFunc(func(context.Context, bot.Sender) error { return nil })))
	jobs := func() map[string]string {
		out := map[string]string{}
		for _, j := range h.b.Jobs() {
			out[j.Name] = j.Spec
		}
		return out
	}
	before := jobs()
	newFile := strings.Replace(leadFile, `ask: "Hi! What is your name?"`, `ask: "Name?"`, 1) +
		sched("report", "@every 2m") + strings.TrimPrefix(sched("daily", "@every 1h"), "schedules:\n")
	err := h.e.Swap(mustParse(t, newFile))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rulefile:daily")
	assert.Equal(t, before, jobs(), "the schedules were changed")
	bottest.Run(t, h.b)
	h.step(t, "demo", "Hi! What is your name?")
}

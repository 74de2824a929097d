package rulefile

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
)

// An Engine runs a rules file on a Bot: it is one bot.Handler, registered
// once, that routes each message through the rules of its current [Set].
// The current Set can be replaced at any time — by [Engine.Swap],
// [Engine.Reload] or [Engine.Watch] — atomically: a message is routed
// entirely by the old Set or entirely by the new one.
//
// HandleMessage, Swap, Reload, Set and Routes are safe for concurrent use.
// Install must be called once, before the Bot runs, before Watch and
// before the Engine handles messages. Options are applied by NewEngine.
type Engine struct {
	cur atomic.Pointer[Set]

	bot       *bot.Bot // set by Install; nil when used as a plain Handler
	store     bot.Store
	storeSet  bool
	logger    *slog.Logger
	varsTTL   time.Duration
	poll      time.Duration
	onReload  func(err error)
	installed []*schedule // the schedules registered on the Bot

	flows       *flow.Engine           // nil: no flows
	actions     map[string]flow.Action // by the name files call them
	defined     []string               // the flows of the current Set defined on flows
	definedDefs []flow.Flow            // and their definitions, to restore them

	teams sync.Map // the IDs of the teams' conversations, by platform "\x00" name

	reloadMu sync.Mutex // serializes reloads
}

// Interface guard.
var _ bot.Handler = (*Engine)(nil)

// An Option configures an Engine.
type Option func(*Engine)

// WithLogger sets the logger for reloads and rule errors. Default: the
// Bot's logger once installed, else slog.Default().
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.logger = l } }

// WithStore sets where conversation variables are kept. Default: the Bot's
// Store once installed, else a new bot.MemoryStore.
func WithStore(s bot.Store) Option {
	return func(e *Engine) { e.store, e.storeSet = s, s != nil }
}

// WithVarsTTL sets how long a conversation's variables live after they
// were last set or cleared. Default 30 days; 0 or less means forever.
func WithVarsTTL(d time.Duration) Option { return func(e *Engine) { e.varsTTL = max(d, 0) } }

// WithPollInterval sets how often [Engine.Watch] looks at the file.
// Default one second; 0 or less turns polling off, so that only the reload
// channel reloads.
func WithPollInterval(d time.Duration) Option { return func(e *Engine) { e.poll = max(d, 0) } }

// WithReloadHook sets a function called after every reload attempt by
// [Engine.Watch], with nil or the reason the reload was refused (usually a
// *LoadError). It is called from Watch's goroutine and must not block for
// long.
func WithReloadHook(f func(err error)) Option { return func(e *Engine) { e.onReload = f } }

// NewEngine returns an Engine running set; a nil set is an empty one, to
// be replaced by a reload.
func NewEngine(set *Set, opts ...Option) *Engine {
	e := &Engine{varsTTL: 30 * 24 * time.Hour, poll: time.Second}
	for _, o := range opts {
		o(e)
	}
	if e.store == nil {
		e.store = bot.NewMemoryStore()
	}
	if set == nil {
		set = emptySet()
	}
	e.setCurrent(set)
	return e
}

func (e *Engine) log() *slog.Logger {
	if e.logger != nil {
		return e.logger
	}
	return slog.Default()
}

func (e *Engine) setCurrent(s *Set) {
	for _, rt := range s.routers() {
		rt.SetLogger(e.logger)
	}
	e.cur.Store(s)
}

// Install registers the Engine on b: one route with the catch-all rule
// bot.Always(), marked bot.Observer so that observer rules run in
// human-owned conversations, with opts added (such as bot.Priority to
// place it among the application's routes); a second route, bot.Always()
// with the lowest priority (math.MinInt) and the middleware among opts,
// for the file's fallback ([Engine.Fallback]), so that the fallback
// answers only what every other route of b declined, before b's NotFound
// handler; a third route for the rules marked global, tried only while
// the current Set has some, with priority flow.GlobalPriority, the
// flow engine's Global option when there is a flow engine (so that a
// global rule answers before a waiting flow, which then asks its question
// again or is cancelled, as the flow's interrupt says) and the
// middleware among opts; and one job per schedule of the current Set,
// named "rulefile:<schedule name>". The Engine then uses
// b for tags, handoffs and resumes, b's Store for variables and b's logger,
// unless options said otherwise.
//
// When the file has flows, or a flow engine was given with [WithFlows],
// Install also registers the actions given with [WithAction] on the flow
// engine and defines the file's flows there; when none was given it makes
// one for b and installs it (see "Flows" in the package documentation).
//
// Install checks everything before it registers anything: platforms named
// by forward and send actions must be adapters of b, cron specs must parse,
// job names must be free and the actions the flows call must have been
// given; otherwise it returns a *LoadError and b is unchanged. Like bot.Bot.Handle, it panics once b is running, and must be
// called once.
//
// A reload replaces the schedules too: when the new file's schedules
// differ, the old jobs are removed from the Bot and the new ones added,
// each starting with its next fire time.
func (e *Engine) Install(b *bot.Bot, opts ...bot.RouteOption) error {
	if b == nil {
		panic("rulefile: Install on a nil Bot")
	}
	if e.bot != nil {
		panic("rulefile: Engine installed twice")
	}
	s := e.cur.Load()
	probs := s.check(b)
	probs = append(probs, e.checkSchedules(b, s)...)
	probs = append(probs, e.checkFlows(s, true)...)
	if len(probs) > 0 {
		return &LoadError{Problems: probs}
	}

	e.bot = b
	if err := e.setupFlows(b, s); err != nil {
		e.bot = nil
		return err
	}
	if !e.storeSet {
		e.store = b.Store()
	}
	if e.logger == nil {
		e.logger = b.Logger().With("handler", "rulefile")
		for _, rt := range s.routers() {
			rt.SetLogger(e.logger)
		}
	}
	for _, sc := range s.schedules {
		if err := b.Schedule(jobName(sc), sc.spec, e.job(s, sc)); err != nil {
			// Checked above with the same parser; this does not happen.
			return fmt.Errorf("rulefile: %w", err)
		}
	}
	e.installed = s.schedules
	e.warnTeams(s)
	b.Handle(bot.Always(), e, append([]bot.RouteOption{bot.Observer(), bot.RouteName("rules file")}, opts...)...)
	// The fallback comes after every other route of the Bot, whatever
	// their priority, and keeps only the middleware of opts.
	fb := []bot.RouteOption{bot.Priority(math.MinInt), bot.RouteName("rules file: fallback")}
	for _, o := range opts {
		if mw, ok := o.(bot.Middleware); ok {
			fb = append(fb, mw)
		}
	}
	b.Handle(bot.Always(), e.Fallback(), fb...)
	// The global rules come before the flows, whatever the file: their
	// route has the flow engine's Global option when there are flows, the
	// same priority otherwise. It is tried only while the current Set has
	// global rules, since Global reads the conversation's flow first.
	gl := []bot.RouteOption{bot.Observer()}
	if e.flows != nil {
		gl = append(gl, e.flows.Global())
	} else {
		gl = append(gl, bot.Priority(flow.GlobalPriority))
	}
	gl = append(gl, fb[2:]...)
	gl = append(gl, bot.RouteName("rules file: global rules"))
	b.Handle(bot.RuleFunc(e.hasGlobal), bot.HandlerFunc(e.handleGlobal), gl...)
	return nil
}

// hasGlobal matches every message while the current Set has global rules.
func (e *Engine) hasGlobal(context.Context, *bot.Message) (bool, error) {
	return e.cur.Load().global != nil, nil
}

// handleGlobal routes m through the current Set's global rules, as
// HandleMessage does through the others.
func (e *Engine) handleGlobal(ctx context.Context, w bot.Sender, m *bot.Message) error {
	s := e.cur.Load()
	if s.global == nil {
		return bot.ErrContinue
	}
	return e.route(ctx, s, s.global, w, m)
}

// Install runs s on b with a new Engine; see [Engine.Install]. Use an
// Engine directly to reload the rules while the Bot runs.
func (s *Set) Install(b *bot.Bot, opts ...bot.RouteOption) error {
	return NewEngine(s).Install(b, opts...)
}

func jobName(sc *schedule) string { return "rulefile:" + sc.name }

// Set returns the current Set.
func (e *Engine) Set() *Set { return e.cur.Load() }

// Routes describes the current Set's rules; see [Set.Routes]. An Engine is
// thus a help.RouteLister.
func (e *Engine) Routes() []bot.RouteInfo { return e.cur.Load().Routes() }

// checkSchedules returns the problems of installing the schedules of s on
// b in place of the Engine's: bad specs, and job names b has for other
// jobs.
func (e *Engine) checkSchedules(b *bot.Bot, s *Set) []Problem {
	var probs []Problem
	ours := map[string]bool{}
	for _, sc := range e.installed {
		ours[jobName(sc)] = true
	}
	jobs := map[string]bool{}
	for _, j := range b.Jobs() {
		jobs[j.Name] = !ours[j.Name]
	}
	for _, sc := range s.schedules {
		if err := checkCron(sc.spec); err != nil {
			probs = append(probs, Problem{File: s.file, Line: sc.line, Msg: fmt.Sprintf("schedule %q: bad spec %q: %v", sc.name, sc.spec, err), Err: err})
		}
		if jobs[jobName(sc)] {
			probs = append(probs, Problem{File: s.file, Line: sc.line, Msg: fmt.Sprintf("schedule %q: the Bot already has a job named %q", sc.name, jobName(sc))})
		}
	}
	return probs
}

// Swap makes s the current Set. Messages being routed finish with the old
// one. When the Engine is installed on a Bot, s is checked against it first
// (see [Engine.Install]) and a *LoadError is returned instead of swapping;
// its flows and schedules replace the installed ones, all or none: on any
// error the current Set, its flows and its schedules stay. Swaps and
// reloads are serialized. Swap panics if s is nil.
func (e *Engine) Swap(s *Set) error {
	if s == nil {
		panic("rulefile: Swap with a nil Set")
	}
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	return e.swap(s)
}

// swap is Swap; the caller holds reloadMu. Everything is checked before
// anything changes, and what changes is undone if a later part fails.
func (e *Engine) swap(s *Set) error {
	if e.bot != nil {
		probs := append(s.check(e.bot), e.checkFlows(s, false)...)
		probs = append(probs, e.checkSchedules(e.bot, s)...)
		if len(probs) > 0 {
			return &LoadError{Problems: probs}
		}
		oldNames, oldDefs := e.defined, e.definedDefs
		if e.flows != nil {
			if err := e.defineFlows(s); err != nil {
				return err // Replace changed nothing
			}
		}
		if !sameSchedules(e.installed, s.schedules) {
			if err := e.swapSchedules(s); err != nil {
				if e.flows != nil {
					if rerr := e.flows.Replace(e.defined, oldDefs); rerr != nil {
						err = errors.Join(err, fmt.Errorf("rulefile: restore the flows: %w", rerr))
					} else {
						e.defined, e.definedDefs = oldNames, oldDefs
					}
				}
				return err
			}
		}
	}
	e.setCurrent(s)
	e.warnTeams(s)
	if e.bot != nil && e.flows != nil {
		e.pruneFlows(context.Background())
	}
	return nil
}

// swapSchedules replaces the installed schedules with those of s on the
// Bot, which may be running: all or none. The specs and names were
// checked; what can still fail is a Bot that has stopped.
func (e *Engine) swapSchedules(s *Set) error {
	if err := e.schedule(e.installed, s); err != nil {
		// Put the old ones back, as far as the Bot lets.
		_ = e.schedule(s.schedules, e.cur.Load())
		return err
	}
	e.installed = s.schedules
	e.log().Info("rulefile: schedules replaced", slog.String("file", s.file), slog.Int("schedules", len(s.schedules)))
	return nil
}

// schedule removes the jobs of old from the Bot and adds those of s.
func (e *Engine) schedule(old []*schedule, s *Set) (err error) {
	defer func() {
		if p := recover(); p != nil { // the Bot has stopped, or a name is taken
			err = fmt.Errorf("rulefile: swap schedules: %v", p)
		}
	}()
	for _, sc := range old {
		e.bot.Unschedule(jobName(sc))
	}
	for _, sc := range s.schedules {
		if err := e.bot.Schedule(jobName(sc), sc.spec, e.job(s, sc)); err != nil {
			return fmt.Errorf("rulefile: %w", err)
		}
	}
	return nil
}

// sameSchedules reports whether two lists of schedules are the same.
func sameSchedules(a, b []*schedule) bool {
	return slices.EqualFunc(a, b, func(x, y *schedule) bool {
		return x.name == y.name && x.spec == y.spec && slices.EqualFunc(x.actions, y.actions, func(p, q *sendAction) bool {
			return p.platform == q.platform && p.conversation == q.conversation && p.text.src == q.text.src
		})
	})
}

// Reload loads the file at path and swaps it in (see [Load] and
// [Engine.Swap]). On any error the current Set stays.
func (e *Engine) Reload(path string) error {
	_, err := e.reload(path, nil)
	return err
}

// reload loads path (or parses data, when given) and swaps it in. It
// returns the hash of what it read.
func (e *Engine) reload(path string, data []byte) ([sha256.Size]byte, error) {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	if data == nil {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return [sha256.Size]byte{}, fmt.Errorf("rulefile: %w", err)
		}
	}
	s, err := Parse(path, data)
	if err != nil {
		return sha256.Sum256(data), err
	}
	return s.hash, e.swap(s)
}

// HandleMessage routes m through the current Set's rules, in priority then
// file order. If no rule handled m (none matched, or every matching rule
// ended with continue) it returns bot.ErrContinue, so that a Router goes
// on to its next route; otherwise it returns the result of the rule that
// stopped routing: nil, or the error of its failing action. A condition
// that went over its limits (an error wrapping bot.ErrExprLimit) counts as
// not matching, and fails the message: its error is returned, joined with
// the result of the rule that handled m, if any.
//
// Once the Engine is installed, the global rules are not among them: a
// route of their own, tried before the flows, runs them (see
// [Engine.Install]). An Engine used as a plain Handler tries them first.
func (e *Engine) HandleMessage(ctx context.Context, w bot.Sender, m *bot.Message) error {
	s := e.cur.Load()
	if e.bot == nil && s.global != nil {
		if err := e.route(ctx, s, s.global, w, m); !errors.Is(err, bot.ErrContinue) {
			return err
		}
	}
	return e.route(ctx, s, s.router, w, m)
}

// route routes m through rt, one of the routers of s.
func (e *Engine) route(ctx context.Context, s *Set, rt *bot.Router, w bot.Sender, m *bot.Message) error {
	d := &dispatch{Context: ctx, eng: e, set: s}
	if err := rt.HandleMessage(d, w, m); err != nil {
		return err
	}
	if !d.handled {
		return bot.ErrContinue
	}
	return nil
}

// dispatch is the context of one message routed by an Engine: ctx plus the
// Engine and the Set, which the rules' handlers find with dispatchKey, and
// whether a rule handled the message. One allocation per message.
type dispatch struct {
	context.Context
	eng     *Engine
	set     *Set
	handled bool
	dry     bool // run no action (the warm-up of a new Set's router)

	// what the conditions read of the conversation, once (see scope.go)
	varsCache map[string]string
	flowCache *flow.State
	varsRead  bool
	flowRead  bool
}

type dispatchKey struct{}

func (d *dispatch) Value(key any) any {
	if key == (dispatchKey{}) {
		return d
	}
	if key == (scopeKey{}) {
		return scope(d)
	}
	return d.Context.Value(key)
}

// varsKey is the Store key of a conversation's variables.
func varsKey(platform, conversation string) string {
	return "rulefile:vars:" + platform + ":" + conversation
}

// readVars returns the variables set for a conversation (not the defaults).
func (e *Engine) readVars(ctx context.Context, platform, conversation string) (map[string]string, error) {
	raw, err := e.store.Get(ctx, varsKey(platform, conversation))
	if errors.Is(err, bot.ErrNotFound) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read variables: %w", err)
	}
	vars := map[string]string{}
	if err := json.Unmarshal(raw, &vars); err != nil {
		return nil, fmt.Errorf("read variables: %w", err)
	}
	return vars, nil
}

// writeVars stores a conversation's variables; none deletes the entry.
func (e *Engine) writeVars(ctx context.Context, platform, conversation string, vars map[string]string) error {
	key := varsKey(platform, conversation)
	if len(vars) == 0 {
		if err := e.store.Delete(ctx, key); err != nil {
			return fmt.Errorf("write variables: %w", err)
		}
		return nil
	}
	raw, err := json.Marshal(vars)
	if err != nil {
		return fmt.Errorf("write variables: %w", err)
	}
	if err := e.store.Set(ctx, key, raw, e.varsTTL); err != nil {
		return fmt.Errorf("write variables: %w", err)
	}
	return nil
}

// job returns the bot.Job of schedule sc of s: its send actions in order.
func (e *Engine) job(s *Set, sc *schedule) bot.Job {
	return bot.JobFunc(func(ctx context.Context, w bot.Sender) error {
		now := time.Now().In(e.bot.Location())
		for i, a := range sc.actions {
			own, err := e.readVars(ctx, a.platform, a.conversation)
			if err != nil {
				return fmt.Errorf("rulefile: schedule %q: action %d (send): %w", sc.name, i+1, err)
			}
			vars := maps.Clone(s.vars)
			maps.Copy(vars, own)
			text, err := a.text.exec(&scheduleData{Vars: vars, Now: now, Schedule: sc.name})
			if err == nil {
				err = w.Send(ctx, &bot.Message{Platform: a.platform, Conversation: a.conversation, Text: text})
			}
			if err != nil {
				return fmt.Errorf("rulefile: schedule %q: action %d (send): %w", sc.name, i+1, err)
			}
		}
		return nil
	})
}

// Watch reloads the rules from path whenever the file changes and whenever
// a value arrives on reload (wire it to SIGHUP with signal.Notify; nil
// means no signal), until ctx is done; then it returns nil. It returns an
// error at once only if path is empty.
//
// Watch polls the file's modification time and size at the poll interval
// (see [WithPollInterval]) and compares the SHA-256 of its content with
// that of the last version loaded, so that a rewrite with the same content
// does nothing and an edit within the file system's timestamp granularity
// is still seen. If the file already differs from the current Set when
// Watch starts, it reloads at once. A reload on a signal always happens.
//
// A broken edit is refused: the current Set keeps running, the reason
// (usually a *LoadError) is logged at Error level and passed to the reload
// hook ([WithReloadHook]), and the same content is not tried again until
// the file changes. A successful reload is logged at Info level and
// reported to the hook with nil.
//
// Run Watch in its own goroutine, which ends when ctx is done; it may run
// at most once at a time per Engine.
func (e *Engine) Watch(ctx context.Context, path string, reload <-chan os.Signal) error {
	if path == "" {
		return errors.New("rulefile: watch: empty path")
	}
	var tick <-chan time.Time
	if e.poll > 0 {
		t := time.NewTicker(e.poll)
		defer t.Stop()
		tick = t.C
	}
	w := &watcher{e: e, path: path, hash: e.cur.Load().hash}
	w.poll(ctx, true)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
			w.poll(ctx, false)
		case _, ok := <-reload:
			if !ok {
				reload = nil
				continue
			}
			w.apply(ctx, nil)
		}
	}
}

// A watcher remembers what Watch last saw of the file.
type watcher struct {
	e       *Engine
	path    string
	modTime time.Time
	size    int64
	hash    [sha256.Size]byte // of the content last loaded or refused
	statErr bool              // the last stat failed (logged once)
}

// poll reloads when the file changed. It reads the file when its time or
// size changed, and also while its modification time is recent, since a
// quick second write may keep the same time on a coarse file system.
func (w *watcher) poll(ctx context.Context, first bool) {
	fi, err := os.Stat(w.path)
	if err != nil {
		if !w.statErr {
			w.statErr = true
			w.e.report(ctx, fmt.Errorf("rulefile: watch: %w", err))
		}
		return
	}
	w.statErr = false
	recent := time.Since(fi.ModTime()) < 2*time.Second
	if !first && !recent && fi.ModTime().Equal(w.modTime) && fi.Size() == w.size {
		return
	}
	w.modTime, w.size = fi.ModTime(), fi.Size()
	data, err := os.ReadFile(w.path)
	if err != nil {
		w.e.report(ctx, fmt.Errorf("rulefile: watch: %w", err))
		return
	}
	if sha256.Sum256(data) == w.hash {
		return
	}
	w.apply(ctx, data)
}

// apply reloads (from data when given) and reports the outcome.
func (w *watcher) apply(ctx context.Context, data []byte) {
	h, err := w.e.reload(w.path, data)
	if h != ([sha256.Size]byte{}) {
		w.hash = h
	}
	if err != nil {
		w.e.report(ctx, err)
		return
	}
	s := w.e.cur.Load()
	w.e.log().LogAttrs(ctx, slog.LevelInfo, "rulefile: rules reloaded", slog.String("file", w.path),
		slog.Int("rules", len(s.rules)), slog.Int("schedules", len(s.schedules)))
	if w.e.onReload != nil {
		w.e.onReload(nil)
	}
}

// report logs a refused reload once and passes it to the hook.
func (e *Engine) report(ctx context.Context, err error) {
	e.log().LogAttrs(ctx, slog.LevelError, "rulefile: reload refused; the previous rules stay in force", slog.Any("error", err))
	if e.onReload != nil {
		e.onReload(err)
	}
}

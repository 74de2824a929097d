package flow

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleybot/parley/bot"
)

// Priority is the priority of the engine's route (see [Engine.Install]):
// above the routes of default priority, so that a waiting flow gets its
// answer first, and below the routes [Engine.Global] marks.
const Priority = 1000

// GlobalPriority is the priority [Engine.Global] gives a route.
const GlobalPriority = 2000

// TimerKind is the Kind of the events the engine publishes into its Bot
// when a step's reminder or timeout is due. Their IDs are
// "flow-timer:<run>:<advance>:<remind|timeout>", followed by
// ":<attempt>" from a timer's second attempt on.
const TimerKind bot.Kind = "flow.timer"

// DefaultTTL is how long a flow's state is kept without an advance when
// the Flow sets no TTL.
const DefaultTTL = 7 * 24 * time.Hour

// Errors callers branch on.
var (
	// ErrNoFlow: the conversation has no active flow.
	ErrNoFlow = errors.New("flow: no flow in the conversation")
	// ErrUnknownFlow: no flow of that name was defined.
	ErrUnknownFlow = errors.New("flow: unknown flow")
	// ErrTooLarge: an advance would store a state larger than MaxStateSize.
	ErrTooLarge = errors.New("flow: state too large")
)

// maxActionTries is how many times a failing action call is tried (once
// per event that reaches the flow) before the flow moves on without it.
const maxActionTries = 3

// An Engine runs flows for one Bot. Create it with New, register actions,
// define flows, call Install, then run the Bot.
//
// Its state lives in the Store (the Bot's, unless WithStore says
// otherwise); several Engines on several Bots sharing one RevisionStore
// (such as storage/jetstream's) share the flows safely: see the package
// documentation. All methods are safe for concurrent use.
type Engine struct {
	b       *bot.Bot
	store   bot.Store
	states  *states
	index   *index
	sweeper sweeper
	now     func() time.Time
	every   time.Duration
	logger  *slog.Logger

	mu      sync.RWMutex
	flows   map[string]*compiled
	actions map[string]Action

	installed atomic.Bool
}

// An Option configures an Engine.
type Option func(*Engine)

// WithClock sets the clock of the engine's timers (reminders, timeouts,
// State.Asked and Started). Default time.Now.
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// WithSweepInterval sets how often the engine looks for due timers while
// the Bot runs. Default 1s: timers fire within about that of their time.
func WithSweepInterval(d time.Duration) Option {
	return func(e *Engine) {
		if d > 0 {
			e.every = d
		}
	}
}

// WithStore sets the Store of the flows' state. Default: the Bot's.
func WithStore(s bot.Store) Option { return func(e *Engine) { e.store = s } }

// New returns an Engine for b.
func New(b *bot.Bot, opts ...Option) *Engine {
	if b == nil {
		panic("flow: New with a nil Bot")
	}
	e := &Engine{b: b, now: time.Now, every: time.Second, logger: b.Logger().With("component", "flow"),
		flows: map[string]*compiled{}, actions: map[string]Action{}}
	for _, o := range opts {
		o(e)
	}
	if e.store == nil {
		e.store = b.Store()
	}
	e.states = newStates(e.store)
	e.index = &index{st: e.store, rs: e.states.rs, now: e.now}
	e.states.index = e.index
	return e
}

// RegisterAction registers a named action for flows' Calls. Register
// actions before defining the flows that call them: Define refuses a call
// of an action it does not know. It returns an error if name is empty or
// taken or a is nil.
func (e *Engine) RegisterAction(name string, a Action) error {
	if name == "" {
		return errors.New("flow: register action: empty name")
	}
	if a == nil {
		return fmt.Errorf("flow: register action %q: nil action", name)
	}
	if f, ok := a.(ActionFunc); ok && f == nil {
		return fmt.Errorf("flow: register action %q: nil action", name)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.actions[name]; dup {
		return fmt.Errorf("flow: register action %q: already registered", name)
	}
	e.actions[name] = a
	return nil
}

// Install registers the engine on its Bot: a route of priority Priority,
// also tried while a human owns a conversation (an observer, which only
// notes that the flow is paused), that takes the messages of
// conversations with a waiting flow and the engine's timer events; and
// the timer sweep, which runs while the Bot runs. Messages of
// conversations without a flow go on to the other routes. Call it once,
// before the Bot runs; it panics otherwise.
func (e *Engine) Install() {
	if !e.installed.CompareAndSwap(false, true) {
		panic("flow: Install called twice")
	}
	e.b.Handle(bot.RuleFunc(match), bot.HandlerFunc(e.handle), bot.Priority(Priority), bot.Observer())
	e.b.Background(e.sweepLoop)
}

// match accepts the events a flow may take: messages, ownership changes
// and the engine's timers.
func match(_ context.Context, m *bot.Message) (bool, error) {
	switch m.Kind.Or() {
	case bot.KindMessage, bot.KindOwnership, bot.KindAssignment, TimerKind:
		return true, nil
	}
	return false, nil
}

// Global returns the RouteOption of a route that is tried before the
// flows (priority GlobalPriority), such as help, agent or stop. When such a
// route handles a message of a conversation whose flow waits, the flow's
// Interrupt policy applies once the route's handler returned: the flow
// asks its question again (PauseOnInterrupt) or is cancelled
// (CancelOnInterrupt). A handler that hands the conversation off (a reply
// with Handoff, or Bot.Handoff: the conversation is human-owned once it
// returned) pauses the flow instead; one that cancels or starts a flow is
// left to do so.
func (e *Engine) Global() bot.RouteOption {
	return bot.RouteOptions(bot.Priority(GlobalPriority), bot.Middleware(func(next bot.Handler) bot.Handler {
		return bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			if m.Kind == TimerKind {
				return bot.ErrContinue // the engine's own, for its route
			}
			if bot.OwnerOf(ctx) == bot.OwnerHuman {
				return next.HandleMessage(ctx, w, m)
			}
			before, err := e.peek(ctx, m.Platform, m.Conversation)
			if err != nil {
				return err // the handler runs with the redelivery, once
			}
			if before == nil {
				return next.HandleMessage(ctx, w, m)
			}
			hw := &watch{Sender: w}
			if err := next.HandleMessage(ctx, hw, m); err != nil {
				return err // ErrContinue included: not handled here
			}
			handoff := hw.handoff.Load()
			if !handoff {
				// A handoff through Bot.Handoff sends nothing: the owner
				// says it (the bot owned the conversation before).
				o, err := e.b.Owner(ctx, m.Platform, m.Conversation)
				if err != nil {
					return fmt.Errorf("flow: after a global route: %w", err)
				}
				handoff = o == bot.OwnerHuman
			}
			return e.interrupted(ctx, w, m, before.Run, handoff)
		})
	}))
}

// watch notes whether a handler sent a Handoff message.
type watch struct {
	bot.Sender
	handoff atomic.Bool
}

func (w *watch) Send(ctx context.Context, m *bot.Message) error {
	if m != nil && m.Handoff {
		w.handoff.Store(true)
	}
	return w.Sender.Send(ctx, m)
}

// Start starts the flow called name in a conversation, with initial values,
// and sends its first question. A flow already running there is replaced
// (its pending action calls are dropped). Start may be called from a
// handler, a rule's action or a scheduled job; see StartFrom for a start
// that a redelivered message must not repeat.
func (e *Engine) Start(ctx context.Context, platform, conversation, name string, values Values) error {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return e.start(ctx, platform, conversation, name, values, hex.EncodeToString(b[:]), nil)
}

// StartFrom starts the flow called name in m's conversation as the
// handling of m: the run is named after m's event ID, so that when m is
// delivered again (a redelivery after a crash) the flow is not started a
// second time and its first question is not sent twice. Otherwise it is
// Start.
func (e *Engine) StartFrom(ctx context.Context, m *bot.Message, name string, values Values) error {
	if m.ID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		return e.start(ctx, m.Platform, m.Conversation, name, values, hex.EncodeToString(b[:]), m)
	}
	h := sha256.Sum256([]byte(m.Platform + "\x00" + m.ID + "\x00" + name))
	return e.start(ctx, m.Platform, m.Conversation, name, values, hex.EncodeToString(h[:8]), m)
}

// start starts a run; m is the message it is started from (nil for
// Start), which names the run's first advance and which its first
// question sees (State.Message).
func (e *Engine) start(ctx context.Context, platform, conversation, name string, values Values, run string, m *bot.Message) error {
	event := ""
	if m != nil {
		event = m.ID
	}
	if platform == "" || conversation == "" {
		return errors.New("flow: start: needs a platform and a conversation")
	}
	f := e.flow(name)
	if f == nil {
		return fmt.Errorf("%w %q", ErrUnknownFlow, name)
	}
	vals := Values{}
	if err := vals.merge(values); err != nil {
		return fmt.Errorf("flow: start %q: %w", name, err)
	}
	now := e.now()
	rec := &record{
		State: State{Platform: platform, Conversation: conversation, Flow: name, Run: run,
			Step: f.Steps[0].Name, Values: vals, Started: now, Asked: now},
		Seq: 1,
	}
	rec.took(event)
	rec.Out = []outRef{{Kind: outAsk, Step: rec.Step, Key: rec.key(outAsk)}}
	for range maxConflicts {
		cur, rev, err := e.states.load(ctx, platform, conversation)
		if err != nil {
			return err
		}
		if cur != nil && cur.Run == run && event != "" {
			// started by an earlier delivery of the event
			return e.complete(ctx, e.b, nil, m, cur)
		}
		v, err := e.states.encode(rec, rev)
		if err != nil {
			return err // too large: no index entry either
		}
		if d := rec.deadline(f); !d.IsZero() {
			if err := e.index.addDue(ctx, platform, conversation, d); err != nil {
				return err
			}
		}
		err = e.states.write(ctx, rec, v, rev, f.ttl)
		if errors.Is(err, bot.ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		e.stepped(nil, rec, event, "started")
		return e.complete(ctx, e.b, nil, m, rec)
	}
	return fmt.Errorf("flow: start %q in %s/%s: %w %d times", name, platform, conversation, bot.ErrConflict, maxConflicts)
}

// Cancel ends the conversation's flow without its OnDone actions and
// without a word. It returns an error wrapping ErrNoFlow if none runs.
func (e *Engine) Cancel(ctx context.Context, platform, conversation string) error {
	found := false
	err := e.update(ctx, platform, conversation, func(rec *record) bool {
		found = rec != nil && !rec.Ended
		if !found {
			return false
		}
		rec.end()
		return true
	})
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%w %s/%s", ErrNoFlow, platform, conversation)
	}
	if e.b.Watched(bot.EventFlowStep) {
		e.b.Emit(bot.Event{Type: bot.EventFlowStep, Platform: platform, Conversation: conversation, Reason: "cancelled"})
	}
	return e.index.unlist(ctx, platform, conversation)
}

// State returns where the conversation stands in its flow, or an error
// wrapping ErrNoFlow.
func (e *Engine) State(ctx context.Context, platform, conversation string) (*State, error) {
	rec, err := e.peek(ctx, platform, conversation)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, fmt.Errorf("%w %s/%s", ErrNoFlow, platform, conversation)
	}
	s := rec.State
	s.Values = s.Values.clone()
	return &s, nil
}

// Active lists the active flows (paused ones included), by platform and
// conversation. It reads the list of active flows and every listed state,
// and removes from the list the conversations whose flow ended.
func (e *Engine) Active(ctx context.Context) ([]State, error) {
	es, err := e.index.active(ctx)
	if err != nil {
		return nil, err
	}
	var out []State
	for _, en := range es {
		rec, err := e.peek(ctx, en.P, en.C)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			if err := e.index.unlist(ctx, en.P, en.C); err != nil {
				return nil, err
			}
			continue
		}
		s := rec.State
		s.Values = s.Values.clone()
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b State) int {
		return cmp.Or(strings.Compare(a.Platform, b.Platform), strings.Compare(a.Conversation, b.Conversation))
	})
	return out, nil
}

// peek reads a conversation's active record (nil if none).
func (e *Engine) peek(ctx context.Context, platform, conversation string) (*record, error) {
	rec, _, err := e.states.load(ctx, platform, conversation)
	if err != nil || rec == nil || rec.Ended {
		return nil, err
	}
	return rec, nil
}

func (e *Engine) flow(name string) *compiled {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.flows[name]
}

func (e *Engine) action(name string) Action {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.actions[name]
}

// ttl is how long rec is kept.
func (e *Engine) ttl(rec *record) time.Duration {
	if rec.Ended {
		return endedTTL
	}
	if f := e.flow(rec.Flow); f != nil {
		return f.ttl
	}
	return DefaultTTL
}

// update changes a conversation's record with f (nil when there is none),
// which reports whether to write it, by compare-and-set.
func (e *Engine) update(ctx context.Context, platform, conversation string, f func(rec *record) bool) error {
	for range maxConflicts {
		rec, rev, err := e.states.load(ctx, platform, conversation)
		if err != nil {
			return err
		}
		if !f(rec) {
			return nil
		}
		err = e.states.save(ctx, rec, rev, e.ttl(rec))
		if errors.Is(err, bot.ErrConflict) {
			continue
		}
		return err
	}
	return fmt.Errorf("flow: update %s/%s: %w %d times", platform, conversation, bot.ErrConflict, maxConflicts)
}

// key returns the idempotency key of a message or call of rec's current
// advance: "flow:<run>:<advance>:<what>".
func (rec *record) key(what string) string {
	return "flow:" + rec.Run + ":" + strconv.Itoa(rec.Seq) + ":" + what
}

// end makes rec an ended run.
func (rec *record) end() {
	rec.Ended, rec.Paused, rec.Handoff = true, false, false
	rec.Seq++
	rec.Pending, rec.Out, rec.Fired = nil, nil, nil
}

// deadline returns the earliest timer of rec's step, or zero.
func (rec *record) deadline(f *compiled) time.Time {
	if rec.Paused || rec.Ended {
		return time.Time{}
	}
	st := f.step(rec.Step)
	if st == nil {
		return time.Time{}
	}
	var d time.Time
	if st.Remind != nil && !rec.Reminded {
		d = rec.Asked.Add(st.Remind.After)
	}
	if st.Timeout != nil {
		if t := rec.Asked.Add(st.Timeout.After); d.IsZero() || t.Before(d) {
			d = t
		}
	}
	return d
}

// dueTimer returns which timer of rec's step is due at now: "timeout",
// "remind" or "".
func (rec *record) dueTimer(f *compiled, now time.Time) string {
	if rec.Paused || rec.Ended {
		return ""
	}
	st := f.step(rec.Step)
	switch {
	case st == nil:
		return ""
	case st.Timeout != nil && !now.Before(rec.Asked.Add(st.Timeout.After)):
		return "timeout"
	case st.Remind != nil && !rec.Reminded && !now.Before(rec.Asked.Add(st.Remind.After)):
		return "remind"
	}
	return ""
}

// clone returns a deep enough copy of rec to change.
func (rec *record) clone() *record {
	n := *rec
	n.Values = rec.Values.clone()
	n.Pending = slices.Clone(rec.Pending)
	n.Recent = slices.Clone(rec.Recent)
	n.Out = nil
	return &n
}

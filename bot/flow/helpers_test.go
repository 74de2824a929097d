package flow_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/flow"
)

// clock is a settable clock for the engine's timers.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// rig is a Bot over a FakeAdapter with an installed Engine.
type rig struct {
	t     *testing.T
	fa    *bottest.FakeAdapter
	b     *bot.Bot
	e     *flow.Engine
	clock *clock
	calls *calls
	seq   atomic.Int64
	stop  func() error
}

// calls records action runs.
type calls struct {
	mu   sync.Mutex
	keys []string
	fail atomic.Int32 // the next n runs fail
}

func (c *calls) Run(ctx context.Context, ac flow.ActionCall) error {
	if c.fail.Load() > 0 {
		c.fail.Add(-1)
		return fmt.Errorf("the CRM is down")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keys = append(c.keys, ac.Key+" "+ac.Step+" "+fmt.Sprint(ac.Args["tag"]))
	return nil
}

func (c *calls) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.keys...)
}

// ownerFails is a FakeAdapter whose platform-side owner switch fails
// the next n times, as a platform that is down does.
type ownerFails struct {
	*bottest.FakeAdapter
	n atomic.Int32
}

func (a *ownerFails) SetOwner(ctx context.Context, conversation string, o bot.Owner) error {
	if a.n.Load() > 0 {
		a.n.Add(-1)
		return fmt.Errorf("the platform is down")
	}
	return a.FakeAdapter.SetOwner(ctx, conversation, o)
}

type rigOption struct {
	store   bot.Store
	broker  bot.Broker
	noRun   bool
	clock   *clock
	setup   func(r *rig)
	flows   []flow.Flow
	workers int
	// adapter, when set, wraps the FakeAdapter the Bot gets.
	adapter func(fa *bottest.FakeAdapter) bot.Adapter
}

func newRig(t *testing.T, o rigOption) *rig {
	t.Helper()
	r := &rig{t: t, fa: bottest.NewFakeAdapter(""), clock: o.clock, calls: &calls{}}
	if r.clock == nil {
		r.clock = newClock()
	}
	var a bot.Adapter = r.fa
	if o.adapter != nil {
		a = o.adapter(r.fa)
	}
	opts := []bot.Option{bot.WithAdapters(a), bot.WithLogger(bottest.Logger(t))}
	if o.store != nil {
		opts = append(opts, bot.WithStore(o.store))
	}
	if o.broker != nil {
		opts = append(opts, bot.WithBroker(o.broker))
	}
	b, err := bot.New(opts...)
	require.NoError(t, err)
	r.b = b
	r.e = flow.New(b, flow.WithClock(r.clock.Now), flow.WithSweepInterval(5*time.Millisecond))
	require.NoError(t, r.e.RegisterAction("crm", r.calls))
	if o.setup != nil {
		o.setup(r)
	}
	for _, f := range o.flows {
		require.NoError(t, r.e.Define(f))
	}
	r.e.Install()
	if !o.noRun {
		r.stop = bottest.Run(t, b)
	}
	return r
}

// say injects a customer message in conv and returns it.
func (r *rig) say(conv, text string) *bot.Message {
	r.t.Helper()
	m := bottest.NewMessage(text, bottest.In(r.fa.Name(), conv),
		bottest.WithID(fmt.Sprintf("%s-%p-%s-%d", r.t.Name(), r, conv, r.seq.Add(1))))
	require.NoError(r.t, r.fa.Inject(r.t.Context(), m))
	return m
}

// settle waits until every message said so far was handled.
func (r *rig) settle() {
	r.t.Helper()
	require.Eventually(r.t, func() bool { return r.b.Stats().Handled >= r.seq.Load() }, 5*time.Second, time.Millisecond)
}

// texts returns the texts sent to conv so far.
func (r *rig) texts(conv string) []string {
	var out []string
	for _, m := range r.fa.Sent() {
		if m.Conversation == conv {
			out = append(out, m.Text)
		}
	}
	return out
}

// waitTexts waits until conv received exactly want.
func (r *rig) waitTexts(conv string, want ...string) {
	r.t.Helper()
	require.Eventually(r.t, func() bool { return len(r.texts(conv)) >= len(want) }, 5*time.Second, time.Millisecond,
		"sent to %s: %q, want %q", conv, r.texts(conv), want)
	require.Equal(r.t, want, r.texts(conv))
}

// state returns conv's flow state.
func (r *rig) state(conv string) *flow.State {
	r.t.Helper()
	s, err := r.e.State(r.t.Context(), r.fa.Name(), conv)
	require.NoError(r.t, err)
	return s
}

// waitStep waits until conv's flow is at step.
func (r *rig) waitStep(conv, step string) {
	r.t.Helper()
	require.Eventually(r.t, func() bool {
		s, err := r.e.State(r.t.Context(), r.fa.Name(), conv)
		return err == nil && s.Step == step
	}, 5*time.Second, time.Millisecond)
}

// lead is the test flow: name, e-mail (checked), size (a number, with
// branches), then done, calling the crm action on the e-mail step and on
// done.
func lead() flow.Flow {
	email := flow.CheckFunc(func(ctx context.Context, a flow.Answer) (any, error) {
		if !strings.Contains(a.Text, "@") {
			return nil, flow.Invalid("no @", "That does not look like an e-mail. Your e-mail?")
		}
		return strings.ToLower(a.Text), nil
	})
	size := flow.CheckFunc(func(ctx context.Context, a flow.Answer) (any, error) {
		n, err := strconv.Atoi(a.Text)
		if err != nil {
			return nil, flow.Invalid("not a number", "")
		}
		return n, nil
	})
	big := flow.ConditionFunc(func(ctx context.Context, s *flow.State) (bool, error) {
		n, _ := s.Values.Int("size")
		return n >= 100, nil
	})
	return flow.Flow{
		Name: "lead",
		Steps: []flow.Step{
			{Name: "name", Ask: flow.Text("Your name?"), Save: "name"},
			{Name: "email", Ask: flow.Text("Your e-mail?"), Check: email, Save: "email",
				Actions: []flow.Call{{Action: "crm", Args: map[string]any{"tag": "email"}}}},
			{Name: "size", Ask: flow.Text("How many employees?"), Check: size, Save: "size",
				Retry: flow.Retry{Message: "A number, please.", Max: 1, Then: flow.HandOff},
				Next:  flow.Next{Branches: []flow.Branch{{When: big, Goto: "call"}}, Default: flow.End}},
			{Name: "call", Ask: flow.Text("When can we call you?"), Save: "when"},
		},
		OnDone: []flow.Call{{Action: "crm", Args: map[string]any{"tag": "done"}}},
		Done: flow.PromptFunc(func(ctx context.Context, s *flow.State) (*bot.Message, error) {
			name, _ := s.Values.String("name")
			return &bot.Message{Text: "Thanks, " + name + "!"}, nil
		}),
	}
}

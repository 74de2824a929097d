package bot_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
)

// recordingSender returns a Sender that records the text of every message
// sent through it, and a function that returns the texts so far.
func recordingSender() (bot.Sender, func() []string) {
	var mu sync.Mutex
	var sent []string
	w := bot.SenderFunc(func(_ context.Context, m *bot.Message) error {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, m.Text)
		return nil
	})
	return w, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(sent)
	}
}

// replyWith returns a handler that replies text and returns err.
func replyWith(text string, err error) bot.Handler {
	return bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		if sendErr := w.Send(ctx, m.Reply(text)); sendErr != nil {
			return sendErr
		}
		return err
	})
}

func nopHandler() bot.Handler {
	return bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error { return nil })
}

func TestRouter_HandleMessage(t *testing.T) {
	t.Parallel()
	type rt struct {
		rule bot.Rule
		name string
		err  error
		opts []bot.RouteOption
	}
	tests := []struct {
		name     string
		routes   []rt
		notFound bool
		msg      *bot.Message
		want     []string
	}{
		{
			name:   "first match wins",
			routes: []rt{{rule: bot.Command("a"), name: "a"}, {rule: bot.Always(), name: "always"}},
			msg:    ruleMsg("/a"),
			want:   []string{"a"},
		},
		{
			name:   "registration order",
			routes: []rt{{rule: bot.Always(), name: "first"}, {rule: bot.Command("a"), name: "a"}},
			msg:    ruleMsg("/a"),
			want:   []string{"first"},
		},
		{
			name: "priority beats registration order",
			routes: []rt{
				{rule: bot.Always(), name: "low"},
				{rule: bot.Always(), name: "high", opts: []bot.RouteOption{bot.Priority(5)}},
				{rule: bot.Always(), name: "mid", opts: []bot.RouteOption{bot.Priority(1)}},
			},
			msg:  ruleMsg("x"),
			want: []string{"high"},
		},
		{
			name: "negative priority runs after default",
			routes: []rt{
				{rule: bot.Always(), name: "fallback", opts: []bot.RouteOption{bot.Priority(-1)}},
				{rule: bot.Always(), name: "default"},
			},
			msg:  ruleMsg("x"),
			want: []string{"default"},
		},
		{
			name: "ErrContinue goes on to the next match",
			routes: []rt{
				{rule: bot.Always(), name: "log", err: bot.ErrContinue},
				{rule: bot.Command("b"), name: "b"},
				{rule: bot.Command("a"), name: "a"},
				{rule: bot.Always(), name: "always"},
			},
			msg:  ruleMsg("/a"),
			want: []string{"log", "a"},
		},
		{
			name: "wrapped ErrContinue",
			routes: []rt{
				{rule: bot.Always(), name: "one", err: fmt.Errorf("skip: %w", bot.ErrContinue)},
				{rule: bot.Always(), name: "two"},
			},
			msg:  ruleMsg("x"),
			want: []string{"one", "two"},
		},
		{
			name: "equal priority keeps order under ErrContinue",
			routes: []rt{
				{rule: bot.Always(), name: "1", err: bot.ErrContinue},
				{rule: bot.Always(), name: "2", err: bot.ErrContinue, opts: []bot.RouteOption{bot.Priority(3)}},
				{rule: bot.Always(), name: "3", err: bot.ErrContinue},
				{rule: bot.Always(), name: "4", err: bot.ErrContinue, opts: []bot.RouteOption{bot.Priority(3)}},
			},
			msg:  ruleMsg("x"),
			want: []string{"2", "4", "1", "3"},
		},
		{
			name:     "no match runs NotFound",
			routes:   []rt{{rule: bot.Command("a"), name: "a"}},
			notFound: true,
			msg:      ruleMsg("/b"),
			want:     []string{"not found"},
		},
		{
			name:     "every match continues: NotFound",
			routes:   []rt{{rule: bot.Always(), name: "a", err: bot.ErrContinue}},
			notFound: true,
			msg:      ruleMsg("x"),
			want:     []string{"a", "not found"},
		},
		{
			name:   "no match and no NotFound does nothing",
			routes: []rt{{rule: bot.Command("a"), name: "a"}},
			msg:    ruleMsg("/b"),
			want:   nil,
		},
		{
			name:     "no routes",
			notFound: true,
			msg:      ruleMsg("x"),
			want:     []string{"not found"},
		},
		{
			name: "failing rule is no match",
			routes: []rt{
				{rule: failing(), name: "broken"},
				{rule: bot.All(bot.Always(), failing()), name: "broken too"},
				{rule: bot.Always(), name: "next"},
			},
			msg:  ruleMsg("x"),
			want: []string{"next"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := bot.NewRouter()
			r.SetLogger(slog.New(slog.DiscardHandler))
			for _, route := range tt.routes {
				r.Handle(route.rule, replyWith(route.name, route.err), route.opts...)
			}
			if tt.notFound {
				r.NotFound(replyWith("not found", nil))
			}
			w, sent := recordingSender()
			require.NoError(t, r.HandleMessage(t.Context(), w, tt.msg))
			assert.Equal(t, tt.want, sent())
		})
	}
}

func TestRouter_HandleMessage_handlerError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	r := bot.NewRouter()
	r.Handle(bot.Always(), replyWith("a", boom))
	r.Handle(bot.Always(), replyWith("b", nil))
	r.NotFound(replyWith("not found", nil))
	w, sent := recordingSender()
	err := r.HandleMessage(t.Context(), w, ruleMsg("x"))
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, []string{"a"}, sent(), "an error ends routing")
}

// tracer returns middleware that records its name before and after next.
func tracer(trace *[]string, name string) bot.Middleware {
	return func(next bot.Handler) bot.Handler {
		return bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			*trace = append(*trace, name+">")
			err := next.HandleMessage(ctx, w, m)
			*trace = append(*trace, "<"+name)
			return err
		})
	}
}

func TestRouter_Use(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"matched", "/a", []string{"use1>", "use2>", "route1>", "route2>", "a", "<route2", "<route1", "<use2", "<use1"}},
		{"unmatched", "/zzz", []string{"use1>", "use2>", "not found", "<use2", "<use1"}},
		{"other route has no route middleware", "/b", []string{"use1>", "use2>", "b", "<use2", "<use1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var trace []string
			handler := func(name string) bot.Handler {
				return bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error {
					trace = append(trace, name)
					return nil
				})
			}
			r := bot.NewRouter()
			r.Use(tracer(&trace, "use1"))
			r.Use(tracer(&trace, "use2"))
			r.Handle(bot.Command("a"), handler("a"), tracer(&trace, "route1"), bot.Priority(1), tracer(&trace, "route2"))
			r.Handle(bot.Command("b"), handler("b"))
			r.NotFound(handler("not found"))
			require.NoError(t, r.HandleMessage(t.Context(), nil, ruleMsg(tt.text)))
			assert.Equal(t, tt.want, trace)
		})
	}
}

func TestRouter_Use_Chain(t *testing.T) {
	t.Parallel()
	var trace []string
	r := bot.NewRouter()
	r.Use(bot.Chain(tracer(&trace, "a"), tracer(&trace, "b")), tracer(&trace, "c"))
	r.HandleFunc(bot.Always(), func(context.Context, bot.Sender, *bot.Message) error {
		trace = append(trace, "h")
		return nil
	}, bot.Middleware(bot.Chain(tracer(&trace, "d"), tracer(&trace, "e"))))
	require.NoError(t, r.HandleMessage(t.Context(), nil, ruleMsg("x")))
	assert.Equal(t, []string{"a>", "b>", "c>", "d>", "e>", "h", "<e", "<d", "<c", "<b", "<a"}, trace)
}

func TestRouter_Use_shortCircuit(t *testing.T) {
	t.Parallel()
	r := bot.NewRouter()
	r.Use(func(bot.Handler) bot.Handler { return nopHandler() })
	r.Handle(bot.Always(), replyWith("a", nil))
	w, sent := recordingSender()
	require.NoError(t, r.HandleMessage(t.Context(), w, ruleMsg("x")))
	assert.Empty(t, sent())
}

func TestRouter_panics(t *testing.T) {
	t.Parallel()
	started := func() *bot.Router {
		r := bot.NewRouter()
		r.Handle(bot.Always(), nopHandler())
		_ = r.HandleMessage(context.Background(), nil, ruleMsg("x"))
		return r
	}
	mw := func(h bot.Handler) bot.Handler { return h }
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"nil rule", func() { bot.NewRouter().Handle(nil, nopHandler()) }, "bot: nil rule"},
		{"nil handler", func() { bot.NewRouter().Handle(bot.Always(), nil) }, "bot: nil handler"},
		{"nil HandlerFunc", func() { bot.NewRouter().HandleFunc(bot.Always(), nil) }, "bot: nil handler"},
		{"nil option", func() { bot.NewRouter().Handle(bot.Always(), nopHandler(), nil) }, "bot: nil route option"},
		{"nil route middleware", func() { bot.NewRouter().Handle(bot.Always(), nopHandler(), bot.Middleware(nil)) }, "bot: nil middleware"},
		{"nil middleware in Use", func() { bot.NewRouter().Use(mw, nil) }, "bot: nil middleware"},
		{"nil NotFound", func() { bot.NewRouter().NotFound(nil) }, "bot: nil handler"},
		{"Use after Handle", func() {
			r := bot.NewRouter()
			r.Handle(bot.Always(), nopHandler())
			r.Use(mw)
		}, "bot: Use after Handle"},
		{"Handle after routing started", func() { started().Handle(bot.Always(), nopHandler()) }, "bot: Handle after the router started routing"},
		{"HandleFunc after routing started", func() {
			started().HandleFunc(bot.Always(), func(context.Context, bot.Sender, *bot.Message) error { return nil })
		}, "bot: Handle after the router started routing"},
		{"NotFound after routing started", func() { started().NotFound(nopHandler()) }, "bot: NotFound after the router started routing"},
		{"Use after routing started", func() {
			r := bot.NewRouter()
			_ = r.HandleMessage(context.Background(), nil, ruleMsg("x"))
			r.Use(mw)
		}, "bot: Use after the router started routing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.PanicsWithValue(t, tt.want, tt.f)
		})
	}
}

func TestRouter_Routes(t *testing.T) {
	t.Parallel()
	r := bot.NewRouter()
	r.Handle(bot.Command("echo"), nopHandler())
	r.Handle(bot.Command("help"), nopHandler(), bot.Help("/help [topic]", "list the commands"), bot.Priority(2))
	r.Handle(bot.CommandSyntax{Prefixes: []string{"."}}.Command("Roll"), nopHandler(), bot.Help("", "roll a die"))
	r.Handle(bot.All(bot.Platform("sendbee"), bot.Command("order")), nopHandler())
	r.Handle(bot.Regexp(regexp.MustCompile(`(?i)thanks`)), nopHandler(), bot.Observer(), bot.Priority(-1))
	r.Handle(bot.RuleFunc(func(context.Context, *bot.Message) (bool, error) { return false, nil }), nopHandler())
	want := []bot.RouteInfo{
		{Usage: "/help [topic]", Description: "list the commands", Priority: 2, Rule: `Command("help")`},
		{Usage: "/echo", Rule: `Command("echo")`},
		{Usage: ".roll", Description: "roll a die", Rule: `Command("roll")`},
		{Usage: "/order", Rule: `All(Platform("sendbee"), Command("order"))`},
		{Rule: "bot.RuleFunc"},
		{Priority: -1, Observer: true, Rule: `Regexp("(?i)thanks")`},
	}
	assert.Equal(t, want, r.Routes(), "before routing")
	require.NoError(t, r.HandleMessage(t.Context(), nil, ruleMsg("x")))
	assert.Equal(t, want, r.Routes(), "after routing")
}

func TestRouter_SetLogger_ruleError(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	r := bot.NewRouter()
	r.SetLogger(slog.New(slog.NewJSONHandler(&buf, nil)))
	r.Handle(bot.MustExpr(`int(Text) > 3`), replyWith("number", nil))
	r.Handle(bot.Always(), replyWith("fallback", nil))
	w, sent := recordingSender()
	m := ruleMsg("secret words")
	require.NoError(t, r.HandleMessage(t.Context(), w, m))
	assert.Equal(t, []string{"fallback"}, sent())

	var rec map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec), buf.String())
	assert.Equal(t, "WARN", rec["level"])
	assert.Equal(t, `Expr("int(Text) > 3")`, rec["rule"])
	assert.Equal(t, map[string]any{"platform": "test", "conversation": "c1", "id": "m1"}, rec["msg"])
	assert.Contains(t, rec["error"], `bot: evaluate rule "int(Text) > 3"`)
	assert.NotContains(t, buf.String(), "secret", "message text must never be logged")
}

func TestRouter_concurrent(t *testing.T) {
	t.Parallel()
	r := bot.NewRouter()
	var a, b, other atomic.Int64
	count := func(n *atomic.Int64) bot.Handler {
		return bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error { n.Add(1); return nil })
	}
	r.Handle(bot.Command("a"), count(&a))
	r.Handle(bot.MustExpr(`Text contains "bee"`), count(&b))
	r.NotFound(count(&other))
	texts := []string{"/a", "a bee", "nothing"}
	var want [3]int64
	var wg sync.WaitGroup
	for i := range 16 {
		for j := range 100 {
			want[(i+j)%3]++
		}
		wg.Go(func() {
			for j := range 100 {
				assert.NoError(t, r.HandleMessage(t.Context(), nil, ruleMsg(texts[(i+j)%3])))
				_ = r.Routes()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, want, [3]int64{a.Load(), b.Load(), other.Load()})
}

func TestRouter_nested(t *testing.T) {
	t.Parallel()
	admin := bot.NewRouter()
	admin.Handle(bot.Regexp(regexp.MustCompile(`\bdeploy\b`)), replyWith("deploying", nil))
	admin.NotFound(replyWith("admin: unknown", nil))

	r := bot.NewRouter()
	r.Handle(bot.All(bot.Platform("test"), bot.Command("admin")), admin)
	r.Handle(bot.Command("ping"), replyWith("pong", nil))

	w, sent := recordingSender()
	for _, text := range []string{"/admin deploy", "/admin reboot", "/ping", "/deploy"} {
		require.NoError(t, r.HandleMessage(t.Context(), w, ruleMsg(text)))
	}
	assert.Equal(t, []string{"deploying", "admin: unknown", "pong"}, sent())
}

// TestRouter_prefilter checks that the router's index never changes the
// outcome: with random rules and messages, every handler returns
// ErrContinue, so the router must call exactly the handlers of the rules
// that match, in the order of a plain scan over all rules.
func TestRouter_prefilter(t *testing.T) {
	t.Parallel()
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 0x5eed))
			type spec struct {
				id       int
				rule     bot.Rule
				priority int
			}
			var specs []spec
			r := bot.NewRouter()
			r.SetLogger(slog.New(slog.DiscardHandler))
			var got []int
			for id := range 60 + rng.IntN(100) {
				s := spec{id: id, rule: randomRule(rng, 2), priority: rng.IntN(4) - 1}
				specs = append(specs, s)
				r.HandleFunc(s.rule, func(context.Context, bot.Sender, *bot.Message) error {
					got = append(got, id)
					return bot.ErrContinue
				}, bot.Priority(s.priority))
			}
			r.NotFound(bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error {
				got = append(got, -1)
				return nil
			}))
			slices.SortStableFunc(specs, func(a, b spec) int { return cmp.Compare(b.priority, a.priority) })

			matches := 0
			for range 300 {
				m := randomMessage(rng)
				var want []int
				for _, s := range specs {
					if ok, err := s.rule.Match(t.Context(), m); err == nil && ok {
						want = append(want, s.id)
					}
				}
				want = append(want, -1)
				matches += len(want) - 1
				got = got[:0]
				require.NoError(t, r.HandleMessage(t.Context(), nil, m))
				require.Equal(t, want, got, "message %+v", m)
			}
			assert.Positive(t, matches, "the generator must produce matches")
		})
	}
}

// The vocabulary of random rules and messages: ASCII words in several
// cases, and words whose case-insensitive forms differ in length or
// script (the Kelvin sign, the long s, the dotted capital I, ß).
var (
	ruleWords = []string{"help", "order", "ping", "status", "kelvin", "istanbul", "class", "straße", "ab", "a", "Grüße"}
	textWords = []string{
		"help", "HELP", "Help", "order", "ORDER", "ping", "pIng", "status", "kelvin", "\u212Aelvin", "KELVIN",
		"istanbul", "İstanbul", "ISTANBUL", "cla\u017F\u017F", "class", "CLASS", "straße", "STRASSE", "ab", "AB", "a",
		"grüße", "GRÜSSE", "Grüße", "x", "42", "#7", "hello", "world", "pong", "stat", "\xff",
	}
	platforms = []string{"test", "sendbee", "flowdock"}
	kinds     = []bot.Kind{"", bot.KindMessage, bot.KindEdit, bot.KindStatus}
)

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func randomRule(rng *rand.Rand, depth int) bot.Rule {
	w := pick(rng, ruleWords)
	n := 12
	if depth > 0 {
		n = 15
	}
	switch rng.IntN(n) {
	case 0:
		return bot.Command(w)
	case 1:
		return bot.CommandSyntax{Names: []string{"parley"}}.Command(w)
	case 2:
		return bot.Prefix(pick(rng, []string{"/", "!", w, "/" + w}))
	case 3:
		tmpl := pick(rng, []string{
			`@`, `(?i)@`, `(?i)\b@\b`, `^/@`, `(?i)(@|ping)`, `@\d*`, `(?i)x?@+`, `(?:@)?st`, `(?i:@){2}`, `[a-z]@|@`, `(@)*`, `@|`,
		})
		return bot.Regexp(regexp.MustCompile(strings.ReplaceAll(tmpl, "@", regexp.QuoteMeta(w))))
	case 4:
		return bot.Platform(pick(rng, platforms), pick(rng, platforms))
	case 5:
		return bot.OfKind(pick(rng, kinds), pick(rng, kinds))
	case 6:
		return bot.Direct()
	case 7:
		return bot.MustExpr(fmt.Sprintf(pick(rng, []string{
			`Text contains %q`, `lower(Text) contains %q`, `upper(Text) startsWith %q`, `Text endsWith %q`,
			`Text == %q`, `isCommand(%q)`, `Text matches "(?i)" + %q`, `hasPrefix(trim(Text), %q)`,
			`Platform == "sendbee" && lower(Text) contains %q`, `(Kind in ["edit", "status"] || Text contains "ping") && Text contains %q`,
			`Platform in ["test", "flowdock"] || Text contains %q`, `not (Text contains %q)`, `"test" == Platform && Text matches %q`,
		}), w))
	case 8:
		return bot.MustExpr(pick(rng, []string{
			`Kind == "edit"`, `Direct && Platform == "test"`, `hasTag("vip")`, `len(Text) > 5`, `Owner == "bot"`, `Kind == "message" && Text contains "ab"`,
		}))
	case 9:
		return bot.RuleFunc(func(_ context.Context, m *bot.Message) (bool, error) { return len(m.Text)%3 == 0, nil })
	case 10:
		return bot.Always()
	case 11:
		return bot.Regexp(regexp.MustCompile(`(?i)` + regexp.QuoteMeta(w)))
	case 12:
		return bot.All(randomRule(rng, depth-1), randomRule(rng, depth-1))
	case 13:
		return bot.Any(randomRule(rng, depth-1), randomRule(rng, depth-1), randomRule(rng, depth-1))
	default:
		return bot.Not(randomRule(rng, depth-1))
	}
}

func randomMessage(rng *rand.Rand) *bot.Message {
	var words []string
	for range rng.IntN(5) {
		w := pick(rng, textWords)
		switch rng.IntN(6) {
		case 0:
			w = "/" + w
		case 1:
			w = "!" + w
		case 2:
			w += pick(rng, textWords)
		}
		words = append(words, w)
	}
	if rng.IntN(6) == 0 {
		words = append([]string{pick(rng, []string{"parley", "@Parley:", "parley,"})}, words...)
	}
	m := &bot.Message{
		ID:           "m",
		Platform:     pick(rng, platforms),
		Conversation: "c",
		Kind:         pick(rng, kinds),
		Direct:       rng.IntN(3) == 0,
		Text:         strings.Join(words, pick(rng, []string{" ", "  ", "\n", ""})),
	}
	if rng.IntN(4) == 0 {
		m.Tags = []string{"VIP"}
	}
	return m
}

package bot_test

import (
	"context"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// The captures of a route handled by a Bot are those a Router alone gives
// (TestCapturesOf), whatever the routing state of the Bot keeps of the
// match.

// capturesInBot routes one message with text through a Bot whose only
// route is rule, and returns what CapturesOf said in its handler.
func capturesInBot(t *testing.T, rule bot.Rule, text string) bot.Captures {
	t.Helper()
	b, fa := newBot(t)
	got := make(chan bot.Captures, 1)
	b.HandleFunc(rule, func(ctx context.Context, _ bot.Sender, _ *bot.Message) error {
		got <- bot.CapturesOf(ctx)
		return nil
	})
	bottest.Run(t, b)
	require.NoError(t, fa.Inject(t.Context(), msg("c", "1", text)))
	select {
	case c := <-got:
		return c
	case <-t.Context().Done():
		t.Fatal("the route did not match")
		return bot.Captures{}
	}
}

func TestCapturesOf_inBot(t *testing.T) {
	t.Parallel()
	order := regexp.MustCompile(`order #(\d+)(?: for (?P<who>\w+))?`)
	tests := []struct {
		name string
		rule bot.Rule
		text string
		want bot.Captures
	}{
		{"Regexp", bot.Regexp(order), "order #42 for ann!",
			bot.Captures{Groups: []string{"order #42 for ann", "42", "ann"}, Named: map[string]string{"who": "ann"}}},
		{"Regexp without groups", bot.Regexp(regexp.MustCompile(`hi`)), "oh hi", bot.Captures{Groups: []string{"hi"}}},
		{"All merges", bot.All(bot.Regexp(regexp.MustCompile(`(?P<n>\d+)`)), bot.Command("order")), "/order 7",
			bot.Captures{Command: "order", Args: "7", Groups: []string{"7", "7"}, Named: map[string]string{"n": "7"}}},
		{"All of two Regexps: the first's groups, both names", bot.All(
			bot.Regexp(regexp.MustCompile(`(?P<a>\w+) (\w+)`)), bot.Regexp(regexp.MustCompile(`(?P<b>\d+)`))), "go 42",
			bot.Captures{Groups: []string{"go 42", "go", "42"}, Named: map[string]string{"a": "go", "b": "42"}}},
		{"Any: the Regexp that matched", bot.Any(
			bot.Regexp(regexp.MustCompile(`^stop (\w+)$`)), bot.Regexp(regexp.MustCompile(`^start (\w+)$`))), "start all",
			bot.Captures{Groups: []string{"start all", "all"}}},
		{"Any: the first capturing rule", bot.Any(bot.Prefix("!"), bot.Regexp(regexp.MustCompile(`(x)`))), "!x",
			bot.Captures{Args: "x"}},
		{"Not captures nothing", bot.Not(bot.Regexp(regexp.MustCompile(`(a)`))), "b", bot.Captures{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, capturesInBot(t, tt.rule, tt.text))
		})
	}
}

// Each call returns captures of its own: a handler that changes the
// groups of one call does not change those of the next, nor those a
// concurrent call returns.
func TestCapturesOf_eachCallOwnsItsResult(t *testing.T) {
	t.Parallel()
	b, fa := newBot(t)
	type result struct{ first, again []string }
	got := make(chan result, 1)
	b.HandleFunc(bot.Regexp(regexp.MustCompile(`^echo (.+)$`)), func(ctx context.Context, _ bot.Sender, _ *bot.Message) error {
		first := bot.CapturesOf(ctx).Groups
		first[1] = "changed"
		var wg sync.WaitGroup
		seen := make([][]string, 8)
		for i := range seen {
			wg.Go(func() {
				g := bot.CapturesOf(ctx).Groups
				seen[i] = append([]string(nil), g...)
				g[1] = "changed by " + strconv.Itoa(i)
			})
		}
		wg.Wait()
		for _, g := range seen {
			if !assert.Equal(t, []string{"echo hi", "hi"}, g) {
				break
			}
		}
		got <- result{first, bot.CapturesOf(ctx).Groups}
		return nil
	})
	bottest.Run(t, b)
	require.NoError(t, fa.Inject(t.Context(), msg("c", "1", "echo hi")))
	r := <-got
	assert.Equal(t, []string{"echo hi", "changed"}, r.first)
	assert.Equal(t, []string{"echo hi", "hi"}, r.again)
}

// A route that passes the message on (ErrContinue) and the next route that
// matches each see the captures of their own rule, in the order tried,
// also when the same rule serves both; a Router nested in a route sees its
// own, and the outer route's are unchanged after it ran.
func TestCapturesOf_continueAndNested(t *testing.T) {
	t.Parallel()
	b, fa := newBot(t)
	var (
		mu  sync.Mutex
		got []string
	)
	note := func(who string, c bot.Captures) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, who+"="+c.Groups[1])
	}
	word := bot.Regexp(regexp.MustCompile(`^(\w+)`))
	last := bot.Regexp(regexp.MustCompile(`(\w+)$`))
	b.HandleFunc(word, func(ctx context.Context, _ bot.Sender, _ *bot.Message) error {
		note("first", bot.CapturesOf(ctx))
		return bot.ErrContinue
	})
	b.HandleFunc(bot.Regexp(regexp.MustCompile(`^nomatch (x)`)), func(context.Context, bot.Sender, *bot.Message) error {
		t.Error("a route that does not match was handled")
		return nil
	})
	b.HandleFunc(word, func(ctx context.Context, _ bot.Sender, _ *bot.Message) error {
		note("again", bot.CapturesOf(ctx))
		return bot.ErrContinue
	})
	inner := bot.NewRouter()
	inner.HandleFunc(last, func(ctx context.Context, _ bot.Sender, _ *bot.Message) error {
		note("inner", bot.CapturesOf(ctx))
		return nil
	})
	b.Handle(bot.Regexp(regexp.MustCompile(`^\w+ (\w+)`)), bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		err := inner.HandleMessage(ctx, w, m)
		note("outer", bot.CapturesOf(ctx))
		return err
	}))
	bottest.Run(t, b)
	require.NoError(t, fa.Inject(t.Context(), msg("c", "1", "alpha beta gamma")))
	require.NoError(t, fa.Inject(t.Context(), msg("c", "2", "")))
	require.Eventually(t, func() bool { return b.Stats().Handled == 2 }, 5*time.Second, time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"first=alpha", "again=alpha", "inner=gamma", "outer=beta"}, got)
}

// A Router alone that keeps routing state for its expression rules gives
// the same captures.
func TestCapturesOf_routerWithExpr(t *testing.T) {
	t.Parallel()
	var got []bot.Captures
	r := bot.NewRouter()
	r.HandleFunc(bot.MustExpr(`Text startsWith "never"`), func(context.Context, bot.Sender, *bot.Message) error { return nil })
	r.HandleFunc(bot.Regexp(regexp.MustCompile(`^echo (.+)$`)), func(ctx context.Context, _ bot.Sender, _ *bot.Message) error {
		got = append(got, bot.CapturesOf(ctx), bot.CapturesOf(ctx))
		return bot.ErrContinue
	})
	r.HandleFunc(bot.All(bot.MustExpr(`Text contains "x"`), bot.Regexp(regexp.MustCompile(`(\w+)$`))), func(ctx context.Context, _ bot.Sender, _ *bot.Message) error {
		got = append(got, bot.CapturesOf(ctx))
		return nil
	})
	require.NoError(t, r.HandleMessage(t.Context(), nil, ruleMsg("echo x y")))
	assert.Equal(t, []bot.Captures{
		{Groups: []string{"echo x y", "x y"}}, {Groups: []string{"echo x y", "x y"}}, {Groups: []string{"y", "y"}},
	}, got)
}

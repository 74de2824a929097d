package bot

// Internal tests of the router's unexported machinery: the prefilters
// rules and expressions state, plus
// the paths that depend on the per-message state only a Bot sets
// (conversation ownership, the bot's time zone, the worker's VM).

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"testing/synctest"
	"time"

	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"github.com/parleybot/parley/bot/internal/prefilter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExprPrefilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		want prefilter.Filter
	}{
		{`Adapter == "sendbee"`, prefilter.Filter{Platforms: []string{"sendbee"}}},
		// Platform is the platform of every instance ("sendbee" for
		// "sendbee/acme"): no adapter name to index.
		{`Platform == "sendbee"`, prefilter.Filter{}},
		{`Platform in ["sendbee", "velaflows"]`, prefilter.Filter{}},
		{`"sendbee" == Adapter`, prefilter.Filter{Platforms: []string{"sendbee"}}},
		{`Adapter in ["a", "b"]`, prefilter.Filter{Platforms: []string{"a", "b"}}},
		{`Adapter in []`, prefilter.Filter{Platforms: []string{}}},
		{`Adapter in ["a", Text]`, prefilter.Filter{}},
		{`Kind == "edit"`, prefilter.Filter{Kinds: []string{"edit"}}},
		{`Kind in ["edit", "delete"]`, prefilter.Filter{Kinds: []string{"edit", "delete"}}},
		// The index compares kinds as given: an empty one is KindMessage, as
		// for a message.
		{`Kind == ""`, prefilter.Filter{Kinds: []string{"message"}}},
		{`Kind in ["", "edit"]`, prefilter.Filter{Kinds: []string{"message", "edit"}}},
		{`Text contains "Order"`, prefilter.Filter{Lits: []string{"order"}}},
		{`Text startsWith "/Help"`, prefilter.Filter{Lits: []string{"/help"}}},
		{`Text endsWith "??"`, prefilter.Filter{Lits: []string{"??"}}},
		{`Text == "hi"`, prefilter.Filter{Lits: []string{"hi"}}},
		{`"hi" == Text`, prefilter.Filter{Lits: []string{"hi"}}},
		{`Text == "h"`, prefilter.Filter{}},
		{`lower(Text) contains "order"`, prefilter.Filter{Lits: []string{"order"}}},
		{`upper(trim(Text)) contains "ORDER"`, prefilter.Filter{Lits: []string{"order"}}},
		{`Text | lower() contains "order"`, prefilter.Filter{Lits: []string{"order"}}},
		{`(Text | lower()) contains "order"`, prefilter.Filter{Lits: []string{"order"}}},
		{`Text matches "(?i)order #\\d+"`, prefilter.Filter{Lits: []string{"order #"}}},
		{`Text matches "a|b"`, prefilter.Filter{}},
		{`Text matches "(?i)" + "order" + "s?"`, prefilter.Filter{Lits: []string{"order"}}},
		{`Text startsWith "/" + "help"`, prefilter.Filter{Lits: []string{"/help"}}},
		{`Text startsWith "/" + Adapter`, prefilter.Filter{}},
		{`Adapter in ["a" + "b", "c"]`, prefilter.Filter{Platforms: []string{"ab", "c"}}},
		{`hasPrefix(Text, "!deploy")`, prefilter.Filter{Lits: []string{"!deploy"}}},
		{`isCommand("Help")`, prefilter.Filter{Lits: []string{"help"}}},
		{`hasTag("vip")`, prefilter.Filter{}},
		{`Conversation contains "abc"`, prefilter.Filter{}},
		{`Adapter == "a" && Text contains "xy" && Kind == "edit"`, prefilter.Filter{Platforms: []string{"a"}, Kinds: []string{"edit"}, Lits: []string{"xy"}}},
		{`Adapter == "a" and Adapter == "b"`, prefilter.Filter{Platforms: []string{}}},
		{`Text contains "xy" && Text contains "longer"`, prefilter.Filter{Lits: []string{"longer"}}},
		{`Adapter == "a" || Adapter == "b"`, prefilter.Filter{Platforms: []string{"a", "b"}}},
		{`Adapter == "a" || Text contains "xy"`, prefilter.Filter{}},
		{`Text contains "xy" || lower(Text) contains "zw"`, prefilter.Filter{Lits: []string{"xy", "zw"}}},
		{`(Adapter == "a" || Adapter == "b") && (Text contains "xy" || Text contains "zw")`, prefilter.Filter{Platforms: []string{"a", "b"}, Lits: []string{"xy", "zw"}}},
		{`not (Adapter == "a")`, prefilter.Filter{}},
		{`!(Text contains "xy")`, prefilter.Filter{}},
		{`Adapter != "a"`, prefilter.Filter{}},
		{`Direct ? Text contains "xy" : false`, prefilter.Filter{}},
		{`let p = "a"; Adapter == p`, prefilter.Filter{}},
		{`any(Tags, # == "vip")`, prefilter.Filter{}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			_, err := Expr(tt.src)
			require.NoError(t, err, "the expression must compile")
			tree, err := parser.Parse(tt.src)
			require.NoError(t, err)
			assert.Equal(t, tt.want, exprPrefilter(tree.Node))
		})
	}
}

func TestRulePrefilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rule Rule
		want prefilter.Filter
	}{
		{"Always", Always(), prefilter.Filter{}},
		{"Direct", Direct(), prefilter.Filter{}},
		{"RuleFunc", RuleFunc(nil), prefilter.Filter{}},
		{"Command", Command("Echo"), prefilter.Filter{Lits: []string{"echo"}}},
		{"short Command", Command("x"), prefilter.Filter{}},
		{"Prefix", Prefix("!deploy"), prefilter.Filter{Lits: []string{"!deploy"}}},
		{"short Prefix", Prefix("!"), prefilter.Filter{}},
		{"Regexp", Regexp(regexp.MustCompile(`(?i)\border\b`)), prefilter.Filter{Lits: []string{"order"}}},
		{"Platform", Platform("a", "b"), prefilter.Filter{Platforms: []string{"a", "b"}}},
		{"OfKind", OfKind("", KindEdit), prefilter.Filter{Kinds: []string{"message", "edit"}}},
		{"Expr", MustExpr(`Adapter == "a" && Text contains "xy"`), prefilter.Filter{Platforms: []string{"a"}, Lits: []string{"xy"}}},
		{"Not", Not(Command("echo")), prefilter.Filter{}},
		{
			"All intersects and picks the better literals",
			All(Platform("a", "b"), Platform("b", "c"), OfKind(KindEdit), Command("ab"), Command("longer")),
			prefilter.Filter{Platforms: []string{"b"}, Kinds: []string{"edit"}, Lits: []string{"longer"}},
		},
		{"All with disjoint platforms", All(Platform("a"), Platform("b")), prefilter.Filter{Platforms: []string{}}},
		{"All keeps a constraint of one rule", All(Direct(), Command("echo")), prefilter.Filter{Lits: []string{"echo"}}},
		{
			"Any unions where every rule constrains",
			Any(All(Platform("a"), Command("echo")), All(Platform("b"), Command("ping"))),
			prefilter.Filter{Platforms: []string{"a", "b"}, Lits: []string{"echo", "ping"}},
		},
		{"Any with an unconstrained rule", Any(Command("echo"), Direct()), prefilter.Filter{}},
		{"Any mixing constraints", Any(Platform("a"), Command("echo")), prefilter.Filter{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, prefilterOf(tt.rule))
		})
	}
}

func TestRouter_observer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		owner Owner
		want  []string
	}{
		{"bot owns", OwnerBot, []string{"observer", "command"}},
		{"no state", OwnerUnset, []string{"observer", "command"}},
		{"human owns", OwnerHuman, []string{"observer", "late observer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			record := func(name string, err error) HandlerFunc {
				return func(context.Context, Sender, *Message) error {
					got = append(got, name)
					return err
				}
			}
			r := NewRouter()
			r.HandleFunc(Always(), record("observer", ErrContinue), Observer(), Priority(1))
			r.HandleFunc(Command("help"), record("command", nil))
			r.HandleFunc(MustExpr(`Owner == "human"`), record("late observer", nil), Observer())
			r.NotFound(record("not found", nil))
			ctx := t.Context()
			if tt.owner != OwnerUnset {
				ctx = withState(ctx, &msgState{owner: tt.owner})
			}
			require.NoError(t, r.HandleMessage(ctx, nil, &Message{Text: "/help"}))
			assert.Equal(t, tt.want, got)

			got = nil
			require.NoError(t, r.HandleMessage(ctx, nil, &Message{Text: "/other"}))
			if tt.owner == OwnerHuman {
				assert.Equal(t, []string{"observer", "late observer"}, got, "no NotFound for human-owned conversations")
			} else {
				assert.Equal(t, []string{"observer", "not found"}, got)
			}
		})
	}
}

func TestExpr_envCache(t *testing.T) {
	t.Parallel()
	loc := time.FixedZone("UTC+5", 5*3600)
	st := &msgState{owner: OwnerHuman, loc: loc, vm: new(vm.VM)}
	ctx := withState(t.Context(), st)
	m := &Message{Platform: "a", Text: "hi", Time: time.Date(2024, 1, 2, 3, 4, 0, 0, time.UTC)}

	ok, err := MustExpr(`Owner == "human" && Time.Hour() == 8 && Time.Location().String() == "UTC+5"`).Match(ctx, m)
	require.NoError(t, err)
	assert.True(t, ok)
	require.NotNil(t, st.env)
	first := st.env
	assert.Equal(t, "message", first.Kind)
	assert.NotNil(t, st.vm.Stack, "the worker's VM is used")

	ok, err = MustExpr(`Platform == "a"`).Match(ctx, m)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Same(t, first, st.env, "one Env per message")

	m2 := &Message{Platform: "b"}
	ok, err = MustExpr(`Platform == "a"`).Match(ctx, m2)
	require.NoError(t, err)
	assert.False(t, ok, "a new message gets a new Env")
	assert.NotSame(t, first, st.env)
}

func TestRouter_exprStateOutsideBot(t *testing.T) {
	t.Parallel()
	var envs []*Env
	spy := RuleFunc(func(ctx context.Context, _ *Message) (bool, error) {
		if st := stateFrom(ctx); st != nil {
			envs = append(envs, st.env)
		}
		return false, nil
	})
	r := NewRouter()
	r.Handle(MustExpr(`Text contains "zz"`), HandlerFunc(func(context.Context, Sender, *Message) error { return ErrContinue }))
	r.Handle(spy, HandlerFunc(func(context.Context, Sender, *Message) error { return nil }))
	r.Handle(MustExpr(`Text contains "zz"`), HandlerFunc(func(context.Context, Sender, *Message) error { return ErrContinue }))
	r.Handle(spy, HandlerFunc(func(context.Context, Sender, *Message) error { return nil }))
	require.NoError(t, r.HandleMessage(t.Context(), nil, &Message{Text: "zz"}))
	require.Len(t, envs, 2)
	assert.NotNil(t, envs[0])
	assert.Same(t, envs[0], envs[1], "the router gives expression rules one Env per dispatch")
	assert.Nil(t, stateFrom(t.Context()))
}

func TestExpr_timeHelpers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// The bubble's clock starts at 2000-01-01 00:00 UTC, a Saturday:
		// 05:00 in the bot's zone.
		ctx := withState(t.Context(), &msgState{loc: time.FixedZone("UTC+5", 5*3600)})
		check := func(src string, want bool) {
			t.Helper()
			got, err := MustExpr(src).Match(ctx, &Message{})
			require.NoError(t, err, src)
			assert.Equal(t, want, got, "%s at %s", src, time.Now())
		}
		check(`hour() == 5`, true)
		check(`weekday() == "Saturday"`, true)
		check(`between("04:00", "06:00")`, true)
		check(`between("05:00", "05:00:01")`, true)
		check(`between("09:00", "17:30")`, false)
		check(`between("22:00", "06:00")`, true)

		time.Sleep(4 * time.Hour) // 09:00
		check(`hour() == 9`, true)
		check(`between("09:00", "17:30")`, true)
		check(`between("22:00", "06:00")`, false)

		time.Sleep(8*time.Hour + 30*time.Minute) // 17:30
		check(`between("09:00", "17:30")`, false)
		check(`between("17:30", "24:00")`, true)

		time.Sleep(6*time.Hour + 30*time.Minute) // Sunday 00:00
		check(`weekday() == "Sunday" && hour() == 0`, true)
		check(`between("22:00", "06:00")`, true)
	})
}

func TestParseClock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"00:00", 0, true},
		{"09:30", 9*time.Hour + 30*time.Minute, true},
		{"23:59:59", 24*time.Hour - time.Second, true},
		{"24:00", 24 * time.Hour, true},
		{"24:01", 0, false},
		{"9:30", 0, false},
		{"09:60", 0, false},
		{"09", 0, false},
		{"09:00:00:00", 0, false},
		{"-1:00", 0, false},
		{"ab:cd", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseClock(tt.in)
			if !tt.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRouter_dispatchAllocs(t *testing.T) {
	r := NewRouter()
	for i := range 200 {
		r.Handle(MustExpr(fmt.Sprintf(`Platform == "sendbee" && lower(Text) contains "keyword%d"`, i)), HandlerFunc(func(context.Context, Sender, *Message) error { return nil }))
		r.Handle(Command(fmt.Sprintf("cmd%d", i)), HandlerFunc(func(context.Context, Sender, *Message) error { return nil }))
	}
	m := &Message{Platform: "sendbee", Text: "hello there, nothing to see"}
	ctx := context.Background()
	require.NoError(t, r.HandleMessage(ctx, nil, m))
	allocs := testing.AllocsPerRun(100, func() { _ = r.HandleMessage(ctx, nil, m) })
	// A miss allocates nothing; the bound leaves room for the race
	// detector, under which sync.Pool drops a quarter of what is put back.
	assert.LessOrEqual(t, allocs, 2.0, "routing a message that matches nothing should not allocate")
}

package bot

// Internal tests of the router's unexported machinery: prefilter
// derivation and the route index, plus
// the paths that depend on the per-message state only a Bot sets
// (conversation ownership, the bot's time zone, the worker's VM).

import (
	"context"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"github.com/parleybot/parley/bot/internal/literal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// foldedContains is the specification of the automaton.
func foldedContains(text, pattern string) bool {
	var b strings.Builder
	for _, r := range text { // invalid bytes become U+FFFD, as in Scan
		b.WriteRune(literal.FoldRune(r))
	}
	return strings.Contains(b.String(), pattern)
}

func TestRegexpLits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		re   string
		want []string
	}{
		{`hello`, []string{"hello"}},
		{`(?i)HeLLo`, []string{"hello"}},
		{`^hello, world$`, []string{"hello, world"}},
		{`\bord(er)?\b`, []string{"ord"}},
		{`order #(\d+)`, []string{"order #"}},
		{`\d+ items`, []string{" items"}},
		{`x+yz`, []string{"yz"}},
		{`(ab)+`, []string{"ab"}},
		{`(?:abc){2,}`, []string{"abc"}},
		{`(?:abc){0,3}`, nil},
		{`(abc)*`, nil},
		{`(abc)?`, nil},
		{`foo|bar`, []string{"bar", "foo"}},
		{`(?i)(foo|bar)baz`, []string{"baz"}}, // equal length: the smaller set wins
		{`(foo|b)`, nil},
		{`(foo|)`, nil},
		{`a`, nil},
		{`[a-z]+`, nil},
		{`.*`, nil},
		{`\x{212A}elvin`, []string{"kelvin"}},
		{`straße`, []string{"straße"}},
		{`İstanbul`, []string{"istanbul"}},
		{`(?:longer|words)\s+(?:ab|cd)`, []string{"longer", "words"}},
	}
	for _, tt := range tests {
		t.Run(tt.re, func(t *testing.T) {
			t.Parallel()
			re, err := syntax.Parse(tt.re, syntax.Perl)
			require.NoError(t, err)
			assert.Equal(t, tt.want, regexpLits(re))
		})
	}
}

func TestExprPrefilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		want prefilter
	}{
		{`Adapter == "sendbee"`, prefilter{platforms: []string{"sendbee"}}},
		// Platform is the platform of every instance ("sendbee" for
		// "sendbee/acme"): no adapter name to index.
		{`Platform == "sendbee"`, prefilter{}},
		{`Platform in ["sendbee", "velaflows"]`, prefilter{}},
		{`"sendbee" == Adapter`, prefilter{platforms: []string{"sendbee"}}},
		{`Adapter in ["a", "b"]`, prefilter{platforms: []string{"a", "b"}}},
		{`Adapter in []`, prefilter{platforms: []string{}}},
		{`Adapter in ["a", Text]`, prefilter{}},
		{`Kind == "edit"`, prefilter{kinds: []Kind{KindEdit}}},
		{`Kind in ["edit", "delete"]`, prefilter{kinds: []Kind{KindEdit, KindDelete}}},
		{`Text contains "Order"`, prefilter{lits: []string{"order"}}},
		{`Text startsWith "/Help"`, prefilter{lits: []string{"/help"}}},
		{`Text endsWith "??"`, prefilter{lits: []string{"??"}}},
		{`Text == "hi"`, prefilter{lits: []string{"hi"}}},
		{`"hi" == Text`, prefilter{lits: []string{"hi"}}},
		{`Text == "h"`, prefilter{}},
		{`lower(Text) contains "order"`, prefilter{lits: []string{"order"}}},
		{`upper(trim(Text)) contains "ORDER"`, prefilter{lits: []string{"order"}}},
		{`Text | lower() contains "order"`, prefilter{lits: []string{"order"}}},
		{`(Text | lower()) contains "order"`, prefilter{lits: []string{"order"}}},
		{`Text matches "(?i)order #\\d+"`, prefilter{lits: []string{"order #"}}},
		{`Text matches "a|b"`, prefilter{}},
		{`Text matches "(?i)" + "order" + "s?"`, prefilter{lits: []string{"order"}}},
		{`Text startsWith "/" + "help"`, prefilter{lits: []string{"/help"}}},
		{`Text startsWith "/" + Adapter`, prefilter{}},
		{`Adapter in ["a" + "b", "c"]`, prefilter{platforms: []string{"ab", "c"}}},
		{`hasPrefix(Text, "!deploy")`, prefilter{lits: []string{"!deploy"}}},
		{`isCommand("Help")`, prefilter{lits: []string{"help"}}},
		{`hasTag("vip")`, prefilter{}},
		{`Conversation contains "abc"`, prefilter{}},
		{`Adapter == "a" && Text contains "xy" && Kind == "edit"`, prefilter{platforms: []string{"a"}, kinds: []Kind{KindEdit}, lits: []string{"xy"}}},
		{`Adapter == "a" and Adapter == "b"`, prefilter{platforms: []string{}}},
		{`Text contains "xy" && Text contains "longer"`, prefilter{lits: []string{"longer"}}},
		{`Adapter == "a" || Adapter == "b"`, prefilter{platforms: []string{"a", "b"}}},
		{`Adapter == "a" || Text contains "xy"`, prefilter{}},
		{`Text contains "xy" || lower(Text) contains "zw"`, prefilter{lits: []string{"xy", "zw"}}},
		{`(Adapter == "a" || Adapter == "b") && (Text contains "xy" || Text contains "zw")`, prefilter{platforms: []string{"a", "b"}, lits: []string{"xy", "zw"}}},
		{`not (Adapter == "a")`, prefilter{}},
		{`!(Text contains "xy")`, prefilter{}},
		{`Adapter != "a"`, prefilter{}},
		{`Direct ? Text contains "xy" : false`, prefilter{}},
		{`let p = "a"; Adapter == p`, prefilter{}},
		{`any(Tags, # == "vip")`, prefilter{}},
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
		want prefilter
	}{
		{"Always", Always(), prefilter{}},
		{"Direct", Direct(), prefilter{}},
		{"RuleFunc", RuleFunc(nil), prefilter{}},
		{"Command", Command("Echo"), prefilter{lits: []string{"echo"}}},
		{"short Command", Command("x"), prefilter{}},
		{"Prefix", Prefix("!deploy"), prefilter{lits: []string{"!deploy"}}},
		{"short Prefix", Prefix("!"), prefilter{}},
		{"Regexp", Regexp(regexp.MustCompile(`(?i)\border\b`)), prefilter{lits: []string{"order"}}},
		{"Platform", Platform("a", "b"), prefilter{platforms: []string{"a", "b"}}},
		{"OfKind", OfKind("", KindEdit), prefilter{kinds: []Kind{KindMessage, KindEdit}}},
		{"Expr", MustExpr(`Adapter == "a" && Text contains "xy"`), prefilter{platforms: []string{"a"}, lits: []string{"xy"}}},
		{"Not", Not(Command("echo")), prefilter{}},
		{
			"All intersects and picks the better literals",
			All(Platform("a", "b"), Platform("b", "c"), OfKind(KindEdit), Command("ab"), Command("longer")),
			prefilter{platforms: []string{"b"}, kinds: []Kind{KindEdit}, lits: []string{"longer"}},
		},
		{"All with disjoint platforms", All(Platform("a"), Platform("b")), prefilter{platforms: []string{}}},
		{"All keeps a constraint of one rule", All(Direct(), Command("echo")), prefilter{lits: []string{"echo"}}},
		{
			"Any unions where every rule constrains",
			Any(All(Platform("a"), Command("echo")), All(Platform("b"), Command("ping"))),
			prefilter{platforms: []string{"a", "b"}, lits: []string{"echo", "ping"}},
		},
		{"Any with an unconstrained rule", Any(Command("echo"), Direct()), prefilter{}},
		{"Any mixing constraints", Any(Platform("a"), Command("echo")), prefilter{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, prefilterOf(tt.rule))
		})
	}
}

// allows is the specification of a prefilter, which the route index
// implements in bulk: whether m passes p.
func (p prefilter) allows(m *Message) bool {
	if p.platforms != nil && !slices.Contains(p.platforms, m.Platform) {
		return false
	}
	if p.kinds != nil && !slices.Contains(p.kinds, m.Kind.Or()) {
		return false
	}
	if p.lits == nil {
		return true
	}
	return slices.ContainsFunc(p.lits, func(l string) bool { return foldedContains(m.Text, l) })
}

func TestPrefilter_allows(t *testing.T) {
	t.Parallel()
	p := prefilter{platforms: []string{"a"}, kinds: []Kind{KindMessage}, lits: litSet("Order", "ping")}
	tests := []struct {
		m    *Message
		want bool
	}{
		{&Message{Platform: "a", Text: "my ORDER"}, true},
		{&Message{Platform: "a", Kind: KindMessage, Text: "PiNg"}, true},
		{&Message{Platform: "b", Text: "my ORDER"}, false},
		{&Message{Platform: "a", Kind: KindEdit, Text: "my ORDER"}, false},
		{&Message{Platform: "a", Text: "pong"}, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, p.allows(tt.m), "%+v", tt.m)
	}
}

func TestRouteIndex_candidates(t *testing.T) {
	t.Parallel()
	pfs := []prefilter{
		{},                             // 0: always a candidate
		{lits: litSet("echo")},         // 1
		{platforms: []string{"a"}},     // 2
		{kinds: []Kind{KindEdit}},      // 3
		{platforms: []string{}},        // 4: never
		{lits: litSet("echo", "ping")}, // 5
		{platforms: []string{"b"}, lits: litSet("ping")}, // 6
	}
	for i := 7; i < 140; i++ { // spill over several words
		pfs = append(pfs, prefilter{lits: litSet(fmt.Sprintf("w%03d", i))})
	}
	observer := make([]bool, len(pfs))
	observer[1], observer[6], observer[139] = true, true, true
	ix := newRouteIndex(pfs, observer)
	tests := []struct {
		name     string
		m        *Message
		observer bool
		want     []int
	}{
		{"nothing special", &Message{Platform: "z", Text: "hi"}, false, []int{0}},
		{"literal", &Message{Platform: "z", Text: "ECHO"}, false, []int{0, 1, 5}},
		{"platform", &Message{Platform: "a", Text: "hi"}, false, []int{0, 2}},
		{"kind", &Message{Platform: "z", Kind: KindEdit, Text: "hi"}, false, []int{0, 3}},
		{"platform and literal", &Message{Platform: "b", Text: "ping w139 w007"}, false, []int{0, 5, 6, 7, 139}},
		{"observers only", &Message{Platform: "b", Text: "echo ping w139 w007"}, true, []int{1, 6, 139}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cand, s := ix.candidates(tt.m, tt.observer)
			var got []int
			for i := range pfs {
				if cand[i/64]&(1<<(i%64)) != 0 {
					got = append(got, i)
				}
			}
			ix.put(s)
			assert.Equal(t, tt.want, got)
			for i, p := range pfs { // the index agrees with its specification
				want := p.allows(tt.m) && (!tt.observer || observer[i])
				assert.Equal(t, want, slices.Contains(got, i), "route %d", i)
			}
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

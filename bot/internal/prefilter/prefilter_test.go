package prefilter

import (
	"fmt"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"

	"github.com/parleybot/parley/bot/internal/literal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
			assert.Equal(t, tt.want, RegexpLits(re))
		})
	}
}

// allows is the specification of a prefilter, which the route index
// implements in bulk: whether a message passes p.
func (p Filter) allows(platform, kind, text string) bool {
	if p.Platforms != nil && !slices.Contains(p.Platforms, platform) {
		return false
	}
	if p.Kinds != nil && !slices.Contains(p.Kinds, kind) {
		return false
	}
	if p.Lits == nil {
		return true
	}
	return slices.ContainsFunc(p.Lits, func(l string) bool { return foldedContains(text, l) })
}

// msg is a message as the index knows it.
type msg struct{ platform, kind, text string }

func TestFilter_allows(t *testing.T) {
	t.Parallel()
	p := Filter{Platforms: []string{"a"}, Kinds: []string{"message"}, Lits: Lits("Order", "ping")}
	tests := []struct {
		m    msg
		want bool
	}{
		{msg{"a", "message", "my ORDER"}, true},
		{msg{"a", "message", "PiNg"}, true},
		{msg{"b", "message", "my ORDER"}, false},
		{msg{"a", "edit", "my ORDER"}, false},
		{msg{"a", "message", "pong"}, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, p.allows(tt.m.platform, tt.m.kind, tt.m.text), "%+v", tt.m)
	}
}

func TestIndex_Candidates(t *testing.T) {
	t.Parallel()
	pfs := []Filter{
		{},                           // 0: always a candidate
		{Lits: Lits("echo")},         // 1
		{Platforms: []string{"a"}},   // 2
		{Kinds: []string{"edit"}},    // 3
		{Platforms: []string{}},      // 4: never
		{Lits: Lits("echo", "ping")}, // 5
		{Platforms: []string{"b"}, Lits: Lits("ping")}, // 6
	}
	for i := 7; i < 140; i++ { // spill over several words
		pfs = append(pfs, Filter{Lits: Lits(fmt.Sprintf("w%03d", i))})
	}
	observer := make([]bool, len(pfs))
	observer[1], observer[6], observer[139] = true, true, true
	ix := NewIndex(pfs, observer)
	tests := []struct {
		name     string
		m        msg
		observer bool
		want     []int
	}{
		{"nothing special", msg{"z", "message", "hi"}, false, []int{0}},
		{"literal", msg{"z", "message", "ECHO"}, false, []int{0, 1, 5}},
		{"platform", msg{"a", "message", "hi"}, false, []int{0, 2}},
		{"kind", msg{"z", "edit", "hi"}, false, []int{0, 3}},
		{"platform and literal", msg{"b", "message", "ping w139 w007"}, false, []int{0, 5, 6, 7, 139}},
		{"observers only", msg{"b", "message", "echo ping w139 w007"}, true, []int{1, 6, 139}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cand, s := ix.Candidates(tt.m.platform, tt.m.kind, tt.m.text, tt.observer)
			var got []int
			for i := range pfs {
				if cand[i/64]&(1<<(i%64)) != 0 {
					got = append(got, i)
				}
			}
			ix.Put(s)
			assert.Equal(t, tt.want, got)
			for i, p := range pfs { // the index agrees with its specification
				want := p.allows(tt.m.platform, tt.m.kind, tt.m.text) && (!tt.observer || observer[i])
				assert.Equal(t, want, slices.Contains(got, i), "route %d", i)
			}
		})
	}
}

// foldedContains is the specification of the automaton.
func foldedContains(text, pattern string) bool {
	var b strings.Builder
	for _, r := range text { // invalid bytes become U+FFFD, as in Scan
		b.WriteRune(literal.FoldRune(r))
	}
	return strings.Contains(b.String(), pattern)
}

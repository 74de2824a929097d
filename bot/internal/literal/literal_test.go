package literal

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFoldRune(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want rune
	}{
		{'a', 'a'}, {'A', 'a'}, {'z', 'z'}, {'Z', 'z'}, {'0', '0'}, {'/', '/'},
		{'\u212A', 'k'},        // Kelvin sign
		{'\u017F', 's'},        // long s
		{'\u0130', 'i'},        // capital I with dot above: ToLower gives 'i'
		{'\u0131', 'i'},        // dotless i: ToUpper gives 'I'
		{'Ü', 'Ü'}, {'ü', 'Ü'}, // the smallest rune of a class without ASCII letters
		{'ẞ', 'ß'}, {'ß', 'ß'},
		{'Σ', 'Σ'}, {'σ', 'Σ'}, {'ς', 'Σ'},
		{'日', '日'},
	}
	for _, tt := range tests {
		t.Run(string(tt.in), func(t *testing.T) {
			assert.Equal(t, string(tt.want), string(FoldRune(tt.in)))
		})
	}
}

// TestFoldRune_classes checks the property the prefilter relies on: runes
// that any case mapping or simple folding relates have one representative.
func TestFoldRune_classes(t *testing.T) {
	t.Parallel()
	for _, cr := range unicode.CaseRanges {
		for r := rune(cr.Lo); r <= rune(cr.Hi); r++ {
			f := FoldRune(r)
			require.Equal(t, f, FoldRune(f), "idempotent for %U", r)
			require.Equal(t, f, FoldRune(unicode.ToLower(r)), "ToLower of %U", r)
			require.Equal(t, f, FoldRune(unicode.ToUpper(r)), "ToUpper of %U", r)
			require.Equal(t, f, FoldRune(unicode.ToTitle(r)), "ToTitle of %U", r)
			require.Equal(t, f, FoldRune(unicode.SimpleFold(r)), "SimpleFold of %U", r)
		}
	}
}

func TestFold(t *testing.T) {
	t.Parallel()
	got, ok := Fold("Hello \u212Aelvin İSTANBUL")
	assert.True(t, ok)
	assert.Equal(t, "hello kelvin istanbul", got)
	_, ok = Fold("a\xffb")
	assert.False(t, ok, "invalid UTF-8")
}

// foldedContains is the specification of the automaton.
func foldedContains(text, pattern string) bool {
	var b strings.Builder
	for _, r := range text { // invalid bytes become U+FFFD, as in Scan
		b.WriteRune(FoldRune(r))
	}
	return strings.Contains(b.String(), pattern)
}

func TestAutomaton_Scan(t *testing.T) {
	t.Parallel()
	patterns := []string{"he", "she", "his", "hers", "kelvin", "straße", "istanbul", "ab", "b"}
	tests := []struct {
		text string
		want []string
	}{
		{"", nil},
		{"ushers", []string{"he", "she", "hers"}},
		{"USHERS", []string{"he", "she", "hers"}},
		{"this", []string{"his"}},
		{"\u212AELVIN", []string{"kelvin"}},
		{"STRAẞE", []string{"straße"}},
		{"İSTANBUL", []string{"istanbul", "b"}},
		{"ıstanbul", []string{"istanbul", "b"}},
		{"xAbx", []string{"ab", "b"}},
		{"a\xffb", []string{"b"}},
	}
	a := NewAutomaton(patterns)
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			seen := make([]uint64, 1)
			a.Scan(tt.text, seen)
			var got []string
			for i, p := range patterns {
				if seen[0]&(1<<i) != 0 {
					got = append(got, p)
				}
			}
			assert.ElementsMatch(t, tt.want, got)
		})
	}
}

func TestAutomaton_random(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "A", "B", "c", "\u212A", "k", "K", "ß", "ẞ", "ü", "Ü", "\xff", "\u0130", "i"}
	word := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 200 {
		set := map[string]bool{}
		for range 1 + rng.IntN(70) {
			if p, ok := Fold(word(1 + rng.IntN(4))); ok {
				set[p] = true
			}
		}
		var patterns []string
		for p := range set {
			patterns = append(patterns, p)
		}
		slices.Sort(patterns)
		a := NewAutomaton(patterns)
		for range 20 {
			text := word(rng.IntN(30))
			seen := make([]uint64, (len(patterns)+63)/64)
			a.Scan(text, seen)
			for i, p := range patterns {
				want := foldedContains(text, p)
				got := seen[i/64]&(1<<(i%64)) != 0
				require.Equal(t, want, got, "pattern %q in text %q", p, text)
			}
		}
	}
}

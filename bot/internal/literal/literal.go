// Package literal is the case-folding literal matcher behind the router's
// prefilter: a canonical case fold of runes and an Aho–Corasick automaton
// that finds every literal occurring in a text in one pass.
//
// The prefilter must never drop a rule that could match, so "literal ℓ
// occurs in the text" is tested up to an equivalence of runes that is at
// least as coarse as every case-insensitive comparison a rule may use:
// Unicode simple folding (strings.EqualFold, regexp's (?i)) and the
// per-rune mappings of strings.ToLower, ToUpper and ToTitle (expr's lower()
// and upper()). FoldRune maps each rune to one representative of its class;
// literals are folded once at build time and the text while it is scanned.
package literal

import (
	"sync"
	"unicode"
	"unicode/utf8"
)

// FoldRune returns the representative of r's case class: the lowercase
// letter for ASCII letters and for every rune that is case-equivalent to one
// (such as the Kelvin sign or the long s), and the smallest rune of the class
// otherwise.
func FoldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	if c, ok := foldClasses()[r]; ok {
		return c
	}
	return r
}

// foldClasses returns the representative of every non-ASCII rune that is not
// its own representative. The classes are the connected components of the
// graph whose edges join a rune to its ToLower, ToUpper, ToTitle and
// SimpleFold images; all of those runes are listed in unicode.CaseRanges.
var foldClasses = sync.OnceValue(func() map[rune]rune {
	parent := make(map[rune]rune, 4096)
	var find func(r rune) rune
	find = func(r rune) rune {
		p := parent[r]
		if p == r {
			return r
		}
		root := find(p)
		parent[r] = root
		return root
	}
	union := func(a, b rune) {
		for _, r := range [2]rune{a, b} {
			if _, ok := parent[r]; !ok {
				parent[r] = r
			}
		}
		if ra, rb := find(a), find(b); ra != rb {
			parent[rb] = ra
		}
	}
	for _, cr := range unicode.CaseRanges {
		for r := rune(cr.Lo); r <= rune(cr.Hi); r++ {
			union(r, unicode.ToLower(r))
			union(r, unicode.ToUpper(r))
			union(r, unicode.ToTitle(r))
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				union(r, f)
			}
		}
	}
	// Pick each class's representative: an ASCII lowercase letter when the
	// class has an ASCII letter, the smallest rune otherwise.
	best := make(map[rune]rune, len(parent))
	for r := range parent {
		root := find(r)
		b, ok := best[root]
		switch {
		case !ok:
			best[root] = r
		case isASCIILetter(r) && !isASCIILetter(b):
			best[root] = r
		case isASCIILetter(r) == isASCIILetter(b) && r < b:
			best[root] = r
		}
	}
	out := make(map[rune]rune)
	for r := range parent {
		if r < utf8.RuneSelf {
			continue // ASCII is folded arithmetically
		}
		c := best[find(r)]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != r {
			out[r] = c
		}
	}
	return out
})

func isASCIILetter(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
}

// Fold returns s with every rune replaced by its representative. It
// reports false when s is not valid UTF-8: such a literal cannot be folded
// consistently with the text around it and is not used by the prefilter.
func Fold(s string) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		b = utf8.AppendRune(b, FoldRune(r))
	}
	return string(b), true
}

// An Automaton is an Aho–Corasick automaton over folded literals, compiled
// to a dense transition table over byte classes. It is immutable once built
// and safe for concurrent use.
type Automaton struct {
	cls   [256]uint16 // byte → class; ASCII upper case maps to its lower case class
	ncls  int
	delta []int32 // delta[state*ncls+class] = next state
	out   []int32 // pattern ending at state, or -1
	dict  []int32 // nearest state on the failure chain with an output, or -1
	term  []bool  // out >= 0 || dict >= 0
}

// NewAutomaton builds an automaton for patterns, which must be folded (see
// Fold), non-empty and distinct. Pattern i is reported as i.
func NewAutomaton(patterns []string) *Automaton {
	a := &Automaton{}
	// Byte classes: one per byte occurring in a pattern, class 0 for all
	// other bytes.
	var used [256]bool
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			used[p[i]] = true
		}
	}
	a.ncls = 1
	for b := range 256 {
		if used[b] {
			a.cls[b] = uint16(a.ncls)
			a.ncls++
		}
	}
	for b := 'A'; b <= 'Z'; b++ {
		a.cls[b] = a.cls[b+'a'-'A']
	}

	// The trie; -1 marks a missing edge.
	newState := func() int32 {
		for range a.ncls {
			a.delta = append(a.delta, -1)
		}
		a.out = append(a.out, -1)
		return int32(len(a.out) - 1)
	}
	newState() // root
	for id, p := range patterns {
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := int(a.cls[p[i]])
			next := a.delta[int(s)*a.ncls+c]
			if next < 0 {
				next = newState()
				a.delta[int(s)*a.ncls+c] = next
			}
			s = next
		}
		a.out[s] = int32(id)
	}

	// Breadth-first: failure links, dictionary links and the missing edges.
	n := len(a.out)
	fail := make([]int32, n)
	a.dict = make([]int32, n)
	a.term = make([]bool, n)
	a.dict[0] = -1
	queue := make([]int32, 0, n)
	for c := range a.ncls {
		u := a.delta[c]
		if u < 0 {
			a.delta[c] = 0
			continue
		}
		fail[u] = 0
		a.dict[u] = -1
		queue = append(queue, u)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		a.term[s] = a.out[s] >= 0 || a.dict[s] >= 0
		row := int(s) * a.ncls
		frow := int(fail[s]) * a.ncls
		for c := range a.ncls {
			u := a.delta[row+c]
			if u < 0 {
				a.delta[row+c] = a.delta[frow+c]
				continue
			}
			f := a.delta[frow+c]
			fail[u] = f
			if a.out[f] >= 0 {
				a.dict[u] = f
			} else {
				a.dict[u] = a.dict[f]
			}
			queue = append(queue, u)
		}
	}
	return a
}

// Scan folds text and sets bit i of seen for every pattern i that occurs in
// it. seen must have room for every pattern. It does not allocate.
func (a *Automaton) Scan(text string, seen []uint64) {
	s := int32(0)
	for i := 0; i < len(text); {
		b := text[i]
		if b < utf8.RuneSelf {
			s = a.delta[int(s)*a.ncls+int(a.cls[b])]
			i++
			if a.term[s] {
				a.report(s, seen)
			}
			continue
		}
		r, w := utf8.DecodeRuneInString(text[i:])
		i += w
		var buf [utf8.UTFMax]byte
		n := utf8.EncodeRune(buf[:], FoldRune(r))
		for _, c := range buf[:n] {
			s = a.delta[int(s)*a.ncls+int(a.cls[c])]
			if a.term[s] {
				a.report(s, seen)
			}
		}
	}
}

func (a *Automaton) report(s int32, seen []uint64) {
	if p := a.out[s]; p >= 0 {
		seen[p>>6] |= 1 << (uint(p) & 63)
	}
	for t := a.dict[s]; t >= 0; t = a.dict[t] {
		p := a.out[t]
		seen[p>>6] |= 1 << (uint(p) & 63)
	}
}

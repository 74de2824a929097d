// Package prefilter is the router's prefilter: necessary conditions for
// rules to match, their algebra, the literals a regular expression
// requires, and an index that finds, for a message, the routes whose
// conditions it meets. What a bot rule or expression requires is derived
// in package bot; this package knows messages only by their platform, kind
// and text.
package prefilter

import (
	"math/bits"
	"regexp/syntax"
	"slices"
	"sync"

	"github.com/parleybot/parley/bot/internal/literal"
)

// A Filter is a necessary condition for a rule to match: when a message
// fails it, the rule certainly does not match and the router need not ask.
// The zero Filter allows every message.
//
// Every field may be nil, meaning "no constraint". A non-nil empty
// Platforms or Kinds set allows no message at all.
type Filter struct {
	Platforms []string // the message's adapter name is one of these
	// Kinds: the message's kind is one of these. Kinds are compared as
	// given: the caller resolves a default kind on both sides.
	Kinds []string
	// Lits are folded literals (see Lits), each at least minLiteral bytes
	// long: at least one of them occurs in the folded message text.
	Lits []string
}

// minLiteral is the shortest literal worth indexing; shorter literals occur
// in almost every text.
const minLiteral = 2

// Lits folds ls into a literal set (see literal.Fold). It returns nil (no
// constraint) when ls is empty or when any literal is too short or not
// valid UTF-8, because the set only constrains if every alternative does.
func Lits(ls ...string) []string {
	if len(ls) == 0 {
		return nil
	}
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		f, ok := literal.Fold(l)
		if !ok || len(f) < minLiteral {
			return nil
		}
		out = append(out, f)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// minLen is the length of the shortest literal of a set, the measure of how
// selective it is.
func minLen(ls []string) int {
	m := -1
	for _, l := range ls {
		if m < 0 || len(l) < m {
			m = len(l)
		}
	}
	return m
}

// betterLits picks the more selective of two literal sets: the one whose
// shortest literal is longer, then the smaller one, then a.
func betterLits(a, b []string) []string {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	if ma, mb := minLen(a), minLen(b); ma != mb {
		if ma > mb {
			return a
		}
		return b
	}
	if len(b) < len(a) {
		return b
	}
	return a
}

// unionLits is the set of either: a constraint only if both are.
func unionLits(a, b []string) []string {
	if a == nil || b == nil {
		return nil
	}
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

func intersectSet[T comparable](a, b []T) []T {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	out := []T{}
	for _, x := range a {
		if slices.Contains(b, x) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func unionSet[T comparable](a, b []T) []T {
	if a == nil || b == nil {
		return nil
	}
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// And is the Filter of "p and q".
func (p Filter) And(q Filter) Filter {
	return Filter{
		Platforms: intersectSet(p.Platforms, q.Platforms),
		Kinds:     intersectSet(p.Kinds, q.Kinds),
		Lits:      betterLits(p.Lits, q.Lits),
	}
}

// Or is the Filter of "p or q": each constraint survives only where both
// sides have it.
func (p Filter) Or(q Filter) Filter {
	return Filter{
		Platforms: unionSet(p.Platforms, q.Platforms),
		Kinds:     unionSet(p.Kinds, q.Kinds),
		Lits:      unionLits(p.Lits, q.Lits),
	}
}

// RegexpLits returns literals of which at least one occurs in every text re
// matches (compared after folding), or nil if it finds none worth using.
func RegexpLits(re *syntax.Regexp) []string {
	ls := regexpLitsRaw(re.Simplify())
	return Lits(ls...)
}

func regexpLitsRaw(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		return Lits(string(re.Rune))
	case syntax.OpCapture, syntax.OpPlus:
		return regexpLitsRaw(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return regexpLitsRaw(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []string
		for _, sub := range re.Sub {
			best = betterLits(best, regexpLitsRaw(sub))
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			ls := regexpLitsRaw(sub)
			if ls == nil {
				return nil
			}
			all = append(all, ls...)
		}
		return Lits(all...)
	}
	return nil
}

// An Index finds, for a message, the routes whose Filter it passes,
// as a bit set over route positions, so that the router asks only those
// rules and in route order. It is immutable once built and safe for
// concurrent use.
type Index struct {
	words    int
	noLit    []uint64            // routes without a literal constraint
	observer []uint64            // observer routes
	anyPlat  []uint64            // routes for a platform no route names
	plat     map[string][]uint64 // routes allowed on a named platform
	anyKind  []uint64
	kind     map[string][]uint64
	ac       *literal.Automaton // nil when no route has literals
	patterns [][]int32          // pattern → routes requiring it (one of)
	scratch  sync.Pool          // *Scratch
}

// A Scratch is the pooled working space of one Candidates call, which
// holds the bit set it returns.
type Scratch struct {
	cand []uint64 // routes
	seen []uint64 // patterns
}

// NewIndex indexes routes by their Filters: route i has Filter pfs[i] and
// is an observer route if observer[i].
func NewIndex(pfs []Filter, observer []bool) *Index {
	n := len(pfs)
	words := (n + 63) / 64
	ix := &Index{
		words:    words,
		noLit:    make([]uint64, words),
		observer: make([]uint64, words),
		anyPlat:  make([]uint64, words),
		plat:     make(map[string][]uint64),
		anyKind:  make([]uint64, words),
		kind:     make(map[string][]uint64),
	}
	set := func(bs []uint64, i int) { bs[i>>6] |= 1 << (uint(i) & 63) }
	for i, p := range pfs {
		for _, name := range p.Platforms {
			if ix.plat[name] == nil {
				ix.plat[name] = make([]uint64, words)
			}
		}
		for _, k := range p.Kinds {
			if ix.kind[k] == nil {
				ix.kind[k] = make([]uint64, words)
			}
		}
		if observer[i] {
			set(ix.observer, i)
		}
	}
	patID := map[string]int32{}
	var patterns []string
	for i, p := range pfs {
		if p.Platforms == nil {
			set(ix.anyPlat, i)
			for _, bs := range ix.plat {
				set(bs, i)
			}
		} else {
			for _, name := range p.Platforms {
				set(ix.plat[name], i)
			}
		}
		if p.Kinds == nil {
			set(ix.anyKind, i)
			for _, bs := range ix.kind {
				set(bs, i)
			}
		} else {
			for _, k := range p.Kinds {
				set(ix.kind[k], i)
			}
		}
		if p.Lits == nil {
			set(ix.noLit, i)
			continue
		}
		for _, l := range p.Lits {
			id, ok := patID[l]
			if !ok {
				id = int32(len(patterns))
				patID[l] = id
				patterns = append(patterns, l)
				ix.patterns = append(ix.patterns, nil)
			}
			if r := ix.patterns[id]; len(r) == 0 || r[len(r)-1] != int32(i) {
				ix.patterns[id] = append(r, int32(i))
			}
		}
	}
	if len(patterns) > 0 {
		ix.ac = literal.NewAutomaton(patterns)
	}
	pwords := (len(patterns) + 63) / 64
	ix.scratch.New = func() any {
		return &Scratch{cand: make([]uint64, words), seen: make([]uint64, pwords)}
	}
	return ix
}

// Candidates returns the routes whose Filters a message passes, as a bit
// set over route positions, restricted to observer routes when
// observersOnly. The message is known by its adapter name, its kind and its
// text. The caller must hand s back with Put once done with the result.
func (ix *Index) Candidates(platform, kind, text string, observersOnly bool) (cand []uint64, s *Scratch) {
	s = ix.scratch.Get().(*Scratch)
	cand = s.cand
	clear(cand)
	if ix.ac != nil {
		clear(s.seen)
		ix.ac.Scan(text, s.seen)
		for w, word := range s.seen {
			for word != 0 {
				p := w<<6 | bits.TrailingZeros64(word)
				word &= word - 1
				for _, r := range ix.patterns[p] {
					cand[r>>6] |= 1 << (uint(r) & 63)
				}
			}
		}
	}
	plat, ok := ix.plat[platform]
	if !ok {
		plat = ix.anyPlat
	}
	kinds, ok := ix.kind[kind]
	if !ok {
		kinds = ix.anyKind
	}
	for i := range cand {
		cand[i] = (cand[i] | ix.noLit[i]) & plat[i] & kinds[i]
		if observersOnly {
			cand[i] &= ix.observer[i]
		}
	}
	return cand, s
}

// Put hands back the scratch space of a Candidates result.
func (ix *Index) Put(s *Scratch) { ix.scratch.Put(s) }

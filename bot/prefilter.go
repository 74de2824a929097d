package bot

import (
	"math/bits"
	"regexp/syntax"
	"slices"
	"sync"

	"github.com/expr-lang/expr/ast"
	"github.com/parleybot/parley/bot/internal/literal"
)

// A prefilter is a necessary condition for a rule to match: when a message
// fails it, the rule certainly does not match and the router need not ask.
// The zero prefilter allows every message.
//
// Every field may be nil, meaning "no constraint". A non-nil empty
// platforms or kinds set allows no message at all.
type prefilter struct {
	platforms []string // m.Platform is one of these
	kinds     []Kind   // m.Kind.Or() is one of these
	// lits are folded literals (see literal.Fold), each at least minLiteral
	// bytes long: at least one of them occurs in the folded m.Text.
	lits []string
}

// minLiteral is the shortest literal worth indexing; shorter literals occur
// in almost every text.
const minLiteral = 2

// A prefilterer is a Rule that can state its prefilter. Every built-in rule
// is one; a Rule that is not has the zero prefilter.
type prefilterer interface {
	prefilter() prefilter
}

func prefilterOf(r Rule) prefilter {
	if p, ok := r.(prefilterer); ok {
		return p.prefilter()
	}
	return prefilter{}
}

// litSet folds ls into a literal set. It returns nil (no constraint) when ls
// is empty or when any literal is too short or not valid UTF-8, because the
// set only constrains if every alternative does.
func litSet(ls ...string) []string {
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

// and is the prefilter of "p and q".
func (p prefilter) and(q prefilter) prefilter {
	return prefilter{
		platforms: intersectSet(p.platforms, q.platforms),
		kinds:     intersectSet(p.kinds, q.kinds),
		lits:      betterLits(p.lits, q.lits),
	}
}

// or is the prefilter of "p or q": each constraint survives only where both
// sides have it.
func (p prefilter) or(q prefilter) prefilter {
	return prefilter{
		platforms: unionSet(p.platforms, q.platforms),
		kinds:     unionSet(p.kinds, q.kinds),
		lits:      unionLits(p.lits, q.lits),
	}
}

// regexpLits returns literals of which at least one occurs in every text re
// matches (compared after folding), or nil if it finds none worth using.
func regexpLits(re *syntax.Regexp) []string {
	ls := regexpLitsRaw(re.Simplify())
	return litSet(ls...)
}

func regexpLitsRaw(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		return litSet(string(re.Rune))
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
		return litSet(all...)
	}
	return nil
}

// exprPrefilter derives a prefilter from the parsed (unoptimized) AST of an
// expression rule. It understands comparisons of Adapter (the whole
// adapter name, Message.Platform; not Platform, which is the same for
// every instance of a platform), Kind and Text
// (also through lower, upper and the trim functions) with string constants
// (literals and their concatenations), isCommand and hasPrefix/hasSuffix
// calls, "&&" and "||". Anything else constrains nothing.
func exprPrefilter(n ast.Node) prefilter {
	switch n := n.(type) {
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "and":
			return exprPrefilter(n.Left).and(exprPrefilter(n.Right))
		case "||", "or":
			return exprPrefilter(n.Left).or(exprPrefilter(n.Right))
		case "==":
			if p, ok := exprEquals(n.Left, n.Right); ok {
				return p
			}
			if p, ok := exprEquals(n.Right, n.Left); ok {
				return p
			}
		case "in":
			id, ok := n.Left.(*ast.IdentifierNode)
			arr, ok2 := n.Right.(*ast.ArrayNode)
			if !ok || !ok2 {
				break
			}
			var set []string
			for _, e := range arr.Nodes {
				s, ok := constString(e)
				if !ok {
					return prefilter{}
				}
				set = append(set, s)
			}
			if set == nil {
				set = []string{}
			}
			switch id.Value {
			case "Adapter":
				return prefilter{platforms: set}
			case "Kind":
				kinds := make([]Kind, len(set))
				for i, s := range set {
					kinds[i] = Kind(s)
				}
				return prefilter{kinds: kinds}
			}
		case "contains", "startsWith", "endsWith":
			if s, ok := constString(n.Right); ok && isTextNode(n.Left) {
				return prefilter{lits: litSet(s)}
			}
		case "matches":
			if s, ok := constString(n.Right); ok && isTextNode(n.Left) {
				if re, err := syntax.Parse(s, syntax.Perl); err == nil {
					return prefilter{lits: regexpLits(re)}
				}
			}
		}
	case *ast.BuiltinNode:
		switch n.Name {
		case "hasPrefix", "hasSuffix":
			if len(n.Arguments) == 2 && isTextNode(n.Arguments[0]) {
				if s, ok := constString(n.Arguments[1]); ok {
					return prefilter{lits: litSet(s)}
				}
			}
		}
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && id.Value == "isCommand" && len(n.Arguments) == 1 {
			if s, ok := constString(n.Arguments[0]); ok {
				return prefilter{lits: litSet(s)}
			}
		}
	}
	return prefilter{}
}

// exprEquals handles "a == b" with a naming a field and b a string constant.
func exprEquals(a, b ast.Node) (prefilter, bool) {
	s, ok := constString(b)
	if !ok {
		return prefilter{}, false
	}
	if id, ok := a.(*ast.IdentifierNode); ok {
		switch id.Value {
		case "Adapter":
			return prefilter{platforms: []string{s}}, true
		case "Kind":
			return prefilter{kinds: []Kind{Kind(s)}}, true
		}
	}
	if isTextNode(a) {
		return prefilter{lits: litSet(s)}, true
	}
	return prefilter{}, false
}

// constString evaluates a string constant: a literal or a concatenation of
// constants.
func constString(n ast.Node) (string, bool) {
	switch n := n.(type) {
	case *ast.StringNode:
		return n.Value, true
	case *ast.BinaryNode:
		if n.Operator != "+" {
			return "", false
		}
		l, ok := constString(n.Left)
		if !ok {
			return "", false
		}
		r, ok := constString(n.Right)
		return l + r, ok
	}
	return "", false
}

// isTextNode reports whether n is Text, or a function of Text whose result
// is a substring of Text up to case: lower, upper, trim, trimPrefix,
// trimSuffix.
func isTextNode(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		return n.Value == "Text"
	case *ast.BuiltinNode:
		switch n.Name {
		case "lower", "upper", "trim", "trimPrefix", "trimSuffix":
			return len(n.Arguments) >= 1 && isTextNode(n.Arguments[0])
		}
	}
	return false
}

// A routeIndex finds, for a message, the routes whose prefilter it passes,
// as a bit set over route positions, so that the router asks only those
// rules and in route order. It is immutable once built and safe for
// concurrent use.
type routeIndex struct {
	words    int
	noLit    []uint64            // routes without a literal constraint
	observer []uint64            // observer routes
	anyPlat  []uint64            // routes for a platform no route names
	plat     map[string][]uint64 // routes allowed on a named platform
	anyKind  []uint64
	kind     map[Kind][]uint64
	ac       *literal.Automaton // nil when no route has literals
	patterns [][]int32          // pattern → routes requiring it (one of)
	scratch  sync.Pool          // *indexScratch
}

type indexScratch struct {
	cand []uint64 // routes
	seen []uint64 // patterns
}

// newRouteIndex indexes routes by their prefilters.
func newRouteIndex(pfs []prefilter, observer []bool) *routeIndex {
	n := len(pfs)
	words := (n + 63) / 64
	ix := &routeIndex{
		words:    words,
		noLit:    make([]uint64, words),
		observer: make([]uint64, words),
		anyPlat:  make([]uint64, words),
		plat:     make(map[string][]uint64),
		anyKind:  make([]uint64, words),
		kind:     make(map[Kind][]uint64),
	}
	set := func(bs []uint64, i int) { bs[i>>6] |= 1 << (uint(i) & 63) }
	for i, p := range pfs {
		for _, name := range p.platforms {
			if ix.plat[name] == nil {
				ix.plat[name] = make([]uint64, words)
			}
		}
		for _, k := range p.kinds {
			if ix.kind[k.Or()] == nil {
				ix.kind[k.Or()] = make([]uint64, words)
			}
		}
		if observer[i] {
			set(ix.observer, i)
		}
	}
	patID := map[string]int32{}
	var patterns []string
	for i, p := range pfs {
		if p.platforms == nil {
			set(ix.anyPlat, i)
			for _, bs := range ix.plat {
				set(bs, i)
			}
		} else {
			for _, name := range p.platforms {
				set(ix.plat[name], i)
			}
		}
		if p.kinds == nil {
			set(ix.anyKind, i)
			for _, bs := range ix.kind {
				set(bs, i)
			}
		} else {
			for _, k := range p.kinds {
				set(ix.kind[k.Or()], i)
			}
		}
		if p.lits == nil {
			set(ix.noLit, i)
			continue
		}
		for _, l := range p.lits {
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
		return &indexScratch{cand: make([]uint64, words), seen: make([]uint64, pwords)}
	}
	return ix
}

// candidates returns the routes m passes the prefilters of, as a bit set
// over route positions, restricted to observer routes when observersOnly.
// The caller must hand s back with put once done with the result.
func (ix *routeIndex) candidates(m *Message, observersOnly bool) (cand []uint64, s *indexScratch) {
	s = ix.scratch.Get().(*indexScratch)
	cand = s.cand
	clear(cand)
	if ix.ac != nil {
		clear(s.seen)
		ix.ac.Scan(m.Text, s.seen)
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
	plat, ok := ix.plat[m.Platform]
	if !ok {
		plat = ix.anyPlat
	}
	kind, ok := ix.kind[m.Kind.Or()]
	if !ok {
		kind = ix.anyKind
	}
	for i := range cand {
		cand[i] = (cand[i] | ix.noLit[i]) & plat[i] & kind[i]
		if observersOnly {
			cand[i] &= ix.observer[i]
		}
	}
	return cand, s
}

func (ix *routeIndex) put(s *indexScratch) { ix.scratch.Put(s) }

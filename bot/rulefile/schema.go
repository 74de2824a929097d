package rulefile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// This file checks the YAML node tree against the file format: the kinds
// of nodes, the known keys of every mapping and the types of scalars, each
// problem with the position of the node at fault.

// A loader collects the problems of one file.
type loader struct {
	file  string
	src   []byte
	lines [][]rune // the file's lines, for positions inside scalars
	probs []Problem

	starts []*startFlowAction // checked against the file's flows at the end
}

// errAt records a problem at a file position.
func (l *loader) errAt(line, col int, err error, format string, args ...any) {
	l.probs = append(l.probs, Problem{File: l.file, Line: line, Column: col, Msg: fmt.Sprintf(format, args...), Err: err})
}

// errf records a problem at node n.
func (l *loader) errf(n *yaml.Node, format string, args ...any) {
	l.errAt(n.Line, n.Column, nil, format, args...)
}

// pos returns "line L" of a node, for messages that point elsewhere.
func pos(n *yaml.Node) string { return "line " + strconv.Itoa(n.Line) }

// deref follows aliases.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// A field is a key of a mapping with its value.
type field struct {
	key, val *yaml.Node
}

// fields checks that n is a mapping whose keys are among allowed and appear
// once, and returns its fields by key. Unknown keys are reported with the
// nearest known key as a suggestion. It reports false if n is no mapping.
func (l *loader) fields(n *yaml.Node, what string, allowed ...string) (map[string]field, bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		l.errf(n, "%s: want a mapping, got %s", what, describeNode(n))
		return nil, false
	}
	out := make(map[string]field, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			l.errf(k, "%s: a key must be a string, got %s", what, describeNode(k))
			continue
		}
		if !slices.Contains(allowed, k.Value) {
			l.errf(k, "%s: unknown key %q%s", what, k.Value, suggest(k.Value, allowed))
			continue
		}
		if prev, dup := out[k.Value]; dup {
			l.errf(k, "%s: duplicate key %q (first at %s)", what, k.Value, pos(prev.key))
			continue
		}
		out[k.Value] = field{key: k, val: deref(v)}
	}
	return out, true
}

// describeNode names a node's kind for messages: "a sequence", "a mapping",
// "the string \"x\"", "the integer 3", "nothing".
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing"
		case "!!int":
			return "the integer " + n.Value
		case "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		}
		return "the string " + strconv.Quote(n.Value)
	}
	return "an unexpected node"
}

// str returns a scalar as a string. Any non-null scalar will do (a
// conversation ID may be written as a number); empty strings are reported
// unless allowEmpty.
func (l *loader) str(n *yaml.Node, what string, allowEmpty bool) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		l.errf(n, "%s: want a string, got %s", what, describeNode(n))
		return "", false
	}
	if !allowEmpty && strings.TrimSpace(n.Value) == "" {
		l.errf(n, "%s: must not be empty", what)
		return "", false
	}
	return n.Value, true
}

// integer returns an integer scalar.
func (l *loader) integer(n *yaml.Node, what string) (int, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		var v int
		if err := n.Decode(&v); err == nil {
			return v, true
		}
	}
	l.errf(n, "%s: want an integer, got %s", what, describeNode(n))
	return 0, false
}

// boolean returns a boolean scalar.
func (l *loader) boolean(n *yaml.Node, what string) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		var v bool
		if err := n.Decode(&v); err == nil {
			return v, true
		}
	}
	l.errf(n, "%s: want true or false, got %s", what, describeNode(n))
	return false, false
}

// isTrue checks a key whose only meaningful value is true.
func (l *loader) isTrue(n *yaml.Node, what string) bool {
	v, ok := l.boolean(n, what)
	if ok && !v {
		l.errf(n, "%s: the only value is true; leave the action out instead of writing false", what)
		return false
	}
	return ok
}

// strings returns a sequence of strings; a single string is a sequence of
// one. Each item is also returned as its node, for positions.
func (l *loader) strList(n *yaml.Node, what string) ([]string, []*yaml.Node, bool) {
	if n.Kind == yaml.ScalarNode {
		s, ok := l.str(n, what, false)
		return []string{s}, []*yaml.Node{n}, ok
	}
	if n.Kind != yaml.SequenceNode {
		l.errf(n, "%s: want a list of strings, got %s", what, describeNode(n))
		return nil, nil, false
	}
	if len(n.Content) == 0 {
		l.errf(n, "%s: the list is empty", what)
		return nil, nil, false
	}
	ok := true
	var out []string
	var nodes []*yaml.Node
	for i, it := range n.Content {
		it = deref(it)
		s, good := l.str(it, fmt.Sprintf("%s[%d]", what, i), false)
		ok = ok && good
		out = append(out, s)
		nodes = append(nodes, it)
	}
	return out, nodes, ok
}

// suggest returns ` (did you mean "x"?)` for the known word nearest to w,
// when it is near enough to be a typo.
func suggest(w string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(w), k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

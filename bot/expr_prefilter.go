package bot

import (
	"regexp/syntax"

	"github.com/expr-lang/expr/ast"
	"github.com/parleybot/parley/bot/internal/prefilter"
)

// exprPrefilter derives a prefilter from the parsed (unoptimized) AST of
// an expression rule. It understands comparisons of Adapter (the whole
// adapter name, Message.Platform; not Platform, which is the same for
// every instance of a platform), Kind and Text (also through lower, upper
// and the trim functions) with string constants (literals and their
// concatenations), isCommand and hasPrefix/hasSuffix calls, "&&" and "||".
// Anything else constrains nothing. Kinds are given as the Env has them,
// an empty one as KindMessage.
func exprPrefilter(n ast.Node) prefilter.Filter {
	switch n := n.(type) {
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "and":
			return exprPrefilter(n.Left).And(exprPrefilter(n.Right))
		case "||", "or":
			return exprPrefilter(n.Left).Or(exprPrefilter(n.Right))
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
					return prefilter.Filter{}
				}
				set = append(set, s)
			}
			if set == nil {
				set = []string{}
			}
			switch id.Value {
			case "Adapter":
				return prefilter.Filter{Platforms: set}
			case "Kind":
				kinds := make([]string, len(set))
				for i, s := range set {
					kinds[i] = string(Kind(s).Or())
				}
				return prefilter.Filter{Kinds: kinds}
			}
		case "contains", "startsWith", "endsWith":
			if s, ok := constString(n.Right); ok && isTextNode(n.Left) {
				return prefilter.Filter{Lits: prefilter.Lits(s)}
			}
		case "matches":
			if s, ok := constString(n.Right); ok && isTextNode(n.Left) {
				if re, err := syntax.Parse(s, syntax.Perl); err == nil {
					return prefilter.Filter{Lits: prefilter.RegexpLits(re)}
				}
			}
		}
	case *ast.BuiltinNode:
		switch n.Name {
		case "hasPrefix", "hasSuffix":
			if len(n.Arguments) == 2 && isTextNode(n.Arguments[0]) {
				if s, ok := constString(n.Arguments[1]); ok {
					return prefilter.Filter{Lits: prefilter.Lits(s)}
				}
			}
		}
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && id.Value == "isCommand" && len(n.Arguments) == 1 {
			if s, ok := constString(n.Arguments[0]); ok {
				return prefilter.Filter{Lits: prefilter.Lits(s)}
			}
		}
	}
	return prefilter.Filter{}
}

// exprEquals handles "a == b" with a naming a field and b a string constant.
func exprEquals(a, b ast.Node) (prefilter.Filter, bool) {
	s, ok := constString(b)
	if !ok {
		return prefilter.Filter{}, false
	}
	if id, ok := a.(*ast.IdentifierNode); ok {
		switch id.Value {
		case "Adapter":
			return prefilter.Filter{Platforms: []string{s}}, true
		case "Kind":
			return prefilter.Filter{Kinds: []string{string(Kind(s).Or())}}, true
		}
	}
	if isTextNode(a) {
		return prefilter.Filter{Lits: prefilter.Lits(s)}, true
	}
	return prefilter.Filter{}, false
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

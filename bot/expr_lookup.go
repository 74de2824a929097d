package bot

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"regexp"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
)

// A LookupFunc supplies, for one evaluation of an expression on m, the
// value of a name declared with [ExprLookup]: usually a map, whose keys the
// expression reads as fields (vars.team). ctx is the evaluation's: the
// message's context when a Router evaluates a rule, the one given to
// [EnvExpr.EvalContext] otherwise. A LookupFunc must be safe for
// concurrent use; an error fails the evaluation.
type LookupFunc func(ctx context.Context, m *Message, name string) (any, error)

// lookupName is the form of a name ExprLookup declares.
var lookupName = regexp.MustCompile(`^[a-z][A-Za-z0-9_]*$`)

// ExprLookup is an ExprOption that lets an expression read names besides
// the fields of [Env]: with ExprLookup(get, "vars"), the expression
// vars.team == "sales" calls get(ctx, m, "vars") when it is evaluated, and
// reads the key team of the map it returns (a missing key is nil). The
// names are looked up only by the evaluations that reach them, so that an
// expression that does not use them, or stops before them (a false left
// operand of &&), costs nothing more; a program that keeps the values
// elsewhere (a conversation's variables in the Store, say) reads them only
// then. The values count against the evaluation's limits like the Env's.
//
// Several ExprLookup options may be given, each with its own function for
// its names; for a name given more than once the last one counts.
//
// It panics if get is nil or a name is not a lower-case identifier
// (Env's fields start with a capital letter, so none is hidden).
func ExprLookup(get LookupFunc, names ...string) ExprOption {
	if get == nil {
		panic("bot: ExprLookup with a nil function")
	}
	for _, n := range names {
		if !lookupName.MatchString(n) || envFuncs[n] {
			panic(fmt.Sprintf("bot: ExprLookup: bad name %q", n))
		}
	}
	return func(c *exprConfig) {
		// A copy: a config may be the start of several (see compile).
		m := make(map[string]LookupFunc, len(c.lookups)+len(names))
		maps.Copy(m, c.lookups)
		for _, n := range names {
			m[n] = get
		}
		c.lookups = m
	}
}

// lookupFunc is the hidden function a looked-up name becomes.
const lookupFunc = "$lookup"

// lookupOption returns the expr-lang function of cfg's lookups: each name
// is looked up through the function its ExprLookup gave.
func lookupOption(lookups map[string]LookupFunc) expr.Option {
	return expr.Function(lookupFunc, func(p ...any) (any, error) {
		e, name := p[0].(*Env), p[1].(string)
		get := lookups[name]
		if get == nil {
			return nil, fmt.Errorf("%s: not declared with ExprLookup", name)
		}
		ctx := context.Background()
		if e.run != nil && e.run.ctx != nil {
			ctx = e.run.ctx
		}
		v, err := get(ctx, e.msg, name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return v, nil
	}, new(func(Env, string) any))
}

// lookup replaces an identifier declared with ExprLookup by the call that
// looks it up.
func (p *exprPatch) lookup(node *ast.Node) {
	id, ok := (*node).(*ast.IdentifierNode)
	if !ok || len(p.lookups) == 0 {
		return
	}
	if _, ok := p.lookups[id.Value]; !ok {
		return
	}
	call := &ast.CallNode{
		Callee:    &ast.IdentifierNode{Value: lookupFunc},
		Arguments: []ast.Node{&ast.IdentifierNode{Value: "$env"}, &ast.StringNode{Value: id.Value}},
	}
	call.SetLocation(id.Location())
	p.replace(node, call, reflect.TypeFor[any]())
}

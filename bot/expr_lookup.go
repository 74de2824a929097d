package bot

import (
	"context"
	"fmt"
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
		c.lookup = get
		c.lookupNames = append(c.lookupNames[:len(c.lookupNames):len(c.lookupNames)], names...)
	}
}

// lookupFunc is the hidden function a looked-up name becomes.
const lookupFunc = "$lookup"

// lookupOption returns the expr-lang function of cfg's lookups.
func lookupOption(get LookupFunc) expr.Option {
	return expr.Function(lookupFunc, func(p ...any) (any, error) {
		e, name := p[0].(*Env), p[1].(string)
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
	if !ok || len(p.lookupNames) == 0 {
		return
	}
	for _, n := range p.lookupNames {
		if n == id.Value {
			call := &ast.CallNode{
				Callee:    &ast.IdentifierNode{Value: lookupFunc},
				Arguments: []ast.Node{&ast.IdentifierNode{Value: "$env"}, &ast.StringNode{Value: n}},
			}
			call.SetLocation(id.Location())
			p.replace(node, call, reflect.TypeFor[any]())
			return
		}
	}
}

package bot

import (
	"fmt"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// This file holds what tools need to look inside an expression rule, such
// as a rules file's explain command: the Env of a message, and expressions
// over Env of any result type, so that the parts of a rule's expression can
// be evaluated one by one. Routing does not use it.

// NewEnv returns the environment an [Expr] rule sees for m, in a
// conversation owned by owner (OwnerUnset means OwnerBot) with the bot's
// time zone loc (nil means time.Local). It does not copy m's Tags; the Env
// must be treated as read-only, and is safe for concurrent use as such.
func NewEnv(m *Message, owner Owner, loc *time.Location) *Env {
	return envFor(&msgState{owner: owner, loc: loc}, m)
}

// An EnvExpr is an expr-lang expression compiled against [Env] with the
// helper functions of [Expr], but of any result type: the operand of a
// rule's && or ||, say, evaluated on its own. It is immutable and safe for
// concurrent use.
type EnvExpr struct {
	src  string
	prog *vm.Program
}

// CompileEnvExpr compiles src like [Expr] does, with the same environment,
// helpers, checks and size limit (see [ExprMaxNodes]), without requiring a
// boolean result. A bad expression is returned as an *ExprError with its
// position.
func CompileEnvExpr(src string, opts ...ExprOption) (x *EnvExpr, err error) {
	defer func() {
		if p := recover(); p != nil {
			x, err = nil, &ExprError{Source: src, Msg: fmt.Sprintf("internal error: %v", p)}
		}
	}()
	cfg := exprConfig{maxNodes: defaultExprMaxNodes}
	for _, o := range opts {
		o(&cfg)
	}
	options := append([]expr.Option{expr.Env(Env{}), expr.MaxNodes(cfg.maxNodes)}, exprHelpers...)
	prog, err := expr.Compile(src, options...)
	if err != nil {
		return nil, newExprError(src, err)
	}
	pc := conf.CreateNew()
	pc.MaxNodes = cfg.maxNodes
	if tree, err := parser.ParseWithConfig(src, pc); err == nil {
		if err := checkConstants(src, tree.Node); err != nil {
			return nil, err
		}
	}
	return &EnvExpr{src: src, prog: prog}, nil
}

// Eval evaluates x against env. An evaluation error is an *ExprError whose
// Unwrap returns expr-lang's error (its text may quote the message).
func (x *EnvExpr) Eval(env *Env) (any, error) {
	v := vmPool.Get().(*vm.VM)
	out, err := v.Run(x.prog, env)
	vmPool.Put(v)
	if err != nil {
		e := newExprError(x.src, err)
		e.Msg, e.eval = "evaluation failed", true
		return nil, e
	}
	return out, nil
}

// String returns the expression's source.
func (x *EnvExpr) String() string { return x.src }

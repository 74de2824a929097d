package bot

import (
	"context"
	"fmt"
	"time"

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
	src       string
	prog      *vm.Program
	budget    uint
	timeLimit time.Duration
}

// CompileEnvExpr compiles src like [Expr] does, with the same environment,
// helpers, checks and limits (see [ExprMaxNodes], [ExprBudget] and
// [ExprTimeLimit]), without requiring a boolean result. A bad expression
// is returned as an *ExprError with its position.
func CompileEnvExpr(src string, opts ...ExprOption) (x *EnvExpr, err error) {
	defer func() {
		if p := recover(); p != nil {
			x, err = nil, &ExprError{Source: src, Msg: fmt.Sprintf("internal error: %v", p)}
		}
	}()
	cfg := newExprConfig(opts)
	prog, _, err := compile(src, cfg, false, true)
	if err != nil {
		return nil, err
	}
	return &EnvExpr{src: src, prog: prog, budget: cfg.budget, timeLimit: cfg.timeLimit}, nil
}

// Eval evaluates x against env, within x's limits. An evaluation error is
// an *ExprError whose Unwrap returns expr-lang's error (its text may quote
// the message); over a limit, it wraps [ErrExprLimit].
func (x *EnvExpr) Eval(env *Env) (any, error) {
	return x.eval(context.Background(), env)
}

// EvalContext is like Eval, with ctx as the evaluation's context: it can
// stop the evaluation, and it is what the LookupFunc of [ExprLookup] is
// given.
func (x *EnvExpr) EvalContext(ctx context.Context, env *Env) (any, error) {
	return x.eval(ctx, env)
}

// eval evaluates x against a copy of env, which others may be reading.
func (x *EnvExpr) eval(ctx context.Context, env *Env) (any, error) {
	m := machinePool.Get().(*exprMachine)
	m.env = *env
	out, err := evaluate(ctx, &m.vm, &m.run, x.prog, &m.env, x.budget, x.timeLimit)
	m.env = Env{}
	machinePool.Put(m)
	if err != nil {
		return nil, newEvalError(x.src, err, x.budget)
	}
	return out, nil
}

// String returns the expression's source.
func (x *EnvExpr) String() string { return x.src }

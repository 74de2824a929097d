package bot

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"github.com/parleybot/parley/bot/internal/prefilter"
)

// Env is the environment of expression rules (see [Expr]): its field names
// are the vocabulary of an expression. The router builds one Env per
// message, at most once per dispatch, and shares it between the expression
// rules it asks; an expression cannot modify it.
//
// Besides the fields, expressions can call these functions, on top of the
// expr-lang built-ins (lower, upper, trim, len, any, …):
//
//	hasTag(tag string) bool        // Tags holds tag, ignoring case
//	isCommand(name string) bool    // Text is the command name in the zero CommandSyntax
//	hour() int                     // the current hour, 0–23, in the bot's time zone
//	weekday() string               // the current day, "Monday" … "Sunday", in the bot's time zone
//	between(from, to string) bool  // the current clock time is in [from, to), e.g. between("09:00", "17:30")
//
// between takes "HH:MM" or "HH:MM:SS" times (to may be "24:00"); when to is
// before from the interval wraps around midnight, and when they are equal it
// is empty. The current time is time.Now in the bot's time zone (see
// [WithLocation]; time.Local outside a Bot).
type Env struct {
	Text string
	// Platform is the message's platform, such as "sendbee", whatever
	// instance of it the message came through; Instance is the name of
	// that instance ("" for the default one) and Adapter the whole adapter
	// name, Message.Platform (see [SplitPlatform]). Platform == "sendbee"
	// matches every Sendbee number, Adapter == "sendbee/acme" one.
	Platform     string
	Instance     string
	Adapter      string
	Conversation string
	Thread       string
	// Kind is the message's Kind, with the empty kind spelled "message".
	Kind   string
	Author User
	Tags   []string
	// Owner is who owns the conversation: "bot" or "human".
	Owner  string
	Direct bool
	// Time is when the platform received the message, in the bot's time
	// zone.
	Time time.Time
	// WindowOpen reports whether free-form messages may be sent to the
	// conversation now: true on a platform without a customer-service
	// window (see ServiceWindower), and on one with a window while it is
	// open (a customer's message opens it). WindowClosesAt is when it
	// closes, in the bot's time zone; zero without a window or when the
	// customer never wrote.
	WindowOpen     bool
	WindowClosesAt time.Time

	msg   *Message // the cache key: the message and owner Env was built for
	owner Owner
	loc   *time.Location
	run   *exprRun // the evaluation in progress; nil between evaluations
}

// envFor returns the Env of m, from the dispatch cache in st when it holds
// one for m.
func envFor(st *msgState, m *Message) *Env {
	owner, loc := OwnerBot, time.Local
	if st != nil {
		if st.owner != OwnerUnset {
			owner = st.owner
		}
		if st.loc != nil {
			loc = st.loc
		}
		if e := st.env; e != nil && e.msg == m && e.owner == owner && e.loc == loc {
			return e
		}
	}
	platform, instance := SplitPlatform(m.Platform)
	e := &Env{
		Text:         m.Text,
		Platform:     platform,
		Instance:     instance,
		Adapter:      m.Platform,
		Conversation: m.Conversation,
		Thread:       m.Thread,
		Kind:         string(m.Kind.Or()),
		Author:       m.Author,
		Tags:         m.Tags,
		Owner:        owner.String(),
		Direct:       m.Direct,
		Time:         m.Time,
		msg:          m,
		owner:        owner,
		loc:          loc,
	}
	if !m.Time.IsZero() {
		e.Time = m.Time.In(loc)
	}
	e.WindowOpen = true
	if st != nil && st.window.Applies {
		e.WindowOpen = st.window.Open
		if !st.window.ClosesAt.IsZero() {
			e.WindowClosesAt = st.window.ClosesAt.In(loc)
		}
	}
	if st != nil {
		st.env = e
	}
	return e
}

// An ExprError reports an expression rule that does not compile, or that
// failed while being evaluated.
//
// Compile errors are returned by [Expr]. Evaluation errors are returned by
// the rule's Match; their Error text leaves out expr-lang's message, which
// may quote message text, and keeps only the position: the underlying error
// is available through Unwrap.
type ExprError struct {
	Source string // the expression
	Line   int    // 1-based line of the error in Source; 0 when unknown
	Column int    // 1-based column (in runes); 0 when unknown
	Msg    string // what is wrong
	Err    error  // the underlying expr-lang error, if any

	eval bool
}

func (e *ExprError) Error() string {
	verb := "compile"
	if e.eval {
		verb = "evaluate"
	}
	s := "bot: " + verb + " rule " + strconv.Quote(e.Source)
	if e.Line > 0 {
		s += fmt.Sprintf(": line %d, column %d", e.Line, e.Column)
	}
	return s + ": " + e.Msg
}

func (e *ExprError) Unwrap() error { return e.Err }

func newExprError(src string, err error) *ExprError {
	e := &ExprError{Source: src, Msg: err.Error(), Err: err}
	var fe *file.Error
	if errors.As(err, &fe) {
		e.Msg = strings.TrimSpace(fe.Message)
		if fe.Line > 0 {
			e.Line, e.Column = fe.Line, fe.Column+1
		}
	}
	return e
}

// An ExprOption configures [Expr].
type ExprOption func(*exprConfig)

type exprConfig struct {
	maxNodes  uint
	budget    uint
	timeLimit time.Duration

	lookups map[string]LookupFunc // by name; see ExprLookup
}

// defaultExprMaxNodes bounds the size of an expression unless ExprMaxNodes
// says otherwise.
const defaultExprMaxNodes = 1000

// ExprMaxNodes limits the size of an expression to n syntax-tree nodes, so
// that rules read from configuration cannot grow without bound. The default
// is 1000; 0 means no limit.
func ExprMaxNodes(n uint) ExprOption {
	return func(c *exprConfig) { c.maxNodes = n }
}

func newExprConfig(opts []ExprOption) exprConfig {
	cfg := exprConfig{maxNodes: defaultExprMaxNodes, budget: defaultExprBudget, timeLimit: defaultExprTimeLimit}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// Expr compiles src, an expr-lang expression (https://expr-lang.org) over
// [Env], into a Rule. The expression must be boolean: Text contains "help",
// Platform == "sendbee" && hasTag("vip"), between("09:00", "17:00").
//
// Expr compiles once, so that typos and type errors are found at start-up:
// a bad expression is returned as an *ExprError with its position, never a
// panic, because rules may come from configuration. The Rule is safe for
// concurrent use. It evaluates on the worker's VM when routed by a Bot, and
// on a pooled VM otherwise; an evaluation error is returned as an
// *ExprError (a Router logs it and treats it as no match, unless the
// evaluation went over a limit: see below).
//
// Expressions may come from configuration and are evaluated on messages
// from anyone, so each evaluation is bounded: by a budget of steps (see
// [ExprBudget]) that loops, the strings built and the ranges and arrays
// built spend, by a time limit (see [ExprTimeLimit]), and by the context of
// the message. The pattern of the matches operator may be at most 64 KiB
// long, have at most 100 capturing groups and compile to at most 5,000
// instructions, which is ample for any pattern written by hand and keeps
// matching within a few megabytes. An evaluation over a limit returns an
// *ExprError wrapping [ErrExprLimit] for that message, and one stopped by
// its context an *ExprError wrapping the context's error; a Router reports
// either as the message's error (see [Router]). What is over a limit
// whatever the message — a constant pattern too large, also one computed
// from constants such as repeat("(a*)*", 10000), or a constant part that
// needs more than the budget — is a compile error wrapping ErrExprLimit,
// with its position.
func Expr(src string, opts ...ExprOption) (rule Rule, err error) {
	defer func() {
		if p := recover(); p != nil {
			rule, err = nil, &ExprError{Source: src, Msg: fmt.Sprintf("internal error: %v", p)}
		}
	}()
	cfg := newExprConfig(opts)
	prog, root, err := compile(src, cfg, true, true)
	if err != nil {
		return nil, err
	}
	r := &exprRule{src: src, prog: prog, budget: cfg.budget, timeLimit: cfg.timeLimit}
	if root != nil {
		r.pf = exprPrefilter(root)
	}
	return r, nil
}

// compile compiles src against Env with the helpers and the limits of cfg,
// as a boolean when asBool. With check, it also checks the constant
// arguments of helpers and what is over a limit whatever the message (see
// checkLimits), and returns the parsed tree, nil if it could not be parsed
// on its own.
func compile(src string, cfg exprConfig, asBool, check bool) (*vm.Program, ast.Node, error) {
	options := []expr.Option{expr.Env(Env{}), expr.MaxNodes(cfg.maxNodes)}
	if asBool {
		options = append(options, expr.AsBool())
	}
	options = append(options, exprHelpers...)
	patch := newExprPatch()
	if len(cfg.lookups) > 0 {
		options = append(options, lookupOption(cfg.lookups))
		patch.lookups = cfg.lookups
	}
	options = append(options, expr.Patch(patch))
	prog, err := expr.Compile(src, options...)
	if err != nil {
		return nil, nil, newExprError(src, err)
	}
	if !check {
		return prog, nil, nil
	}
	pc := conf.CreateNew()
	pc.MaxNodes = cfg.maxNodes
	tree, err := parser.ParseWithConfig(src, pc)
	if err != nil {
		return prog, nil, nil
	}
	if err := checkConstants(src, tree.Node); err != nil {
		return nil, nil, err
	}
	if err := checkLimits(src, tree.Node, cfg); err != nil {
		return nil, nil, err
	}
	return prog, tree.Node, nil
}

// MustExpr is like [Expr] but panics if src does not compile. It is meant
// for rules written in the program, such as package-level variables.
func MustExpr(src string, opts ...ExprOption) Rule {
	r, err := Expr(src, opts...)
	if err != nil {
		panic(err)
	}
	return r
}

type exprRule struct {
	src       string
	prog      *vm.Program
	pf        prefilter.Filter
	budget    uint
	timeLimit time.Duration
}

// An exprMachine is a VM with the state of the evaluation it runs, pooled
// for evaluations outside a Bot worker.
type exprMachine struct {
	vm  vm.VM
	run exprRun
	env Env // a copy of the Env of an EnvExpr's evaluation
}

var machinePool = sync.Pool{New: func() any { return new(exprMachine) }}

func (r *exprRule) Match(ctx context.Context, m *Message) (bool, error) {
	st := stateFrom(ctx)
	env := envFor(st, m)
	var v *vm.VM
	var run *exprRun
	var pooled *exprMachine
	if st != nil {
		v, run = st.vm, &st.run
	}
	if v == nil {
		pooled = machinePool.Get().(*exprMachine)
		v = &pooled.vm
		if run == nil {
			run = &pooled.run
		}
	}
	out, err := evaluate(ctx, v, run, r.prog, env, r.budget, r.timeLimit)
	if pooled != nil {
		machinePool.Put(pooled)
	}
	if err != nil {
		return false, newEvalError(r.src, err, r.budget)
	}
	b, _ := out.(bool)
	return b, nil
}

// evaluate runs prog on v against env, bounded by run.
func evaluate(ctx context.Context, v *vm.VM, run *exprRun, prog *vm.Program, env *Env, budget uint, limit time.Duration) (any, error) {
	run.begin(ctx, budget, limit)
	v.MemoryBudget = budget
	if budget == 0 {
		v.MemoryBudget = math.MaxUint
	}
	env.run = run
	out, err := v.Run(prog, env)
	env.run = nil
	run.end()
	return out, err
}

// newEvalError returns the *ExprError of an evaluation of src that failed
// with err. Its message is expr-lang's only for a limit or an
// interruption, whose text quotes nothing of the message.
func newEvalError(src string, err error, budget uint) *ExprError {
	e := newExprError(src, err)
	e.eval = true
	var le *limitError
	var ie *interruptedError
	switch {
	case errors.As(err, &le):
		e.Msg = le.msg
	case errors.As(err, &ie):
		e.Msg = ie.Error()
	case e.Msg == "memory budget exceeded": // counted by the VM
		le = overBudget(budget)
		le.cause = e.Err
		e.Msg, e.Err = le.msg, le
	default:
		e.Msg = "evaluation failed"
	}
	return e
}

func (r *exprRule) String() string              { return "Expr(" + strconv.Quote(r.src) + ")" }
func (r *exprRule) prefilter() prefilter.Filter { return r.pf }

// The helper functions. Each takes the Env as a hidden first argument, which
// envArg inserts at compile time, so that expressions can be compiled once
// and shared while the helpers still see the message being evaluated.
var exprHelpers = append([]expr.Option{
	expr.Function("hasTag", func(p ...any) (any, error) {
		e, tag := p[0].(*Env), p[1].(string)
		for _, t := range e.Tags {
			if strings.EqualFold(t, tag) {
				return true, nil
			}
		}
		return false, nil
	}, new(func(Env, string) bool)),
	expr.Function("isCommand", func(p ...any) (any, error) {
		e, name := p[0].(*Env), p[1].(string)
		word, _, ok := CommandSyntax{}.parse(e.Text, e.Direct)
		return ok && strings.EqualFold(word, name), nil
	}, new(func(Env, string) bool)),
	expr.Function("hour", func(p ...any) (any, error) {
		return time.Now().In(p[0].(*Env).loc).Hour(), nil
	}, new(func(Env) int)),
	expr.Function("weekday", func(p ...any) (any, error) {
		return time.Now().In(p[0].(*Env).loc).Weekday().String(), nil
	}, new(func(Env) string)),
	expr.Function("between", func(p ...any) (any, error) {
		from, err := parseClock(p[1].(string))
		if err != nil {
			return nil, err
		}
		to, err := parseClock(p[2].(string))
		if err != nil {
			return nil, err
		}
		h, m, s := time.Now().In(p[0].(*Env).loc).Clock()
		now := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second
		if from <= to {
			return from <= now && now < to, nil
		}
		return now >= from || now < to, nil
	}, new(func(Env, string, string) bool)),
}, limitFunctions...)

// exprPatch is the one patch of an expression, since expr-lang checks the
// types of the whole expression again before each: envArg, then
// limitPatch. It is made for one compilation: it remembers the types of
// the calls it made, which their parents need and which only the check
// after the patch sets.
type exprPatch struct {
	types   map[ast.Node]reflect.Type
	lookups map[string]LookupFunc // see ExprLookup
}

func newExprPatch() *exprPatch { return &exprPatch{types: map[ast.Node]reflect.Type{}} }

func (p *exprPatch) Visit(node *ast.Node) {
	p.lookup(node)
	p.envArg(node)
	p.limit(node)
}

// kindOf returns the kind of n's type, as the check before the patch found
// it; Interface when unknown.
func (p *exprPatch) kindOf(n ast.Node) reflect.Kind {
	t, ok := p.types[n]
	if !ok {
		t = n.Type()
	}
	if t == nil {
		return reflect.Interface
	}
	return t.Kind()
}

// replace replaces *node with call, whose type is t (nil: unknown).
func (p *exprPatch) replace(node *ast.Node, call *ast.CallNode, t reflect.Type) {
	ast.Patch(node, call)
	if t != nil {
		p.types[call] = t
	}
}

// envArg passes the environment as the first argument to the helpers.
func (p *exprPatch) envArg(node *ast.Node) {
	call, ok := (*node).(*ast.CallNode)
	if !ok {
		return
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok {
		return
	}
	if !envFuncs[id.Value] {
		return
	}
	args := append([]ast.Node{&ast.IdentifierNode{Value: "$env"}}, call.Arguments...)
	p.replace(node, &ast.CallNode{Callee: call.Callee, Arguments: args}, call.Type())
}

// parseClock parses "HH:MM" or "HH:MM:SS" into the time since midnight;
// "24:00" is the end of the day.
func parseClock(s string) (time.Duration, error) {
	parts := strings.Split(s, ":")
	if len(parts) == 2 || len(parts) == 3 {
		var v [3]int
		ok := true
		for i, p := range parts {
			n, err := strconv.Atoi(p)
			if err != nil || len(p) != 2 || n < 0 {
				ok = false
				break
			}
			v[i] = n
		}
		d := time.Duration(v[0])*time.Hour + time.Duration(v[1])*time.Minute + time.Duration(v[2])*time.Second
		if ok && v[0] <= 23 && v[1] <= 59 && v[2] <= 59 || ok && d == 24*time.Hour {
			return d, nil
		}
	}
	return 0, fmt.Errorf("between: invalid clock time %q (want HH:MM or HH:MM:SS)", s)
}

// checkConstants validates the constant arguments of helpers at compile
// time, so that between("9am", "5pm") is a compile error with a position.
func checkConstants(src string, root ast.Node) error {
	v := &constChecker{src: src}
	ast.Walk(&root, v)
	return v.err
}

type constChecker struct {
	src string
	err error
}

func (v *constChecker) Visit(node *ast.Node) {
	call, ok := (*node).(*ast.CallNode)
	if !ok || v.err != nil {
		return
	}
	if id, ok := call.Callee.(*ast.IdentifierNode); !ok || id.Value != "between" {
		return
	}
	for _, a := range call.Arguments {
		s, ok := a.(*ast.StringNode)
		if !ok {
			continue
		}
		if _, err := parseClock(s.Value); err != nil {
			line, col := position(v.src, s.Location().From)
			v.err = &ExprError{Source: v.src, Line: line, Column: col, Msg: err.Error(), Err: err}
			return
		}
	}
}

// position converts a rune offset in src into a 1-based line and column.
func position(src string, offset int) (line, col int) {
	line, col = 1, 1
	i := 0
	for _, r := range src {
		if i == offset {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i++
	}
	return line, col
}

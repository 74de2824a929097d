package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"regexp/syntax"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm/runtime"
)

// This file bounds what one evaluation of an expression rule may cost, so
// that no message, and no expression read from configuration, can make an
// evaluation eat the memory or the CPU of the process:
//
//   - a budget of steps per evaluation, shared by loop iterations (each
//     charged the size of the loop's body), bytes of the strings built
//     (+, repeat, replace, join, string, toJSON), and, counted separately by
//     expr-lang's VM, the elements of ranges and arrays built;
//   - a time limit per evaluation and the context of the message, checked
//     as loops run, so that a handler timeout or a shutdown stops it;
//   - the size of a regular expression, checked when the pattern is
//     compiled: when the rule is compiled for a constant pattern, at run
//     time for a computed one.
//
// The parts of an expression that depend on nothing (constants) are
// evaluated once when the rule is compiled, so that a part that can never
// fit its budget, or a pattern computed from constants that is too large,
// is a compile error with its position rather than an error on every
// message.

// ErrExprLimit is wrapped by the error of an expression rule that went over
// one of its limits: its budget of steps (see [ExprBudget]), its time limit
// (see [ExprTimeLimit]) or the size of a regular expression. [Expr] returns
// it, inside an *ExprError, for a part of the expression over a limit
// whatever the message; Match returns it for an evaluation stopped on a
// message.
var ErrExprLimit = errors.New("bot: expression over its limits")

const (
	// defaultExprBudget is the budget of an evaluation unless ExprBudget
	// says otherwise: expr-lang's own default memory budget.
	defaultExprBudget = 1_000_000
	// defaultExprTimeLimit is the time limit of an evaluation unless
	// ExprTimeLimit says otherwise: well past what the budget takes, it
	// stops what the budget does not count, such as a loop that matches a
	// long text.
	defaultExprTimeLimit = time.Second

	// maxRegexpLen, maxRegexpGroups and maxRegexpInsts bound a regular
	// expression of the matches operator: its length in bytes, its
	// capturing groups and the instructions of its compiled program. Go's
	// matcher runs in time linear in the text, but its memory grows with
	// instructions times groups: the pattern (a*)* repeated 10,000 times
	// took gigabytes to match. Within these limits a match takes a few
	// megabytes at most.
	maxRegexpLen    = 64 << 10
	maxRegexpGroups = 100
	maxRegexpInsts  = 5000

	// exprCheckEvery is how many loop iterations pass between two looks at
	// the clock and the context.
	exprCheckEvery = 256
)

// ExprBudget sets the budget of one evaluation of an expression to n steps.
// A loop iteration (of all, any, map, filter, reduce, …) costs one step
// plus one per syntax-tree node of the loop's body, and building a string
// costs its length in bytes (+, repeat, replace, join, string and toJSON);
// expr-lang's VM also counts, against the same n, the elements of the
// ranges and arrays an evaluation builds. An evaluation over its budget
// stops with an error wrapping [ErrExprLimit]. The default, 1,000,000,
// leaves ample room for any ordinary rule, and an evaluation spends it all
// in a few tens of milliseconds at most; 0 means no budget.
func ExprBudget(n uint) ExprOption {
	return func(c *exprConfig) { c.budget = n }
}

// ExprTimeLimit sets how long one evaluation of an expression may run, as
// measured from its first loop iteration and checked as loops run. An
// evaluation over its time limit stops with an error wrapping
// [ErrExprLimit]. The default is one second; 0 means no limit. Whatever
// the limit, an evaluation also stops when the context of the message is
// done, for example at the Bot's handler timeout or past its shutdown
// deadline.
func ExprTimeLimit(d time.Duration) ExprOption {
	return func(c *exprConfig) { c.timeLimit = max(d, 0) }
}

// A limitError is an expression over one of its limits.
type limitError struct {
	msg   string
	cause error // the VM's error, when the VM noticed
}

func (e *limitError) Error() string { return e.msg }

func (e *limitError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrExprLimit}
	}
	return []error{ErrExprLimit, e.cause}
}

// An interruptedError is an evaluation stopped because its context is done.
type interruptedError struct{ err error }

func (e *interruptedError) Error() string { return "interrupted: " + e.err.Error() }
func (e *interruptedError) Unwrap() error { return e.err }

func overBudget(budget uint) *limitError {
	return &limitError{msg: fmt.Sprintf("over the budget of %d steps", budget)}
}

// exprRun is the state of one evaluation: what it may spend and what stops
// it. The evaluator sets it in the Env for the duration of one run; the
// functions that bound the evaluation find it there.
type exprRun struct {
	ctx      context.Context // nil: none
	budget   uint            // 0: none
	used     uint
	limit    time.Duration // 0: none
	deadline time.Time     // set at the first loop iteration
	ticks    uint

	// the last pattern compiled at run time, so that a loop matching
	// against the same computed pattern compiles it once
	pattern string
	re      *regexp.Regexp
}

func (r *exprRun) begin(ctx context.Context, budget uint, limit time.Duration) {
	*r = exprRun{ctx: ctx, budget: budget, limit: limit}
}

// end drops what the run refers to, so that a pooled run keeps nothing
// alive.
func (r *exprRun) end() { *r = exprRun{} }

// charge spends n steps.
func (r *exprRun) charge(n uint) error {
	if n > math.MaxUint-r.used {
		r.used = math.MaxUint
	} else {
		r.used += n
	}
	if r.budget > 0 && r.used > r.budget {
		return overBudget(r.budget)
	}
	return nil
}

// left returns how many steps the run may still spend.
func (r *exprRun) left() uint {
	if r.budget == 0 {
		return math.MaxUint
	}
	if r.used >= r.budget {
		return 0
	}
	return r.budget - r.used
}

// tick is one loop iteration, whose body has cost nodes.
func (r *exprRun) tick(cost uint) error {
	if err := r.charge(cost); err != nil {
		return err
	}
	r.ticks++
	if r.ticks%exprCheckEvery != 1 {
		return nil
	}
	if r.ctx != nil {
		if err := r.ctx.Err(); err != nil {
			return &interruptedError{context.Cause(r.ctx)}
		}
	}
	if r.limit > 0 {
		now := time.Now()
		if r.deadline.IsZero() {
			r.deadline = now.Add(r.limit)
		} else if now.After(r.deadline) {
			return &limitError{msg: fmt.Sprintf("over the time limit of %v", r.limit)}
		}
	}
	return nil
}

// regexp compiles a pattern computed at run time, within the limits.
func (r *exprRun) regexp(pattern string) (*regexp.Regexp, error) {
	if r.re != nil && r.pattern == pattern {
		return r.re, nil
	}
	if err := r.charge(uint(len(pattern))); err != nil {
		return nil, err
	}
	re, err := compileRegexp(pattern)
	if err != nil {
		return nil, err
	}
	r.pattern, r.re = pattern, re
	return re, nil
}

// compileRegexp compiles a pattern of the matches operator, refusing one
// over the limits with a *limitError.
func compileRegexp(pattern string) (*regexp.Regexp, error) {
	if err := checkRegexp(pattern); err != nil {
		return nil, err
	}
	return regexp.Compile(pattern)
}

// checkRegexp checks a pattern against the limits; a pattern that does not
// parse is left to regexp.Compile, which reports it.
func checkRegexp(pattern string) error {
	if len(pattern) > maxRegexpLen {
		return &limitError{msg: fmt.Sprintf("regular expression too large: %d bytes, the limit is %d", len(pattern), maxRegexpLen)}
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	if n := re.MaxCap(); n > maxRegexpGroups {
		return &limitError{msg: fmt.Sprintf("regular expression too large: %d capturing groups, the limit is %d", n, maxRegexpGroups)}
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil
	}
	if n := len(prog.Inst); n > maxRegexpInsts {
		return &limitError{msg: fmt.Sprintf("regular expression too large: %d instructions, the limit is %d", n, maxRegexpInsts)}
	}
	return nil
}

// runOf returns the run of the evaluation of env; nil outside one, where
// nothing is bounded.
func runOf(p any) *exprRun {
	if e, ok := p.(*Env); ok {
		return e.run
	}
	return nil
}

func charge(p any, n uint) error {
	if r := runOf(p); r != nil {
		return r.charge(n)
	}
	return nil
}

// mulSize returns a*b, or math.MaxUint when it overflows.
func mulSize(a, b int) uint {
	if a <= 0 || b <= 0 {
		return 0
	}
	if uint(a) > math.MaxUint/uint(b) {
		return math.MaxUint
	}
	return uint(a) * uint(b)
}

// limitFunctions are the functions that bound an evaluation: the hidden
// ones the limit patcher calls ($step for a loop iteration, $concat and
// $add for +, $matches for a computed pattern), and the built-ins that
// build strings, replaced by versions that charge the bytes they build
// before building them. Each takes the Env as a hidden first argument, as
// the helpers do; the built-ins also declare their signatures without it,
// those of the check that runs before envArg inserts it.
var limitFunctions = []expr.Option{
	expr.Function("$step", func(p ...any) (any, error) {
		if r := runOf(p[0]); r != nil {
			if err := r.tick(uint(p[1].(int))); err != nil {
				return nil, err
			}
		}
		return true, nil
	}, new(func(Env, int) bool)),
	expr.Function("$concat", func(p ...any) (any, error) {
		a, b := p[1].(string), p[2].(string)
		if err := charge(p[0], uint(len(a))+uint(len(b))); err != nil {
			return nil, err
		}
		return a + b, nil
	}, new(func(Env, string, string) string)),
	expr.Function("$add", func(p ...any) (any, error) {
		if a, ok := p[1].(string); ok {
			if b, ok := p[2].(string); ok {
				if err := charge(p[0], uint(len(a))+uint(len(b))); err != nil {
					return nil, err
				}
				return a + b, nil
			}
		}
		return runtime.Add(p[1], p[2]), nil
	}, new(func(Env, any, any) any)),
	expr.Function("$matches", func(p ...any) (any, error) {
		a, b := p[1], p[2]
		if runtime.IsNil(a) || runtime.IsNil(b) {
			return false, nil
		}
		pattern, ok := b.(string)
		if !ok {
			return nil, fmt.Errorf("matches: the pattern is a %T, not a string", b)
		}
		var re *regexp.Regexp
		var err error
		if r := runOf(p[0]); r != nil {
			re, err = r.regexp(pattern)
		} else {
			re, err = compileRegexp(pattern)
		}
		if err != nil {
			return nil, err
		}
		switch a := a.(type) {
		case string:
			return re.MatchString(a), nil
		case []byte:
			return re.Match(a), nil
		}
		return nil, fmt.Errorf("matches: the text is a %T, not a string", a)
	}, new(func(Env, any, any) bool)),
	expr.Function("repeat", func(p ...any) (any, error) {
		s, n := p[1].(string), runtime.ToInt(p[2])
		if n < 0 {
			return nil, fmt.Errorf("invalid argument for repeat (expected positive integer, got %d)", n)
		}
		if err := charge(p[0], mulSize(len(s), n)); err != nil {
			return nil, err
		}
		return strings.Repeat(s, n), nil
	}, new(func(Env, string, int) string), new(func(string, int) string)),
	expr.Function("replace", func(p ...any) (any, error) {
		s, old, repl := p[1].(string), p[2].(string), p[3].(string)
		n := -1
		if len(p) == 5 {
			n = runtime.ToInt(p[4])
		}
		m := 0
		if old == "" {
			m = utf8.RuneCountInString(s) + 1
		} else if len(repl) > len(old) {
			m = strings.Count(s, old)
		}
		if n >= 0 && n < m {
			m = n
		}
		size := uint(len(s))
		if grow := mulSize(m, len(repl)-len(old)); grow > math.MaxUint-size {
			size = math.MaxUint
		} else {
			size += grow
		}
		if err := charge(p[0], size); err != nil {
			return nil, err
		}
		return strings.Replace(s, old, repl, n), nil
	},
		new(func(Env, string, string, string) string),
		new(func(Env, string, string, string, int) string),
		new(func(string, string, string) string),
		new(func(string, string, string, int) string)),
	expr.Function("join", func(p ...any) (any, error) {
		glue := ""
		if len(p) == 3 {
			glue = p[2].(string)
		}
		var elems []string
		switch a := p[1].(type) {
		case []string:
			elems = a
		case []any:
			elems = make([]string, len(a))
			for i, v := range a {
				s, ok := v.(string)
				if !ok {
					return nil, fmt.Errorf("invalid argument for join (element %d is a %T)", i, v)
				}
				elems[i] = s
			}
		default:
			return nil, fmt.Errorf("invalid argument for join (type %T)", p[1])
		}
		size := mulSize(len(glue), len(elems))
		for _, s := range elems {
			size += uint(len(s))
		}
		if err := charge(p[0], size); err != nil {
			return nil, err
		}
		return strings.Join(elems, glue), nil
	},
		new(func(Env, []any, string) string),
		new(func(Env, []any) string),
		new(func(Env, []string, string) string),
		new(func(Env, []string) string),
		new(func([]any, string) string),
		new(func([]any) string),
		new(func([]string, string) string),
		new(func([]string) string)),
	expr.Function("string", func(p ...any) (any, error) {
		if s, ok := p[1].(string); ok {
			return s, nil
		}
		if r := runOf(p[0]); r != nil {
			if err := r.charge(printedSize(reflect.ValueOf(p[1]), 1, r.left())); err != nil {
				return nil, err
			}
		}
		return builtin.String(p[1]), nil
	}, new(func(Env, any) string), new(func(any) string)),
	expr.Function("toJSON", func(p ...any) (any, error) {
		if r := runOf(p[0]); r != nil {
			if err := r.charge(printedSize(reflect.ValueOf(p[1]), 6, r.left())); err != nil {
				return nil, err
			}
		}
		b, err := json.MarshalIndent(p[1], "", "  ")
		if err != nil {
			return nil, err
		}
		return string(b), nil
	}, new(func(Env, any) string), new(func(any) string)),
}

// envFuncs are the functions that take the Env as a hidden first argument,
// which envArg inserts.
var envFuncs = map[string]bool{
	"hasTag": true, "isCommand": true, "hour": true, "weekday": true, "between": true,
	"repeat": true, "replace": true, "join": true, "string": true, "toJSON": true,
}

var timeType = reflect.TypeFor[time.Time]()

// printedSize estimates, up to at least limit, how many bytes fmt or
// encoding/json writes for v: the bytes of its strings times esc (6 for
// JSON's worst escape) and a few bytes per value. It looks at each value
// once and stops past limit, so its cost is bounded by limit too.
func printedSize(v reflect.Value, esc, limit uint) uint {
	var size uint
	var walk func(v reflect.Value, depth int)
	walk = func(v reflect.Value, depth int) {
		if size > limit {
			return
		}
		if !v.IsValid() {
			size += 6
			return
		}
		switch v.Kind() {
		case reflect.String:
			size += uint(v.Len())*esc + 2
		case reflect.Slice, reflect.Array:
			size += 2 + uint(depth)
			for i := 0; i < v.Len() && size <= limit; i++ {
				size += 2 + uint(depth)
				walk(v.Index(i), depth+1)
			}
		case reflect.Map:
			size += 2 + uint(depth)
			for it := v.MapRange(); it.Next() && size <= limit; {
				size += 4 + uint(depth)
				walk(it.Key(), depth+1)
				walk(it.Value(), depth+1)
			}
		case reflect.Struct:
			if v.Type() == timeType {
				size += 48
				return
			}
			size += 2 + uint(depth)
			for i := 0; i < v.NumField() && size <= limit; i++ {
				size += 4 + uint(len(v.Type().Field(i).Name)) + uint(depth)
				walk(v.Field(i), depth+1)
			}
		case reflect.Pointer, reflect.Interface:
			if v.IsNil() || depth > 0 && v.Kind() == reflect.Pointer {
				size += 20
				return
			}
			walk(v.Elem(), depth)
		default:
			size += 24
		}
	}
	walk(v, 0)
	return size
}

// limit rewrites an expression so that its evaluation is bounded: every
// loop body (a predicate of all, any, map, filter, reduce, …) first calls
// $step with its size, + on strings becomes $concat or $add, and matches
// with a pattern that is not a literal becomes $matches.
func (p *exprPatch) limit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.PredicateNode:
		step := envCall("$step", n.Location(), &ast.IntegerNode{Value: 1 + countNodes(n.Node)})
		seq := &ast.SequenceNode{Nodes: []ast.Node{step, n.Node}}
		seq.SetLocation(n.Node.Location())
		n.Node = seq
	case *ast.BinaryNode:
		switch n.Operator {
		case "+":
			_, ls := n.Left.(*ast.StringNode)
			_, rs := n.Right.(*ast.StringNode)
			if ls && rs {
				return // folded by the optimizer
			}
			lk, rk := p.kindOf(n.Left), p.kindOf(n.Right)
			switch {
			case lk == reflect.String && rk == reflect.String:
				p.replace(node, envCall("$concat", n.Location(), n.Left, n.Right), reflect.TypeFor[string]())
			case (lk == reflect.String || lk == reflect.Interface) && (rk == reflect.String || rk == reflect.Interface):
				p.replace(node, envCall("$add", n.Location(), n.Left, n.Right), nil)
			}
		case "matches":
			if _, ok := n.Right.(*ast.StringNode); ok {
				return // compiled once; checked by checkLimits
			}
			p.replace(node, envCall("$matches", n.Location(), n.Left, n.Right), reflect.TypeFor[bool]())
		}
	}
}

// envCall returns a call of the function name with the Env and args.
func envCall(name string, loc file.Location, args ...ast.Node) *ast.CallNode {
	callee := &ast.IdentifierNode{Value: name}
	callee.SetLocation(loc)
	env := &ast.IdentifierNode{Value: "$env"}
	env.SetLocation(loc)
	call := &ast.CallNode{Callee: callee, Arguments: append([]ast.Node{env}, args...)}
	call.SetLocation(loc)
	return call
}

// countNodes returns the number of nodes of the tree at n.
func countNodes(n ast.Node) int {
	c := nodeCounter(0)
	ast.Walk(&n, &c)
	return int(c)
}

type nodeCounter int

func (c *nodeCounter) Visit(*ast.Node) { *c++ }

// startOf returns the rune offset of the first token of the tree at n.
func startOf(n ast.Node) int {
	s := nodeStart(math.MaxInt)
	ast.Walk(&n, &s)
	return int(s)
}

type nodeStart int

func (s *nodeStart) Visit(n *ast.Node) {
	if from := (*n).Location().From; from < int(*s) {
		*s = nodeStart(from)
	}
}

// checkLimits finds, in the parsed expression root of src, the patterns of
// matches and the other parts that are over a limit whatever the message:
// it checks literal patterns and, unless cfg has no budget, evaluates the
// constant parts that build something (a call or a range) and those used
// as patterns, with cfg's limits, on an empty message.
func checkLimits(src string, root ast.Node, cfg exprConfig) error {
	var err error
	// Literal patterns first, also inside the constant parts evaluated
	// below, which must not match with a pattern too large.
	var patterns func(n ast.Node)
	patterns = func(n ast.Node) {
		if b, ok := n.(*ast.BinaryNode); ok && b.Operator == "matches" && err == nil {
			if s, ok := b.Right.(*ast.StringNode); ok {
				if e := checkRegexp(s.Value); e != nil {
					err = limitAt(src, s, e, e.Error())
				}
			}
		}
		for _, child := range children(n) {
			patterns(child)
		}
	}
	patterns(root)
	if err != nil || cfg.budget == 0 {
		return err // without a budget, evaluating could take anything
	}
	c := &constFinder{consts: map[ast.Node]bool{}}
	c.visit(root)
	var check func(n ast.Node, pattern bool)
	check = func(n ast.Node, pattern bool) {
		if err != nil || n == nil {
			return
		}
		if c.consts[n] {
			if _, lit := n.(*ast.StringNode); !lit && (pattern || c.builds(n)) {
				err = evalConstant(src, n, pattern, cfg)
			}
			return
		}
		b, _ := n.(*ast.BinaryNode)
		for _, child := range children(n) {
			check(child, b != nil && b.Operator == "matches" && child == b.Right)
		}
	}
	check(root, false)
	return err
}

// evalConstant evaluates the constant part n of src, and checks it as a
// pattern when it is one. Only limits are reported: a constant part that
// fails otherwise fails the same way on every message, as it did before
// limits existed.
func evalConstant(src string, n ast.Node, pattern bool, cfg exprConfig) error {
	cfg.maxNodes = 0
	prog, _, err := compile(n.String(), cfg, false, false)
	if err != nil {
		return nil
	}
	x := &EnvExpr{src: n.String(), prog: prog, budget: cfg.budget, timeLimit: cfg.timeLimit}
	v, err := x.eval(context.Background(), &Env{loc: time.UTC})
	if err != nil {
		var ee *ExprError
		if errors.As(err, &ee) && errors.Is(err, ErrExprLimit) {
			return limitAt(src, n, ee.Err, ee.Msg+" on every message")
		}
		return nil
	}
	if s, ok := v.(string); ok && pattern {
		if e := checkRegexp(s); e != nil {
			return limitAt(src, n, e, e.Error())
		}
	}
	return nil
}

// limitAt returns a compile error at the start of n.
func limitAt(src string, n ast.Node, err error, msg string) *ExprError {
	line, col := position(src, startOf(n))
	return &ExprError{Source: src, Line: line, Column: col, Msg: msg, Err: err}
}

// A constFinder finds the constant nodes of a tree: those that depend on
// nothing, neither the Env, nor a variable, nor the clock, nor an element
// of a loop around them.
type constFinder struct {
	consts map[ast.Node]bool
}

// visit records whether each node of the tree at n is constant and returns
// whether n is free of the Env and variables (pure) and whether it uses a
// loop's element it does not loop over itself (free).
func (c *constFinder) visit(n ast.Node) (pure, free bool) {
	pure = true
	switch n := n.(type) {
	case nil:
		return true, false
	case *ast.IdentifierNode:
		pure = false
	case *ast.PointerNode:
		free = true
	case *ast.CallNode:
		pure = false
	case *ast.BuiltinNode:
		pure = n.Name != "now" && n.Name != "date"
	}
	for _, child := range children(n) {
		p, f := c.visit(child)
		pure = pure && p
		free = free || f
	}
	if _, ok := n.(*ast.PredicateNode); ok {
		free = false // the loop binds its pointers
	}
	c.consts[n] = pure && !free
	return pure, free
}

// builds reports whether the constant tree at n calls a built-in or makes
// a range, the things that can cost more than their source.
func (c *constFinder) builds(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.BuiltinNode:
		return true
	case *ast.BinaryNode:
		if n.Operator == ".." {
			return true
		}
	}
	for _, child := range children(n) {
		if c.builds(child) {
			return true
		}
	}
	return false
}

// children returns the child nodes of n.
func children(n ast.Node) []ast.Node {
	switch n := n.(type) {
	case *ast.UnaryNode:
		return []ast.Node{n.Node}
	case *ast.BinaryNode:
		return []ast.Node{n.Left, n.Right}
	case *ast.ChainNode:
		return []ast.Node{n.Node}
	case *ast.MemberNode:
		return []ast.Node{n.Node, n.Property}
	case *ast.SliceNode:
		return []ast.Node{n.Node, n.From, n.To}
	case *ast.CallNode:
		return append([]ast.Node{n.Callee}, n.Arguments...)
	case *ast.BuiltinNode:
		return n.Arguments
	case *ast.PredicateNode:
		return []ast.Node{n.Node}
	case *ast.VariableDeclaratorNode:
		return []ast.Node{n.Value, n.Expr}
	case *ast.SequenceNode:
		return n.Nodes
	case *ast.ConditionalNode:
		return []ast.Node{n.Cond, n.Exp1, n.Exp2}
	case *ast.ArrayNode:
		return n.Nodes
	case *ast.MapNode:
		return n.Pairs
	case *ast.PairNode:
		return []ast.Node{n.Key, n.Value}
	}
	return nil
}

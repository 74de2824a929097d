package rulefile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"

	"github.com/parleybot/parley/bot"
)

// Result is what a rule made of a message, in an [Explanation].
type Result int

// The results of a rule.
const (
	// NotMatched: the rule does not apply to the message.
	NotMatched Result = iota
	// Matched: the rule applies to the message.
	Matched
	// Failed: evaluating the expression failed; the router logs the error
	// and treats the rule as not matching, or, when the evaluation went
	// over its limits (bot.ErrExprLimit), fails the message.
	Failed
	// Skipped: a human owns the conversation and the rule is not an
	// observer, so it is not tried.
	Skipped
)

// String returns "matched", "not matched", "error" or "skipped".
func (r Result) String() string {
	switch r {
	case NotMatched:
		return "not matched"
	case Matched:
		return "matched"
	case Failed:
		return "error"
	case Skipped:
		return "skipped"
	}
	return "Result(" + strconv.Itoa(int(r)) + ")"
}

// An Explanation says what one rule made of a message and why.
type Explanation struct {
	Rule     string // the rule's name
	Priority int
	Observer bool
	Result   Result
	// Decider is the part of the rule that decided the result: for
	// "a && b" the first operand that is false, for "a || b" the first
	// that is true, looking into nested &&, || and not; the whole
	// expression when every operand counted (a true &&, a false ||); the
	// operand that failed for Failed; "command <name>" when the rule's
	// command decided. Expressions are printed by expr-lang, so spacing
	// and parentheses may differ from the file. Empty for Skipped.
	Decider string
	// Err is the evaluation error for Failed: a *bot.ExprError, whose
	// Unwrap gives expr-lang's error.
	Err error
	// Runs reports whether the rule's actions run for the message: it
	// matched, and every rule that ran before it ended with continue.
	Runs bool
}

// Explain evaluates every rule of s for m, in the order the router tries
// them (priority, then file order), and says for each whether it matched
// and which sub-expression decided it. Unlike the router it asks every
// rule, and it runs no action.
//
// The conversation's owner is m.Owner when set, else the one recorded in
// ctx by a Bot (bot.OwnerOf); while a human owns it, non-observer rules are
// Skipped. Time functions (hour, weekday, between) and Env.Time use
// time.Local. Explain is safe for concurrent use.
func (s *Set) Explain(ctx context.Context, m *bot.Message) []Explanation {
	owner := m.Owner
	if owner == bot.OwnerUnset {
		owner = bot.OwnerOf(ctx)
	}
	human := owner == bot.OwnerHuman
	env := bot.NewEnv(m, owner, time.Local)
	out := make([]Explanation, len(s.order))
	stopped := false
	for i, r := range s.order {
		x := Explanation{Rule: r.name, Priority: r.priority, Observer: r.observer}
		if human && !r.observer {
			x.Result = Skipped
		} else {
			x.Result, x.Decider, x.Err = r.decide(ctx, m, env)
		}
		if x.Result == Matched && !stopped {
			x.Runs = true
			stopped = !r.cont
		}
		out[i] = x
	}
	return out
}

// decide evaluates rule r for m.
func (r *rule) decide(ctx context.Context, m *bot.Message, env *bot.Env) (Result, string, error) {
	if r.cmd != nil {
		ok, err := r.cmd.Match(ctx, m)
		if err != nil || !ok {
			return resultOf(false, err), "command " + r.command, err
		}
		if r.when == "" {
			return Matched, "command " + r.command, nil
		}
	}
	root := r.explain.tree(r.when)
	if root == nil { // the rule compiled, so this does not happen
		err := fmt.Errorf("rulefile: rule %q: cannot explain the expression", r.name)
		return Failed, r.when, err
	}
	v, d, err := root.decide(env)
	return resultOf(v, err), d.text, err
}

func resultOf(v bool, err error) Result {
	switch {
	case err != nil:
		return Failed
	case v:
		return Matched
	}
	return NotMatched
}

// explainCache holds a rule's expression split into its boolean operands,
// built on the first Explain.
type explainCache struct {
	once sync.Once
	root *xnode
}

// An xnode is a boolean operator of an expression (&&, ||, !) with its
// operands, or an operand compiled on its own (a leaf).
type xnode struct {
	op   string // "&&", "||", "!"; "" for a leaf
	text string
	kids []*xnode
	prog *bot.EnvExpr // leaves only
}

// tree returns the split expression of src. If an operand cannot be
// compiled on its own (which should not happen), the whole expression is
// one leaf.
func (c *explainCache) tree(src string) *xnode {
	c.once.Do(func() {
		whole := func() *xnode {
			prog, err := bot.CompileEnvExpr(src)
			if err != nil {
				return nil
			}
			return &xnode{text: strings.Join(strings.Fields(src), " "), prog: prog}
		}
		t, err := parser.Parse(src)
		if err == nil {
			c.root = split(t.Node)
		}
		if c.root == nil {
			c.root = whole()
		}
	})
	return c.root
}

// split builds the xnode tree of n, or returns nil if a leaf does not
// compile.
func split(n ast.Node) *xnode {
	op := ""
	var kids []ast.Node
	switch n := n.(type) {
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "and":
			op, kids = "&&", []ast.Node{n.Left, n.Right}
		case "||", "or":
			op, kids = "||", []ast.Node{n.Left, n.Right}
		}
	case *ast.UnaryNode:
		if n.Operator == "!" || n.Operator == "not" {
			op, kids = "!", []ast.Node{n.Node}
		}
	}
	x := &xnode{op: op, text: n.String()}
	if op == "" {
		prog, err := bot.CompileEnvExpr(x.text)
		if err != nil {
			return nil
		}
		x.prog = prog
		return x
	}
	for _, k := range kids {
		kx := split(k)
		if kx == nil {
			return nil
		}
		x.kids = append(x.kids, kx)
	}
	return x
}

// decide evaluates x and returns its value and the node that decided it.
func (x *xnode) decide(env *bot.Env) (bool, *xnode, error) {
	switch x.op {
	case "&&", "||":
		want := x.op == "||" // the value that decides alone
		for _, k := range x.kids {
			v, d, err := k.decide(env)
			if err != nil {
				return false, d, err
			}
			if v == want {
				return v, d, nil
			}
		}
		return !want, x, nil
	case "!":
		v, d, err := x.kids[0].decide(env)
		if err != nil {
			return false, d, err
		}
		return !v, d, nil
	}
	out, err := x.prog.Eval(env)
	if err != nil {
		return false, x, err
	}
	v, ok := out.(bool)
	if !ok {
		return false, x, fmt.Errorf("rulefile: %s is %T, not a bool", x.text, out)
	}
	return v, x, nil
}

// Format writes explanations as a table: one line per rule with its
// position in the order, name, priority, result (with "runs" for the rules
// whose actions run) and what decided it, followed by the error of a
// failed rule.
func Format(w io.Writer, ex []Explanation) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tRULE\tPRIORITY\tRESULT\tDECIDED BY")
	for i, x := range ex {
		res := x.Result.String()
		switch {
		case x.Runs:
			res += ", runs"
		case x.Result == Skipped:
			res += " (human owner)"
		}
		name := x.Rule
		if x.Observer {
			name += " (observer)"
		}
		decider := x.Decider
		if x.Err != nil {
			decider += ": " + errText(x.Err)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\n", i+1, name, x.Priority, res, decider)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var out bytes.Buffer
	for line := range bytes.Lines(buf.Bytes()) {
		out.Write(bytes.TrimRight(line, " \n"))
		out.WriteByte('\n')
	}
	_, err := w.Write(out.Bytes())
	return err
}

// errText returns the message of an evaluation error: expr-lang's message
// without its source snippet.
func errText(err error) string {
	var fe *file.Error
	if errors.As(err, &fe) {
		return fe.Message
	}
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

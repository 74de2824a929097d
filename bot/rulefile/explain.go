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
	// Global marks a global rule, tried before the waiting flow and the
	// other rules.
	Global bool
	Result Result
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
	// Actions say what the rule's actions would do for the message, in
	// order, when they run (Runs); nil otherwise. See [ActionInfo].
	Actions []ActionInfo
	// Flow marks the explanation of the flow that waits in the
	// conversation (see [Set.ExplainIn]), which comes after the global
	// rules and before the others: the flow engine's route is tried
	// between them. Its Rule is the flow's name and Step the step it
	// waits at; Decider says why the flow takes the message or not, and
	// Actions what it does with it: the answer checked (save or refused),
	// re-asked, the action calls, the next step. When a global rule
	// handled the message, the flow does not take it, and Actions say
	// what the interruption does to the flow: it asks again, or is
	// cancelled, paused or replaced.
	Flow bool
	Step string
	// Fallback marks the explanation of the file's fallback, which comes
	// last, after the rules, when the file has one. Its Rule is
	// "fallback" and its Priority 0. Its Result is Matched when the
	// fallback is for the message (a chat message a person addressed to
	// the bot: see "Fallback" in the package documentation), Skipped while
	// a human owns the conversation, NotMatched otherwise; Decider says
	// why. It Runs when it matched and no rule handled the message.
	Fallback bool
}

// Explain is ExplainIn with nothing known of the conversation: no
// variables set, no flow waiting.
func (s *Set) Explain(ctx context.Context, m *bot.Message) []Explanation {
	return s.ExplainIn(ctx, m, Conversation{})
}

// ExplainIn evaluates every rule of s for m, in the order the router tries
// them (priority, then file order), and says for each whether it matched
// and which sub-expression decided it, and, for the rules whose actions
// run, what they would do. Unlike the router it asks every rule, and it
// runs no action. When the file has a fallback, its explanation comes
// last. Explain knows the file only: on a Bot, another route (a help
// command, say) may answer a message before the fallback would.
//
// The conversation's owner is m.Owner when set, else the one recorded in
// ctx by a Bot (bot.OwnerOf); while a human owns it, non-observer rules are
// Skipped. Time functions (hour, weekday, between) and Env.Time use
// time.Local. Explain is safe for concurrent use.
//
// c says what the conversation holds: its variables, which conditions
// (vars.<name>) and templates read, and the flow waiting in it, if any,
// which takes the message before the rules that are not global (an
// explanation with Flow set comes after the global rules), and which
// conditions read as flow.<…> and values.<name>.
func (s *Set) ExplainIn(ctx context.Context, m *bot.Message, c Conversation) []Explanation {
	owner := m.Owner
	if owner == bot.OwnerUnset {
		owner = bot.OwnerOf(ctx)
	}
	human := owner == bot.OwnerHuman
	env := bot.NewEnv(m, owner, time.Local)
	ctx = withScope(ctx, &givenScope{set: s, c: c})
	out := make([]Explanation, 0, len(s.order)+2)
	handledBy := ""  // the rule that stopped routing
	var global *rule // the global rule that stopped it
	flowDone := c.Flow == nil
	explainFlow := func() {
		if flowDone {
			return
		}
		flowDone = true
		x := s.explainFlow(ctx, m, owner, c)
		switch {
		case global != nil:
			s.interrupted(&x, global, m, c)
		case x.Runs:
			handledBy = "flow " + strconv.Quote(x.Rule)
		}
		out = append(out, x)
	}
	overLimit := false
	for _, r := range s.order {
		if !r.global {
			explainFlow()
		}
		x := Explanation{Rule: r.name, Priority: r.priority, Observer: r.observer, Global: r.global}
		if human && !r.observer {
			x.Result = Skipped
		} else {
			x.Result, x.Decider, x.Err = r.decide(ctx, m, env)
		}
		overLimit = overLimit || errors.Is(x.Err, bot.ErrExprLimit)
		if x.Result == Matched && handledBy == "" {
			x.Runs = true
			x.Actions = s.preview(m, s.captures(r, m), c).actions(r.actions, r.cont)
			if !r.cont {
				handledBy = "rule " + strconv.Quote(r.name)
				if r.global {
					global = r
				}
			}
		}
		out = append(out, x)
	}
	explainFlow()
	if s.fallback != nil {
		x := Explanation{Rule: "fallback", Fallback: true}
		x.Result, x.Decider = s.fallbackFor(m, owner)
		switch {
		case x.Result == Skipped:
			x.Decider = ""
		case x.Result != Matched:
		case handledBy != "":
			x.Decider = handledBy + " handled the message"
		case overLimit:
			x.Decider = "a condition went over its limits, which fails the message"
		default:
			x.Runs = true
			x.Actions = s.preview(m, s.fallbackCaptures(m), c).actions(s.fallback, false)
		}
		out = append(out, x)
	}
	return out
}

// captures returns the .Captures a rule's templates see for m: the
// command's name and arguments when the rule has a command.
func (s *Set) captures(r *rule, m *bot.Message) bot.Captures {
	if r.cmd == nil {
		return bot.Captures{}
	}
	name, args, ok := s.syntax.Parse(m.Text, m.Direct)
	if !ok {
		return bot.Captures{}
	}
	return bot.Captures{Command: name, Args: args}
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
	v, d, err := root.decide(ctx, env)
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
			prog, err := bot.CompileEnvExpr(src, lookupOption)
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
		prog, err := bot.CompileEnvExpr(x.text, lookupOption)
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
func (x *xnode) decide(ctx context.Context, env *bot.Env) (bool, *xnode, error) {
	switch x.op {
	case "&&", "||":
		want := x.op == "||" // the value that decides alone
		for _, k := range x.kids {
			v, d, err := k.decide(ctx, env)
			if err != nil {
				return false, d, err
			}
			if v == want {
				return v, d, nil
			}
		}
		return !want, x, nil
	case "!":
		v, d, err := x.kids[0].decide(ctx, env)
		if err != nil {
			return false, d, err
		}
		return !v, d, nil
	}
	out, err := x.prog.EvalContext(ctx, env)
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
// failed rule. Under a rule that runs, one indented line per action says
// what it would do ("reply: \"Hello, Ana!\""; see [ActionInfo]). The
// fallback is the row "(fallback)", with "-" for its priority, and, when
// it runs, a reminder that another route of the bot may answer first.
func Format(w io.Writer, ex []Explanation) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tRULE\tPRIORITY\tRESULT\tDECIDED BY")
	// The lines under each row, written after the table so that they do
	// not change its column widths.
	under := make([][]string, len(ex))
	for i, x := range ex {
		for _, a := range x.Actions {
			under[i] = append(under[i], a.Kind+": "+a.Detail)
		}
		if x.Flow {
			decider := x.Decider
			if x.Err != nil {
				decider += ": " + errText(x.Err)
			}
			fmt.Fprintf(tw, "%d\t(flow %s)\t-\t%s\t%s\n", i+1, x.Rule, result(x), decider)
			continue
		}
		if x.Fallback {
			fmt.Fprintf(tw, "%d\t(fallback)\t-\t%s\t%s\n", i+1, result(x), x.Decider)
			if x.Runs {
				under[i] = append(under[i], "(unless another route of the bot, such as a help command, answers first)")
			}
			continue
		}
		name := x.Rule
		switch {
		case x.Global && x.Observer:
			name += " (global, observer)"
		case x.Global:
			name += " (global)"
		case x.Observer:
			name += " (observer)"
		}
		decider := x.Decider
		if x.Err != nil {
			decider += ": " + errText(x.Err)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\n", i+1, name, x.Priority, result(x), decider)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var out bytes.Buffer
	indent := ""
	row := -1 // the header
	for line := range bytes.Lines(buf.Bytes()) {
		if row < 0 {
			indent = strings.Repeat(" ", bytes.Index(line, []byte("RULE")))
		}
		out.Write(bytes.TrimRight(line, " \n"))
		out.WriteByte('\n')
		if row >= 0 && row < len(under) {
			for _, u := range under[row] {
				out.WriteString(indent + u + "\n")
			}
		}
		row++
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

// result is the RESULT column of x.
func result(x Explanation) string {
	res := x.Result.String()
	switch {
	case x.Runs:
		res += ", runs"
	case x.Result == Skipped:
		res += " (human owner)"
	}
	return res
}

// Explain says, for the Bot's event feed, the part of r's condition that
// decided it matched m (see Explanation.Decider; the route is named after
// the rule); it makes r a bot.Explainer.
func (r *rule) Explain(ctx context.Context, m *bot.Message) string {
	_, decider, err := r.decide(ctx, m, bot.NewEnv(m, bot.OwnerOf(ctx), bot.LocationOf(ctx)))
	if err != nil {
		return ""
	}
	return decider
}

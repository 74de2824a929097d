package rulefile

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
)

// This file reads the flows section of a rules file into flow definitions,
// checked as the flow engine checks them, with positions.

// A fileFlow is one flow of a file: what the flow engine needs, less what
// depends on the Bot (the time zone of date checks), and the positions of
// its parts.
type fileFlow struct {
	name      string
	line, col int
	steps     []*fileStep
	done      *tmpl
	onDone    []*fileCall
	interrupt flow.Interruption
	handoff   flow.HandoffPolicy
	ttl       time.Duration
}

// A fileStep is one step of a fileFlow.
type fileStep struct {
	name      string
	line, col int
	ask       *tmpl
	check     func(loc *time.Location) flow.Check // nil accepts any text
	expect    string                              // the check's key, for Explain
	reask     *tmpl                               // expect's reask, or nil
	save      string
	retry     flow.Retry // without Message: see retryMsg
	retryMsg  *tmpl      // retry's message, or nil
	retrySay  *tmpl      // retry's say, or nil
	remind    *fileTimer
	timeout   *fileTimer
	branches  []*fileBranch
	def       string // Next.Default
	actions   []*fileCall
	targets   []targetRef // checked once the flow's steps are known
}

// A fileTimer is a step's reminder or timeout.
type fileTimer struct {
	after time.Duration
	then  string // timeouts only
	say   *tmpl
	// template is sent instead of say when the conversation's
	// customer-service window is closed; nil: say is sent anyway (and
	// refused by the Bot, see flow.State.Window).
	template *templateAction
}

// A fileBranch is one of a step's next choices.
type fileBranch struct {
	when string
	cond *bot.EnvExpr
	to   string
}

// A fileCall is one item of a step's actions or a flow's on_done: a call
// of a named action, with its arguments (strings are templates over the
// flow's data, other scalars are kept as they are), or a set or clear of
// conversation variables, which the Engine runs as a call of its own
// action (varsAction) so that it runs once per completion like the calls.
type fileCall struct {
	kind      string // "call", "set" or "clear"
	action    string // the named action of a call
	args      map[string]any
	line, col int
	what      string
}

// flowActionKeys are the keys of an item of a step's actions and of on_done.
var flowActionKeys = []string{"call", "args", "set", "clear"}

// targetNames are the words a file uses for the flow engine's targets.
var targetNames = map[string]string{"end": flow.End, "handoff": flow.HandOff, "cancel": flow.Cancel}

var (
	flowKeys  = []string{"name", "steps", "done", "on_done", "interrupt", "on_handoff", "ttl"}
	stepKeys  = []string{"name", "ask", "expect", "save", "retry", "remind", "timeout", "next", "default", "goto", "actions"}
	checkKeys = []string{"text", "number", "integer", "email", "phone", "choice", "yesno", "date", "regexp", "expr"}
)

// flows reads the flows section: a list of flows, or a mapping of names to
// flows.
func (l *loader) flows(s *Set, n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	seen := map[string]*yaml.Node{}
	add := func(f *fileFlow, at *yaml.Node) {
		if f == nil {
			return
		}
		if prev, dup := seen[f.name]; dup {
			l.errf(at, "flow %q: duplicate flow name (first at %s)", f.name, pos(prev))
			return
		}
		seen[f.name] = at
		s.flows = append(s.flows, f)
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := deref(n.Content[i]), deref(n.Content[i+1])
			if name, ok := l.str(k, "flows", false); ok {
				add(l.flow(s, v, name, k, true), k)
			}
		}
	case yaml.SequenceNode:
		for i, it := range l.list(n, "flows") {
			label := peekLabel(it, "flow", i)
			fs, ok := l.fields(it, label, flowKeys...)
			if !ok {
				continue
			}
			f, ok := fs["name"]
			if !ok {
				l.errf(it, "%s: missing key \"name\"", label)
				continue
			}
			if name, ok := l.str(f.val, label+": name", false); ok {
				add(l.flow(s, it, name, f.val, false), f.val)
			}
		}
	default:
		l.errf(n, "flows: want a list of flows or a mapping of names to flows, got %s", describeNode(n))
	}
}

// flow reads one flow; at is its name's node. It returns nil if the flow
// has a problem.
func (l *loader) flow(s *Set, n *yaml.Node, name string, at *yaml.Node, inMap bool) *fileFlow {
	label := "flow " + strconv.Quote(name)
	probs := len(l.probs)
	keys := flowKeys
	if inMap { // the name is the key
		keys = flowKeys[1:]
	}
	fs, ok := l.fields(n, label, keys...)
	if !ok {
		return nil
	}
	f := &fileFlow{name: name, line: at.Line, col: at.Column}
	if strings.ContainsAny(name, " \t\n") {
		l.errf(at, "%s: a flow name has no white space", label)
	}
	if fl, ok := fs["steps"]; !ok {
		l.errf(at, "%s: missing key \"steps\"", label)
	} else {
		names := map[string]*yaml.Node{}
		for i, it := range l.list(fl.val, label+": steps") {
			if st := l.step(s, it, i, label, names); st != nil {
				f.steps = append(f.steps, st)
			}
		}
		if len(fl.val.Content) == 0 {
			l.errf(fl.val, "%s: steps: the list is empty", label)
		}
	}
	if fl, ok := fs["done"]; ok {
		f.done = l.template(fl.val, label+": done", promptDataType, false)
	}
	if fl, ok := fs["on_done"]; ok {
		f.onDone = l.calls(fl.val, label+": on_done")
	}
	if fl, ok := fs["interrupt"]; ok {
		switch v, _ := l.str(fl.val, label+": interrupt", false); v {
		case "pause":
			f.interrupt = flow.PauseOnInterrupt
		case "cancel":
			f.interrupt = flow.CancelOnInterrupt
		default:
			l.errf(fl.val, "%s: interrupt: want pause or cancel, got %s", label, describeNode(fl.val))
		}
	}
	if fl, ok := fs["on_handoff"]; ok {
		switch v, _ := l.str(fl.val, label+": on_handoff", false); v {
		case "resume":
			f.handoff = flow.ResumeAfterHandoff
		case "end":
			f.handoff = flow.EndAfterHandoff
		default:
			l.errf(fl.val, "%s: on_handoff: want resume or end, got %s", label, describeNode(fl.val))
		}
	}
	if fl, ok := fs["ttl"]; ok {
		f.ttl, _ = l.duration(fl.val, label+": ttl")
	}
	if len(l.probs) > probs {
		return nil
	}
	l.checkTargets(f)
	if len(l.probs) > probs {
		return nil
	}
	// The flow engine's own checks: unreachable steps, loops with no exit.
	if err := flow.Validate(f.definition(nil, nil), nil); err != nil {
		var de *flow.DefinitionError
		line, col := f.line, f.col
		reason := err.Error()
		if errors.As(err, &de) {
			reason = de.Reason
			if i := slices.IndexFunc(f.steps, func(st *fileStep) bool { return st.name == de.Step }); i >= 0 {
				line, col = f.steps[i].line, f.steps[i].col
				reason = fmt.Sprintf("step %q: %s", de.Step, reason)
			}
		}
		l.errAt(line, col, err, "%s: %s", label, strings.ReplaceAll(reason, "End, HandOff or Cancel", "end, handoff or cancel"))
		return nil
	}
	return f
}

// checkTargets reports, at their positions, the targets that name no step.
func (l *loader) checkTargets(f *fileFlow) {
	known := map[string]bool{}
	for _, st := range f.steps {
		known[st.name] = true
	}
	label := "flow " + strconv.Quote(f.name)
	for _, st := range f.steps {
		for _, t := range st.targets {
			if t.val == "" || known[t.val] || t.target {
				continue
			}
			var names []string
			for _, o := range f.steps {
				names = append(names, o.name)
			}
			l.errf(t.node, "%s: step %q: %s: unknown step %q%s (or end, handoff, cancel)", label, st.name, t.what, t.val, suggest(t.val, names))
		}
	}
}

// step reads one step; it returns nil if the step has a problem.
func (l *loader) step(s *Set, n *yaml.Node, i int, flowLabel string, names map[string]*yaml.Node) *fileStep {
	label := flowLabel + ": " + peekLabel(n, "step", i)
	probs := len(l.probs)
	fs, ok := l.fields(n, label, stepKeys...)
	if !ok {
		return nil
	}
	st := &fileStep{line: n.Line, col: n.Column}
	if f, ok := fs["name"]; !ok {
		l.errf(n, "%s: missing key \"name\"", label)
	} else if name, ok := l.str(f.val, label+": name", false); ok {
		st.name, st.line, st.col = name, f.val.Line, f.val.Column
		switch {
		case targetNames[name] != "":
			l.errf(f.val, "%s: %q is a word for where a step goes; name the step otherwise", label, name)
		case strings.HasPrefix(name, "$"):
			l.errf(f.val, "%s: a step name must not start with $", label)
		}
		if prev, dup := names[name]; dup {
			l.errf(f.val, "%s: duplicate step name (first at %s)", label, pos(prev))
		}
		names[name] = f.val
	}
	if f, ok := fs["ask"]; !ok {
		l.errf(n, "%s: missing key \"ask\"", label)
	} else {
		st.ask = l.template(f.val, label+": ask", promptDataType, false)
	}
	if f, ok := fs["expect"]; ok {
		st.check, st.expect, st.reask = l.check(s, f.val, label+": expect")
	}
	if f, ok := fs["save"]; ok {
		if v, ok := l.str(f.val, label+": save", false); ok && l.checkVarName(f.val, label+": save") {
			st.save = v
		}
	}
	if f, ok := fs["retry"]; ok {
		l.retry(st, f.val, label+": retry")
	}
	if f, ok := fs["remind"]; ok {
		st.remind = l.timer(st, f.val, label+": remind", false)
	}
	if f, ok := fs["timeout"]; ok {
		st.timeout = l.timer(st, f.val, label+": timeout", true)
	}
	if f, ok := fs["next"]; ok {
		for j, it := range l.list(f.val, label+": next") {
			l.branch(st, it, fmt.Sprintf("%s: next %d", label, j+1))
		}
	}
	_, hasDef := fs["default"]
	if g, ok := fs["goto"]; ok && hasDef {
		l.errf(g.key, "%s: goto and default say the same; write one", label)
	}
	for _, k := range []string{"default", "goto"} {
		if f, ok := fs[k]; ok {
			st.def = l.target(st, f.val, label+": "+k, k)
		}
	}
	if f, ok := fs["actions"]; ok {
		st.actions = l.calls(f.val, label+": actions")
	}
	if len(l.probs) > probs {
		return nil
	}
	return st
}

// A targetRef is a target named in a step, checked once all the steps are
// known.
type targetRef struct {
	val, what string
	node      *yaml.Node
	target    bool // end, handoff or cancel
}

// target reads a target: end, handoff, cancel or a step's name.
func (l *loader) target(st *fileStep, n *yaml.Node, what, key string) string {
	v, ok := l.str(n, what, false)
	if !ok {
		return ""
	}
	if t, ok := targetNames[v]; ok {
		st.targets = append(st.targets, targetRef{val: t, what: key, node: n, target: true})
		return t
	}
	st.targets = append(st.targets, targetRef{val: v, what: key, node: n})
	return v
}

func (l *loader) retry(st *fileStep, n *yaml.Node, what string) {
	fs, ok := l.fields(n, what, "max", "message", "say", "then")
	if !ok {
		return
	}
	if f, ok := fs["max"]; ok {
		if v, ok := l.integer(f.val, what+": max"); ok {
			switch {
			case v < 0:
				st.retry.Max = -1 // never give up
			case v == 0:
				l.errf(f.val, "%s: max: 0 would give up at the first refused answer; write then: directly as the step's default, or -1 to ask until answered", what)
			default:
				st.retry.Max = v
			}
		}
	}
	if f, ok := fs["message"]; ok {
		st.retryMsg = l.template(f.val, what+": message", promptDataType, false)
	}
	if f, ok := fs["say"]; ok {
		st.retrySay = l.template(f.val, what+": say", promptDataType, false)
	}
	if f, ok := fs["then"]; ok {
		st.retry.Then = l.target(st, f.val, what+": then", "retry: then")
	}
}

func (l *loader) timer(st *fileStep, n *yaml.Node, what string, timeout bool) *fileTimer {
	keys := []string{"after", "say", "template"}
	if timeout {
		keys = append(keys, "then")
	}
	fs, ok := l.fields(n, what, keys...)
	if !ok {
		return nil
	}
	t := &fileTimer{}
	if f, ok := fs["after"]; !ok {
		l.errf(n, "%s: missing key \"after\"", what)
	} else {
		t.after, _ = l.duration(f.val, what+": after")
	}
	data := remindDataType // a reminder may repeat the question
	if timeout {
		data = promptDataType
	}
	if f, ok := fs["say"]; ok {
		t.say = l.template(f.val, what+": say", data, false)
	}
	if f, ok := fs["template"]; ok {
		t.template = l.templateAction(f.val, what+": template", data)
	}
	if f, ok := fs["then"]; ok {
		t.then = l.target(st, f.val, what+": then", "timeout: then")
	}
	return t
}

// duration reads a positive duration: "90s", "10m", "1h30m", "7d".
func (l *loader) duration(n *yaml.Node, what string) (time.Duration, bool) {
	v, ok := l.str(n, what, false)
	if !ok {
		return 0, false
	}
	d, err := parseDuration(v)
	if err != nil || d <= 0 {
		l.errf(n, "%s: want a positive duration such as 90s, 10m, 1h30m or 7d, got %s", what, describeNode(n))
		return 0, false
	}
	return d, true
}

// parseDuration is time.ParseDuration with days: "7d", "1d12h".
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n > 3650 {
			return 0, fmt.Errorf("bad number of days %q", s[:i])
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	return days + d, err
}

// branch reads one of a step's next choices: {when, goto}.
func (l *loader) branch(st *fileStep, n *yaml.Node, what string) {
	fs, ok := l.fields(n, what, "when", "goto")
	if !ok {
		return
	}
	b := &fileBranch{}
	for _, k := range []string{"when", "goto"} {
		if _, ok := fs[k]; !ok {
			l.errf(n, "%s: missing key %q", what, k)
		}
	}
	if f, ok := fs["when"]; ok {
		if src, ok := l.str(f.val, what+": when", false); ok {
			b.when = src
			if _, err := bot.Expr(src, lookupOption); err != nil {
				l.exprErrorAt(f.val, what+": when", err)
			} else if x, err := bot.CompileEnvExpr(src, lookupOption); err == nil {
				b.cond = x
			}
		}
	}
	if f, ok := fs["goto"]; ok {
		b.to = l.target(st, f.val, what+": goto", "next: goto")
	}
	st.branches = append(st.branches, b)
}

// calls reads a list of a step's actions or of on_done: calls
// ({call: <name>, args: {…}}) and set and clear of conversation variables
// ({set: {<var>: <template>, …}}, {clear: [<var>, …]}).
func (l *loader) calls(n *yaml.Node, what string) []*fileCall {
	var out []*fileCall
	for i, it := range l.list(n, what) {
		w := fmt.Sprintf("%s: call %d", what, i+1)
		fs, ok := l.fields(it, w, flowActionKeys...)
		if !ok {
			continue
		}
		var kinds []string
		for _, k := range []string{"call", "set", "clear"} {
			if _, ok := fs[k]; ok {
				kinds = append(kinds, k)
			}
		}
		switch {
		case len(kinds) == 0:
			l.errf(it, "%s: missing key \"call\" (or set: or clear: of conversation variables)", w)
			continue
		case len(kinds) > 1:
			l.errf(fs[kinds[1]].key, "%s: an item is one of call, set and clear, got %s", w, strings.Join(kinds, " and "))
			continue
		}
		if kinds[0] != "call" {
			w = fmt.Sprintf("%s: action %d (%s)", what, i+1, kinds[0])
			if a, ok := fs["args"]; ok {
				l.errf(a.key, "%s: args go with call", w)
				continue
			}
			if c := l.varsCall(kinds[0], fs[kinds[0]].val, w); c != nil {
				out = append(out, c)
			}
			continue
		}
		f := fs["call"]
		name, ok := l.str(f.val, w+": call", false)
		if !ok {
			continue
		}
		c := &fileCall{kind: "call", action: name, line: f.val.Line, col: f.val.Column, what: w}
		if a, ok := fs["args"]; ok {
			if a.val.Kind != yaml.MappingNode {
				l.errf(a.val, "%s: args: want a mapping of names to values, got %s", w, describeNode(a.val))
				continue
			}
			v, ok := l.argValue(a.val, w+": args")
			if !ok {
				continue
			}
			c.args = v.(map[string]any)
		}
		out = append(out, c)
	}
	return out
}

// varsCall reads the set or clear of a flow's actions: its args are the
// variables by name, each a template over the flow's data (set) or nil
// (clear).
func (l *loader) varsCall(kind string, n *yaml.Node, what string) *fileCall {
	c := &fileCall{kind: kind, args: map[string]any{}, line: n.Line, col: n.Column, what: what}
	probs := len(l.probs)
	if kind == "clear" {
		names, nodes, ok := l.strList(n, what)
		for i, k := range nodes {
			if ok = l.checkVarName(k, what) && ok; ok {
				c.args[names[i]] = nil
			}
		}
	} else {
		if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
			l.errf(n, "%s: want a mapping of variable names to values, got %s", what, describeNode(n))
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := deref(n.Content[i]), deref(n.Content[i+1])
			if k.Kind != yaml.ScalarNode || !l.checkVarName(k, what) {
				continue
			}
			if _, dup := c.args[k.Value]; dup {
				l.errf(k, "%s: duplicate variable %q", what, k.Value)
				continue
			}
			c.args[k.Value] = l.template(v, what+": "+k.Value, flowDataType, true)
		}
	}
	if len(l.probs) > probs {
		return nil
	}
	return c
}

// argValue reads an argument: a string is a template over the flow's data,
// other scalars keep their type, and lists and mappings hold arguments.
func (l *loader) argValue(n *yaml.Node, what string) (any, bool) {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		out := map[string]any{}
		ok := true
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := deref(n.Content[i])
			name, good := l.str(k, what, false)
			if !good {
				ok = false
				continue
			}
			if _, dup := out[name]; dup {
				l.errf(k, "%s: duplicate key %q", what, name)
				ok = false
				continue
			}
			v, good := l.argValue(n.Content[i+1], what+": "+name)
			out[name], ok = v, ok && good
		}
		return out, ok
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		ok := true
		for i, it := range n.Content {
			v, good := l.argValue(it, fmt.Sprintf("%s[%d]", what, i))
			out, ok = append(out, v), ok && good
		}
		return out, ok
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil, true
		case "!!int", "!!float", "!!bool":
			var v any
			if err := n.Decode(&v); err != nil {
				l.errf(n, "%s: %v", what, err)
				return nil, false
			}
			return v, true
		}
		t := l.template(n, what, flowDataType, true)
		return t, t != nil
	}
	l.errf(n, "%s: unexpected %s", what, describeNode(n))
	return nil, false
}

// check reads a step's expect: the name of a check, or a mapping with one
// check and, optionally, reask. It returns the check's maker and key, and
// the reask.
func (l *loader) check(s *Set, n *yaml.Node, what string) (func(*time.Location) flow.Check, string, *tmpl) {
	var key, val *yaml.Node
	var reask *tmpl
	switch n.Kind {
	case yaml.ScalarNode:
		key = n
	case yaml.MappingNode:
		fs, ok := l.fields(n, what, append(slices.Clone(checkKeys), "reask")...)
		if !ok {
			return nil, "", nil
		}
		for _, k := range checkKeys {
			if f, ok := fs[k]; ok {
				if key != nil {
					l.errf(f.key, "%s: one check per step; %s and %s are two (combine them with expr)", what, key.Value, k)
					return nil, "", nil
				}
				key, val = f.key, f.val
			}
		}
		if f, ok := fs["reask"]; ok {
			reask = l.template(f.val, what+": reask", promptDataType, false)
		}
		if key == nil {
			l.errf(n, "%s: no check: want one of %s", what, strings.Join(checkKeys, ", "))
			return nil, "", nil
		}
	default:
		l.errf(n, "%s: want a check such as email or {number: {min: 1, max: 10}}, got %s", what, describeNode(n))
		return nil, "", nil
	}
	if !slices.Contains(checkKeys, key.Value) {
		l.errf(key, "%s: unknown check %q%s", what, key.Value, suggest(key.Value, checkKeys))
		return nil, "", nil
	}
	what += ": " + key.Value
	if val != nil && val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
		val = nil
	}
	mk := l.checkMaker(key.Value, val, what)
	if mk == nil {
		return nil, "", nil
	}
	return mk, key.Value, reask
}

// noArgs reports a check that takes no arguments but was given some.
func (l *loader) noArgs(val *yaml.Node, what string) bool {
	if val != nil {
		l.errf(val, "%s: takes no arguments", what)
		return false
	}
	return true
}

// bounds reads {min, max} of a text, number or integer check.
func (l *loader) bounds(val *yaml.Node, what string, integer bool) (lo, hi float64, hasLo, hasHi, ok bool) {
	if val == nil {
		return 0, 0, false, false, true
	}
	fs, good := l.fields(val, what, "min", "max")
	if !good {
		return 0, 0, false, false, false
	}
	ok = true
	read := func(k string) (float64, bool) {
		f, present := fs[k]
		if !present {
			return 0, false
		}
		if integer {
			v, good := l.integer(f.val, what+": "+k)
			ok = ok && good
			return float64(v), good
		}
		var v float64
		if f.val.Kind != yaml.ScalarNode || (f.val.Tag != "!!int" && f.val.Tag != "!!float") || f.val.Decode(&v) != nil || math.IsNaN(v) {
			l.errf(f.val, "%s: %s: want a number, got %s", what, k, describeNode(f.val))
			ok = false
			return 0, false
		}
		return v, true
	}
	lo, hasLo = read("min")
	hi, hasHi = read("max")
	if ok && hasLo && hasHi && lo > hi {
		l.errf(fs["min"].val, "%s: min %v is more than max %v", what, lo, hi)
		ok = false
	}
	return lo, hi, hasLo, hasHi, ok
}

// checkMaker returns the maker of a check, or nil after reporting its
// problem.
func (l *loader) checkMaker(kind string, val *yaml.Node, what string) func(*time.Location) flow.Check {
	fixed := func(c flow.Check) func(*time.Location) flow.Check {
		return func(*time.Location) flow.Check { return c }
	}
	switch kind {
	case "email":
		if l.noArgs(val, what) {
			return fixed(flow.Email())
		}
	case "yesno":
		if l.noArgs(val, what) {
			return fixed(flow.YesNo())
		}
	case "text":
		lo, hi, _, hasHi, ok := l.bounds(val, what, true)
		if !ok {
			return nil
		}
		if !hasHi {
			hi = 0
		}
		return fixed(flow.FreeText(int(lo), int(hi)))
	case "number":
		lo, hi, hasLo, hasHi, ok := l.bounds(val, what, false)
		if !ok {
			return nil
		}
		if !hasLo {
			lo = math.Inf(-1)
		}
		if !hasHi {
			hi = math.Inf(1)
		}
		return fixed(flow.Number(lo, hi))
	case "integer":
		lo, hi, hasLo, hasHi, ok := l.bounds(val, what, true)
		if !ok {
			return nil
		}
		ilo, ihi := int64(math.MinInt64), int64(math.MaxInt64)
		if hasLo {
			ilo = int64(lo)
		}
		if hasHi {
			ihi = int64(hi)
		}
		return fixed(flow.Integer(ilo, ihi))
	case "phone":
		if val == nil {
			return fixed(flow.Phone())
		}
		fs, ok := l.fields(val, what, "region")
		if !ok {
			return nil
		}
		f, ok := fs["region"]
		if !ok {
			l.errf(val, "%s: missing key \"region\" (the country calling code, such as \"385\")", what)
			return nil
		}
		region, ok := l.str(f.val, what+": region", false)
		if !ok {
			return nil
		}
		c, err := protect(func() flow.Check { return flow.PhoneIn(region) })
		if err != nil {
			l.errf(f.val, "%s: region: %q is not a country calling code (one to three digits, such as \"385\")", what, region)
			return nil
		}
		return fixed(c)
	case "choice":
		return l.choice(val, what)
	case "date":
		var layouts []string
		if val != nil {
			fs, ok := l.fields(val, what, "layouts")
			if !ok {
				return nil
			}
			if f, ok := fs["layouts"]; ok {
				if layouts, _, ok = l.strList(f.val, what+": layouts"); !ok {
					return nil
				}
			}
		}
		return func(loc *time.Location) flow.Check {
			if loc == nil {
				loc = time.UTC
			}
			return flow.DateIn(loc, layouts...)
		}
	case "regexp":
		if val == nil {
			l.errf(nilNode(val, l), "%s: want a pattern", what)
			return nil
		}
		p, ok := l.str(val, what, false)
		if !ok {
			return nil
		}
		c, err := flow.Regexp(p, "")
		if err != nil {
			l.errAt(val.Line, val.Column, err, "%s: %v", what, err)
			return nil
		}
		return fixed(c)
	case "expr":
		if val == nil {
			l.errf(nilNode(val, l), "%s: want a condition", what)
			return nil
		}
		src, ok := l.str(val, what, false)
		if !ok {
			return nil
		}
		c, err := flow.Expr(src, "")
		if err != nil {
			l.exprErrorAt(val, what, err)
			return nil
		}
		return fixed(c)
	}
	return nil
}

// nilNode returns n, or a node at the last position reported, for a
// missing value.
func nilNode(n *yaml.Node, l *loader) *yaml.Node {
	if n != nil {
		return n
	}
	return &yaml.Node{}
}

// choice reads the choices of a choice check: strings, or mappings with
// value, label and synonyms.
func (l *loader) choice(val *yaml.Node, what string) func(*time.Location) flow.Check {
	if val == nil || val.Kind != yaml.SequenceNode || len(val.Content) == 0 {
		n := val
		if n == nil {
			n = &yaml.Node{}
		}
		l.errf(n, "%s: want a list of choices", what)
		return nil
	}
	var choices []flow.Choice
	ok := true
	for i, it := range val.Content {
		it = deref(it)
		w := fmt.Sprintf("%s[%d]", what, i)
		if it.Kind == yaml.ScalarNode {
			v, good := l.str(it, w, false)
			ok = ok && good
			choices = append(choices, flow.Choice{Value: v})
			continue
		}
		fs, good := l.fields(it, w, "value", "label", "synonyms")
		if !good {
			ok = false
			continue
		}
		var c flow.Choice
		if f, has := fs["value"]; !has {
			l.errf(it, "%s: missing key \"value\"", w)
			ok = false
		} else {
			c.Value, good = l.str(f.val, w+": value", false)
			ok = ok && good
		}
		if f, has := fs["label"]; has {
			c.Label, good = l.str(f.val, w+": label", false)
			ok = ok && good
		}
		if f, has := fs["synonyms"]; has {
			c.Synonyms, _, good = l.strList(f.val, w+": synonyms")
			ok = ok && good
		}
		choices = append(choices, c)
	}
	if !ok {
		return nil
	}
	c, err := protect(func() flow.Check { return flow.OneOfChoices(choices...) })
	if err != nil {
		l.errf(val, "%s: %v", what, err)
		return nil
	}
	return func(*time.Location) flow.Check { return c }
}

// protect calls mk, turning a panic (a check refusing its arguments) into
// an error.
func protect(mk func() flow.Check) (c flow.Check, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	return mk(), nil
}

// exprErrorAt reports a bad expression at its position in the file.
func (l *loader) exprErrorAt(n *yaml.Node, what string, err error) {
	var ee *bot.ExprError
	if !errors.As(err, &ee) || ee.Line == 0 {
		msg := err.Error()
		if ee != nil {
			msg = ee.Msg
		}
		l.errAt(n.Line, n.Column, err, "%s: %s", what, msg)
		return
	}
	line, col := l.scalarPos(n, ee.Line, ee.Column)
	where := fmt.Sprintf("column %d of the expression", ee.Column)
	if strings.Contains(ee.Source, "\n") {
		where = fmt.Sprintf("line %d, column %d of the expression", ee.Line, ee.Column)
	}
	l.errAt(line, col, err, "%s: %s (%s)", what, ee.Msg, where)
}

// definition returns the flow engine's definition of f: prompts and
// arguments rendered by e (nil: a definition only to check), date checks
// in loc. Calls name the actions as the rules engine registers them.
func (f *fileFlow) definition(e *Engine, loc *time.Location) flow.Flow {
	def := flow.Flow{Name: f.name, Interrupt: f.interrupt, OnHandoff: f.handoff, TTL: f.ttl,
		OnDone: callsOf(f.onDone)}
	if f.done != nil {
		def.Done = e.prompt(f.done)
	}
	for _, st := range f.steps {
		fs := flow.Step{Name: st.name, Ask: e.prompt(st.ask), Save: st.save, Retry: st.retry,
			Actions: callsOf(st.actions), Next: flow.Next{Default: st.def}}
		if st.check != nil {
			fs.Check = st.check(loc)
		}
		if st.retrySay != nil {
			fs.Retry.Say = e.prompt(st.retrySay)
		}
		fs.Check = e.reasking(f, st, fs.Check)
		if st.remind != nil {
			fs.Remind = &flow.Reminder{After: st.remind.after, Ask: e.remindPrompt(st.remind, st.ask)}
		}
		if st.timeout != nil {
			fs.Timeout = &flow.Timeout{After: st.timeout.after, Then: st.timeout.then, Say: e.timeoutPrompt(st.timeout)}
		}
		for _, b := range st.branches {
			fs.Next.Branches = append(fs.Next.Branches, flow.Branch{When: e.condition(b, loc), Goto: b.to})
		}
		def.Steps = append(def.Steps, fs)
	}
	return def
}

// actionPrefix prefixes the names under which the rules engine registers
// its actions on the flow engine, so that they do not meet the names Go
// code registers there.
const actionPrefix = "rulefile:"

// varsActionName is the name under which the rules engine registers
// varsAction on its flow engine: not one of actionPrefix, so that it does
// not meet the actions given with WithAction.
const varsActionName = "rulefile$vars"

func callsOf(fc []*fileCall) []flow.Call {
	out := make([]flow.Call, 0, len(fc))
	for _, c := range fc {
		if c.kind != "call" {
			out = append(out, flow.Call{Action: varsActionName, Args: c.args})
			continue
		}
		out = append(out, flow.Call{Action: actionPrefix + c.action, Args: c.args})
	}
	return out
}

// flowData is the data of a flow's templates: its prompts and the string
// arguments of its action calls.
type flowData struct {
	// Platform and Conversation say whose conversation it is.
	Platform, Conversation string
	// Flow and Step name the flow and the step (empty in done and
	// on_done).
	Flow, Step string
	// Values are the flow's values by name.
	Values map[string]any
	// Vars are the conversation's variables.
	Vars map[string]string
	// Contact is the author of the answer that completed the step, in an
	// action call's arguments; zero elsewhere.
	Contact bot.User

	steps int // see loopGuard
}

// promptData is the data of a flow's prompts (ask, done, the say of
// remind and timeout and the placeholders of their templates, retry's
// message, expect's reask): the fields of the
// message that led to the prompt at the top level (.Text, .Author.Name,
// …; empty when none did, as for a reminder), and the flow's.
type promptData struct {
	*bot.Message // never nil: an empty message when none led to the prompt
	// Kind is the message's kind, "message" when it says none; empty
	// when there is no message (it hides Message.Kind).
	Kind bot.Kind
	// Platform and Conversation say whose conversation it is, with or
	// without a message (they hide the message's).
	Platform, Conversation string
	// Flow and Step name the flow and the step (empty in done).
	Flow, Step string
	// Values are the flow's values by name.
	Values map[string]any
	// Vars are the conversation's variables.
	Vars map[string]string
	// WindowOpen reports whether the conversation's customer-service
	// window is open (always, on a platform without one); WindowClosesAt
	// is when it closes or closed, zero when there is none or it is not
	// known (see bot.Window).
	WindowOpen     bool
	WindowClosesAt time.Time

	steps int // see loopGuard
}

// newPromptData returns the data of a prompt sent in the state st, for
// the step named step, led to by m (nil: no message).
func newPromptData(st *flow.State, step string, m *bot.Message, vars map[string]string) *promptData {
	d := &promptData{Message: m, Platform: st.Platform, Conversation: st.Conversation, Flow: st.Flow, Step: step,
		Values: map[string]any(st.Values), Vars: vars,
		WindowOpen: !st.Window.Applies || st.Window.Open, WindowClosesAt: st.Window.ClosesAt}
	if m == nil {
		d.Message = &bot.Message{}
	} else {
		d.Kind = m.Kind.Or()
	}
	return d
}

// prompt returns the Prompt of a template.
func (e *Engine) prompt(t *tmpl) flow.Prompt {
	return flow.PromptFunc(func(ctx context.Context, s *flow.State) (*bot.Message, error) {
		text, err := e.render(ctx, t, s, s.Step, s.Message)
		if err != nil {
			return nil, err
		}
		return &bot.Message{Text: text}, nil
	})
}

// render renders a prompt template in the state st for step, led to by
// m; it reads the conversation's variables only when the template does.
func (e *Engine) render(ctx context.Context, t *tmpl, st *flow.State, step string, m *bot.Message) (string, error) {
	d, err := e.promptData(ctx, t.readsVars(), st, step, m)
	if err != nil {
		return "", err
	}
	return t.exec(d)
}

// promptData returns the data of a prompt template in the state st for
// step, led to by m; it reads the conversation's variables only when the
// template does (reads).
func (e *Engine) promptData(ctx context.Context, reads bool, st *flow.State, step string, m *bot.Message) (*promptData, error) {
	var vars map[string]string
	if e != nil {
		vars = e.cur.Load().vars
		if reads {
			own, err := e.readVars(ctx, st.Platform, st.Conversation)
			if err != nil {
				return nil, err
			}
			vars = mergeVars(vars, own)
		}
	}
	return newPromptData(st, step, m, vars), nil
}

// remindData is the data of a reminder's say and of its template's
// placeholders: a prompt's, and the step's question.
type remindData struct {
	*promptData
	// Ask is the step's question, rendered as it would be asked now
	// (without a message: a timer sends the reminder).
	Ask string
}

// remindPrompt returns the Prompt of a reminder r of a step whose
// question is ask: r's say, whose .Ask is the question (without a say, the
// question itself), or r's template when the conversation's window is
// closed. It returns nil when r has neither a say nor a template: the
// flow engine asks the question again.
func (e *Engine) remindPrompt(r *fileTimer, ask *tmpl) flow.Prompt {
	if r.say == nil && r.template == nil {
		return nil
	}
	return flow.PromptFunc(func(ctx context.Context, s *flow.State) (*bot.Message, error) {
		closed := r.template != nil && windowClosed(s)
		reads := r.say != nil && r.say.readsVars()
		if closed {
			reads = r.template.readsVars()
		}
		q, err := e.render(ctx, ask, s, s.Step, s.Message)
		if err != nil {
			return nil, err
		}
		d, err := e.promptData(ctx, reads, s, s.Step, s.Message)
		if err != nil {
			return nil, err
		}
		rd := &remindData{promptData: d, Ask: q}
		switch {
		case closed:
			return templateMessage(r.template, rd)
		case r.say == nil:
			return &bot.Message{Text: q}, nil
		}
		text, err := r.say.exec(rd)
		if err != nil {
			return nil, err
		}
		return &bot.Message{Text: text}, nil
	})
}

// timeoutPrompt returns the Prompt of a timeout t: its say, or its
// template when the conversation's window is closed; nil when it has
// neither.
func (e *Engine) timeoutPrompt(t *fileTimer) flow.Prompt {
	if t.say == nil && t.template == nil {
		return nil
	}
	return flow.PromptFunc(func(ctx context.Context, s *flow.State) (*bot.Message, error) {
		switch {
		case t.template != nil && windowClosed(s):
			d, err := e.promptData(ctx, t.template.readsVars(), s, s.Step, s.Message)
			if err != nil {
				return nil, err
			}
			return templateMessage(t.template, d)
		case t.say == nil:
			return nil, nil // nothing to say while the window is open
		}
		text, err := e.render(ctx, t.say, s, s.Step, s.Message)
		if err != nil {
			return nil, err
		}
		return &bot.Message{Text: text}, nil
	})
}

// window returns the customer-service window of a conversation as the
// Bot knows it (see bot.Window); the zero Window, as on a platform
// without one, when it cannot tell.
func (e *Engine) window(ctx context.Context, platform, conversation string) bot.Window {
	if e == nil || e.bot == nil {
		return bot.Window{}
	}
	w, err := e.bot.Window(ctx, platform, conversation)
	if err != nil {
		return bot.Window{}
	}
	return w
}

// windowClosed reports whether the prompt in the state s is made while the
// conversation's customer-service window is known to be closed.
func windowClosed(s *flow.State) bool { return s.Window.Applies && !s.Window.Open }

// templateMessage returns the message of the approved template a, its
// placeholders rendered with data.
func templateMessage(a *templateAction, data any) (*bot.Message, error) {
	p, err := a.payload(func(t *tmpl) (string, error) { return t.exec(data) })
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", a.keyword, err)
	}
	return &bot.Message{Payload: p}, nil
}

// reasking returns the check of step st of f with its refusals re-asked
// as the file says (see reaskText), the texts rendered with the refused
// answer. c is the step's check; nil accepts any text that is not empty,
// as the flow engine does without a check.
func (e *Engine) reasking(f *fileFlow, st *fileStep, c flow.Check) flow.Check {
	if st.reask == nil && st.retryMsg == nil {
		return c
	}
	if c == nil {
		c = flow.CheckFunc(func(_ context.Context, a flow.Answer) (any, error) {
			if a.Text == "" {
				return nil, flow.Invalid("empty answer", "")
			}
			return a.Text, nil
		})
	}
	return flow.CheckFunc(func(ctx context.Context, a flow.Answer) (any, error) {
		v, err := c.Check(ctx, a)
		var inv *flow.InvalidError
		if !errors.As(err, &inv) {
			return v, err
		}
		state := &flow.State{Flow: f.name, Step: st.name, Values: a.Values}
		if a.Message != nil {
			state.Platform, state.Conversation = a.Message.Platform, a.Message.Conversation
			state.Window = e.window(ctx, state.Platform, state.Conversation)
		}
		text, err := st.reaskText(inv, func(t *tmpl) (string, error) { return e.render(ctx, t, state, st.name, a.Message) })
		if err != nil {
			return nil, fmt.Errorf("rulefile: flow %q: step %q: re-ask: %w", f.name, st.name, err)
		}
		return nil, flow.Invalid(inv.Reason, text)
	})
}

// reaskText returns the text a step asks again with after the refused
// answer inv: its expect's reask, else the check's own re-ask, else
// retry's message, the templates rendered by render; a template that
// renders nothing leaves it to the next. "" asks the step's question
// again.
func (st *fileStep) reaskText(inv *flow.InvalidError, render func(*tmpl) (string, error)) (string, error) {
	if st.reask != nil {
		text, err := render(st.reask)
		if err != nil || text != "" {
			return text, err
		}
	} else if inv.Reask != "" {
		return inv.Reask, nil
	}
	if st.retryMsg != nil {
		return render(st.retryMsg)
	}
	return "", nil
}

// flowData returns the data of a flow template; it reads the
// conversation's variables only when the template does (reads, all).
func (e *Engine) flowData(ctx context.Context, platform, conversation, flowName, step string, values flow.Values, reads []string, all bool) (*flowData, error) {
	d := &flowData{Platform: platform, Conversation: conversation, Flow: flowName, Step: step, Values: map[string]any(values)}
	if e == nil {
		return d, nil
	}
	defaults := e.cur.Load().vars
	d.Vars = defaults
	if all || len(reads) > 0 {
		own, err := e.readVars(ctx, platform, conversation)
		if err != nil {
			return nil, err
		}
		d.Vars = mergeVars(defaults, own)
	}
	return d, nil
}

// condition returns the flow.Condition of a branch: its expression over
// the flow's values and the conversation's variables.
func (e *Engine) condition(b *fileBranch, loc *time.Location) flow.Condition {
	return flow.ConditionFunc(func(ctx context.Context, s *flow.State) (bool, error) {
		if b.cond == nil {
			return false, fmt.Errorf("rulefile: branch %q did not compile", b.when)
		}
		env := bot.NewEnv(&bot.Message{Platform: s.Platform, Conversation: s.Conversation}, bot.OwnerBot, loc)
		out, err := b.cond.EvalContext(withScope(ctx, &stateScope{eng: e, state: s}), env)
		if err != nil {
			return false, err
		}
		v, ok := out.(bool)
		if !ok {
			return false, fmt.Errorf("rulefile: %s is %T, not a bool", b.when, out)
		}
		return v, nil
	})
}

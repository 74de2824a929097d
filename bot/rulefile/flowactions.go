package rulefile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
)

// This file holds what runs the flows of a file on a flow engine: the
// start_flow and cancel_flow actions of rules, the named actions Go code
// gives the Engine (WithAction), and the checks made when a Set is
// installed or swapped in.

// WithAction makes a Go action callable by name from the flows of the rules
// files the Engine runs (call: <name>). The Engine registers it on its flow
// engine under a name of its own, and renders the call's arguments (the
// strings of args:, templates over the flow's values) before it runs a.
// Files that call an action not given so are refused when installed or
// swapped in. It panics if name is empty or a is nil, and the last
// WithAction of a name wins.
func WithAction(name string, a flow.Action) Option {
	if name == "" || a == nil {
		panic("rulefile: WithAction needs a name and an action")
	}
	return func(e *Engine) {
		if e.actions == nil {
			e.actions = map[string]flow.Action{}
		}
		e.actions[name] = a
	}
}

// WithFlows makes the Engine define the flows of its files on fe, a flow
// engine of the Bot the Engine is installed on (which may run flows of its
// own, defined in Go), instead of one it makes itself. The program calls
// fe.Install itself. Default: [Engine.Install] makes a flow engine for the
// Bot, and installs it, when the file has flows.
func WithFlows(fe *flow.Engine) Option { return func(e *Engine) { e.flows = fe } }

// Flows returns the flow engine the Engine defines its files' flows on, or
// nil when it has none (it was installed without flows and without
// WithFlows).
func (e *Engine) Flows() *flow.Engine { return e.flows }

// setupFlows makes the flow engine when s needs one, registers the
// actions and defines the flows of s. It runs once, from Install.
func (e *Engine) setupFlows(b *bot.Bot, s *Set) error {
	if e.flows == nil && len(s.flows) == 0 {
		return nil
	}
	own := e.flows == nil
	if own {
		e.flows = flow.New(b)
	}
	for _, name := range slices.Sorted(maps.Keys(e.actions)) {
		if err := e.flows.RegisterAction(actionPrefix+name, e.runAction(e.actions[name])); err != nil {
			return fmt.Errorf("rulefile: %w", err)
		}
	}
	if err := e.flows.RegisterAction(varsActionName, e.runAction(flow.ActionFunc(e.varsAction))); err != nil {
		return fmt.Errorf("rulefile: %w", err)
	}
	if err := e.defineFlows(s); err != nil {
		return err
	}
	if own {
		e.flows.Install()
	}
	return nil
}

// defineFlows replaces the flows of the current file on the flow engine
// with those of s.
func (e *Engine) defineFlows(s *Set) error {
	defs := make([]flow.Flow, 0, len(s.flows))
	names := make([]string, 0, len(s.flows))
	for _, f := range s.flows {
		defs = append(defs, f.definition(e, e.bot.Location()))
		names = append(names, f.name)
	}
	if err := e.flows.Replace(e.defined, defs); err != nil {
		var de *flow.DefinitionError
		if errors.As(err, &de) {
			for _, f := range s.flows {
				if f.name == de.Flow {
					return &LoadError{Problems: []Problem{{File: s.file, Line: f.line, Column: f.col, Err: err,
						Msg: fmt.Sprintf("flow %q: %s", f.name, de.Reason)}}}
				}
			}
		}
		return fmt.Errorf("rulefile: %w", err)
	}
	e.defined, e.definedDefs = names, defs
	return nil
}

// checkFlows returns the problems of running the flows of s on the Engine:
// calls of actions it was not given, and flows when it has no flow engine
// once installed.
func (e *Engine) checkFlows(s *Set, installing bool) []Problem {
	var probs []Problem
	for _, c := range s.calls {
		if _, ok := e.actions[c.action]; !ok && c.kind == "call" {
			probs = append(probs, Problem{File: s.file, Line: c.line, Column: c.col,
				Msg: fmt.Sprintf("%s: no action named %q was given to the rules engine (rulefile.WithAction)%s",
					c.what, c.action, suggest(c.action, slices.Sorted(maps.Keys(e.actions))))})
		}
	}
	if !installing && e.flows == nil && len(s.flows) > 0 {
		f := s.flows[0]
		probs = append(probs, Problem{File: s.file, Line: f.line, Column: f.col,
			Msg: "flows: the bot was started with a rules file without flows; restart it to run flows"})
	}
	return probs
}

// pruneFlows ends the runs a swap left without their flow or step, and
// logs each.
func (e *Engine) pruneFlows(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ended, err := e.flows.Prune(ctx)
	for _, s := range ended {
		e.log().LogAttrs(ctx, slog.LevelWarn, "rulefile: flow ended by a reload: the new file has no such flow or step",
			slog.String("platform", s.Platform), slog.String("conversation", s.Conversation),
			slog.String("flow", s.Flow), slog.String("step", s.Step))
	}
	if err != nil {
		e.log().LogAttrs(ctx, slog.LevelError, "rulefile: ending the flows a reload removed", slog.Any("error", err))
	}
}

// runAction wraps a Go action: it renders the call's arguments first.
func (e *Engine) runAction(a flow.Action) flow.Action {
	return flow.ActionFunc(func(ctx context.Context, c flow.ActionCall) error {
		d, err := e.flowData(ctx, c.Platform, c.Conversation, c.Flow, c.Step, c.Values, nil, argsReadVars(c.Args))
		if err != nil {
			return err
		}
		d.Contact = c.Contact
		args, err := renderArg(c.Args, d)
		if err != nil {
			return fmt.Errorf("args: %w", err)
		}
		c.Args, _ = args.(map[string]any)
		return a.Run(ctx, c)
	})
}

// varsAction is the action of the set and clear of a flow's actions and
// on_done: its arguments, rendered, are the variables by name, a string
// to set and nil to clear. It changes the conversation's variables as a
// rule's set and clear do, all or none: a value larger than MaxVarSize
// fails the call and changes nothing.
func (e *Engine) varsAction(ctx context.Context, c flow.ActionCall) error {
	for _, k := range slices.Sorted(maps.Keys(c.Args)) {
		if v, ok := c.Args[k].(string); ok && len(v) > MaxVarSize {
			return fmt.Errorf("%s: %d bytes, more than the %d a variable may hold", k, len(v), MaxVarSize)
		}
	}
	own, err := e.readVars(ctx, c.Platform, c.Conversation)
	if err != nil {
		return err
	}
	for k, v := range c.Args {
		if s, ok := v.(string); ok {
			own[k] = s
		} else {
			delete(own, k)
		}
	}
	return e.writeVars(ctx, c.Platform, c.Conversation, own)
}

// argsReadVars reports whether a template among args reads variables.
func argsReadVars(v any) bool {
	switch v := v.(type) {
	case *tmpl:
		return v.readsAll || len(v.reads) > 0
	case map[string]any:
		for _, x := range v {
			if argsReadVars(x) {
				return true
			}
		}
	case []any:
		return slices.ContainsFunc(v, argsReadVars)
	}
	return false
}

// renderArg renders the templates in an argument.
func renderArg(v any, d *flowData) (any, error) {
	switch v := v.(type) {
	case *tmpl:
		return v.exec(d)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			r, err := renderArg(x, d)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			r, err := renderArg(x, d)
			if err != nil {
				return nil, fmt.Errorf("%d: %w", i, err)
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// A startFlowAction starts a flow in the message's conversation:
// start_flow: <name>, or start_flow: {name: <name>, values: {…}}.
type startFlowAction struct {
	name      string
	names     []string // of values, in file order
	values    []*tmpl
	line, col int
}

func (*startFlowAction) kind() string { return "start_flow" }

func (a *startFlowAction) run(ctx context.Context, x *execution) error {
	if x.eng.flows == nil {
		return errors.New("the engine runs no flows")
	}
	vals := flow.Values{}
	if len(a.values) > 0 {
		d, err := x.messageData(ctx)
		if err != nil {
			return err
		}
		for i, t := range a.values {
			v, err := t.exec(d)
			if err != nil {
				return fmt.Errorf("%s: %w", a.names[i], err)
			}
			vals[a.names[i]] = v
		}
	}
	return x.eng.flows.StartFrom(ctx, x.m, a.name, vals)
}

// A cancelFlowAction ends the conversation's flow, if one runs, without
// its on_done calls: cancel_flow: true.
type cancelFlowAction struct{}

func (cancelFlowAction) kind() string { return "cancel_flow" }

func (cancelFlowAction) run(ctx context.Context, x *execution) error {
	if x.eng.flows == nil {
		return nil
	}
	err := x.eng.flows.Cancel(ctx, x.m.Platform, x.m.Conversation)
	if errors.Is(err, flow.ErrNoFlow) {
		return nil
	}
	return err
}

func (a *startFlowAction) preview(p *preview) ActionInfo {
	d := strconv.Quote(a.name)
	var parts []string
	for i, t := range a.values {
		shown, _, _ := p.render(t)
		parts = append(parts, a.names[i]+" = "+shown)
	}
	if len(parts) > 0 {
		d += " with " + strings.Join(parts, ", ")
	}
	return ActionInfo{Kind: "start_flow", Detail: d}
}

func (cancelFlowAction) preview(*preview) ActionInfo {
	return ActionInfo{Kind: "cancel_flow", Detail: "end the conversation's flow, if one runs"}
}

// startFlow reads a start_flow action.
func (l *loader) startFlow(n *yaml.Node, what string) action {
	if n.Kind == yaml.ScalarNode {
		name, ok := l.str(n, what, false)
		if !ok {
			return nil
		}
		a := &startFlowAction{name: name, line: n.Line, col: n.Column}
		l.starts = append(l.starts, a)
		return a
	}
	fs, ok := l.fields(n, what, "name", "values")
	if !ok {
		return nil
	}
	f, ok := fs["name"]
	if !ok {
		l.errf(n, "%s: missing key \"name\"", what)
		return nil
	}
	name, ok := l.str(f.val, what+": name", false)
	if !ok {
		return nil
	}
	a := &startFlowAction{name: name, line: f.val.Line, col: f.val.Column}
	if v, ok := fs["values"]; ok {
		set, _ := l.setAction(v.val, what+": values").(*setAction)
		if set == nil {
			return nil
		}
		a.names, a.values = set.names, set.values
	}
	l.starts = append(l.starts, a)
	return a
}

// checkStarts reports the start_flow actions that name no flow of the
// file.
func (l *loader) checkStarts(s *Set) {
	var names []string
	for _, f := range s.flows {
		names = append(names, f.name)
	}
	for _, a := range l.starts {
		if !slices.Contains(names, a.name) {
			l.errAt(a.line, a.col, nil, "start_flow: unknown flow %q%s", a.name, suggest(a.name, names))
		}
	}
}

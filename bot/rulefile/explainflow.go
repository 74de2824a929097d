package rulefile

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
)

// A Conversation is what [Set.ExplainIn] is told of the conversation of
// the message it explains, which a Bot keeps in its Store.
type Conversation struct {
	// Vars are the variables set in the conversation; the file's defaults
	// apply to the others. Nil means unknown: templates that read them are
	// shown as written. Conditions read the defaults then.
	Vars map[string]string
	// Flow is the flow waiting in the conversation, nil when none is: its
	// Flow, Step, Attempts, Values and Paused are used.
	Flow *flow.State
}

// Flows names the flows of s, in file order.
func (s *Set) Flows() []string {
	out := make([]string, len(s.flows))
	for i, f := range s.flows {
		out[i] = f.name
	}
	return out
}

// explainFlow explains what the flow waiting in c does with m.
func (s *Set) explainFlow(ctx context.Context, m *bot.Message, owner bot.Owner, c Conversation) Explanation {
	st := c.Flow
	x := Explanation{Rule: st.Flow, Flow: true, Step: st.Step}
	i := slices.IndexFunc(s.flows, func(f *fileFlow) bool { return f.name == st.Flow })
	switch {
	case owner == bot.OwnerHuman:
		x.Result, x.Decider = Skipped, "a human owns the conversation: the flow is paused until it comes back"
		return x
	case i < 0:
		x.Result, x.Decider = NotMatched, "not a flow of this file"
		return x
	}
	f := s.flows[i]
	j := slices.IndexFunc(f.steps, func(fs *fileStep) bool { return fs.name == st.Step })
	if j < 0 {
		x.Result, x.Decider = Failed, fmt.Sprintf("the flow has no step %q", st.Step)
		x.Err = errors.New("rulefile: the step is gone; a reload of this file ends the run")
		return x
	}
	step := f.steps[j]
	if st.Paused {
		x.Result, x.Runs = Matched, true
		x.Decider = "the conversation is back with the bot after a handoff"
		if f.handoff == flow.EndAfterHandoff {
			x.Actions = []ActionInfo{{Kind: "end", Detail: "the flow ends (on_handoff: end), without on_done"}}
		} else {
			x.Actions = []ActionInfo{{Kind: "ask", Detail: s.flowText(step.ask, st, c, step.name, m)}}
		}
		return x
	}
	if m.Kind.Or() != bot.KindMessage || m.Author.Bot || m.Author.Agent {
		x.Result, x.Decider = NotMatched, "the flow waits for a message of the customer"
		return x
	}
	x.Result, x.Runs = Matched, true
	x.Decider = fmt.Sprintf("waits at step %q", st.Step)
	text := strings.TrimSpace(m.Text)
	var (
		v   any
		err error
	)
	if step.check != nil {
		v, err = step.check(time.Local).Check(ctx, flow.Answer{Message: m, Text: text, Values: st.Values})
	} else if text == "" {
		err = flow.Invalid("empty answer", "")
	} else {
		v = text
	}
	var inv *flow.InvalidError
	switch {
	case errors.As(err, &inv):
		limit := step.retry.Max
		if limit == 0 {
			limit = 2
		}
		refused := fmt.Sprintf("%s (refused answer %d", inv.Reason, st.Attempts+1)
		if limit >= 0 {
			refused += fmt.Sprintf("; the step asks again %d times at most", limit)
		}
		x.Actions = append(x.Actions, ActionInfo{Kind: "refused", Detail: refused + ")"})
		if limit >= 0 && st.Attempts+1 > limit {
			if step.retrySay != nil {
				x.Actions = append(x.Actions, ActionInfo{Kind: "say", Detail: s.flowText(step.retrySay, st, c, step.name, m)})
			}
			x.Actions = append(x.Actions, s.gotoInfo(f, cmpOr(step.retry.Then, flow.HandOff), st, c, "after the last refused answer", m))
			return x
		}
		var unknown *tmpl // a re-ask that reads variables Explain was not told
		reask, err := step.reaskText(inv, func(t *tmpl) (string, error) {
			if c.Vars == nil && (t.readsAll || len(t.reads) > 0) {
				unknown = t
				return "", errNotRendered
			}
			return t.exec(newPromptData(st, step.name, m, mergeVars(s.vars, c.Vars)))
		})
		var d string
		switch {
		case unknown != nil:
			d = strconv.Quote(unknown.src) + notRendered
		case err != nil:
			d = "error: " + errText(err)
		case reask == "":
			d = s.flowText(step.ask, st, c, step.name, m)
		default:
			d = strconv.Quote(reask)
		}
		x.Actions = append(x.Actions, ActionInfo{Kind: "reask", Detail: d})
		return x
	case err != nil:
		x.Result, x.Runs, x.Err = Failed, false, err
		x.Decider = fmt.Sprintf("step %q: the check failed", st.Step)
		return x
	}
	values := maps.Clone(st.Values)
	if values == nil {
		values = flow.Values{}
	}
	if step.save != "" {
		values[step.save] = v
		x.Actions = append(x.Actions, ActionInfo{Kind: "save", Detail: step.save + " = " + showValue(v)})
	} else {
		x.Actions = append(x.Actions, ActionInfo{Kind: "accept", Detail: showValue(v) + " (not saved)"})
	}
	next := *st
	next.Values = values
	for _, call := range step.actions {
		x.Actions = append(x.Actions, ActionInfo{Kind: call.kind, Detail: s.showCall(call, &next, c, step.name, m)})
	}
	to, why, err := s.nextOf(ctx, f, j, &next)
	if err != nil {
		x.Actions = append(x.Actions, ActionInfo{Kind: "next", Detail: "error: " + errText(err)})
		return x
	}
	x.Actions = append(x.Actions, s.gotoInfo(f, to, &next, c, why, m))
	return x
}

// interrupted changes x, the explanation of the waiting flow, for a
// message the global rule r handled before the flow could take it: it
// says what the interruption does to the flow, as flow.Engine.Global
// does it.
func (s *Set) interrupted(x *Explanation, r *rule, m *bot.Message, c Conversation) {
	if x.Result != Matched {
		return // the flow would not have taken the message either
	}
	x.Result, x.Runs, x.Actions = NotMatched, false, nil
	x.Decider = fmt.Sprintf("rule %q answered first: the flow is interrupted", r.name)
	st := c.Flow
	var info ActionInfo
	handoff, atOnce := false, false
	for _, a := range r.actions {
		switch a := a.(type) {
		case cancelFlowAction:
			info = ActionInfo{Kind: "interrupt", Detail: "the rule's cancel_flow ends the flow"}
		case *startFlowAction:
			info = ActionInfo{Kind: "interrupt", Detail: fmt.Sprintf("the rule's start_flow replaces the flow with %q", a.name)}
		case *handoffAction:
			handoff, atOnce = a.text != nil, a.text == nil
		}
	}
	i := slices.IndexFunc(s.flows, func(f *fileFlow) bool { return f.name == st.Flow })
	f := s.flows[i] // x.Result was Matched: the flow and its step are in s
	step := f.steps[slices.IndexFunc(f.steps, func(fs *fileStep) bool { return fs.name == st.Step })]
	switch {
	case info.Kind != "":
	case st.Paused:
		info = ActionInfo{Kind: "interrupt", Detail: "the flow stays paused"}
	case handoff:
		info = ActionInfo{Kind: "interrupt", Detail: "the rule hands the conversation to humans: the flow is paused"}
	case atOnce:
		info = ActionInfo{Kind: "interrupt", Detail: "the rule's handoff: true gives the conversation to humans at once: " +
			"the flow asks again (suppressed) and is paused by the next message"}
	case f.interrupt == flow.CancelOnInterrupt:
		info = ActionInfo{Kind: "interrupt", Detail: "the flow is cancelled (interrupt: cancel)"}
	default:
		info = ActionInfo{Kind: "interrupt", Detail: "asks again " + s.flowText(step.ask, st, c, step.name, m)}
	}
	x.Actions = []ActionInfo{info}
}

// nextOf returns the step after the j-th of f for the state st, and why.
func (s *Set) nextOf(ctx context.Context, f *fileFlow, j int, st *flow.State) (string, string, error) {
	step := f.steps[j]
	env := bot.NewEnv(&bot.Message{Platform: st.Platform, Conversation: st.Conversation}, bot.OwnerBot, time.Local)
	ctx = withScope(ctx, &stateScope{state: st})
	for i, b := range step.branches {
		out, err := b.cond.EvalContext(ctx, env)
		if err != nil {
			return "", "", fmt.Errorf("next %d: %w", i+1, err)
		}
		if ok, _ := out.(bool); ok {
			return b.to, fmt.Sprintf("next %d: %s", i+1, b.when), nil
		}
	}
	switch {
	case step.def != "":
		return step.def, "default", nil
	case j+1 < len(f.steps):
		return f.steps[j+1].name, "the following step", nil
	}
	return flow.End, "the last step", nil
}

// gotoInfo says where the flow goes, and what it says and calls there,
// led to by m.
func (s *Set) gotoInfo(f *fileFlow, to string, st *flow.State, c Conversation, why string, m *bot.Message) ActionInfo {
	switch to {
	case flow.End:
		d := "the flow ends (" + why + ")"
		if f.done != nil {
			d += ", says " + s.flowText(f.done, st, c, "", m)
		}
		for _, call := range f.onDone {
			verb := map[string]string{"call": ", calls ", "set": ", sets ", "clear": ", clears "}[call.kind]
			d += verb + s.showCall(call, st, c, "", m)
		}
		return ActionInfo{Kind: "next", Detail: d}
	case flow.HandOff:
		return ActionInfo{Kind: "next", Detail: "hand the conversation to humans, the flow paused (" + why + ")"}
	case flow.Cancel:
		return ActionInfo{Kind: "next", Detail: "the flow is cancelled (" + why + ")"}
	}
	for _, fs := range f.steps {
		if fs.name == to {
			return ActionInfo{Kind: "next", Detail: fmt.Sprintf("step %q (%s), asks %s", to, why, s.flowText(fs.ask, st, c, to, m))}
		}
	}
	return ActionInfo{Kind: "next", Detail: "step " + strconv.Quote(to)}
}

// errNotRendered: a template reads variables Explain was not told.
var errNotRendered = errors.New("rulefile: not rendered")

// flowText renders a prompt template for Explain, led to by m: quoted, or
// as written when it reads variables Explain was not told.
func (s *Set) flowText(t *tmpl, st *flow.State, c Conversation, step string, m *bot.Message) string {
	if c.Vars == nil && (t.readsAll || len(t.reads) > 0) {
		return strconv.Quote(t.src) + notRendered
	}
	out, err := t.exec(newPromptData(st, step, m, mergeVars(s.vars, c.Vars)))
	if err != nil {
		return "error: " + errText(err)
	}
	return strconv.Quote(out)
}

// showValue shows a saved value.
func showValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case time.Time:
		return v.Format(time.DateOnly)
	}
	return fmt.Sprint(v)
}

// showCall shows a call of a step's actions or on_done, its string
// arguments rendered as the call would have them in the state st (for
// step, "" in on_done), led to by m: name(arg = "text", …); a set as
// var = "text", …; a clear as its variables. An argument that reads
// variables Explain was not told is shown as written.
func (s *Set) showCall(call *fileCall, st *flow.State, c Conversation, step string, m *bot.Message) string {
	d := &flowData{Platform: st.Platform, Conversation: st.Conversation, Flow: st.Flow, Step: step,
		Values: map[string]any(st.Values), Vars: mergeVars(s.vars, c.Vars), Contact: m.Author}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(call.args)) {
		if call.kind == "clear" {
			parts = append(parts, k)
			continue
		}
		parts = append(parts, k+" = "+showArg(call.args[k], d, c.Vars != nil))
	}
	if call.kind != "call" {
		return strings.Join(parts, ", ")
	}
	return call.action + "(" + strings.Join(parts, ", ") + ")"
}

// showArg shows an argument, its templates rendered with d; those that
// read variables are shown as written unless vars are known.
func showArg(v any, d *flowData, vars bool) string {
	switch v := v.(type) {
	case *tmpl:
		if !vars && (v.readsAll || len(v.reads) > 0) {
			return strconv.Quote(v.src) + notRendered
		}
		out, err := v.exec(d)
		if err != nil {
			return "error: " + errText(err)
		}
		return strconv.Quote(out)
	case map[string]any:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			parts = append(parts, k+": "+showArg(v[k], d, vars))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = showArg(x, d, vars)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

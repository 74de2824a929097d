package rulefile

import (
	"context"
	"errors"
	"maps"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
)

// This file gives conditions (a rule's when, a flow step's next) the
// conversation's variables and its flow: vars.<name>, flow.name,
// flow.step, flow.attempts, flow.paused, flow.values.<name>, and values.<name>
// for short. They are looked up only by the evaluations that reach them
// (see bot.ExprLookup), so that a rule that does not use them costs
// nothing more, and read from the Store at most once per message.

// lookupNames are the names conditions may read besides bot.Env's.
var lookupNames = []string{"vars", "flow", "values"}

// lookupOption compiles a condition with the lookups.
var lookupOption = bot.ExprLookup(lookup, lookupNames...)

// A scope supplies the lookups of the conditions evaluated for one
// message (a rule's), one flow state (a branch's) or one explanation.
type scope interface {
	vars(ctx context.Context, m *bot.Message) (map[string]string, error)
	flowState(ctx context.Context, m *bot.Message) (*flow.State, error)
}

type scopeKey struct{}

type scopeCtx struct {
	context.Context
	s scope
}

func (c *scopeCtx) Value(k any) any {
	if k == (scopeKey{}) {
		return c.s
	}
	return c.Context.Value(k)
}

// withScope returns ctx with s as the scope of its conditions.
func withScope(ctx context.Context, s scope) context.Context { return &scopeCtx{Context: ctx, s: s} }

// lookup is the bot.LookupFunc of conditions.
func lookup(ctx context.Context, m *bot.Message, name string) (any, error) {
	sc, _ := ctx.Value(scopeKey{}).(scope)
	if sc == nil {
		return nil, errors.New("rulefile: a condition over the conversation evaluated outside an Engine")
	}
	if name == "vars" {
		vars, err := sc.vars(ctx, m)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(vars))
		for k, v := range vars {
			out[k] = v
		}
		return out, nil
	}
	st, err := sc.flowState(ctx, m)
	if err != nil {
		return nil, err
	}
	values := map[string]any{}
	f := map[string]any{"name": "", "step": "", "attempts": 0, "paused": false, "values": values}
	if st != nil {
		maps.Copy(values, st.Values)
		f["name"], f["step"], f["attempts"], f["paused"] = st.Flow, st.Step, st.Attempts, st.Paused
	}
	if name == "values" {
		return values, nil
	}
	return f, nil
}

// mergeVars returns the defaults overlaid with the variables set.
func mergeVars(defaults, own map[string]string) map[string]string {
	out := maps.Clone(defaults)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, own)
	return out
}

// The scope of a rule's conditions is the message's dispatch: it reads the
// variables and the flow state once per message.
func (d *dispatch) vars(ctx context.Context, m *bot.Message) (map[string]string, error) {
	if d.eng == nil || d.dry {
		return mergeVars(d.set.vars, nil), nil
	}
	if !d.varsRead {
		own, err := d.eng.readVars(ctx, m.Platform, m.Conversation)
		if err != nil {
			return nil, err
		}
		d.varsCache, d.varsRead = mergeVars(d.set.vars, own), true
	}
	return d.varsCache, nil
}

func (d *dispatch) flowState(ctx context.Context, m *bot.Message) (*flow.State, error) {
	if d.eng == nil || d.dry || d.eng.flows == nil {
		return nil, nil
	}
	if !d.flowRead {
		st, err := d.eng.flows.State(ctx, m.Platform, m.Conversation)
		if errors.Is(err, flow.ErrNoFlow) {
			st, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
		d.flowCache, d.flowRead = st, true
	}
	return d.flowCache, nil
}

// A stateScope is the scope of a flow step's branch conditions: the flow
// state being advanced, and the conversation's variables.
type stateScope struct {
	eng   *Engine
	state *flow.State
}

func (s *stateScope) vars(ctx context.Context, _ *bot.Message) (map[string]string, error) {
	if s.eng == nil {
		return map[string]string{}, nil
	}
	own, err := s.eng.readVars(ctx, s.state.Platform, s.state.Conversation)
	if err != nil {
		return nil, err
	}
	return mergeVars(s.eng.cur.Load().vars, own), nil
}

func (s *stateScope) flowState(context.Context, *bot.Message) (*flow.State, error) {
	return s.state, nil
}

// A givenScope is the scope of an explanation: what the caller said of the
// conversation.
type givenScope struct {
	set *Set
	c   Conversation
}

func (s *givenScope) vars(context.Context, *bot.Message) (map[string]string, error) {
	return mergeVars(s.set.vars, s.c.Vars), nil
}

func (s *givenScope) flowState(context.Context, *bot.Message) (*flow.State, error) {
	return s.c.Flow, nil
}

package flow

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// This file holds what a program that defines flows from a file (such as
// a rules file) needs besides Define: checking a definition before there
// is an Engine, replacing a file's flows when it is reloaded, and ending
// the runs that a reload left without their flow or step.

// Validate checks f as [Engine.Define] does, without an Engine: an action
// a call names counts as registered when known reports so (nil: every
// action does). It returns the *DefinitionError Define would.
func Validate(f Flow, known func(action string) bool) error {
	e := &Engine{flows: map[string]*compiled{}, actions: map[string]Action{}}
	nop := ActionFunc(func(context.Context, ActionCall) error { return nil })
	add := func(calls []Call) {
		for _, c := range calls {
			if known == nil || known(c.Action) {
				e.actions[c.Action] = nop
			}
		}
	}
	add(f.OnDone)
	for _, st := range f.Steps {
		add(st.Actions)
	}
	return e.Define(f)
}

// Replace removes the flows named old and defines flows in their place, at
// once: the messages that follow see all of the new definitions, none of
// the old. It checks every flow as Define does first, and changes nothing
// if one is refused, or if one takes the name of a defined flow not in
// old. Names in old that are not defined are ignored.
//
// Conversations keep their state across a Replace: a run of a flow that
// is still defined goes on from the step it waits at, with the new
// definition; see [Engine.Prune] for the runs whose flow or step is gone.
// An action call an advance still owes is run only if the new definition
// has the same action at its place; otherwise it is skipped, with a
// warning in the log.
func (e *Engine) Replace(old []string, flows []Flow) error {
	e.mu.RLock()
	tmp := &Engine{flows: map[string]*compiled{}, actions: maps.Clone(e.actions)}
	e.mu.RUnlock()
	for _, f := range flows {
		if err := tmp.Define(f); err != nil {
			return err
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for name := range tmp.flows {
		if _, taken := e.flows[name]; taken && !slices.Contains(old, name) {
			return &DefinitionError{Flow: name, Reason: "a flow of this name is already defined"}
		}
	}
	for _, name := range old {
		delete(e.flows, name)
	}
	maps.Copy(e.flows, tmp.flows)
	return nil
}

// Prune ends, without OnDone and without a word, the active runs (paused
// ones included) whose flow is no longer defined or no longer has the step
// the run waits at, as after a [Engine.Replace] that removed them, and
// returns their states as they were. Without it such a run stays until
// its state expires: its messages go to the other routes when its flow is
// gone, and fail when its step is. It reads every active state, as
// [Engine.Active] does.
func (e *Engine) Prune(ctx context.Context) ([]State, error) {
	active, err := e.Active(ctx)
	if err != nil {
		return nil, err
	}
	orphan := func(s *State) bool {
		f := e.flow(s.Flow)
		return f == nil || f.step(s.Step) == nil
	}
	var out []State
	for _, s := range active {
		if !orphan(&s) {
			continue
		}
		ended := false
		err := e.update(ctx, s.Platform, s.Conversation, func(rec *record) bool {
			if rec == nil || rec.Ended || rec.Run != s.Run || !orphan(&rec.State) {
				return false
			}
			rec.end()
			ended = true
			return true
		})
		if err != nil {
			return out, fmt.Errorf("flow: prune %s/%s: %w", s.Platform, s.Conversation, err)
		}
		if !ended {
			continue
		}
		if err := e.index.unlist(ctx, s.Platform, s.Conversation); err != nil {
			return out, err
		}
		out = append(out, s)
	}
	return out, nil
}

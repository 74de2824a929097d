package flow

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// A DefinitionError is a flow Define refused: Step names the step at
// fault, if one is.
type DefinitionError struct {
	Flow, Step string
	Reason     string
}

func (e *DefinitionError) Error() string {
	if e.Step != "" {
		return fmt.Sprintf("flow: define %q: step %q: %s", e.Flow, e.Step, e.Reason)
	}
	return fmt.Sprintf("flow: define %q: %s", e.Flow, e.Reason)
}

// compiled is a defined flow.
type compiled struct {
	Flow
	index map[string]int // step name → position
	ttl   time.Duration
}

func (f *compiled) step(name string) *Step {
	i, ok := f.index[name]
	if !ok {
		return nil
	}
	return &f.Steps[i]
}

// call returns the Call a pending call names, or nil.
func (f *compiled) call(pc pendingCall) *Call {
	calls := f.OnDone
	if pc.Step != "" {
		st := f.step(pc.Step)
		if st == nil {
			return nil
		}
		calls = st.Actions
	}
	if pc.Index < 0 || pc.Index >= len(calls) {
		return nil
	}
	return &calls[pc.Index]
}

// following returns the step after Steps[i], or End.
func (f *compiled) following(i int) string {
	if i+1 < len(f.Steps) {
		return f.Steps[i+1].Name
	}
	return End
}

func isTarget(s string) bool { return s == End || s == HandOff || s == Cancel }

// Define adds a flow after checking it. It refuses (with a
// *DefinitionError) an empty name or a name taken, a flow without steps, a
// step without a name or question, duplicate step names, a target (Goto,
// Default, Retry.Then, Timeout.Then) that is neither a step nor End,
// HandOff or Cancel, a branch without a condition, a reminder or timeout
// without a positive After or with one longer than the flow's TTL, a call of an action not registered yet, a
// step the flow can never reach, and a loop with no exit: steps from which
// the flow's Next choices (not its retries or timeouts) never lead to End,
// HandOff or Cancel. Define may be called while the Bot runs; the Flow is
// not to be changed after.
func (e *Engine) Define(f Flow) error {
	bad := func(step, format string, args ...any) error {
		return &DefinitionError{Flow: f.Name, Step: step, Reason: fmt.Sprintf(format, args...)}
	}
	if f.Name == "" {
		return bad("", "the flow has no name")
	}
	if len(f.Steps) == 0 {
		return bad("", "the flow has no steps")
	}
	if f.TTL < 0 {
		return bad("", "negative TTL %v", f.TTL)
	}
	c := &compiled{Flow: f, index: make(map[string]int, len(f.Steps)), ttl: f.TTL}
	c.Steps = slices.Clone(f.Steps)
	if c.ttl == 0 {
		c.ttl = DefaultTTL
	}
	for i, st := range c.Steps {
		switch {
		case st.Name == "":
			return bad("", "step %d has no name", i+1)
		case strings.HasPrefix(st.Name, "$"):
			return bad(st.Name, "step names must not start with $")
		}
		if _, dup := c.index[st.Name]; dup {
			return bad(st.Name, "two steps have this name")
		}
		c.index[st.Name] = i
	}
	e.mu.RLock()
	_, taken := e.flows[f.Name]
	known := func(a string) bool { _, ok := e.actions[a]; return ok }
	checkCalls := func(step string, calls []Call) error {
		for _, call := range calls {
			if !known(call.Action) {
				return bad(step, "action %q is not registered (RegisterAction comes before Define)", call.Action)
			}
		}
		return nil
	}
	err := checkCalls("", f.OnDone)
	for _, st := range c.Steps {
		if err == nil {
			err = checkCalls(st.Name, st.Actions)
		}
	}
	e.mu.RUnlock()
	if err != nil {
		return err
	}
	if taken {
		return bad("", "a flow of this name is already defined")
	}

	target := func(step, what, t string) error {
		if isTarget(t) {
			return nil
		}
		if _, ok := c.index[t]; !ok {
			return bad(step, "%s: unknown step %q", what, t)
		}
		return nil
	}
	// next lists the successors by Next; all adds retries and timeouts.
	next := make([][]string, len(c.Steps))
	all := make([][]string, len(c.Steps))
	for i, st := range c.Steps {
		if st.Ask == nil {
			return bad(st.Name, "no question (Ask)")
		}
		for j, br := range st.Next.Branches {
			if br.When == nil {
				return bad(st.Name, "branch %d has no condition", j+1)
			}
			if err := target(st.Name, fmt.Sprintf("branch %d", j+1), br.Goto); err != nil {
				return err
			}
			next[i] = append(next[i], br.Goto)
		}
		if st.Next.Default != "" {
			if err := target(st.Name, "Default", st.Next.Default); err != nil {
				return err
			}
			next[i] = append(next[i], st.Next.Default)
		} else {
			next[i] = append(next[i], c.following(i))
		}
		all[i] = slices.Clone(next[i])
		if st.Retry.Max >= 0 {
			t := or(st.Retry.Then, HandOff)
			if err := target(st.Name, "Retry.Then", t); err != nil {
				return err
			}
			all[i] = append(all[i], t)
		}
		if st.Remind != nil {
			if st.Remind.After <= 0 {
				return bad(st.Name, "the reminder needs a positive After")
			}
			if st.Remind.After > c.ttl {
				return bad(st.Name, "the reminder's After %v is longer than the flow's TTL %v: the state expires first", st.Remind.After, c.ttl)
			}
		}
		if st.Timeout != nil {
			if st.Timeout.After <= 0 {
				return bad(st.Name, "the timeout needs a positive After")
			}
			if st.Timeout.After > c.ttl {
				return bad(st.Name, "the timeout's After %v is longer than the flow's TTL %v: the state expires first", st.Timeout.After, c.ttl)
			}
			t := or(st.Timeout.Then, Cancel)
			if err := target(st.Name, "Timeout.Then", t); err != nil {
				return err
			}
			all[i] = append(all[i], t)
		}
	}
	// Reachable from the first step, by any path.
	seen := make([]bool, len(c.Steps))
	var visit func(i int)
	visit = func(i int) {
		if seen[i] {
			return
		}
		seen[i] = true
		for _, t := range all[i] {
			if j, ok := c.index[t]; ok {
				visit(j)
			}
		}
	}
	visit(0)
	for i, ok := range seen {
		if !ok {
			return bad(c.Steps[i].Name, "unreachable: no step leads to it")
		}
	}
	// Every step must lead to an exit by its Next choices.
	exits := make([]bool, len(c.Steps))
	for changed := true; changed; {
		changed = false
		for i := range c.Steps {
			if exits[i] {
				continue
			}
			for _, t := range next[i] {
				if j, ok := c.index[t]; isTarget(t) || (ok && exits[j]) {
					exits[i], changed = true, true
					break
				}
			}
		}
	}
	for i, ok := range exits {
		if !ok {
			var loop []string
			for j, ok := range exits {
				if !ok {
					loop = append(loop, c.Steps[j].Name)
				}
			}
			return bad(c.Steps[i].Name, "a loop with no exit: from steps %s the flow never reaches End, HandOff or Cancel",
				strings.Join(loop, ", "))
		}
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if _, taken := e.flows[f.Name]; taken {
		return bad("", "a flow of this name is already defined")
	}
	e.flows[f.Name] = c
	return nil
}

// or returns s, or def when s is empty.
func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

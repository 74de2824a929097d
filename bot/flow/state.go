package flow

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/parleybot/parley/bot"
)

// State is where a conversation stands in a flow. The engine hands out
// copies: changing one changes nothing stored.
type State struct {
	Platform, Conversation string
	// Flow is the flow's name; Run identifies this run of it (a flow
	// started again in the same conversation is a new run).
	Flow, Run string
	// Step is the step waiting for an answer; Attempts counts the answers
	// it refused.
	Step     string
	Attempts int
	// Values are the values saved so far.
	Values Values
	// Started is when the run began; Asked when the current step was
	// asked (its reminder and timeout count from then).
	Started, Asked time.Time
	// Paused is set while a human owns the conversation.
	Paused bool
	// Message is the inbound message that led to the advance in
	// progress, for the prompts it sends (and the conditions it
	// evaluates): the answer, accepted or refused; the message a global
	// route handled before the flow asked again; the message the flow was
	// started from with StartFrom; the message that came back to the bot
	// after a handoff. It is nil when no message (of Kind message) led to
	// it: a proactive Start, a reminder or timeout, an ownership or
	// assignment event, and the completion of an earlier advance by a
	// later message. It is never stored, so the states Engine.State and
	// Engine.Active return have none. Prompts must not change it.
	Message *bot.Message `json:"-"`
	// Window is the conversation's customer-service window when a prompt
	// is made (see bot.ServiceWindower); Window.Applies is false on a
	// platform without one. A prompt made while it is closed — a
	// reminder a day later on WhatsApp — returns a template message
	// (bot.Template) to reach the customer. Like Message, it is never
	// stored.
	Window bot.Window `json:"-"`
}

// Vars returns the state as a map for expressions and templates: Flow,
// Step, Attempts, Paused, WindowOpen (Window.Open, or true where no
// window applies), and Values (a map of the values by name). The map is a
// copy.
func (s *State) Vars() map[string]any {
	return map[string]any{
		"Flow":       s.Flow,
		"Step":       s.Step,
		"Attempts":   s.Attempts,
		"Paused":     s.Paused,
		"WindowOpen": !s.Window.Applies || s.Window.Open,
		"Values":     map[string]any(s.Values.clone()),
	}
}

// Values are the values a flow saved, by name. A value is a string, an
// int64, a float64, a bool, a time.Time or a []string; they keep their
// types across the Store (a time.Time keeps its instant and its offset
// from UTC, not its Location). Values
// given to Start and returned by checks may also be the other integer
// types (converted to int64; an unsigned one larger than the largest
// int64 is refused), float32 (converted to float64) and nil (which
// deletes the name).
type Values map[string]any

// String returns the value of name if it is a string.
func (v Values) String(name string) (string, bool) { s, ok := v[name].(string); return s, ok }

// Int returns the value of name if it is an int64.
func (v Values) Int(name string) (int64, bool) { n, ok := v[name].(int64); return n, ok }

// Float returns the value of name if it is a float64.
func (v Values) Float(name string) (float64, bool) { f, ok := v[name].(float64); return f, ok }

// Bool returns the value of name if it is a bool.
func (v Values) Bool(name string) (bool, bool) { b, ok := v[name].(bool); return b, ok }

// Time returns the value of name if it is a time.Time.
func (v Values) Time(name string) (time.Time, bool) { t, ok := v[name].(time.Time); return t, ok }

// Strings returns the value of name if it is a []string.
func (v Values) Strings(name string) ([]string, bool) { s, ok := v[name].([]string); return s, ok }

// clone copies v, and the slices it holds.
func (v Values) clone() Values {
	out := make(Values, len(v))
	for k, x := range v {
		if l, ok := x.([]string); ok {
			x = slices.Clone(l)
		}
		out[k] = x
	}
	return out
}

// normalize returns x as one of the value types, or an error naming its
// type.
func normalize(x any) (any, error) {
	switch x := x.(type) {
	case string, int64, float64, bool, []string:
		return x, nil
	case time.Time:
		return x, nil
	case int:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint:
		return unsigned(uint64(x))
	case uint64:
		return unsigned(x)
	case uintptr:
		return unsigned(uint64(x))
	case float32:
		return float64(x), nil
	}
	return nil, fmt.Errorf("flow: a value of type %T cannot be saved (string, int64, float64, bool, time.Time or []string)", x)
}

// unsigned returns u as an int64, or an error if it does not fit.
func unsigned(u uint64) (any, error) {
	if u > math.MaxInt64 {
		return nil, fmt.Errorf("flow: the value %d does not fit an int64", u)
	}
	return int64(u), nil
}

// merge sets the values of add in v, normalized; a nil value deletes its
// name.
func (v Values) merge(add map[string]any) error {
	for _, k := range slices.Sorted(maps.Keys(add)) {
		x := add[k]
		if x == nil {
			delete(v, k)
			continue
		}
		n, err := normalize(x)
		if err != nil {
			return fmt.Errorf("%w (value %q)", err, k)
		}
		v[k] = n
	}
	return nil
}

// jsonValue is one value on the wire: exactly one field is set, which
// says the type.
type jsonValue struct {
	S *string    `json:"s,omitempty"`
	I *int64     `json:"i,omitempty"`
	F *float64   `json:"f,omitempty"`
	B *bool      `json:"b,omitempty"`
	T *time.Time `json:"t,omitempty"`
	L *[]string  `json:"l,omitempty"`
}

// MarshalJSON encodes v with the type of each value, so that
// UnmarshalJSON restores an int64 as an int64 and a time as a time.Time.
func (v Values) MarshalJSON() ([]byte, error) {
	out := make(map[string]jsonValue, len(v))
	for k, x := range v {
		x, err := normalize(x)
		if err != nil {
			return nil, fmt.Errorf("%w (value %q)", err, k)
		}
		var j jsonValue
		switch x := x.(type) {
		case string:
			j.S = &x
		case int64:
			j.I = &x
		case float64:
			j.F = &x
		case bool:
			j.B = &x
		case time.Time:
			j.T = &x
		case []string:
			if x == nil {
				x = []string{}
			}
			j.L = &x
		}
		out[k] = j
	}
	return json.Marshal(out)
}

// UnmarshalJSON decodes values encoded by MarshalJSON.
func (v *Values) UnmarshalJSON(b []byte) error {
	var in map[string]jsonValue
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	out := make(Values, len(in))
	for k, j := range in {
		switch {
		case j.S != nil:
			out[k] = *j.S
		case j.I != nil:
			out[k] = *j.I
		case j.F != nil:
			out[k] = *j.F
		case j.B != nil:
			out[k] = *j.B
		case j.T != nil:
			out[k] = *j.T
		case j.L != nil:
			out[k] = *j.L
		default:
			return fmt.Errorf("flow: value %q has no type", k)
		}
	}
	*v = out
	return nil
}

// record is what the Store holds for a conversation: the State and what
// the engine needs for exactly-once advances and timers.
type record struct {
	State
	// Seq counts the run's advances; the idempotency keys of an advance's
	// messages and calls and the IDs of its timer events carry it.
	Seq int
	// Reminded: the current step's reminder was sent.
	Reminded bool `json:",omitempty"`
	// Last is the ID of the inbound event (or timer event) that made the
	// last advance; a redelivery of it replays Out and Pending instead of
	// advancing again.
	Last string `json:",omitempty"`
	// Recent are the IDs of the last recentEvents events that advanced
	// the run, Last included: a redelivery of an earlier one of them
	// changes nothing.
	Recent []string `json:",omitempty"`
	// Pending are the action calls the last advance owes, in order.
	Pending []pendingCall `json:",omitempty"`
	// Out are the messages the last advance sent, each under its
	// idempotency key, so that a replay sends what is missing and nothing
	// twice.
	Out []outRef `json:",omitempty"`
	// Handoff: the flow went to HandOff and the conversation is still to
	// be handed to humans (Bot.Handoff has not succeeded yet); the next
	// event of the conversation tries again, rather than taking the flow
	// back from a human who never got it.
	Handoff bool `json:",omitempty"`
	// Rev is the record's version in a Store without revisions: every
	// write increments it, and a write is refused when the stored
	// version is not the one read (see states.save).
	Rev uint64 `json:",omitempty"`
	// Ended marks a run that is over, kept a while for replays.
	Ended bool `json:",omitempty"`
	// Fired is the timer whose advance was written and is not done yet
	// (its messages and calls): the sweep publishes it again until a
	// handling of it has done them, and that handling clears it.
	Fired *firedTimer `json:",omitempty"`
	// Listed is when the conversation's entry in the list of active
	// flows expires (unix seconds).
	Listed int64 `json:",omitempty"`
}

// A firedTimer is a timer an advance did: its ID without the attempt,
// and when it was due (its attempts count from then).
type firedTimer struct {
	ID string
	At time.Time
}

// recentEvents is how many of the events that advanced a run its record
// remembers.
const recentEvents = 8

// took records that the event id made the advance in progress.
func (rec *record) took(id string) {
	rec.Last = id
	if id == "" {
		return
	}
	rec.Recent = append(rec.Recent, id)
	if n := len(rec.Recent) - recentEvents; n > 0 {
		rec.Recent = slices.Delete(rec.Recent, 0, n)
	}
}

// tookBefore reports whether the event id advanced the run before its
// last advance.
func (rec *record) tookBefore(id string) bool {
	return id != "" && id != rec.Last && slices.Contains(rec.Recent, id)
}

// A pendingCall is an action call still to run: the Index-th call of
// Step's Actions, or of the flow's OnDone when Step is empty, which calls
// Action (a definition changed since that calls another is not run).
type pendingCall struct {
	Step   string `json:",omitempty"`
	Index  int
	Action string `json:",omitempty"`
	Key    string
	Tries  int `json:",omitempty"`
}

// An outRef is a message an advance sent: what it was (Kind and Step, and
// Text for a re-ask with a text of its own) and its key.
type outRef struct {
	Kind string // see the out* constants
	Step string `json:",omitempty"`
	Text string `json:",omitempty"`
	Key  string
}

// The kinds of outRef.
const (
	outAsk    = "ask"    // the step's Ask
	outReask  = "reask"  // Text, else the step's Retry.Message, else its Ask
	outRemind = "remind" // the step's Remind.Ask, else its Ask
	outSay    = "say"    // the step's Timeout.Say
	outGiveUp = "giveup" // the step's Retry.Say
	outDone   = "done"   // the flow's Done
)

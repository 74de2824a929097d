package flow

import "time"

// State is where a conversation stands in a flow.
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
}

// Values are the values a flow saved, by name. A value is a string, an
// int64, a float64, a bool, a time.Time or a []string; they keep their
// types across the Store.
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

package flow

import (
	"context"
	"time"

	"github.com/parleybot/parley/bot"
)

// A Flow is a named conversation: a sequence of steps, each of which
// prompts, waits for the next message of the conversation, checks it,
// saves its value and chooses the next step.
type Flow struct {
	// Name identifies the flow; it is what Start takes.
	Name string
	// Steps are the flow's steps. The flow starts at the first one.
	Steps []Step
	// OnDone runs when the flow ends at End, whatever led there (an
	// answer, or a retry's or timeout's Then of End), and not when it
	// ends otherwise (cancelled, a Then of Cancel, EndAfterHandoff): its
	// actions, in order, once.
	OnDone []Call
	// Done is what the bot says when the flow ends at End; empty says
	// nothing.
	Done Prompt
	// Interrupt says what happens to the flow when a global route (see
	// [Global]) handles a message while the flow waits: [PauseOnInterrupt]
	// (the default: the flow waits again, and asks its question again once
	// the interruption is handled) or [CancelOnInterrupt].
	Interrupt Interruption
	// OnHandoff says what happens when a human takes the conversation:
	// the flow is always paused; when the conversation comes back to the
	// bot, [ResumeAfterHandoff] (the default) asks the current step
	// again, and [EndAfterHandoff] ends the flow without its OnDone
	// actions.
	OnHandoff HandoffPolicy
	// TTL bounds how long the flow's state is kept without an answer;
	// after it, the state expires and the flow is over. Default 7 days.
	TTL time.Duration
}

// A Step is one question of a flow.
type Step struct {
	// Name identifies the step within its flow; Goto and Next name it.
	Name string
	// Ask is the prompt sent when the step begins.
	Ask Prompt
	// Check validates the answer and converts it to the value saved. Nil
	// accepts any text.
	Check Check
	// Save is the name the value is saved under; empty saves nothing.
	Save string
	// Retry is what happens when Check refuses an answer.
	Retry Retry
	// Remind, if set, is sent once when no answer came within its After.
	Remind *Reminder
	// Timeout, if set, ends the wait when no answer came within its
	// After, and goes where it says.
	Timeout *Timeout
	// Actions run once when the step is completed with a valid answer,
	// before the next step begins.
	Actions []Call
	// Next chooses the next step from the values saved so far: the first
	// branch whose When holds, else Default, else the following step in
	// Steps, else the end of the flow.
	Next Next
}

// A Prompt builds a message to send in the conversation. Text prompts are
// made with [Text]; any other message (a WhatsApp template, media) with
// [PromptFunc]. s is a copy of the state the prompt is sent in; its
// Message is the inbound message that led to the prompt, such as the
// answer a re-ask refuses, or nil when none did (a timer, a proactive
// start): see [State.Message].
type Prompt interface {
	Prompt(ctx context.Context, s *State) (*bot.Message, error)
}

// PromptFunc adapts a function to a Prompt. The message it returns is
// addressed to the conversation by the engine; it fills Text, Payload,
// Attachments and such.
type PromptFunc func(ctx context.Context, s *State) (*bot.Message, error)

// Prompt calls f.
func (f PromptFunc) Prompt(ctx context.Context, s *State) (*bot.Message, error) { return f(ctx, s) }

// A Check decides whether an answer is acceptable and converts it to the
// value to save. It returns an error made with [Invalid] to re-ask, or
// another error to fail the message (the Bot reports it like a handler
// error, and the flow stays where it was).
type Check interface {
	Check(ctx context.Context, a Answer) (any, error)
}

// CheckFunc adapts a function to a Check.
type CheckFunc func(ctx context.Context, a Answer) (any, error)

// Check calls f.
func (f CheckFunc) Check(ctx context.Context, a Answer) (any, error) { return f(ctx, a) }

// An Answer is a message a flow was waiting for.
type Answer struct {
	// Message is the inbound message.
	Message *bot.Message
	// Text is the message's text with surrounding space removed.
	Text string
	// Values are the values saved so far (read-only).
	Values Values
}

// An InvalidError is a refused answer: the step asks again with Reask, or
// with its Retry.Message when Reask is empty.
type InvalidError struct {
	// Reason says, for logs and explanations, why the answer was refused.
	Reason string
	// Reask is the text to ask again with; empty means the step's own.
	Reask string
}

func (e *InvalidError) Error() string { return "flow: invalid answer: " + e.Reason }

// Invalid returns an *InvalidError for a refused answer.
func Invalid(reason, reask string) error { return &InvalidError{Reason: reason, Reask: reask} }

// Retry says what happens when a step's Check refuses an answer.
type Retry struct {
	// Message asks again; empty asks the step's question again.
	Message string
	// Max is how many times the step asks again before giving up;
	// 0 means 2, a negative value means never give up.
	Max int
	// Then is where the flow goes after Max refused answers: a step's
	// name, [End], [HandOff] or [Cancel]. Empty means [HandOff].
	Then string
	// Say is sent when the step gives up, before going to Then (and
	// before a handoff, whose conversation would suppress it); nil says
	// nothing.
	Say Prompt
}

// A Reminder is sent once when a step has waited for After.
type Reminder struct {
	After time.Duration
	Ask   Prompt // nil asks the step's question again
}

// A Timeout ends a step's wait after After.
type Timeout struct {
	After time.Duration
	// Then is where the flow goes: a step's name, [End], [HandOff] or
	// [Cancel] (the default).
	Then string
	// Say is sent before going there; nil says nothing.
	Say Prompt
}

// Next chooses a step's successor.
type Next struct {
	Branches []Branch
	// Default is the step (or [End], [HandOff], [Cancel]) when no branch
	// holds; empty means the following step in the flow.
	Default string
}

// A Branch goes to Goto when When holds.
type Branch struct {
	When Condition
	Goto string
}

// A Condition decides a branch from the flow's state.
type Condition interface {
	Holds(ctx context.Context, s *State) (bool, error)
}

// ConditionFunc adapts a function to a Condition.
type ConditionFunc func(ctx context.Context, s *State) (bool, error)

// Holds calls f.
func (f ConditionFunc) Holds(ctx context.Context, s *State) (bool, error) { return f(ctx, s) }

// The targets a step may go to besides another step.
const (
	End     = "$end"     // end the flow: say Done and run OnDone
	HandOff = "$handoff" // hand the conversation to a human, and pause the flow
	Cancel  = "$cancel"  // end the flow without OnDone
)

// Interruption says what a global route's message does to a waiting flow.
type Interruption int

const (
	PauseOnInterrupt  Interruption = iota // wait again, and ask again after the interruption
	CancelOnInterrupt                     // cancel the flow
)

// HandoffPolicy says what happens to a paused flow when the conversation
// comes back to the bot.
type HandoffPolicy int

const (
	ResumeAfterHandoff HandoffPolicy = iota // ask the current step again
	EndAfterHandoff                         // end the flow without OnDone
)

// A Call is an action call: the name of an action registered with the
// Engine, and its arguments.
type Call struct {
	Action string
	Args   map[string]any
}

// An Action does real work for a flow: creates a CRM lead, tags a
// contact, posts to the team. The engine runs each call once per step
// completion; Key is stable across retries and replicas, so an action
// whose platform takes an idempotency key passes it on.
type Action interface {
	Run(ctx context.Context, c ActionCall) error
}

// ActionFunc adapts a function to an Action.
type ActionFunc func(ctx context.Context, c ActionCall) error

// Run calls f.
func (f ActionFunc) Run(ctx context.Context, c ActionCall) error { return f(ctx, c) }

// An ActionCall is one run of an action.
type ActionCall struct {
	// Key identifies this call: the same for every attempt of it, on
	// every replica.
	Key string
	// Flow and Step name where the call comes from (Step is empty for
	// OnDone).
	Flow, Step string
	// Platform and Conversation say whose conversation it is; Contact is
	// the author of the answer that completed the step.
	Platform, Conversation string
	Contact                bot.User
	// Values are the flow's values, including the step's own.
	Values Values
	// Args are the call's arguments: a copy of the Call's map (its
	// values are shared, and must not be changed).
	Args map[string]any
	// Sender sends messages through the Bot's outbox.
	Sender bot.Sender
}

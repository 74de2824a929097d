package flow_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
)

// byMessage is a prompt that says what and the text of the message that
// led to it, or "-" when none did.
func byMessage(what string) flow.Prompt {
	return flow.PromptFunc(func(_ context.Context, s *flow.State) (*bot.Message, error) {
		by := "-"
		if s.Message != nil {
			by = s.Message.Text
		}
		return &bot.Message{Text: what + " <" + by + ">"}, nil
	})
}

// A prompt sees the message that led to it in State.Message: the answer
// (accepted or refused), the message that interrupted the flow, the
// message a flow was started from; and nil for a proactive start and a
// timer.
func TestPrompt_message(t *testing.T) {
	f := flow.Flow{Name: "m", Steps: []flow.Step{
		{Name: "a", Ask: byMessage("a"), Save: "a"},
		{Name: "b", Ask: byMessage("b"), Save: "b",
			Check: flow.CheckFunc(func(_ context.Context, a flow.Answer) (any, error) {
				if a.Text != "ok" {
					return nil, flow.Invalid("not ok", "")
				}
				return a.Text, nil
			}),
			Remind: &flow.Reminder{After: 10 * time.Minute, Ask: byMessage("remind")}},
	}, Done: byMessage("done")}
	r := newRig(t, rigOption{flows: []flow.Flow{f}, setup: func(r *rig) {
		r.b.HandleFunc(bot.Command("help"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			return w.Send(ctx, m.Reply("help"))
		}, r.e.Global())
		r.b.HandleFunc(bot.Command("go"), func(ctx context.Context, _ bot.Sender, m *bot.Message) error {
			return r.e.StartFrom(ctx, m, "m", nil)
		})
	}})
	require.NoError(t, r.e.Start(t.Context(), "fake", "c1", "m", nil))
	r.waitTexts("c1", "a <->")
	r.say("c1", "Ana")
	r.waitTexts("c1", "a <->", "b <Ana>")
	r.say("c1", "nope") // refused: the re-ask is the question, with the answer
	r.waitTexts("c1", "a <->", "b <Ana>", "b <nope>")
	r.say("c1", "/help")
	r.waitTexts("c1", "a <->", "b <Ana>", "b <nope>", "help", "b </help>")
	r.clock.Add(10 * time.Minute) // the reminder comes from a timer
	r.waitTexts("c1", "a <->", "b <Ana>", "b <nope>", "help", "b </help>", "remind <->")
	r.say("c1", "ok")
	r.waitTexts("c1", "a <->", "b <Ana>", "b <nope>", "help", "b </help>", "remind <->", "done <ok>")

	r.say("c2", "/go")
	r.waitTexts("c2", "a </go>")
	// The message is not kept with the state.
	require.Nil(t, r.state("c2").Message)
}

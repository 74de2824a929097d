package echo

import (
	"context"
	"strings"

	"github.com/parleybot/parley/bot"
)

// Handler replies to a message with its text: the arguments of the command
// when it was routed by a [bot.Command] rule, the whole text otherwise.
// It ignores events and messages from bots (User.Bot). Each answer is a
// single reply through w.
//
// The zero Handler is ready to use. A Handler holds no state, and is safe
// for concurrent use as long as its fields are not modified.
type Handler struct {
	// Prefix is put in front of the echoed text, e.g. "You said: ".
	// Default: nothing.
	Prefix string
	// Empty is the reply when there is nothing to echo: a command without
	// arguments, or a message without text. Default: "", which sends no
	// reply.
	Empty string
}

// Interface guard.
var _ bot.Handler = Handler{}

// DefaultRule returns the rule the handler is usually registered on:
// bot.Command("echo"), which matches "/echo <text>" (and "echo <text>" in
// a direct conversation).
func DefaultRule() bot.Rule { return bot.Command("echo") }

// HandleMessage implements [bot.Handler]: it sends m.Reply(h.Prefix + text),
// where text is what the message asks to echo, or h.Empty if that is empty
// (or nothing if h.Empty is empty too). It returns the error of w.Send.
func (h Handler) HandleMessage(ctx context.Context, w bot.Sender, m *bot.Message) error {
	if m.Author.Bot || m.Kind.Or() != bot.KindMessage {
		return nil
	}
	text := m.Text
	if c := bot.CapturesOf(ctx); c.Command != "" {
		text = c.Args
	}
	switch {
	case strings.TrimSpace(text) != "":
		text = h.Prefix + text
	case h.Empty != "":
		text = h.Empty
	default:
		return nil
	}
	return w.Send(ctx, m.Reply(text))
}

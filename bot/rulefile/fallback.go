package rulefile

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleybot/parley/bot"
)

// Fallback returns the handler of the current Set's fallback: the actions
// of the file's fallback key, for a message no rule handled. [Engine.Install]
// registers it on the Bot by itself; an application that routes messages to
// the Engine through a Router of its own can register it as that Router's
// NotFound handler, or as its last route.
//
// The handler answers a message when the current Set has a fallback and the
// message is one the fallback is for (see "Fallback" in the package
// documentation): a chat message (Kind "message"), written by neither a
// bot nor an agent, addressed to the bot (Direct, or a command in the
// file's syntax, which includes being addressed by one of its names), in a
// conversation no human owns (bot.OwnerOf). It then runs the fallback's
// actions in order and returns nil, or the error of the first that fails.
// For any other message it returns bot.ErrContinue and does nothing, so
// that a Router goes on to its next route or its NotFound handler. It is
// safe for concurrent use.
func (e *Engine) Fallback() bot.Handler { return fallbackHandler{e: e} }

// fallbackHandler is the handler Fallback returns.
type fallbackHandler struct{ e *Engine }

func (f fallbackHandler) HandleMessage(ctx context.Context, w bot.Sender, m *bot.Message) error {
	s := f.e.cur.Load()
	if s.fallback == nil {
		return bot.ErrContinue
	}
	if res, _ := s.fallbackFor(m, bot.OwnerOf(ctx)); res != Matched {
		return bot.ErrContinue
	}
	x := &execution{eng: f.e, set: s, w: w, m: m, fallback: true}
	for i, a := range s.fallback {
		err := a.run(ctx, x)
		if errors.Is(err, bot.ErrContinue) { // resume: {team: …} declined the message
			return bot.ErrContinue
		}
		if err != nil {
			return fmt.Errorf("rulefile: fallback: action %d (%s): %w", i+1, a.kind(), err)
		}
	}
	return nil
}

// fallbackFor says whether the fallback is for m, in a conversation owned
// by owner, if no rule handled m: Matched, or Skipped while a human owns
// the conversation, or NotMatched; and why.
func (s *Set) fallbackFor(m *bot.Message, owner bot.Owner) (Result, string) {
	switch {
	case owner == bot.OwnerHuman:
		return Skipped, "a human owns the conversation"
	case m.Kind.Or() != bot.KindMessage:
		return NotMatched, fmt.Sprintf("Kind is %q: the fallback answers chat messages only", m.Kind)
	case m.Author.Bot:
		return NotMatched, "the author is a bot"
	case m.Author.Agent:
		return NotMatched, "the author is an agent"
	case !m.Direct && !s.isCommand(m.Text):
		return NotMatched, "not addressed to the bot: not Direct, and no command or name of the file's syntax"
	}
	return Matched, "no rule handled the message"
}

// isCommand reports whether text is a command in the file's syntax outside
// a direct conversation: it has a command prefix or addresses the bot by
// one of its names.
func (s *Set) isCommand(text string) bool {
	_, _, ok := s.syntax.Parse(text, false)
	return ok
}

// fallbackCaptures returns the .Captures of the fallback's templates: the
// command name and arguments when m is written as a command in the file's
// syntax, with a prefix or addressed by name. Unlike a command rule's, they
// are empty for a plain text in a direct conversation, whose first word
// would otherwise always count as an unknown command.
func (s *Set) fallbackCaptures(m *bot.Message) bot.Captures {
	name, args, ok := s.syntax.Parse(m.Text, false)
	if !ok {
		return bot.Captures{}
	}
	return bot.Captures{Command: name, Args: args}
}

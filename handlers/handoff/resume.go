package handoff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"text/template"
	"unicode"

	"github.com/parleybot/parley/bot"
)

// ResumeCommand is the command agents type to give a conversation back to
// the bot; see [ResumeHandler].
const ResumeCommand = "resume"

// DefaultResumeReply is the confirmation template when
// ResumeHandler.Reply is empty.
const DefaultResumeReply = "The bot is answering {{.Platform}} {{.Conversation}} again."

// resumeCommand returns the command that resumes a conversation.
func resumeCommand(platform, conversation string) string {
	return "/" + ResumeCommand + " " + platform + " " + conversation
}

// A Resumer gives a conversation back to the bot. *bot.Bot is a Resumer
// (see bot.Bot.Resume). Resume must be safe for concurrent use.
type Resumer interface {
	Resume(ctx context.Context, platform, conversation string) error
}

// ResumeData is what the Reply template of a ResumeHandler is executed
// with.
type ResumeData struct {
	// Platform and Conversation name the resumed conversation.
	Platform, Conversation string
	// By is the agent who typed the command.
	By bot.User
}

// ResumeHandler lets agents give a conversation back to the bot. It is
// registered on [ResumeRule] as a [bot.Observer] route, so that it runs
// while humans own the conversation. It understands two forms:
//
//   - "/resume <platform> <conversation>", typed in the Team flow (or by an
//     agent, User.Agent, anywhere), resumes the named conversation; the
//     notification of [Handler] ends with this command, ready to copy;
//   - "/resume" alone, typed by an agent in the customer's conversation
//     (for example from Sendbee's dashboard), resumes that conversation.
//
// Anyone else's "/resume" is not a command for this handler: it returns
// [bot.ErrContinue] and logs a Debug line. Messages from bots and events
// are ignored the same way.
//
// After Bot.Resume succeeds, the handler sends Back, if set, to the resumed
// conversation, and the confirmation rendered from Reply to the Team flow
// if it is set, else to the conversation the command came from unless that
// is the resumed conversation (the customer would read it). Usage
// mistakes and an unknown platform are answered the same way, and are not
// errors; any other failure of Resume is returned, as are send errors.
//
// Bot is required. A ResumeHandler holds no state and is safe for
// concurrent use as long as its fields are not modified.
type ResumeHandler struct {
	// Bot resumes conversations. Usually the *bot.Bot; Plugin.Install sets
	// it. Required.
	Bot Resumer
	// Team is the agents' flow: "/resume <platform> <conversation>" is
	// accepted from there, and answers go there. Plugin.Install uses
	// Handler.Team when it is zero.
	Team Flow
	// Reply is a text/template of the confirmation, executed with a
	// ResumeData. Default DefaultResumeReply.
	Reply string
	// Back is sent to the customer's conversation once it is resumed,
	// e.g. "You are chatting with our assistant again." Default: nothing.
	Back string
	// Logger receives the Debug line about ignored commands. Nil means
	// slog.Default(); Plugin.Install sets the Bot's.
	Logger *slog.Logger
}

// Interface guard.
var _ bot.Handler = ResumeHandler{}

// ResumeRule returns the rule a ResumeHandler is registered on:
// bot.Command(ResumeCommand), "/resume".
func ResumeRule() bot.Rule { return bot.Command(ResumeCommand) }

func (h ResumeHandler) check() (*template.Template, error) {
	if err := h.Team.check("Team"); err != nil {
		return nil, err
	}
	src := h.Reply
	if src == "" {
		src = DefaultResumeReply
	}
	t, err := template.New("resume").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("handoff: parse Reply: %w", err)
	}
	return t, nil
}

// HandleMessage implements [bot.Handler]; see [ResumeHandler].
func (h ResumeHandler) HandleMessage(ctx context.Context, w bot.Sender, m *bot.Message) error {
	if m.Author.Bot || m.Kind.Or() != bot.KindMessage {
		return bot.ErrContinue
	}
	inTeam := h.Team.has(m)
	if !inTeam && !m.Author.Agent {
		h.logger().LogAttrs(ctx, slog.LevelDebug, "handoff: resume command from neither an agent nor the team flow; ignored", slog.Any("msg", m))
		return bot.ErrContinue
	}
	if h.Bot == nil {
		return errors.New("handoff: ResumeHandler.Bot is nil")
	}
	confirm, err := h.check()
	if err != nil {
		return err
	}
	args := bot.CommandArgs(m)
	if c := bot.CapturesOf(ctx); c.Command != "" {
		args = c.Args
	}
	platform, conversation := m.Platform, m.Conversation
	if args != "" {
		platform, conversation = args, ""
		if i := strings.IndexFunc(args, unicode.IsSpace); i >= 0 {
			platform, conversation = args[:i], strings.TrimSpace(args[i:])
		}
	}
	if conversation == "" || args == "" && inTeam {
		return h.answer(ctx, w, m, false, "Usage: "+resumeCommand("<platform>", "<conversation>")+
			` in the team flow, or "/`+ResumeCommand+`" alone in the customer's conversation.`)
	}
	var text strings.Builder
	if err := confirm.Execute(&text, ResumeData{Platform: platform, Conversation: conversation, By: m.Author}); err != nil {
		return fmt.Errorf("handoff: execute Reply: %w", err)
	}
	if err := h.Bot.Resume(ctx, platform, conversation); errors.Is(err, bot.ErrUnknownPlatform) {
		return h.answer(ctx, w, m, false, fmt.Sprintf("There is no platform %q.", platform))
	} else if err != nil {
		return fmt.Errorf("handoff: resume %s/%s: %w", platform, conversation, err)
	}
	self := platform == m.Platform && conversation == m.Conversation
	if h.Back != "" {
		back := &bot.Message{Platform: platform, Conversation: conversation, Text: h.Back}
		if self {
			back = m.Reply(h.Back)
		}
		if err := w.Send(ctx, back); err != nil {
			return fmt.Errorf("handoff: send Back to %s/%s: %w", platform, conversation, err)
		}
	}
	return h.answer(ctx, w, m, self, text.String())
}

// answer sends text to the Team flow if it is set, else as a reply to m
// unless notThere.
func (h ResumeHandler) answer(ctx context.Context, w bot.Sender, m *bot.Message, notThere bool, text string) error {
	var out *bot.Message
	switch {
	case h.Team.has(m):
		out = m.Reply(text)
	case !h.Team.IsZero():
		out = &bot.Message{Platform: h.Team.Platform, Conversation: h.Team.Conversation, Text: text}
	case !notThere:
		out = m.Reply(text)
	default:
		return nil
	}
	if err := w.Send(ctx, out); err != nil {
		return fmt.Errorf("handoff: answer resume command: %w", err)
	}
	return nil
}

func (h ResumeHandler) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.Default()
	}
	return h.Logger
}

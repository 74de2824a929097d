package handoff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/parleybot/parley/bot"
)

// Defaults of a Handler's zero fields.
const (
	// DefaultReply is the customer's reply when Handler.Reply is empty.
	DefaultReply = "Connecting you to a colleague…"
	// DefaultNotify is the notification template when Handler.Notify is
	// empty.
	DefaultNotify = `{{with .Author.Name}}{{.}}{{else}}A customer{{end}} asks for a person on {{.Platform}} ({{.Conversation}}): {{.Text}}` + "\n" +
		`Answer them there. To give the conversation back to the bot, type: {{.Resume}}`
)

// A Flow is a conversation on a platform, such as the agents' team flow
// on Flowdock. The zero Flow is none.
type Flow struct {
	Platform, Conversation string
}

// IsZero reports whether f is the zero Flow.
func (f Flow) IsZero() bool { return f == Flow{} }

func (f Flow) check(what string) error {
	if (f.Platform == "") != (f.Conversation == "") {
		return fmt.Errorf("handoff: %s needs both Platform and Conversation, got %q and %q", what, f.Platform, f.Conversation)
	}
	return nil
}

// has reports whether m was posted in f.
func (f Flow) has(m *bot.Message) bool {
	return !f.IsZero() && m.Platform == f.Platform && m.Conversation == f.Conversation
}

// An AdapterFinder returns the adapter named name, or nil. *bot.Bot is an
// AdapterFinder. Adapter must be safe for concurrent use.
type AdapterFinder interface {
	Adapter(name string) bot.Adapter
}

// NotifyData is what the Notify template is executed with. The fields of
// the customer's message are promoted: {{.Author.Name}}, {{.Platform}},
// {{.Conversation}}, {{.Text}}.
type NotifyData struct {
	*bot.Message
	// Resume is the command an agent types in the team flow to give the
	// conversation back to the bot: "/resume <platform> <conversation>".
	Resume string
}

// Handler hands a conversation to humans when a customer asks for a
// person. It
//
//  1. replies with Reply, sent with Handoff set: once the outbox has
//     delivered it, the Bot records the conversation as human-owned and
//     mirrors that to the platform (on Sendbee the platform's chatbot is
//     switched off), so that later messages reach only observer routes;
//  2. tags the conversation with Tags, when the platform's adapter is a
//     [bot.Tagger] (otherwise the tags are skipped and a Debug line is
//     logged);
//  3. posts a notification rendered from Notify to the Team flow, if Team
//     is set.
//
// It ignores events, messages from bots and agents, messages in the Team
// flow itself, and conversations a human already owns: for those it returns
// [bot.ErrContinue]. If the reply cannot be queued, nothing else happens
// and the error is returned. Otherwise the errors of tagging and notifying
// are returned together; a failure of one does not stop the other.
//
// The zero Handler replies DefaultReply and hands off, without tags or
// notification. A Handler holds no state and is safe for concurrent use as
// long as its fields are not modified.
type Handler struct {
	// Reply is the text sent to the customer. Default DefaultReply.
	Reply string
	// Tags are added to the conversation's tags (those the message
	// carries, Message.Tags, since a Tagger sets the whole list). Default:
	// none, and no tagging.
	Tags []string
	// Team is the flow where agents are told about the handoff, e.g.
	// Flow{"flowdock", "support"}. Default: none, and no notification.
	Team Flow
	// Notify is a text/template of the notification, executed with a
	// NotifyData. Default DefaultNotify. It quotes the customer's text: the
	// team flow should be private to the agents.
	Notify string
	// Bot finds the adapter of the customer's platform, for tagging.
	// Usually the *bot.Bot; Plugin.Install sets it. Nil: no tagging.
	Bot AdapterFinder
	// Logger receives the Debug line about skipped tags. Nil means
	// slog.Default(); Plugin.Install sets the Bot's.
	Logger *slog.Logger
}

// Interface guard.
var _ bot.Handler = Handler{}

// DefaultRule returns the rule the handler is usually registered on: the
// commands "/agent" and "/human", or a sentence such as "can I talk to a
// person?" or "I want to speak with a real human": talk, speak or chat, to
// or with, then optionally a, an or the and real or live, then person,
// human, agent, operator, representative, someone or somebody, in any case.
func DefaultRule() bot.Rule {
	return bot.Any(
		bot.Command("agent"),
		bot.Command("human"),
		bot.Regexp(regexp.MustCompile(`(?i)\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:(?:a|an|the)\s+)?(?:(?:real|live)\s+)?(?:person|human|agent|operator|representative|someone|somebody)\b`)),
	)
}

func (h Handler) check() (*template.Template, error) {
	if err := h.Team.check("Team"); err != nil {
		return nil, err
	}
	if h.Team.IsZero() {
		return nil, nil
	}
	src := h.Notify
	if src == "" {
		src = DefaultNotify
	}
	t, err := template.New("notify").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("handoff: parse Notify: %w", err)
	}
	return t, nil
}

// HandleMessage implements [bot.Handler]; see [Handler].
func (h Handler) HandleMessage(ctx context.Context, w bot.Sender, m *bot.Message) error {
	if m.Author.Bot || m.Author.Agent || m.Kind.Or() != bot.KindMessage ||
		h.Team.has(m) || bot.OwnerOf(ctx) == bot.OwnerHuman {
		return bot.ErrContinue
	}
	notify, err := h.check()
	if err != nil {
		return err
	}
	text := h.Reply
	if text == "" {
		text = DefaultReply
	}
	reply := m.Reply(text)
	reply.Handoff = true
	if err := w.Send(ctx, reply); err != nil {
		return fmt.Errorf("handoff: send reply: %w", err)
	}
	var errs []error
	if err := h.tag(ctx, m); err != nil {
		errs = append(errs, err)
	}
	if notify != nil {
		var b strings.Builder
		if err := notify.Execute(&b, NotifyData{Message: m, Resume: resumeCommand(m.Platform, m.Conversation)}); err != nil {
			errs = append(errs, fmt.Errorf("handoff: execute Notify: %w", err))
		} else if err := w.Send(ctx, &bot.Message{Platform: h.Team.Platform, Conversation: h.Team.Conversation, Text: b.String()}); err != nil {
			errs = append(errs, fmt.Errorf("handoff: notify %s/%s: %w", h.Team.Platform, h.Team.Conversation, err))
		}
	}
	return errors.Join(errs...)
}

// tag adds h.Tags to the tags of m's conversation, if the adapter can.
func (h Handler) tag(ctx context.Context, m *bot.Message) error {
	if len(h.Tags) == 0 {
		return nil
	}
	var tagger bot.Tagger
	if h.Bot != nil {
		tagger, _ = h.Bot.Adapter(m.Platform).(bot.Tagger)
	}
	if tagger == nil {
		h.logger().LogAttrs(ctx, slog.LevelDebug, "handoff: the platform cannot tag conversations; tags skipped",
			slog.String("platform", m.Platform), slog.Any("msg", m))
		return nil
	}
	if err := tagger.Tag(ctx, m.Conversation, "", mergeTags(m.Tags, h.Tags)); err != nil {
		return fmt.Errorf("handoff: tag %s/%s: %w", m.Platform, m.Conversation, err)
	}
	return nil
}

func (h Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.Default()
	}
	return h.Logger
}

// mergeTags returns have followed by the tags of add it lacks, ignoring
// case.
func mergeTags(have, add []string) []string {
	out := append([]string(nil), have...)
	for _, t := range add {
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, t) }) {
			out = append(out, t)
		}
	}
	return out
}

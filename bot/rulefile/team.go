package rulefile

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/parleybot/parley/handlers/handoff"
)

// This file holds the team of the handoff and resume actions: the
// conversation of the people who take over (an agents' Flowdock flow),
// which is told of each handoff and where the resume command is typed,
// as package handlers/handoff does it for Go bots.

// A ConversationResolver is an adapter whose conversations people name
// otherwise than by the ID its messages carry in Conversation: a Flowdock
// flow is "org/flow" to its users and an opaque flow ID to the adapter.
// The Engine resolves the team of a handoff or resume action through the
// adapter of the team's platform when it is one, once per name (while the
// Engine lives); otherwise the conversation is used as written.
type ConversationResolver interface {
	// ResolveConversation returns the ID of the conversation people call
	// name, or name itself when it is an ID already. It must be safe for
	// concurrent use.
	ResolveConversation(ctx context.Context, name string) (string, error)
}

// A team is the conversation of the people who take over from the bot.
type team struct {
	platform, conversation string
	line, col              int
	what                   string
}

// notifyData is the data of a handoff's notify template: the message's,
// and the command that gives the conversation back.
type notifyData struct {
	*messageData
	// Resume is "/resume <platform> <conversation>" of the conversation
	// handed off, as handoff.NotifyData has it.
	Resume string
}

var notifyDataType = reflect.TypeFor[notifyData]()

// team reads a team: {platform: <adapter name>, conversation: <name or ID>}.
func (l *loader) team(s *Set, n *yaml.Node, what string) *team {
	fs, ok := l.fields(n, what, "platform", "conversation")
	if !ok {
		return nil
	}
	t := &team{line: n.Line, col: n.Column, what: what}
	for _, k := range []string{"platform", "conversation"} {
		f, ok := fs[k]
		if !ok {
			l.errf(n, "%s: missing key %q", what, k)
			return nil
		}
		v, ok := l.str(f.val, what+": "+k, false)
		if !ok {
			return nil
		}
		if k == "platform" {
			t.platform = v
		} else {
			t.conversation = v
		}
	}
	s.teams = append(s.teams, t)
	return t
}

// handoffTeam reads handoff: {text: <template>, team: {…}, notify: <template>}.
func (l *loader) handoffTeam(s *Set, n *yaml.Node, what string) action {
	fs, ok := l.fields(n, what, "text", "team", "notify")
	if !ok {
		return nil
	}
	probs := len(l.probs)
	a := &handoffAction{}
	if f, ok := fs["text"]; ok {
		a.text = l.template(f.val, what+": text", messageDataType, false)
	} else {
		a.text = l.template(constNode(n, handoff.DefaultReply), what+": text", messageDataType, false)
	}
	if f, ok := fs["team"]; ok {
		a.team = l.team(s, f.val, what+": team")
		src := constNode(n, handoff.DefaultNotify)
		if f, ok := fs["notify"]; ok {
			src = f.val
		}
		a.notify = l.template(src, what+": notify", notifyDataType, false)
	} else if f, ok := fs["notify"]; ok {
		l.errf(f.key, "%s: notify goes with team, the conversation it is posted to", what)
	}
	if len(l.probs) > probs {
		return nil
	}
	return a
}

// resumeTeam reads resume: {team: {…}}.
func (l *loader) resumeTeam(s *Set, n *yaml.Node, what string) action {
	fs, ok := l.fields(n, what, "team")
	if !ok {
		return nil
	}
	f, ok := fs["team"]
	if !ok {
		l.errf(n, "%s: missing key \"team\" (or write resume: true to give this conversation back)", what)
		return nil
	}
	if t := l.team(s, f.val, what+": team"); t != nil {
		return &resumeTeamAction{team: t}
	}
	return nil
}

// constNode returns a string scalar holding src at the position of n, for
// a default template.
func constNode(n *yaml.Node, src string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: src, Line: n.Line, Column: n.Column}
}

// teamFlow returns the team's conversation as the Bot knows it: its ID,
// resolved through the adapter of its platform (see
// [ConversationResolver]). It reports false when the Bot has no adapter of
// that platform: the team is left out (warnTeams said so).
func (e *Engine) teamFlow(ctx context.Context, t *team) (handoff.Flow, bool, error) {
	if e.bot == nil {
		return handoff.Flow{}, false, nil
	}
	a := e.bot.Adapter(t.platform)
	if a == nil {
		return handoff.Flow{}, false, nil
	}
	r, ok := a.(ConversationResolver)
	if !ok {
		return handoff.Flow{Platform: t.platform, Conversation: t.conversation}, true, nil
	}
	key := t.platform + "\x00" + t.conversation
	if id, ok := e.teams.Load(key); ok {
		return handoff.Flow{Platform: t.platform, Conversation: id.(string)}, true, nil
	}
	id, err := r.ResolveConversation(ctx, t.conversation)
	if err != nil {
		return handoff.Flow{}, false, fmt.Errorf("team %s %s: %w", t.platform, strconv.Quote(t.conversation), err)
	}
	e.teams.Store(key, id)
	return handoff.Flow{Platform: t.platform, Conversation: id}, true, nil
}

// warnTeams logs, at Warn level, the teams of s on platforms the Bot has
// no adapter for: a file that names a team on Flowdock still runs where
// Flowdock is not configured, its handoffs without a notification.
func (e *Engine) warnTeams(s *Set) {
	if e.bot == nil {
		return
	}
	for _, t := range s.teams {
		if e.bot.Adapter(t.platform) == nil {
			e.log().LogAttrs(context.Background(), slog.LevelWarn,
				"rulefile: a team is on a platform the bot does not have: handoffs do not tell it, and resume commands are taken from agents only",
				slog.String("file", s.file), slog.Int("line", t.line), slog.String("platform", t.platform), slog.String("conversation", t.conversation))
		}
	}
}

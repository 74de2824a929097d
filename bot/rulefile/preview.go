package rulefile

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/handlers/handoff"
)

// ActionInfo says what one action would do for a message, in an
// [Explanation].
type ActionInfo struct {
	// Kind is the action's key in the file: "reply", "template", "tag",
	// "handoff", "resume", "forward", "set", "clear", or "continue" for a
	// rule that ends with continue.
	Kind string
	// Detail is what the action would do, for people. A text is rendered
	// with the message and quoted when nothing else decides it; a template
	// that reads the conversation's variables (other than those an earlier
	// action of the rule set or cleared) is shown quoted as written,
	// followed by "(not rendered: it reads the conversation's variables)",
	// since what a conversation holds is not known without it. A template
	// that fails shows "error: " and the reason.
	Detail string
}

const notRendered = " (not rendered: it reads the conversation's variables)"

// A preview renders the actions of one rule for a message, as Explain
// shows them, without running them.
type preview struct {
	data  *messageData
	known map[string]bool // the variables an earlier action of the rule set or cleared
	set   *Set
	all   bool // the conversation's variables are known
}

// preview returns the preview of a rule's actions for m in conversation c.
func (s *Set) preview(m *bot.Message, caps bot.Captures, c Conversation) *preview {
	p := newPreview(s, m, caps)
	if c.Vars != nil {
		p.data.Vars, p.all = mergeVars(s.vars, c.Vars), true
	}
	return p
}

func newPreview(s *Set, m *bot.Message, caps bot.Captures) *preview {
	return &preview{
		data:  &messageData{Message: m, Kind: m.Kind.Or(), Vars: maps.Clone(s.vars), Captures: caps},
		known: map[string]bool{},
		set:   s,
	}
}

// render returns t's text for people (quoted, or as written with a note,
// or an error), its value, and whether it could be rendered.
func (p *preview) render(t *tmpl) (shown, value string, ok bool) {
	if !p.all && !t.decidedBy(p.known) {
		return strconv.Quote(t.src) + notRendered, "", false
	}
	out, err := t.exec(p.data)
	if err != nil {
		return "error: " + errText(err), "", false
	}
	return strconv.Quote(out), out, true
}

// renderMap shows a map of placeholders to templates, in key order:
// `1 = "Ana", 2 = "42"`.
func (p *preview) renderMap(ts map[string]*tmpl) string {
	parts := make([]string, 0, len(ts))
	for _, k := range slices.Sorted(maps.Keys(ts)) {
		shown, _, _ := p.render(ts[k])
		parts = append(parts, k+" = "+shown)
	}
	return strings.Join(parts, ", ")
}

// actions previews a list of actions, and continue when cont.
func (p *preview) actions(acts []action, cont bool) []ActionInfo {
	out := make([]ActionInfo, 0, len(acts)+1)
	for _, a := range acts {
		out = append(out, a.preview(p))
	}
	if cont {
		out = append(out, ActionInfo{Kind: "continue", Detail: "routing goes on with the next rule that matches"})
	}
	return out
}

func (a *replyAction) preview(p *preview) ActionInfo {
	shown, _, _ := p.render(a.text)
	return ActionInfo{Kind: "reply", Detail: shown}
}

func (a *templateAction) preview(p *preview) ActionInfo {
	d := a.keyword + " (" + a.language + ")"
	if len(a.tags) > 0 {
		d += ", tags " + p.renderMap(a.tags)
	}
	if len(a.buttonTags) > 0 {
		d += ", button tags " + p.renderMap(a.buttonTags)
	}
	if a.attachment != nil {
		shown, _, _ := p.render(a.attachment)
		d += ", attachment " + shown
	}
	return ActionInfo{Kind: "template", Detail: d}
}

func (a *tagAction) preview(*preview) ActionInfo {
	return ActionInfo{Kind: "tag", Detail: strings.Join(a.tags, ", ")}
}

func (a *handoffAction) preview(p *preview) ActionInfo {
	if a.text == nil {
		return ActionInfo{Kind: "handoff", Detail: "hand the conversation to humans"}
	}
	shown, _, _ := p.render(a.text)
	d := shown + ", then hand the conversation to humans"
	if a.team != nil {
		notify := strconv.Quote(a.notify.src) + notRendered
		if p.all || a.notify.decidedBy(p.known) {
			out, err := a.notify.exec(&notifyData{messageData: p.data,
				Resume: "/" + handoff.ResumeCommand + " " + p.data.Platform + " " + p.data.Conversation})
			notify = strconv.Quote(out)
			if err != nil {
				notify = "error: " + errText(err)
			}
		}
		d += " and tell " + a.team.platform + " " + a.team.conversation + ": " + notify
	}
	return ActionInfo{Kind: "handoff", Detail: d}
}

func (resumeAction) preview(*preview) ActionInfo {
	return ActionInfo{Kind: "resume", Detail: "give the conversation back to the bot"}
}

func (a *resumeTeamAction) preview(*preview) ActionInfo {
	return ActionInfo{Kind: "resume", Detail: "obey \"/" + handoff.ResumeCommand + " <platform> <conversation>\" typed in " +
		a.team.platform + " " + a.team.conversation + ", or \"/" + handoff.ResumeCommand + "\" typed by an agent in the customer's conversation"}
}

func (a *sendAction) preview(p *preview) ActionInfo {
	shown, _, _ := p.render(a.text)
	return ActionInfo{Kind: a.name, Detail: "to " + a.platform + "/" + a.conversation + ": " + shown}
}

// preview of a set action shows each value, and records those it could
// render as known for the actions after it; as when it runs, every value
// is rendered before any is set.
func (a *setAction) preview(p *preview) ActionInfo {
	parts := make([]string, len(a.names))
	vals := make([]string, len(a.names))
	oks := make([]bool, len(a.names))
	for i, t := range a.values {
		var shown string
		shown, vals[i], oks[i] = p.render(t)
		parts[i] = a.names[i] + " = " + shown
	}
	for i, k := range a.names {
		p.known[k] = oks[i]
		if oks[i] {
			p.data.Vars[k] = vals[i]
		}
	}
	return ActionInfo{Kind: "set", Detail: strings.Join(parts, ", ")}
}

// preview of a clear action records the cleared variables as known: their
// defaults apply again.
func (a *clearAction) preview(p *preview) ActionInfo {
	for _, k := range a.names {
		p.known[k] = true
		if v, ok := p.set.vars[k]; ok {
			p.data.Vars[k] = v
		} else {
			delete(p.data.Vars, k)
		}
	}
	return ActionInfo{Kind: "clear", Detail: strings.Join(a.names, ", ")}
}

package rulefile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/handlers/handoff"
)

// An action is one step of a rule or schedule.
type action interface {
	// kind is the action's key in the file.
	kind() string
	// run performs the action for the message of x.
	run(ctx context.Context, x *execution) error
	// preview says what the action would do, for Explain, without doing
	// it.
	preview(p *preview) ActionInfo
}

var (
	ruleActions     = []string{"reply", "template", "tag", "handoff", "resume", "forward", "set", "clear", "start_flow", "cancel_flow", "continue", "stop"}
	scheduleActions = []string{"send"}
)

// An actionSite is where a list of actions is: a rule's actions, a
// schedule's, or the file's fallback.
type actionSite int

const (
	inRule actionSite = iota
	inSchedule
	inFallback
)

// actions reads a list of actions. For a rule it also reports whether the
// list ends with continue.
func (l *loader) actions(s *Set, n *yaml.Node, label string, site actionSite) ([]action, bool) {
	empty := n.Kind == yaml.ScalarNode && n.Tag == "!!null" || n.Kind == yaml.SequenceNode && len(n.Content) == 0
	var items []*yaml.Node
	switch {
	case empty && site == inFallback:
		l.errf(n, "%s: the list of actions is empty (leave fallback out for a bot that stays silent)", label)
		return nil, false
	case empty:
		l.errf(n, "%s: actions: the list is empty (write stop: true to only stop routing)", label)
		return nil, false
	case site == inFallback && n.Kind != yaml.SequenceNode:
		l.errf(n, "%s: want a list of actions, got %s", label, describeNode(n))
		return nil, false
	case site == inFallback:
		items = l.list(n, label)
	default:
		items = l.list(n, label+": actions")
	}
	var out []action
	cont := false
	repliedAt := -1 // index of the first reply or template action
	for i, it := range items {
		what := fmt.Sprintf("%s: action %d", label, i+1)
		if it.Kind != yaml.MappingNode {
			l.errf(it, "%s: want a mapping with one key such as reply:, got %s", what, describeNode(it))
			continue
		}
		if len(it.Content) == 0 {
			l.errf(it, "%s: an action has exactly one key, got none", what)
			continue
		}
		if len(it.Content) != 2 {
			var keys []string
			for j := 0; j < len(it.Content); j += 2 {
				keys = append(keys, it.Content[j].Value)
			}
			l.errf(it, "%s: an action has exactly one key, got %d (%s)", what, len(keys), strings.Join(keys, ", "))
			continue
		}
		key, val := deref(it.Content[0]), deref(it.Content[1])
		known := ruleActions
		if site == inSchedule {
			known = scheduleActions
		}
		if !slices.Contains(known, key.Value) {
			switch {
			case site == inSchedule && slices.Contains(ruleActions, key.Value):
				l.errf(key, "%s: %s is not a schedule action; a schedule has no message to act on, its only action is send", what, key.Value)
			case site != inSchedule && slices.Contains(scheduleActions, key.Value):
				l.errf(key, "%s: send is a schedule action; a rule sends elsewhere with forward", what)
			default:
				l.errf(key, "%s: unknown action %q%s", what, key.Value, suggest(key.Value, known))
			}
			continue
		}
		what += " (" + key.Value + ")"
		last := i == len(items)-1
		switch key.Value {
		case "continue", "stop":
			if site == inFallback {
				l.errf(key, "%s: the fallback runs after every rule; continue and stop are for rules", what)
				continue
			}
			if l.isTrue(val, what) {
				if !last {
					l.errf(key, "%s: must be the last action", what)
				}
				cont = key.Value == "continue"
			}
			continue
		case "reply", "template":
			if repliedAt < 0 {
				repliedAt = i
			}
		case "handoff":
			if val.Kind == yaml.ScalarNode && val.Tag == "!!bool" && repliedAt >= 0 {
				l.errf(key, "%s: handoff: true hands the conversation to humans at once, so the reply of action %d would be suppressed; "+
					"write the reply as handoff: \"<text>\" instead", what, repliedAt+1)
				continue
			}
		}
		if a := l.action(s, key.Value, val, what); a != nil {
			out = append(out, a)
		}
	}
	return out, cont
}

// action reads the value of one action.
func (l *loader) action(s *Set, kind string, n *yaml.Node, what string) action {
	switch kind {
	case "reply":
		if t := l.template(n, what, messageDataType, false); t != nil {
			return &replyAction{text: t}
		}
	case "template":
		if a := l.templateAction(n, what, messageDataType); a != nil {
			return a
		}
	case "tag":
		if tags, _, ok := l.strList(n, what); ok {
			return &tagAction{tags: tags}
		}
	case "handoff":
		if n.Kind == yaml.MappingNode {
			return l.handoffTeam(s, n, what)
		}
		if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
			if l.isTrue(n, what) {
				return &handoffAction{}
			}
			return nil
		}
		if t := l.template(n, what, messageDataType, false); t != nil {
			return &handoffAction{text: t}
		}
	case "resume":
		if n.Kind == yaml.MappingNode {
			return l.resumeTeam(s, n, what)
		}
		if l.isTrue(n, what) {
			return resumeAction{}
		}
	case "forward":
		return l.sendTo(s, n, kind, what, messageDataType)
	case "send":
		return l.sendTo(s, n, kind, what, scheduleDataType)
	case "set":
		return l.setAction(n, what)
	case "start_flow":
		return l.startFlow(n, what)
	case "cancel_flow":
		if l.isTrue(n, what) {
			return cancelFlowAction{}
		}
	case "clear":
		names, nodes, ok := l.strList(n, what)
		for _, k := range nodes {
			ok = l.checkVarName(k, what) && ok
		}
		if ok {
			return &clearAction{names: names}
		}
	}
	return nil
}

// templateAction reads an approved message template: its keyword and
// language, and its placeholders and attachment, templates over data (the
// message data in a rule's template action; a prompt's in a flow's timer,
// see fileTimer). It returns nil if the template has a problem.
func (l *loader) templateAction(n *yaml.Node, what string, data reflect.Type) *templateAction {
	fs, ok := l.fields(n, what, "keyword", "language", "tags", "button_tags", "attachment")
	if !ok {
		return nil
	}
	probs := len(l.probs)
	a := &templateAction{}
	for _, k := range []string{"keyword", "language"} {
		f, ok := fs[k]
		if !ok {
			l.errf(n, "%s: missing key %q", what, k)
			continue
		}
		v, _ := l.str(f.val, what+": "+k, false)
		if k == "keyword" {
			a.keyword = v
		} else {
			a.language = v
		}
	}
	if f, ok := fs["tags"]; ok {
		a.tags = l.templateMap(f.val, what+": tags", data)
	}
	if f, ok := fs["button_tags"]; ok {
		a.buttonTags = l.templateMap(f.val, what+": button_tags", data)
	}
	if f, ok := fs["attachment"]; ok {
		a.attachment = l.template(f.val, what+": attachment", data, false)
	}
	if len(l.probs) > probs {
		return nil
	}
	return a
}

// templateMap reads a mapping of placeholder names to templates over data.
func (l *loader) templateMap(n *yaml.Node, what string, data reflect.Type) map[string]*tmpl {
	if n.Kind != yaml.MappingNode {
		l.errf(n, "%s: want a mapping of placeholders to values, got %s", what, describeNode(n))
		return nil
	}
	out := map[string]*tmpl{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		name, ok := l.str(k, what, false)
		if !ok {
			continue
		}
		if _, dup := out[name]; dup {
			l.errf(k, "%s: duplicate key %q", what, name)
			continue
		}
		out[name] = l.template(v, what+": "+name, data, true)
	}
	return out
}

// sendTo reads a forward or send action: a platform, a conversation and a
// text template.
func (l *loader) sendTo(s *Set, n *yaml.Node, kind, what string, data reflect.Type) action {
	fs, ok := l.fields(n, what, "platform", "conversation", "text")
	if !ok {
		return nil
	}
	probs := len(l.probs)
	a := &sendAction{name: kind}
	for _, k := range []string{"platform", "conversation", "text"} {
		if _, ok := fs[k]; !ok {
			l.errf(n, "%s: missing key %q", what, k)
		}
	}
	if f, ok := fs["platform"]; ok {
		if a.platform, ok = l.str(f.val, what+": platform", false); ok {
			s.refs = append(s.refs, platformRef{name: a.platform, line: f.val.Line, col: f.val.Column, what: what + ": platform"})
		}
	}
	if f, ok := fs["conversation"]; ok {
		a.conversation, _ = l.str(f.val, what+": conversation", false)
	}
	if f, ok := fs["text"]; ok {
		a.text = l.template(f.val, what+": text", data, false)
	}
	if len(l.probs) > probs {
		return nil
	}
	return a
}

func (l *loader) setAction(n *yaml.Node, what string) action {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		l.errf(n, "%s: want a mapping of variable names to values, got %s", what, describeNode(n))
		return nil
	}
	probs := len(l.probs)
	a := &setAction{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || !l.checkVarName(k, what) {
			continue
		}
		if slices.Contains(a.names, k.Value) {
			l.errf(k, "%s: duplicate variable %q", what, k.Value)
			continue
		}
		a.names = append(a.names, k.Value)
		a.values = append(a.values, l.template(v, what+": "+k.Value, messageDataType, true))
	}
	if len(l.probs) > probs {
		return nil
	}
	return a
}

// An execution is the run of one rule's actions for one message.
type execution struct {
	eng  *Engine
	set  *Set
	w    bot.Sender
	m    *bot.Message
	data *messageData      // nil until an action needs it
	own  map[string]string // the variables set for the conversation, without defaults
	// fallback: the actions are the fallback's, whose .Captures come from
	// the file's command syntax rather than a rule.
	fallback bool
	d        *dispatch // of a rule's run: its conditions' view of the variables
}

// messageData returns the template data, reading the conversation's
// variables on first use.
func (x *execution) messageData(ctx context.Context) (*messageData, error) {
	if x.data != nil {
		return x.data, nil
	}
	own, err := x.eng.readVars(ctx, x.m.Platform, x.m.Conversation)
	if err != nil {
		return nil, err
	}
	vars := maps.Clone(x.set.vars)
	maps.Copy(vars, own)
	x.own = own
	caps := bot.CapturesOf(ctx)
	if x.fallback {
		caps = x.set.fallbackCaptures(x.m)
	}
	x.data = &messageData{Message: x.m, Kind: x.m.Kind.Or(), Vars: vars, Captures: caps}
	return x.data, nil
}

// text executes t with the message data.
func (x *execution) text(ctx context.Context, t *tmpl) (string, error) {
	d, err := x.messageData(ctx)
	if err != nil {
		return "", err
	}
	return t.exec(d)
}

// A replyAction answers the message: reply: "<template>".
type replyAction struct{ text *tmpl }

func (*replyAction) kind() string { return "reply" }

func (a *replyAction) run(ctx context.Context, x *execution) error {
	text, err := x.text(ctx, a.text)
	if err != nil {
		return err
	}
	return x.w.Send(ctx, x.m.Reply(text))
}

// A templateAction answers with an approved message template: a reply whose
// Payload is a bot.Template. A flow's reminder and timeout send one, as a
// message of their own, when the customer-service window is closed (see
// fileTimer).
type templateAction struct {
	keyword, language string
	tags, buttonTags  map[string]*tmpl
	attachment        *tmpl
}

func (*templateAction) kind() string { return "template" }

func (a *templateAction) run(ctx context.Context, x *execution) error {
	p, err := a.payload(func(t *tmpl) (string, error) { return x.text(ctx, t) })
	if err != nil {
		return err
	}
	r := x.m.Reply("")
	r.Payload = p
	return x.w.Send(ctx, r)
}

// payload returns the template with its placeholders and attachment
// rendered by render.
func (a *templateAction) payload(render func(*tmpl) (string, error)) (bot.Template, error) {
	p := bot.Template{Keyword: a.keyword, Language: a.language}
	var err error
	if p.Tags, err = renderMap(a.tags, render); err != nil {
		return p, err
	}
	if p.ButtonTags, err = renderMap(a.buttonTags, render); err != nil {
		return p, err
	}
	if a.attachment != nil {
		if p.Attachment, err = render(a.attachment); err != nil {
			return p, err
		}
	}
	return p, nil
}

// readsVars reports whether the template's placeholders or attachment
// read the conversation's variables.
func (a *templateAction) readsVars() bool {
	for _, t := range a.tags {
		if t.readsVars() {
			return true
		}
	}
	for _, t := range a.buttonTags {
		if t.readsVars() {
			return true
		}
	}
	return a.attachment != nil && a.attachment.readsVars()
}

// renderMap renders the templates of ts by render; nil stays nil.
func renderMap(ts map[string]*tmpl, render func(*tmpl) (string, error)) (map[string]string, error) {
	if ts == nil {
		return nil, nil
	}
	out := make(map[string]string, len(ts))
	for k, t := range ts {
		v, err := render(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

// A tagAction tags the conversation through the adapter's bot.Tagger.
type tagAction struct{ tags []string }

func (*tagAction) kind() string { return "tag" }

func (a *tagAction) run(ctx context.Context, x *execution) error {
	b := x.eng.bot
	if b == nil {
		return fmt.Errorf("the engine is not installed on a Bot, so it has no adapter to tag with: %w", errors.ErrUnsupported)
	}
	t, ok := b.Adapter(x.m.Platform).(bot.Tagger)
	if !ok {
		// Tags are metadata: a platform without them does not stop the
		// rule's other actions.
		x.eng.log().LogAttrs(ctx, slog.LevelDebug, "tag action skipped: the adapter cannot tag conversations",
			slog.String("platform", x.m.Platform))
		return nil
	}
	err := t.Tag(ctx, x.m.Conversation, "", slices.Clone(a.tags))
	if errors.Is(err, errors.ErrUnsupported) {
		x.eng.log().LogAttrs(ctx, slog.LevelDebug, "tag action skipped", slog.String("platform", x.m.Platform), slog.Any("error", err))
		return nil
	}
	return err
}

// A handoffAction hands the conversation to humans: with a reply that
// carries Handoff, or at once through Bot.Handoff. With a team, it then
// tells the team, as handoff.Handler does.
type handoffAction struct {
	text   *tmpl
	team   *team // nil: none
	notify *tmpl // with team
}

func (*handoffAction) kind() string { return "handoff" }

func (a *handoffAction) run(ctx context.Context, x *execution) error {
	if a.text != nil {
		text, err := x.text(ctx, a.text)
		if err != nil {
			return err
		}
		r := x.m.Reply(text)
		r.Handoff = true
		if err := x.w.Send(ctx, r); err != nil {
			return err
		}
		if a.team == nil {
			return nil
		}
		return a.tell(ctx, x)
	}
	if x.eng.bot == nil {
		return fmt.Errorf("the engine is not installed on a Bot: %w", errors.ErrUnsupported)
	}
	return x.eng.bot.Handoff(ctx, x.m.Platform, x.m.Conversation)
}

// tell posts the notification of a handoff to the team, if its platform
// is one of the Bot's.
func (a *handoffAction) tell(ctx context.Context, x *execution) error {
	to, ok, err := x.eng.teamFlow(ctx, a.team)
	if err != nil || !ok {
		return err
	}
	d, err := x.messageData(ctx)
	if err != nil {
		return err
	}
	text, err := a.notify.exec(&notifyData{messageData: d,
		Resume: "/" + handoff.ResumeCommand + " " + x.m.Platform + " " + x.m.Conversation})
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if err := x.w.Send(ctx, &bot.Message{Platform: to.Platform, Conversation: to.Conversation, Text: text}); err != nil {
		return fmt.Errorf("notify %s/%s: %w", a.team.platform, a.team.conversation, err)
	}
	return nil
}

// A resumeTeamAction obeys the resume command of handoff.ResumeHandler
// for a team: resume: {team: …}.
type resumeTeamAction struct{ team *team }

func (*resumeTeamAction) kind() string { return "resume" }

// run runs a handoff.ResumeHandler with the team on the message. A
// message that is not the team's command nor an agent's is not obeyed:
// it returns bot.ErrContinue, and the rule declines the message.
func (a *resumeTeamAction) run(ctx context.Context, x *execution) error {
	if x.eng.bot == nil {
		return fmt.Errorf("the engine is not installed on a Bot: %w", errors.ErrUnsupported)
	}
	to, _, err := x.eng.teamFlow(ctx, a.team)
	if err != nil {
		return err
	}
	return handoff.ResumeHandler{Bot: x.eng.bot, Team: to, Logger: x.eng.log()}.HandleMessage(ctx, x.w, x.m)
}

// A resumeAction gives the conversation back to the bot.
type resumeAction struct{}

func (resumeAction) kind() string { return "resume" }

func (resumeAction) run(ctx context.Context, x *execution) error {
	if x.eng.bot == nil {
		return fmt.Errorf("the engine is not installed on a Bot: %w", errors.ErrUnsupported)
	}
	return x.eng.bot.Resume(ctx, x.m.Platform, x.m.Conversation)
}

// A sendAction sends a text to a platform and conversation: forward in a
// rule, send in a schedule.
type sendAction struct {
	name                   string // forward or send
	platform, conversation string
	text                   *tmpl
}

func (a *sendAction) kind() string { return a.name }

func (a *sendAction) run(ctx context.Context, x *execution) error {
	text, err := x.text(ctx, a.text)
	if err != nil {
		return err
	}
	return x.w.Send(ctx, &bot.Message{Platform: a.platform, Conversation: a.conversation, Text: text})
}

// A setAction sets conversation variables.
type setAction struct {
	names  []string
	values []*tmpl
}

func (*setAction) kind() string { return "set" }

func (a *setAction) run(ctx context.Context, x *execution) error {
	d, err := x.messageData(ctx)
	if err != nil {
		return err
	}
	vals := make([]string, len(a.names))
	for i, t := range a.values {
		if vals[i], err = t.exec(d); err != nil {
			return fmt.Errorf("%s: %w", a.names[i], err)
		}
		if len(vals[i]) > MaxVarSize {
			return fmt.Errorf("%s: %d bytes, more than the %d a variable may hold", a.names[i], len(vals[i]), MaxVarSize)
		}
	}
	own := maps.Clone(x.own)
	if own == nil {
		own = map[string]string{}
	}
	for i, k := range a.names {
		own[k] = vals[i]
	}
	if err := x.eng.writeVars(ctx, x.m.Platform, x.m.Conversation, own); err != nil {
		return err
	}
	if x.d != nil {
		x.d.varsRead = false // the rules tried after this one see the change
	}
	x.own = own
	for i, k := range a.names {
		d.Vars[k] = vals[i]
	}
	return nil
}

// A clearAction removes conversation variables; their defaults, if any,
// apply again.
type clearAction struct{ names []string }

func (*clearAction) kind() string { return "clear" }

func (a *clearAction) run(ctx context.Context, x *execution) error {
	d, err := x.messageData(ctx)
	if err != nil {
		return err
	}
	own := maps.Clone(x.own)
	for _, k := range a.names {
		delete(own, k)
	}
	if err := x.eng.writeVars(ctx, x.m.Platform, x.m.Conversation, own); err != nil {
		return err
	}
	if x.d != nil {
		x.d.varsRead = false // the rules tried after this one see the change
	}
	x.own = own
	for _, k := range a.names {
		if v, ok := x.set.vars[k]; ok {
			d.Vars[k] = v
		} else {
			delete(d.Vars, k)
		}
	}
	return nil
}

// HandleMessage runs the rule's actions in order for m, within an Engine's
// dispatch. The first failing action ends the run with its error. A rule
// that ends with continue returns bot.ErrContinue once its actions are
// done, so that routing goes on.
func (r *rule) HandleMessage(ctx context.Context, w bot.Sender, m *bot.Message) error {
	d, _ := ctx.Value(dispatchKey{}).(*dispatch)
	if d == nil {
		return fmt.Errorf("rulefile: rule %q: run outside an Engine", r.name)
	}
	if d.dry {
		return bot.ErrContinue
	}
	x := &execution{eng: d.eng, set: d.set, w: w, m: m, d: d}
	for i, a := range r.actions {
		err := a.run(ctx, x)
		if errors.Is(err, bot.ErrContinue) { // resume: {team: …} declined the message
			return bot.ErrContinue
		}
		if err != nil {
			d.handled = true
			return fmt.Errorf("rulefile: rule %q: action %d (%s): %w", r.name, i+1, a.kind(), err)
		}
	}
	if r.cont {
		return bot.ErrContinue
	}
	d.handled = true
	return nil
}

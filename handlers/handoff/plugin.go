package handoff

import (
	"github.com/parleybot/parley/bot"
)

// Route priorities used by [Plugin.Install]. The customer's request runs
// after the welcome (100) and hours (90) handlers of this module and
// before ordinary routes (0); the resume command runs before all of them,
// so that an agent's command in the team flow is handled first.
const (
	Priority       = 80
	ResumePriority = 110
)

// Plugin installs both halves of a handoff on a Bot: the customer's
// request ([Handler]) and the agents' resume command ([ResumeHandler]).
//
//	err := handoff.Plugin{Handler: handoff.Handler{
//		Tags: []string{"handoff"},
//		Team: handoff.Flow{Platform: "flowdock", Conversation: "support"},
//	}}.Install(b)
//
// A Plugin is a plain value; Install copies it.
type Plugin struct {
	Handler Handler
	Resume  ResumeHandler
}

// Install registers the Handler on [DefaultRule] with [Priority] and the
// ResumeHandler on [ResumeRule] as an observer route with
// [ResumePriority], both with help texts. It fills the fields left unset
// from b: Handler.Bot and Resume.Bot become b, the loggers b's logger, and
// Resume.Team becomes Handler.Team.
//
// It returns an error, and registers nothing, when a template does not
// parse or a Team has a Platform without a Conversation or the other way
// round. It panics, as bot.Router.Handle does, if the Bot is already
// running.
func (p Plugin) Install(b *bot.Bot) error {
	h, r := p.Handler, p.Resume
	if h.Bot == nil {
		h.Bot = b
	}
	if h.Logger == nil {
		h.Logger = b.Logger()
	}
	if r.Bot == nil {
		r.Bot = b
	}
	if r.Logger == nil {
		r.Logger = b.Logger()
	}
	if r.Team.IsZero() {
		r.Team = h.Team
	}
	if _, err := h.check(); err != nil {
		return err
	}
	if _, err := r.check(); err != nil {
		return err
	}
	b.Handle(DefaultRule(), h, bot.Priority(Priority), bot.Help("agent", "talk to a person"))
	b.Handle(ResumeRule(), r, bot.Observer(), bot.Priority(ResumePriority),
		bot.Help(ResumeCommand+" [<platform> <conversation>]", "agents: give a conversation back to the bot"))
	return nil
}

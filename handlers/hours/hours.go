package hours

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/parleybot/parley/bot"
)

// Defaults of a Handler's zero fields.
const (
	// DefaultReply is the reply template when Handler.Reply is empty.
	DefaultReply = `Thanks for your message! We are closed right now` +
		`{{if not .Opens.IsZero}} and open again {{.Opens.Format "Monday at 15:04 MST"}}{{end}}.` +
		` We will get back to you then.`
	// DefaultWindow is how long a conversation gets no second out-of-hours
	// reply when Handler.Window is zero.
	DefaultWindow = 12 * time.Hour
)

// Priority is the route priority Install registers the handler with: above
// ordinary routes (priority 0), so that the notice comes before any answer,
// and below welcome.Priority, so that a greeting comes first.
const Priority = 90

// ReplyData is what the Reply template is executed with. The fields of the
// inbound message are promoted: {{.Author.Name}}, {{.Platform}}.
type ReplyData struct {
	*bot.Message
	// Now is the time of the check in the Handler's Location.
	Now time.Time
	// Opens is when the schedule opens next, in the Handler's Location, or
	// the zero Time if it never does (within a year).
	Opens time.Time
	// Holiday reports that today is one of the Handler's Holidays.
	Holiday bool
}

// Handler sends an out-of-hours notice: when a message arrives while the
// schedule is closed, it replies once per conversation per Window, and
// otherwise stays silent. See the package documentation for the rules.
//
// It returns [bot.ErrContinue] in every case, so that the message is still
// routed on (an FAQ can answer after hours, and a handoff still reaches the
// agents' queue), unless Stop is set: then a message that arrives while
// closed stops routing.
//
// The zero Handler keeps Monday to Friday, 09:00 to 17:00 in time.Local,
// but needs a Store: set one, or register the handler with
// [Handler.Install], which takes the Bot's. A Handler holds no state of its
// own (it keeps it in Store) and is safe for concurrent use as long as its
// fields are not modified.
type Handler struct {
	// Location is the time zone of the schedule and the holidays. Default:
	// time.Local; Install uses the Bot's (see bot.WithLocation).
	Location *time.Location
	// Schedule is when the business is open. Default (nil): DefaultWeek(),
	// Monday to Friday 09:00–17:00. An empty, non-nil Week is never open.
	Schedule Week
	// Holidays are days on which the spans that start that day are closed.
	Holidays []Date
	// Reply is a text/template executed with a ReplyData; default
	// DefaultReply.
	Reply string
	// Window is the least time between two notices in one conversation.
	// Default DefaultWindow (12 hours).
	Window time.Duration
	// Store remembers which conversations got the notice, under
	// "hours:replied:<platform>:<conversation>" with Window as TTL.
	// Required; Install uses the Bot's.
	Store bot.Store
	// Stop makes a message that arrives while closed end routing (the
	// handler returns nil) instead of continuing to later routes.
	Stop bool
	// Now returns the current time. Default time.Now. Tests set it.
	Now func() time.Time
}

// Interface guard.
var _ bot.Handler = Handler{}

// DefaultRule returns the rule the handler is usually registered on:
// [bot.Always]; the handler decides by the clock.
func DefaultRule() bot.Rule { return bot.Always() }

// Install registers h on the Bot's router with DefaultRule and [Priority],
// taking the Bot's Store and Location for those left unset. It returns an
// error for an invalid Reply template or a negative Window, and panics, as
// bot.Router.Handle does, if the Bot is already running.
func (h Handler) Install(b *bot.Bot) error {
	if h.Store == nil {
		h.Store = b.Store()
	}
	if h.Location == nil {
		h.Location = b.Location()
	}
	if _, err := h.check(); err != nil {
		return err
	}
	b.Handle(DefaultRule(), h, bot.Priority(Priority))
	return nil
}

// check validates the settings and returns the parsed Reply template.
func (h Handler) check() (*template.Template, error) {
	if h.Window < 0 {
		return nil, fmt.Errorf("hours: negative Window %v", h.Window)
	}
	src := h.Reply
	if src == "" {
		src = DefaultReply
	}
	tmpl, err := template.New("reply").Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("hours: parse Reply: %w", err)
	}
	return tmpl, nil
}

// HandleMessage implements [bot.Handler]; see [Handler]. Events and
// messages from bots and agents are let through without a check. It
// returns an error when Store is nil, the settings are invalid, or the
// Store or w fails.
func (h Handler) HandleMessage(ctx context.Context, w bot.Sender, m *bot.Message) error {
	if m.Author.Bot || m.Author.Agent || m.Kind.Or() != bot.KindMessage {
		return bot.ErrContinue
	}
	now := h.now().In(h.location())
	if h.IsOpen(now) {
		return bot.ErrContinue
	}
	if h.Store == nil {
		return errors.New("hours: Handler.Store is nil")
	}
	if h.Window < 0 {
		return fmt.Errorf("hours: negative Window %v", h.Window)
	}
	window := h.Window
	if window == 0 {
		window = DefaultWindow
	}
	key := "hours:replied:" + m.Platform + ":" + m.Conversation
	first, err := h.Store.SetIfAbsent(ctx, key, nil, window)
	if err != nil {
		return fmt.Errorf("hours: remember notice: %w", err)
	}
	if first {
		if err := h.notify(ctx, w, m, now); err != nil {
			// Forget the notice so that the next message tries again.
			if derr := h.Store.Delete(ctx, key); derr != nil {
				err = errors.Join(err, fmt.Errorf("hours: forget notice: %w", derr))
			}
			return err
		}
	}
	if h.Stop {
		return nil
	}
	return bot.ErrContinue
}

// notify sends the notice for m at now.
func (h Handler) notify(ctx context.Context, w bot.Sender, m *bot.Message, now time.Time) error {
	tmpl, err := h.check()
	if err != nil {
		return err
	}
	var text strings.Builder
	data := ReplyData{Message: m, Now: now, Opens: h.NextOpen(now), Holiday: h.holiday(now)}
	if err := tmpl.Execute(&text, data); err != nil {
		return fmt.Errorf("hours: execute Reply: %w", err)
	}
	return w.Send(ctx, m.Reply(text.String()))
}

// IsOpen reports whether the business is open at t: t, in Location, falls
// in a span of Schedule that does not start on one of Holidays.
func (h Handler) IsOpen(t time.Time) bool {
	return h.schedule().contains(t.In(h.location()), h.holiday)
}

// NextOpen returns the first time after t, in Location, at which a span of
// Schedule starts on a day that is not a holiday, or the zero Time if there
// is none within a year.
func (h Handler) NextOpen(t time.Time) time.Time {
	return h.schedule().next(t.In(h.location()), h.holiday)
}

func (h Handler) holiday(day time.Time) bool { return slices.Contains(h.Holidays, DateOf(day)) }

func (h Handler) schedule() Week {
	if h.Schedule == nil {
		return DefaultWeek()
	}
	return h.Schedule
}

func (h Handler) location() *time.Location {
	if h.Location == nil {
		return time.Local
	}
	return h.Location
}

func (h Handler) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

package sendbee

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/parleybot/parley/bot"
)

// ServiceWindow is WhatsApp's customer-service window: a business may send
// free-form messages (text, media) to a customer only within 24 hours of
// the customer's last message; outside it, only approved templates.
const ServiceWindow = 24 * time.Hour

// The error types of Sendbee's refusals that the adapter turns into the
// Bot's typed errors. Sendbee does not document either; they are what the
// emulator (sendbeetest) answers, in the API's error envelope with status
// 400. (Assumption: WhatsApp's own error for a free-form message outside
// the window is "re-engagement message", code 131047.)
const (
	ErrorTypeReEngagement = "re_engagement_required"
	ErrorTypeUnsubscribed = "contact_unsubscribed"
)

// A WindowFallback is the approved template a bot sends in place of a
// free-form message outside the customer-service window (see
// bot.ServiceWindower), such as "We have an answer for you — reply to see
// it." The message's own text cannot be sent, so the template usually
// invites the customer to write, which opens the window again.
type WindowFallback struct {
	// Keyword and Language name the approved template. Required.
	Keyword, Language string
	// TextTag, when set, is the placeholder that gets the message's text
	// ("1" for {{1}}), for a template made to carry a message.
	TextTag string
	// Tags fills the template's placeholders from the message (and wins
	// over TextTag for the same placeholder). It must not modify m.
	Tags func(m *bot.Message) map[string]string
}

// check reports a WindowFallback that cannot be sent.
func (f *WindowFallback) check() error {
	if f == nil {
		return nil
	}
	if strings.TrimSpace(f.Keyword) == "" || strings.TrimSpace(f.Language) == "" {
		return errors.New("sendbee: AdapterConfig.WindowFallback needs Keyword and Language")
	}
	return nil
}

// Interface guards.
var (
	_ bot.ServiceWindower  = (*Adapter)(nil)
	_ bot.OptOutController = (*Adapter)(nil)
)

// ServiceWindow returns WhatsApp's 24 hours.
func (a *Adapter) ServiceWindow() time.Duration { return ServiceWindow }

// FreeForm reports whether m is a free-form message (text or media),
// which the customer-service window restricts, rather than a template.
func (a *Adapter) FreeForm(m *bot.Message) bool {
	switch m.Payload.(type) {
	case Template, *Template, bot.Template, *bot.Template:
		return false
	}
	return true
}

// LastInbound returns when the customer last wrote in the conversation:
// the inbound_sent_at of its last_message (GET /conversations/{id}), zero
// when it has none.
func (a *Adapter) LastInbound(ctx context.Context, conversation string) (time.Time, error) {
	conv, err := a.lookUp(ctx, conversation, "look up the conversation's last inbound message")
	if err != nil {
		return time.Time{}, err
	}
	return conv.LastMessage.InboundSentAt.Time, nil
}

// WindowFallback returns AdapterConfig.WindowFallback's template for m, or
// nil when none is configured.
func (a *Adapter) WindowFallback(m *bot.Message) (*bot.Message, error) {
	f := a.cfg.WindowFallback
	if f == nil {
		return nil, nil
	}
	tags := map[string]string{}
	if f.TextTag != "" {
		if strings.TrimSpace(m.Text) == "" {
			return nil, fmt.Errorf("sendbee: window fallback: placeholder {{%s}} takes the message's text, which is empty", f.TextTag)
		}
		tags[f.TextTag] = m.Text
	}
	if f.Tags != nil {
		for k, v := range f.Tags(m) {
			tags[k] = v
		}
	}
	if len(tags) == 0 {
		tags = nil
	}
	t := Template{Keyword: f.Keyword, Language: f.Language, Tags: tags}
	if !m.Handoff {
		t.PreventBotOff = Bool(true)
	}
	return &bot.Message{Text: m.Text, Payload: t}, nil
}

// SetSubscribed subscribes or unsubscribes the contact of the conversation:
// PUT /contacts with its id and status "subscribed" or "unsubscribed".
// (Assumption: Sendbee's documentation lists the status among a contact's
// fields but not among those PUT /contacts updates; the emulator accepts
// it.)
func (a *Adapter) SetSubscribed(ctx context.Context, conversation string, subscribed bool) error {
	conv, err := a.lookUp(ctx, conversation, "look up the conversation's contact")
	if err != nil {
		return err
	}
	if conv.Contact.ID == "" {
		return fmt.Errorf("sendbee: conversation %s has no contact", conversation)
	}
	status := ContactUnsubscribed
	if subscribed {
		status = ContactSubscribed
	}
	if err := a.pace(ctx); err != nil {
		return err
	}
	_, _, err = a.client.UpdateContact(ctx, UpdateContactRequest{ID: conv.Contact.ID, Status: status})
	return err
}

// windowError turns Sendbee's refusals that WhatsApp's business rules
// cause into the Bot's typed errors: a free-form message outside the
// customer-service window into a *bot.WindowClosedError (the Bot sends
// the fallback template or keeps the message as a dead letter), a
// template to an unsubscribed contact into a *bot.OptedOutError (the Bot
// records the opt-out and suppresses the message). Other errors are
// returned as they are.
func (a *Adapter) windowError(conversation string, err error) error {
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusBadRequest {
		return err
	}
	switch ae.Type {
	case ErrorTypeReEngagement:
		return &bot.WindowClosedError{Platform: a.Name(), Conversation: conversation, Err: err}
	case ErrorTypeUnsubscribed:
		return &bot.OptedOutError{Platform: a.Name(), Conversation: conversation, Err: err}
	}
	return err
}

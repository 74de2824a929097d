package velaflows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleybot/parley/bot"
)

var _ bot.Confirmer = (*Adapter)(nil)

// Bounds of Delivered: it reads at most confirmPages pages of
// confirmPageSize messages, newest first (the 2,000 newest messages).
const (
	confirmPages    = 20
	confirmPageSize = 100
)

// ErrUnconfirmed is returned by Delivered when it read confirmPages pages
// without reaching messages older than the cutoff: it cannot tell whether
// the message is there. The outbox then gives the message up to its
// dead-letter list (from which it can be replayed) rather than risk
// sending it twice.
var ErrUnconfirmed = errors.New("velaflows: delivered: too many newer messages to look back to the cutoff")

// Delivered reports whether VelaFlows holds the message Send would make of
// m: an outbound message in m.Conversation, created at or after since,
// whose text equals the content of Send's request exactly. When it does,
// it returns the message's ID, as Send does. It implements bot.Confirmer
// and is safe for concurrent use.
//
// Matching rules:
//   - Timestamps: createdAt has millisecond resolution (VelaFlows sends
//     ISO-8601 UTC with milliseconds), so a
//     message counts when createdAt is at or after since truncated to the
//     millisecond.
//   - Direction: a message counts when the API marks it outbound, or as
//     sent by an agent or the bot; a customer's ("contact") message, a
//     system message or one marked inbound never counts. The API shows a
//     message sent through it as an agent's, so an identical message a
//     dashboard agent sent in the same window counts too.
//   - Type: only text messages (no type, or "text"), whose content (or
//     text) is compared.
//   - Order and bound: GET /inbox/conversations/{id}/messages is asked for
//     sortBy=createdAt, sortOrder=desc (the documented defaults of list
//     endpoints, sent explicitly) and limit=100. Delivered stops at the last
//     page or at a page that reaches back before since, and then reports
//     false; after confirmPages (20) pages without either it returns
//     ErrUnconfirmed: never "not there" without having looked back to
//     the cutoff.
//
// Delivered returns false and a nil error, without any request, for
// messages Send refuses (a payload, attachments, no text, a CRM lead, no
// conversation), which were never sent. API errors are returned wrapped,
// with a false result.
func (a *Adapter) Delivered(ctx context.Context, m *bot.Message, since time.Time) (bot.SendResult, bool, error) {
	req, err := sendRequest(m)
	if err != nil {
		return bot.SendResult{}, false, nil // Send refuses it: never sent
	}
	cutoff := since.Truncate(time.Millisecond)
	opts := MessagesOptions{ListOptions: ListOptions{Limit: confirmPageSize, SortBy: "createdAt", SortOrder: SortDesc}}
	for opts.Page = 1; opts.Page <= confirmPages; opts.Page++ {
		p, _, err := a.client.ConversationMessages(ctx, m.Conversation, opts)
		if err != nil {
			return bot.SendResult{}, false, wrapf(err, "delivered")
		}
		older := false
		for _, msg := range p.Items {
			if msg.CreatedAt.IsZero() {
				continue
			}
			if msg.CreatedAt.Before(cutoff) {
				older = true
				continue
			}
			if outbound(&msg) && (msg.Type == "" || msg.Type == MessageTypeText) && msg.Body() == req.Content {
				return bot.SendResult{ID: msg.ID}, true, nil
			}
		}
		if older || !p.HasNext() {
			return bot.SendResult{}, false, nil
		}
	}
	return bot.SendResult{}, false, fmt.Errorf("%w (%d pages)", ErrUnconfirmed, confirmPages)
}

// sendRequest is the request Send makes of m, or the error with which
// Send refuses it. Send and Delivered share it, so that Delivered looks for
// exactly what Send posts.
func sendRequest(m *bot.Message) (MessageRequest, error) {
	switch {
	case m.Payload != nil:
		return MessageRequest{}, fmt.Errorf("velaflows: payload %T: %w", m.Payload, errors.ErrUnsupported)
	case strings.HasPrefix(m.Conversation, "lead:"):
		return MessageRequest{}, fmt.Errorf("velaflows: %s is a CRM lead, not a conversation", m.Conversation)
	case strings.TrimSpace(m.Conversation) == "":
		return MessageRequest{}, errors.New("velaflows: message has no conversation")
	case len(m.Attachments) > 0:
		return MessageRequest{}, fmt.Errorf("velaflows: attachments: %w", errors.ErrUnsupported)
	case strings.TrimSpace(m.Text) == "":
		return MessageRequest{}, errors.New("velaflows: message has no text")
	}
	return MessageRequest{Content: m.Text, Type: MessageTypeText}, nil
}

// outbound reports whether msg went out to the customer: marked outbound,
// or sent by an agent or the bot, and neither marked inbound nor sent by a
// contact or the system.
func outbound(msg *Message) bool {
	switch {
	case strings.EqualFold(msg.Direction, "inbound"), msg.Sender.Type == SenderContact, msg.Sender.Type == SenderSystem:
		return false
	}
	return strings.EqualFold(msg.Direction, "outbound") || msg.Sender.Type == SenderAgent || msg.Sender.Type == SenderBot
}

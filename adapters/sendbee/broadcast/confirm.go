package broadcast

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleybot/parley/adapters/sendbee"
)

// clockSkew widens the look back for an earlier attempt: the attempt is
// dated by this machine's clock and the message by the platform's.
const clockSkew = time.Minute

// confirmPages bounds how many pages of a conversation's messages a check
// reads.
const confirmPages = 20

type verdict int

const (
	notArrived verdict = iota // no outbound message since the attempt: send
	arrived                   // the template's message is there
	unclear                   // something is there, but not surely the template
)

type confirmation struct {
	verdict                   verdict
	messageID, conversationID string
	reason                    string
}

// confirm looks for the template sent to rc by an attempt that began at
// since: among the outbound messages of rc's conversation sent since then
// (less clockSkew), one whose body is the template's text filled with rc's
// values (and whose media URL is the campaign's attachment) has arrived;
// with no outbound message at all since then, nothing has; any other
// outbound message there, or a message without a time, makes it unclear,
// as does a conversation longer than confirmPages pages back to since.
func (r *runner) confirm(ctx context.Context, rc *recipient, since time.Time) (confirmation, error) {
	conv, err := r.conversationOf(ctx, rc)
	if err != nil || conv == "" {
		return confirmation{}, err // no conversation: nothing was ever sent
	}
	want := render(r.tpl.Text, rc.values)
	cutoff := since.Add(-clockSkew).Truncate(time.Second)
	other := false
	page, step := 1, 1
	for range confirmPages {
		p, _, err := call(ctx, r.p, false, func(ctx context.Context) (*sendbee.Page[sendbee.Message], *sendbee.Response, error) {
			return r.client.ConversationMessages(ctx, sendbee.MessagesOptions{ConversationID: conv, Page: page})
		})
		if errors.Is(err, sendbee.ErrPagination) {
			break
		}
		if err != nil {
			return confirmation{}, fmt.Errorf("broadcast: check the conversation: %w", err)
		}
		before := false
		for _, m := range p.Items {
			if m.Direction != sendbee.DirectionOutbound {
				if !m.SentAt.IsZero() && m.SentAt.Before(cutoff) {
					before = true
				}
				continue
			}
			switch {
			case m.SentAt.IsZero():
				other = true
			case m.SentAt.Before(cutoff):
				before = true
			case m.Body == want && m.MediaURL == r.c.Attachment:
				return confirmation{verdict: arrived, messageID: m.ID, conversationID: conv}, nil
			default:
				other = true
			}
		}
		switch {
		case page == 1 && oldestFirst(p.Items) && p.Meta.LastPage > 1:
			page, step = p.Meta.LastPage, -1 // go on from the newest page
			continue
		case before:
			return r.verdictOf(other, conv), nil
		}
		page += step
		if page < 1 || (step < 0 && page == 1) || (step > 0 && !p.HasNext()) || page > max(p.Meta.LastPage, 1) {
			return r.verdictOf(other, conv), nil
		}
	}
	return confirmation{verdict: unclear, conversationID: conv,
		reason: fmt.Sprintf("the conversation has more than %d pages of messages since the attempt", confirmPages)}, nil
}

func (r *runner) verdictOf(other bool, conv string) confirmation {
	if other {
		return confirmation{verdict: unclear, conversationID: conv,
			reason: "the conversation has an outbound message since the attempt that is not the template's text as this campaign fills it"}
	}
	return confirmation{verdict: notArrived, conversationID: conv}
}

// conversationOf returns the ID of rc's conversation, "" when it has none.
func (r *runner) conversationOf(ctx context.Context, rc *recipient) (string, error) {
	query := rc.key
	if rc.contact.WhatsAppUserID != "" && rc.contact.Phone == "" {
		query = rc.contact.WhatsAppUserID
	}
	for page := 1; page <= confirmPages; page++ {
		p, _, err := call(ctx, r.p, false, func(ctx context.Context) (*sendbee.Page[sendbee.Conversation], *sendbee.Response, error) {
			return r.client.Conversations(ctx, sendbee.ConversationsOptions{SearchQuery: query, Page: page, Limit: sendbee.MaxLimit})
		})
		if errors.Is(err, sendbee.ErrPagination) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("broadcast: find the conversation: %w", err)
		}
		for _, c := range p.Items {
			ph, _ := normalizePhone(c.Contact.Phone)
			if (rc.contact.Phone != "" && ph == rc.contact.Phone) ||
				(rc.contact.Phone == "" && c.Contact.WhatsAppUserID == rc.contact.WhatsAppUserID) {
				return c.ID, nil
			}
		}
		if !p.HasNext() {
			return "", nil
		}
	}
	return "", errors.New("broadcast: find the conversation: too many conversations match the phone number")
}

// oldestFirst reports whether the messages' sent_at values ascend.
func oldestFirst(msgs []sendbee.Message) bool {
	var first, last time.Time
	for _, m := range msgs {
		if m.SentAt.IsZero() {
			continue
		}
		if first.IsZero() {
			first = m.SentAt.Time
		}
		last = m.SentAt.Time
	}
	return first.Before(last)
}

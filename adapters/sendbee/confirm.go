package sendbee

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleybot/parley/bot"
)

var _ bot.Confirmer = (*Adapter)(nil)

// confirmPages bounds Delivered: it reads at most this many pages of
// GET /conversations/messages, the newest ones (the emulator's page size
// is 10; Sendbee does not document the API's default page size, and the
// endpoint takes no page size).
const confirmPages = 50

// ErrUnconfirmed is returned by Delivered when it read confirmPages pages
// without reaching messages older than the cutoff: it cannot tell whether
// the message is there. The outbox then gives the message up to its
// dead-letter list (from which it can be replayed) rather than risk
// sending it twice.
var ErrUnconfirmed = errors.New("sendbee: delivered: too many newer messages to look back to the cutoff")

// Delivered reports whether Sendbee holds the message Send would make of m:
// an outbound message in m.Conversation, sent at or after since, whose body
// and media_url equal the text and media_url of Send's request (the
// adapter's own conversion, so that the comparison is exact). When it
// does, it returns the message's ID and, as Send would, OwnerHuman when
// the request left prevent_bot_off out (the platform has switched its
// chatbot off). It implements bot.Confirmer and is safe for concurrent use.
//
// Matching rules:
//   - Timestamps: sent_at is a float of Unix seconds whose precision
//     Sendbee does not document (the emulator sends milliseconds; a platform
//     that keeps whole seconds is possible), so a message counts when
//     sent_at is at or after since truncated to the whole second. The
//     window is thus up to a second wider than since: an identical message
//     sent in that second before since would be taken for the one in
//     question.
//   - Direction: only "outbound" messages count, never a customer's. The
//     API does not tell a bot's message from an identical one a dashboard
//     agent sent in the same window; both count.
//   - Pacing: the caller paces the first request (the Bot's outbox does);
//     Delivered paces the others with the bot.Pacer given to Run.
//   - Order and bound: the order of GET /conversations/messages is not
//     documented (the emulator lists newest first). Delivered reads page 1;
//     if its sent_at values ascend, the list is oldest first and it goes on
//     from the last page backwards, otherwise forwards from page 2. It stops
//     at a page that reaches back before the cutoff (later pages are older)
//     or at the end of the list, and then reports false. After
//     confirmPages (50) pages without either it returns ErrUnconfirmed:
//     never "not there" without having looked back to the cutoff.
//
// Delivered returns false and a nil error, without any request, for
// messages Send would refuse (no conversation, no text and no attachment,
// several attachments, an unknown payload), which were never sent. For a
// template it returns an error wrapping errors.ErrUnsupported, without any
// request: the platform stores the rendered template text, which the
// adapter does not know, so it cannot tell (and "not there" would have the
// template sent twice). A message whose media the platform does not echo
// back under the same URL is not found. API errors are returned wrapped,
// with a false result.
func (a *Adapter) Delivered(ctx context.Context, m *bot.Message, since time.Time) (bot.SendResult, bool, error) {
	if m.Conversation == "" {
		return bot.SendResult{}, false, nil
	}
	out, err := fromMessage(m, "") // the recipient is not compared
	if err != nil {
		return bot.SendResult{}, false, nil
	}
	if out.text == nil {
		return bot.SendResult{}, false, fmt.Errorf("sendbee: delivered: a template cannot be matched: %w", errors.ErrUnsupported)
	}
	want := out.text
	cutoff := since.Truncate(time.Second)
	found := func(p *Page[Message]) (bot.SendResult, bool) {
		for _, msg := range p.Items {
			if msg.Direction == DirectionOutbound && msg.Body == want.Text && msg.MediaURL == want.MediaURL &&
				!msg.SentAt.IsZero() && !msg.SentAt.Before(cutoff) {
				res := bot.SendResult{ID: msg.ID}
				if !out.keepsBot {
					res.Owner = bot.OwnerHuman
				}
				return res, true
			}
		}
		return bot.SendResult{}, false
	}

	page, step := 1, 1
	for i := range confirmPages {
		if i > 0 {
			// The outbox paced the first request; the others take their
			// turn in the rate limit too.
			if err := a.pace(ctx); err != nil {
				return bot.SendResult{}, false, wrapf(err, "delivered")
			}
		}
		p, _, err := a.client.ConversationMessages(ctx, MessagesOptions{ConversationID: m.Conversation, Page: page})
		if errors.Is(err, ErrPagination) {
			return bot.SendResult{}, false, nil // the list is shorter than it was a moment ago: its end
		}
		if err != nil {
			return bot.SendResult{}, false, wrapf(err, "delivered")
		}
		if res, ok := found(p); ok {
			return res, true, nil
		}
		switch {
		case page == 1 && oldestFirst(p.Items):
			// Page 1 holds the oldest messages: go on from the newest.
			page, step = p.Meta.LastPage, -1
		case reachesBefore(p.Items, cutoff):
			return bot.SendResult{}, false, nil
		default:
			page += step
		}
		if page <= 1 || (step > 0 && !p.HasNext()) || page > p.Meta.LastPage {
			return bot.SendResult{}, false, nil // the end of the list
		}
	}
	return bot.SendResult{}, false, fmt.Errorf("%w (%d pages)", ErrUnconfirmed, confirmPages)
}

// oldestFirst reports whether the messages' sent_at values ascend: the
// first dated message is older than the last one.
func oldestFirst(msgs []Message) bool {
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

// reachesBefore reports whether a message was sent before cutoff: pages
// further in the same direction hold older messages only.
func reachesBefore(msgs []Message, cutoff time.Time) bool {
	for _, m := range msgs {
		if !m.SentAt.IsZero() && m.SentAt.Before(cutoff) {
			return true
		}
	}
	return false
}

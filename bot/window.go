package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

// The customer-service window.
//
// WhatsApp lets a business send free-form messages (text, media) to a
// customer only within 24 hours of the customer's last message; outside
// that window only approved template messages may be sent, and a
// free-form message is refused by the platform. An adapter whose platform
// has such a window is a [ServiceWindower] (Sendbee is), and the Bot keeps
// the window of each of its conversations:
//
//   - Every message a customer writes (Kind message, from an author who is
//     neither a bot nor an agent) opens or extends the window: the Bot
//     records its time in the Store ("win:<platform>:<conversation>"), so
//     that every replica sees it and it survives a restart. A conversation
//     the Bot has no record of (it started before the bot, or the record
//     expired) is looked up on the platform once (LastInbound), and what
//     the platform says is recorded.
//   - The outbox checks the window before it sends a free-form message. A
//     message outside it does not go to the platform to fail there: when
//     the adapter has a fallback (for Sendbee, an approved template
//     configured with AdapterConfig.WindowFallback) the fallback is sent
//     in its place, and the sent event and [Stats].WindowFallbacks say so;
//     otherwise the message goes to the dead letters with a
//     *WindowClosedError (Stats.WindowClosed), from which it can be
//     replayed once the customer writes again. A refusal by the platform
//     itself (the window closed on the platform's clock before the Bot's)
//     is treated the same way.
//   - Send refuses a proactive message (one that is not a reply: a job's,
//     a broadcast's, a timer's) outside the window at once, with a
//     *WindowClosedError, when no fallback would be sent.
//   - Handlers ask [Bot.Window]; expression rules see WindowOpen and
//     WindowClosesAt (see [Env]).

// A ServiceWindower is an Adapter whose platform lets the business send
// free-form messages only within a window after the customer's last
// message (WhatsApp's 24-hour customer-service window). It has four
// methods because together they state one platform rule: how long the
// window is, which messages it restricts, what the platform records of
// it, and the message that may be sent instead.
type ServiceWindower interface {
	// ServiceWindow returns how long after a customer's message free-form
	// messages may be sent (24 hours on WhatsApp).
	ServiceWindow() time.Duration
	// FreeForm reports whether m is a message the window restricts: text
	// or media, not an approved template.
	FreeForm(m *Message) bool
	// LastInbound returns when the customer last wrote in the
	// conversation, as the platform's records show it: the zero time if
	// the customer never wrote. An error wrapping errors.ErrUnsupported
	// says the platform cannot tell: the Bot then lets the platform
	// decide at the send. Other errors are retried as a failed send is.
	LastInbound(ctx context.Context, conversation string) (time.Time, error)
	// WindowFallback returns the message to send in place of m, a
	// free-form message outside the window — an approved template — or
	// nil when the adapter has none configured. An error says the
	// fallback cannot be built for m; m then goes to the dead letters.
	WindowFallback(m *Message) (*Message, error)
}

// ErrWindowClosed is matched (errors.Is) by every *WindowClosedError.
var ErrWindowClosed = errors.New("bot: customer service window closed")

// A WindowClosedError reports a free-form message that was not sent
// because the conversation's customer-service window is closed (see
// [ServiceWindower]). It matches ErrWindowClosed.
type WindowClosedError struct {
	Platform     string
	Conversation string
	// ClosedAt is when the window closed; zero when the customer never
	// wrote in the conversation (as far as the Bot and the platform know).
	ClosedAt time.Time
	// Err is the platform's refusal, when the platform refused the
	// message; nil when the Bot did not send it.
	Err error
}

func (e *WindowClosedError) Error() string {
	s := fmt.Sprintf("bot: %s: conversation %s: customer service window ", e.Platform, e.Conversation)
	if e.ClosedAt.IsZero() {
		s += "not open: the customer has not written"
	} else {
		s += "closed at " + e.ClosedAt.UTC().Format(time.RFC3339)
	}
	s += "; only a template message can be sent"
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is matches ErrWindowClosed.
func (e *WindowClosedError) Is(target error) bool { return target == ErrWindowClosed }

func (e *WindowClosedError) Unwrap() error { return e.Err }

// A Window is the state of a conversation's customer-service window.
type Window struct {
	// Applies is false on a platform without a window: free-form messages
	// may always be sent, and Open is true.
	Applies bool
	// Open reports whether free-form messages may be sent now.
	Open bool
	// LastInbound is when the customer last wrote; zero when never (or
	// when the window does not apply).
	LastInbound time.Time
	// ClosesAt is when the window closes (or closed); zero when the
	// customer never wrote or the window does not apply.
	ClosesAt time.Time
}

// Window returns the customer-service window of a conversation of the
// adapter named platform, as the Bot records it (see [ServiceWindower]),
// looking it up on the platform when the Bot has no record.
func (b *Bot) Window(ctx context.Context, platform, conversation string) (Window, error) {
	po := b.out.platforms[platform]
	if po == nil {
		return Window{}, unknownPlatform("bot: window", platform)
	}
	if po.window == nil {
		return Window{Open: true}, nil
	}
	last, known, err := b.lastInbound(ctx, po, conversation)
	if err != nil {
		return Window{Applies: true}, wrap("bot: window", err)
	}
	if !known {
		return Window{Applies: true}, fmt.Errorf("bot: window of %s/%s: unknown (the platform could not tell)", platform, conversation)
	}
	return po.windowAt(last, time.Now()), nil
}

// windowAt is the window at now of a conversation whose customer last
// wrote at last (zero: never).
func (po *platformOut) windowAt(last, now time.Time) Window {
	w := Window{Applies: true, LastInbound: last}
	if !last.IsZero() {
		w.ClosesAt = last.Add(po.window.ServiceWindow())
		w.Open = now.Before(w.ClosesAt)
	}
	return w
}

// windowKey is the Store key of a conversation's last inbound time.
func windowKey(platform, conversation string) joinedKey {
	return joinedKey{"win:", platform, conversation}
}

// windowTTL is how long a window record is kept: the window, from the
// write. A record of a closed window saves asking the platform again; a
// customer who writes replaces it.
func (po *platformOut) windowTTL() time.Duration { return po.window.ServiceWindow() }

// readWindow returns the recorded last inbound time of a conversation
// (zero: the customer never wrote), and whether there is a record.
func (b *Bot) readWindow(ctx context.Context, po *platformOut, conversation string) (time.Time, bool, error) {
	v, err := windowKey(po.name, conversation).get(ctx, b.keys)
	if errors.Is(err, ErrNotFound) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("bot: window record of %s/%s: %w", po.name, conversation, err)
	}
	if n == 0 {
		return time.Time{}, true, nil
	}
	return time.Unix(0, n), true, nil
}

// writeWindow records t (zero: never) as the last inbound time of a
// conversation.
func (b *Bot) writeWindow(ctx context.Context, po *platformOut, conversation string, t time.Time) error {
	var n int64
	if !t.IsZero() {
		n = t.UnixNano()
	}
	return b.keys.Set(ctx, windowKey(po.name, conversation).String(), strconv.AppendInt(nil, n, 10), po.windowTTL())
}

// lastInbound returns when the customer of a conversation last wrote,
// from the Bot's record or else from the platform (recorded then). known
// is false when neither can tell.
func (b *Bot) lastInbound(ctx context.Context, po *platformOut, conversation string) (last time.Time, known bool, err error) {
	last, known, err = b.readWindow(ctx, po, conversation)
	if err != nil || known {
		return last, known, err
	}
	if err := b.out.pace(ctx, po); err != nil {
		return time.Time{}, false, err
	}
	last, perr := po.window.LastInbound(ctx, conversation)
	if errors.Is(perr, errors.ErrUnsupported) {
		return time.Time{}, false, nil // the platform decides at the send
	}
	if perr != nil {
		return time.Time{}, false, perr
	}
	if err := b.writeWindow(ctx, po, conversation, last); err != nil {
		return time.Time{}, false, err
	}
	return last, true, nil
}

// windowSlack is how much older than a customer's message the record of
// the conversation's window may be and still not be written again.
const windowSlack = time.Minute

// customerWrote reports whether m opens a customer-service window: a
// message written by the customer.
func customerWrote(m *Message) bool {
	return m.Kind.Or() == KindMessage && !m.Author.Bot && !m.Author.Agent
}

// noteInbound records the window an inbound message opens, and returns
// the conversation's window after it (for the expression rules). A
// message that does not open one (an agent's, a status event) reads the
// record only.
func (b *Bot) noteInbound(ctx context.Context, po *platformOut, m *Message) Window {
	now := time.Now()
	last, known, err := b.readWindow(ctx, po, m.Conversation)
	if err != nil {
		b.logger.LogAttrs(ctx, slog.LevelWarn, "reading the customer service window failed", slog.Any("msg", m), slog.Any("error", err))
	}
	if customerWrote(m) {
		t := m.Time
		if t.IsZero() || t.After(now) {
			t = now
		}
		// A record less than windowSlack older than t is kept: the
		// window then counts as closing up to windowSlack early, and a
		// burst of messages costs one write.
		if !known || t.Sub(last) >= windowSlack {
			if werr := b.writeWindow(ctx, po, m.Conversation, t); werr != nil {
				b.logger.LogAttrs(ctx, slog.LevelWarn, "recording the customer service window failed", slog.Any("msg", m), slog.Any("error", werr))
			}
			last, known = t, true
		}
	}
	if !known {
		return Window{Applies: true}
	}
	return po.windowAt(last, now)
}

// inboundPolicy applies the platform's business rules to m, an inbound
// message handled with d, before it is routed: it records the window m
// opens (in d's routing state, for the expression rules) and handles an
// opt-out or opt-in keyword. It reports whether it handled m, which is
// then not routed.
func (b *Bot) inboundPolicy(d *delivery, m *Message) bool {
	if !b.out.policies {
		return false
	}
	po := b.out.platforms[m.Platform]
	if po == nil || (po.window == nil && po.optOut == nil) {
		return false
	}
	if po.window != nil {
		d.st.window = b.noteInbound(d, po, m)
	}
	return b.keyword(d, d, po, m)
}

// sendPolicy refuses at once a proactive message that the outbox would
// not send: to a customer who opted out (*OptedOutError), or free-form
// outside the customer-service window with no fallback
// (*WindowClosedError). A reply is decided at its delivery: the customer
// has just written.
func (b *Bot) sendPolicy(ctx context.Context, po *platformOut, m *Message) error {
	if (po.window == nil && po.optOut == nil) || !proactive(m) {
		return nil
	}
	if err := b.refuseOptedOut(ctx, po, m); err != nil {
		if errors.Is(err, ErrOptedOut) {
			b.stats.optedOut.Add(1)
		}
		return err
	}
	if po.window == nil {
		return nil
	}
	// Only the Bot's record is read: a lookup on the platform is left to
	// the outbox, which paces and retries it.
	if _, err := b.out.windowCheck(ctx, po, m, false); errors.Is(err, ErrWindowClosed) {
		b.stats.windowClosed.Add(1)
		return err
	}
	return nil
}

// windowCheck decides what the outbox sends for m: m itself, or the
// adapter's fallback in its place when m is a free-form message outside
// the window. It returns a *WindowClosedError when m cannot be sent and
// has no fallback. Without lookup it reads the Bot's record only, and
// lets m go when there is none.
func (o *outbox) windowCheck(ctx context.Context, po *platformOut, m *Message, lookup bool) (*Message, error) {
	if po.window == nil || !po.window.FreeForm(m) {
		return m, nil
	}
	var (
		last  time.Time
		known bool
		err   error
	)
	if lookup {
		last, known, err = o.b.lastInbound(ctx, po, m.Conversation)
	} else {
		last, known, err = o.b.readWindow(ctx, po, m.Conversation)
	}
	if err != nil {
		return nil, err
	}
	if !known {
		return m, nil // the platform decides
	}
	w := po.windowAt(last, time.Now())
	if w.Open {
		return m, nil
	}
	return o.fallback(po, m, &WindowClosedError{Platform: po.name, Conversation: m.Conversation, ClosedAt: w.ClosesAt})
}

// fallbackReason is the Reason of the sent event of a message sent as its
// fallback template.
const fallbackReason = "customer service window closed: sent the fallback template"

// fallback returns the adapter's fallback for m, refused with closed, or
// closed when there is none.
func (o *outbox) fallback(po *platformOut, m *Message, closed *WindowClosedError) (*Message, error) {
	fb, err := po.window.WindowFallback(m)
	if err != nil {
		return nil, fmt.Errorf("%w; the fallback template: %w", closed, err)
	}
	if fb == nil {
		return nil, closed
	}
	fb.Platform, fb.Conversation, fb.Key, fb.ReplyTo = m.Platform, m.Conversation, m.Key, m.ReplyTo
	fb.Handoff, fb.Relay, fb.minted, fb.queued = m.Handoff, m.Relay, m.minted, m.queued
	return fb, nil
}

package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parleybot/parley/internal/textfold"
)

// Opt-out and opt-in.
//
// A customer who writes STOP (or UNSUBSCRIBE, STOPP, ODJAVA, BAJA … see
// [DefaultOptOutKeywords]) to a business on WhatsApp has withdrawn their
// consent to its proactive messages. On a platform whose adapter is an
// [OptOutController] (Sendbee is), the Bot handles these keywords itself,
// before any route:
//
//   - An opt-out keyword, the whole message give or take case, accents,
//     spaces and punctuation, records the opt-out in the Store
//     ("optout:<platform>:<conversation>", kept until the customer opts
//     in), unsubscribes the contact on the platform (Sendbee contact status
//     "unsubscribed"), and answers once with the confirmation. The message
//     is not routed further.
//   - A contact unsubscribed on the platform itself (from its dashboard)
//     is found out at the first message the platform refuses for it (the
//     adapter returns an *OptedOutError): the Bot records the opt-out
//     then, and suppresses the message.
//   - From then on every proactive message to the conversation — one that
//     is not a reply to a message of the customer's: a scheduled job's, a
//     broadcast's, a flow's reminder — is refused by Send with an
//     *OptedOutError, and, if it was queued before, suppressed by the
//     outbox (the suppressed event with the reason, Stats.OptedOut).
//     Replies to the customer's own new messages are still sent: the
//     customer who writes again is answered.
//   - An opt-in keyword (START, SUBSCRIBE …) undoes it: the record is
//     deleted, the contact subscribed again, and the customer answered.
//
// [WithOptOut] changes the keywords and the answers, or turns the handling
// off.

// An OptOutController is an Adapter whose platform keeps whether a
// contact has consented to the business's proactive messages.
type OptOutController interface {
	// SetSubscribed subscribes (true) or unsubscribes (false) the contact
	// of the conversation on the platform.
	SetSubscribed(ctx context.Context, conversation string, subscribed bool) error
}

// DefaultOptOutKeywords are the words that opt a customer out, in the
// languages WhatsApp businesses commonly serve. They are matched to the
// whole message, ignoring case, accents, spaces and punctuation at either
// end.
var DefaultOptOutKeywords = []string{
	"STOP", "STOP ALL", "UNSUBSCRIBE", "OPT OUT", "OPTOUT", "OPT-OUT", "CANCEL ALL", "END", "QUIT", // English
	"STOPP", "ABMELDEN", "ABBESTELLEN", // German, Norwegian, Swedish
	"ODJAVA", "ODJAVI", "ODJAVITI", // Croatian, Serbian, Bosnian, Slovenian
	"BAJA", "DAR DE BAJA", "CANCELAR SUSCRIPCIÓN", // Spanish
	"ARRÊT", "DÉSABONNER", "DÉSINSCRIRE", // French
	"PARAR", "DESCADASTRAR", "SAIR", // Portuguese
	"DISISCRIVITI", "ANNULLA ISCRIZIONE", // Italian
	"AFMELDEN", // Dutch
	"WYPISZ",   // Polish
}

// DefaultOptInKeywords are the words that opt a customer in again.
var DefaultOptInKeywords = []string{
	"START", "UNSTOP", "SUBSCRIBE", // English
	"ANMELDEN",           // German
	"PRIJAVA", "PRIJAVI", // Croatian, Serbian, Bosnian, Slovenian
	"ALTA", "SUSCRIBIR", // Spanish
	"ABONNER",   // French
	"INSCREVER", // Portuguese
	"ISCRIVITI", // Italian
	"AANMELDEN", // Dutch
}

// The default answers to an opt-out and an opt-in.
const (
	DefaultOptOutReply = "You have been unsubscribed and will get no more messages from us. Reply START to subscribe again."
	DefaultOptInReply  = "You are subscribed again. Reply STOP to unsubscribe."
)

// OptOutConfig configures the Bot's handling of opt-out and opt-in
// keywords (see [OptOutController]). The zero value of a field selects
// its default.
type OptOutConfig struct {
	// Keywords opt a customer out. Default: DefaultOptOutKeywords.
	Keywords []string
	// OptInKeywords opt a customer in again. Default: DefaultOptInKeywords.
	OptInKeywords []string
	// Reply answers an opt-out; OptInReply an opt-in. Default:
	// DefaultOptOutReply and DefaultOptInReply. "-" sends no answer.
	Reply, OptInReply string
	// Off turns the handling off: keywords are routed as any text, and
	// the Bot keeps no opt-outs.
	Off bool
}

// WithOptOut configures the handling of opt-out and opt-in keywords on
// platforms whose adapter is an OptOutController. Without it the defaults
// apply. A keyword that folds to nothing, or one that is both an opt-out
// and an opt-in keyword, is an error.
func WithOptOut(c OptOutConfig) Option {
	return func(cfg *config) error {
		o, err := newOptOut(c)
		if err != nil {
			return err
		}
		cfg.optOut = o
		return nil
	}
}

// defaultOptOut is the handling without WithOptOut.
var defaultOptOut = func() *optOut {
	o, err := newOptOut(OptOutConfig{})
	if err != nil {
		panic(err)
	}
	return o
}()

// optOut is the Bot's compiled OptOutConfig; nil: off.
type optOut struct {
	out, in           map[string]bool // folded keywords
	reply, optInReply string
}

func newOptOut(c OptOutConfig) (*optOut, error) {
	if c.Off {
		return nil, nil
	}
	if c.Keywords == nil {
		c.Keywords = DefaultOptOutKeywords
	}
	if c.OptInKeywords == nil {
		c.OptInKeywords = DefaultOptInKeywords
	}
	if c.Reply == "" {
		c.Reply = DefaultOptOutReply
	}
	if c.OptInReply == "" {
		c.OptInReply = DefaultOptInReply
	}
	o := &optOut{out: map[string]bool{}, in: map[string]bool{}, reply: c.Reply, optInReply: c.OptInReply}
	for _, k := range c.Keywords {
		f := foldKeyword(k)
		if f == "" {
			return nil, fmt.Errorf("bot: opt-out keyword %q is empty once folded", k)
		}
		o.out[f] = true
	}
	for _, k := range c.OptInKeywords {
		f := foldKeyword(k)
		if f == "" {
			return nil, fmt.Errorf("bot: opt-in keyword %q is empty once folded", k)
		}
		if o.out[f] {
			return nil, fmt.Errorf("bot: %q is both an opt-out and an opt-in keyword", k)
		}
		o.in[f] = true
	}
	return o, nil
}

// foldKeyword is what a keyword and a message are compared as.
func foldKeyword(s string) string { return textfold.Fold(textfold.TrimPunct(s)) }

// maxKeywordLen bounds the messages compared with the keywords: longer
// ones are not folded at all.
const maxKeywordLen = 64

// match says whether text is an opt-out (-1) or opt-in (+1) keyword, or
// neither (0).
func (o *optOut) match(text string) int {
	if len(text) > maxKeywordLen || text == "" {
		return 0
	}
	var buf [maxKeywordLen]byte
	if f, ok := foldASCII(buf[:0], text); ok {
		// The common case, without allocating: the map lookups of a
		// string([]byte) conversion do not copy.
		switch {
		case o.out[string(f)]:
			return -1
		case o.in[string(f)]:
			return +1
		}
		return 0
	}
	f := foldKeyword(text)
	switch {
	case o.out[f]:
		return -1
	case o.in[f]:
		return +1
	}
	return 0
}

// foldASCII appends to dst what foldKeyword makes of s, an ASCII text:
// without punctuation and space at either end, runs of space as one
// space, in lower case. It reports false, and appends nothing useful,
// when s is not ASCII.
func foldASCII(dst []byte, s string) ([]byte, bool) {
	trim := func(c byte) bool { return unicode.IsPunct(rune(c)) || unicode.IsSpace(rune(c)) }
	i, j := 0, len(s)
	for i < j && s[i] < utf8.RuneSelf && trim(s[i]) {
		i++
	}
	for j > i && s[j-1] < utf8.RuneSelf && trim(s[j-1]) {
		j--
	}
	space := false
	for k := i; k < j; k++ {
		c := s[k]
		switch {
		case c >= utf8.RuneSelf:
			return dst, false
		case unicode.IsSpace(rune(c)):
			space = true
		default:
			if space {
				dst = append(dst, ' ')
				space = false
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
		}
	}
	return dst, true
}

// ErrOptedOut is matched (errors.Is) by every *OptedOutError.
var ErrOptedOut = errors.New("bot: contact opted out")

// An OptedOutError reports a proactive message not sent because the
// customer opted out of the conversation's proactive messages. It matches
// ErrOptedOut.
type OptedOutError struct {
	Platform     string
	Conversation string
	// Since is when the customer opted out; zero when the platform
	// refused the message (the contact unsubscribed there) and did not
	// say when.
	Since time.Time
	// Err is the platform's refusal, when the platform refused the
	// message; nil when the Bot did not send it.
	Err error
}

func (e *OptedOutError) Error() string {
	s := fmt.Sprintf("bot: %s: conversation %s: the customer opted out of proactive messages", e.Platform, e.Conversation)
	if !e.Since.IsZero() {
		s += " at " + e.Since.UTC().Format(time.RFC3339)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is matches ErrOptedOut.
func (e *OptedOutError) Is(target error) bool { return target == ErrOptedOut }

func (e *OptedOutError) Unwrap() error { return e.Err }

// optOutKey is the Store key of a conversation's opt-out.
func optOutKey(platform, conversation string) joinedKey {
	return joinedKey{"optout:", platform, conversation}
}

// OptedOut reports whether the customer of a conversation of the adapter
// named platform opted out, and since when. It is false on a platform
// without opt-outs.
func (b *Bot) OptedOut(ctx context.Context, platform, conversation string) (bool, time.Time, error) {
	po := b.out.platforms[platform]
	if po == nil {
		return false, time.Time{}, unknownPlatform("bot: opted out", platform)
	}
	return b.optedOut(ctx, po, conversation)
}

func (b *Bot) optedOut(ctx context.Context, po *platformOut, conversation string) (bool, time.Time, error) {
	if po.optOut == nil {
		return false, time.Time{}, nil
	}
	v, err := optOutKey(po.name, conversation).get(ctx, b.keys)
	if errors.Is(err, ErrNotFound) {
		return false, time.Time{}, nil
	}
	if err != nil {
		return false, time.Time{}, wrap("bot: opted out", err)
	}
	n, _ := strconv.ParseInt(string(v), 10, 64)
	return true, time.Unix(0, n), nil
}

// recordOptOut records that the customer of a conversation opted out now,
// until they opt in.
func (b *Bot) recordOptOut(ctx context.Context, po *platformOut, conversation string) error {
	return b.keys.Set(ctx, optOutKey(po.name, conversation).String(), strconv.AppendInt(nil, time.Now().UnixNano(), 10), 0)
}

// proactive reports whether m is a proactive message: not a reply to a
// customer's message and not a human's relayed message.
func proactive(m *Message) bool { return m.ReplyTo == "" && !m.Relay }

// refuseOptedOut returns an *OptedOutError when m is a proactive message
// to a conversation whose customer opted out.
func (b *Bot) refuseOptedOut(ctx context.Context, po *platformOut, m *Message) error {
	if po.optOut == nil || !proactive(m) {
		return nil
	}
	out, since, err := b.optedOut(ctx, po, m.Conversation)
	if err != nil || !out {
		return err
	}
	return &OptedOutError{Platform: po.name, Conversation: m.Conversation, Since: since}
}

// keyword handles m when it is an opt-out or opt-in keyword from a
// customer, and reports whether it did: m is then not routed.
func (b *Bot) keyword(ctx context.Context, w Sender, po *platformOut, m *Message) bool {
	o := b.cfg.optOut
	if po == nil || po.optOut == nil || o == nil || !customerWrote(m) {
		return false
	}
	dir := o.match(m.Text)
	if dir == 0 {
		return false
	}
	reply := o.optInReply
	var err error
	if dir < 0 {
		reply = o.reply
		err = b.recordOptOut(ctx, po, m.Conversation)
	} else {
		err = optOutKey(po.name, m.Conversation).delete(ctx, b.keys)
	}
	if err != nil {
		b.logger.LogAttrs(ctx, slog.LevelError, "recording an opt-out failed; the keyword is routed as text", slog.Any("msg", m), slog.Any("error", err))
		return false
	}
	what := "opted out"
	if dir > 0 {
		what = "opted in"
		b.stats.optIns.Add(1)
	} else {
		b.stats.optOuts.Add(1)
	}
	b.event(EventConsent, m, func(e *Event) { e.Reason = what })
	b.logger.LogAttrs(ctx, slog.LevelInfo, "customer "+what, slog.Any("msg", m))
	if err := b.out.pace(ctx, po); err == nil {
		if err := po.optOut.SetSubscribed(ctx, m.Conversation, dir > 0); err != nil {
			b.logger.LogAttrs(ctx, slog.LevelWarn, "changing the contact's subscription on the platform failed; the Bot keeps the customer's choice itself",
				slog.Any("msg", m), slog.Any("error", err))
		}
	}
	if reply != "-" {
		if err := w.Send(ctx, m.Reply(reply)); err != nil {
			b.logger.LogAttrs(ctx, slog.LevelWarn, "answering an opt-out keyword failed", slog.Any("msg", m), slog.Any("error", err))
		}
	}
	return true
}

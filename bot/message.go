package bot

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// A Message is a chat message or platform event received from, or sent to, a
// platform.
//
// Inbound messages are built by adapters and handed to the Bot through a
// [Publisher]. The Bot never modifies a Message after it has been published,
// and handlers must treat it as read-only: derive outbound messages with
// [Message.Reply]. Outbound messages are owned by the Bot once they are passed
// to [Sender.Send].
type Message struct {
	// ID is the platform's ID of the message or event. Together with Platform
	// it is the deduplication key of inbound events. It is empty on outbound
	// messages.
	ID string
	// Platform is the Adapter.Name of the origin or destination, e.g. "sendbee".
	Platform string
	// Conversation is where the message belongs and where replies go: a
	// Sendbee or VelaFlows conversation, a Flowdock flow or private chat.
	Conversation string
	// Thread is the optional thread or parent-message ID.
	Thread string
	// Author is the author of an inbound message; zero on outbound messages.
	Author User
	// Text is the message body. It is never logged.
	Text string
	// Attachments are files and media carried by the message.
	Attachments []Attachment
	// Tags are the platform's tags on the message or conversation.
	Tags []string
	// Time is when the platform received the message (inbound).
	Time time.Time
	// Direct reports a one-to-one conversation with the bot.
	Direct bool
	// Kind says what the event is; the zero value means KindMessage.
	Kind Kind
	// Owner, on inbound events, is who owns the conversation according to the
	// platform (for example Sendbee switched its chatbot off, or VelaFlows
	// assigned the conversation to an agent). OwnerUnset means the event says
	// nothing about ownership. The Bot applies it before routing.
	Owner Owner
	// Raw is the original platform payload of an inbound message. Each
	// adapter's package documentation describes its shape. It is never logged.
	Raw json.RawMessage

	// ReplyTo, on outbound messages, is the ID of the inbound message being
	// answered (Reply sets it); on inbound KindEdit and KindDelete events, the
	// ID of the message edited or deleted.
	ReplyTo string
	// Key is the idempotency key of an outbound message. When it is empty the
	// Bot derives one: the inbound event ID plus the reply index for replies
	// sent from a handler, the job name plus the fire time for sends from a
	// scheduled job. A key that was delivered once is never sent again.
	Key string
	// Handoff, on an outbound message, hands the conversation to humans once
	// the message is delivered.
	Handoff bool
	// Relay, on an outbound message, marks a human's message relayed by the
	// bot (for example an agent's answer written in a team chat): it is
	// delivered even to a human-owned conversation, where the outbox
	// suppresses the bot's own messages. Relay does not change the owner by
	// itself; Handoff and SendResult.Owner apply as to any message. (It is
	// left out of JSON when false, so that inbound messages encode as
	// before the field existed.)
	Relay bool `json:",omitempty"`
	// Payload is an optional platform-specific typed payload of an outbound
	// message, such as a sendbee.Template or a flowdock.Activity. An adapter
	// that does not know the payload's type returns an error wrapping
	// errors.ErrUnsupported.
	Payload any

	// minted is the Key the Bot gave this message when it queued it, or
	// empty when the key was the caller's (or the message was not sent).
	minted string
	// queued is when a Handoff message was queued: a change of owner
	// to the bot after it overtakes the handoff (see outbox.afterSend).
	queued time.Time
}

// User identifies the author of a message on a platform.
type User struct {
	ID    string
	Name  string
	Phone string
	Email string
	// Bot reports an automated author, including this bot itself.
	Bot bool
	// Agent reports a member of the business's staff (a human agent writing
	// from the platform's dashboard) rather than a customer.
	Agent bool
}

// An Attachment is a file or media item carried by a message.
type Attachment struct {
	Kind string // "image", "video", "audio", "document", "file", …
	URL  string
	Name string
	MIME string
	Size int64 // bytes; 0 when unknown
}

// Kind says what an inbound event is. Adapters use the constants below; a
// platform-specific kind is allowed and is matched as a plain string.
type Kind string

// The event kinds shared by the adapters.
const (
	KindMessage    Kind = "message"    // a chat message (the zero Kind means this too)
	KindEdit       Kind = "edit"       // an existing message was edited
	KindDelete     Kind = "delete"     // a message was deleted
	KindStatus     Kind = "status"     // a delivery or read receipt for an outbound message
	KindAssignment Kind = "assignment" // the conversation was assigned, unassigned or closed
	KindOwnership  Kind = "ownership"  // the platform's automation was switched on or off
	KindEvent      Kind = "event"      // any other platform event
)

// Or returns k, or KindMessage when k is empty.
func (k Kind) Or() Kind {
	if k == "" {
		return KindMessage
	}
	return k
}

// Owner says who answers a conversation: the bot or a human.
type Owner uint8

// The owners of a conversation.
const (
	OwnerUnset Owner = iota // no statement about the owner
	OwnerBot                // the bot's handlers answer
	OwnerHuman              // humans answer; bot replies are suppressed
)

// String returns "bot", "human" or "" for OwnerUnset.
func (o Owner) String() string {
	switch o {
	case OwnerBot:
		return "bot"
	case OwnerHuman:
		return "human"
	case OwnerUnset:
		return ""
	}
	return fmt.Sprintf("Owner(%d)", uint8(o))
}

// MarshalText implements encoding.TextMarshaler.
func (o Owner) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (o *Owner) UnmarshalText(b []byte) error {
	switch string(b) {
	case "bot":
		*o = OwnerBot
	case "human":
		*o = OwnerHuman
	case "":
		*o = OwnerUnset
	default:
		return fmt.Errorf("bot: unknown owner %q", b)
	}
	return nil
}

// Reply returns a new outbound message with text, addressed to m's platform,
// conversation and thread. It does no I/O.
func (m *Message) Reply(text string) *Message {
	return &Message{
		Platform:     m.Platform,
		Conversation: m.Conversation,
		Thread:       m.Thread,
		Direct:       m.Direct,
		ReplyTo:      m.ID,
		Text:         text,
	}
}

// Replyf is Reply with fmt.Sprintf formatting.
func (m *Message) Replyf(format string, args ...any) *Message {
	return m.Reply(fmt.Sprintf(format, args...))
}

// LogValue implements slog.LogValuer. It renders the message's routing
// identity and deliberately leaves out Text, Raw, Attachments and the
// author's contact details, which may be personal data.
func (m *Message) LogValue() slog.Value {
	if m == nil {
		return slog.StringValue("<nil>")
	}
	attrs := make([]slog.Attr, 0, 5)
	attrs = append(attrs, slog.String("platform", m.Platform), slog.String("conversation", m.Conversation))
	if m.ID != "" {
		attrs = append(attrs, slog.String("id", m.ID))
	}
	if m.Kind != "" && m.Kind != KindMessage {
		attrs = append(attrs, slog.String("kind", string(m.Kind)))
	}
	if m.Key != "" {
		attrs = append(attrs, slog.String("key", m.Key))
	}
	return slog.GroupValue(attrs...)
}

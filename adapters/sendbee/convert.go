package sendbee

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/internal/jsonkey"
)

// The payload types can be stored by a bot.Broker.
func init() {
	bot.RegisterPayload[MessageOptions]("sendbee.MessageOptions")
	bot.RegisterPayload[Template]("sendbee.Template")
}

// Sendbee does not publish its webhook event names or payloads. The shapes
// below are the ones this package and its emulator agree on; everything that
// depends on them is in this file, behind webhookToMessage, so that the
// real format replaces them in one place.
//
//	{"id": "<event id>", "type": "message.received", "business_id": "…",
//	 "created_at": 1714644903,
//	 "data": {"conversation_id": "…", "message_id": "…",
//	          "contact": {"id": "…", "name": "Ana", "phone": "+385…"},
//	          "direction": "inbound", "body": "Hi", "media_type": null,
//	          "media_url": null, "sent_at": 1714644903.12,
//	          "chatbot_active": true}}
//
// Types: "message.received" (a customer wrote), "message.sent" (the
// business wrote: "source" is "agent" for the dashboard, with "agent":
// {"id","name"}, or "api"), "message.status" ("status", "fail_reason"),
// "chatbot.status" ("chatbot_active").

// webhookEnvelope is the envelope of a webhook request, without its data.
type webhookEnvelope struct {
	ID         string      `json:"id"`
	Type       string      `json:"type"`
	BusinessID string      `json:"business_id"`
	CreatedAt  json.Number `json:"created_at"`
}

// webhookEvent is a webhook request with its data undecoded.
type webhookEvent struct {
	webhookEnvelope
	Data json.RawMessage `json:"data"`
}

// webhookEventData is a webhook request with its data decoded.
type webhookEventData struct {
	webhookEnvelope
	Data *webhookData `json:"data"`
}

// webhookData is the union of the data fields of the event types.
type webhookData struct {
	ConversationID string `json:"conversation_id"`
	MessageID      string `json:"message_id"`
	Contact        *struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Phone string `json:"phone"`
	} `json:"contact"`
	Direction     string      `json:"direction"`
	Body          string      `json:"body"`
	MediaType     string      `json:"media_type"`
	MediaURL      string      `json:"media_url"`
	SentAt        json.Number `json:"sent_at"`
	ChatbotActive *bool       `json:"chatbot_active"`
	Source        string      `json:"source"`
	Agent         *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"agent"`
	Status     string `json:"status"`
	FailReason string `json:"fail_reason"`
}

// errIgnored marks a well-formed event that the bot does not need: an
// unknown type, or the echo of a message sent through the API.
var errIgnored = errors.New("sendbee: event ignored")

// webhookToMessage converts the raw body of a webhook request into a
// bot.Message of the adapter named platform. It returns errIgnored for events the bot does not handle and
// another error for a malformed body. It does no I/O and reads no clock.
func webhookToMessage(raw []byte, platform string) (*bot.Message, error) {
	if jsonkey.AtMostOnce(raw, "data") {
		// One pass over the body instead of two (envelope, then data). It
		// decides only bodies that it decodes without error and that hold
		// at most one data key, for which both passes give the same
		// result: a repeated key would merge in one pass where the second
		// pass keeps the last one. The others take the two passes, which
		// give the errors, and ignore the data of unknown types.
		var ev webhookEventData
		if err := json.Unmarshal(raw, &ev); err == nil {
			return eventToMessage(raw, ev.webhookEnvelope, ev.Data, platform)
		}
	}
	return webhookToMessageTwoPass(raw, platform)
}

// webhookToMessageTwoPass is webhookToMessage decoding the envelope, then
// the data of a handled event.
func webhookToMessageTwoPass(raw []byte, platform string) (*bot.Message, error) {
	var ev webhookEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("sendbee: webhook: %w", err)
	}
	if !handledType(ev.Type) {
		return nil, ignoredOrUntyped(ev.Type)
	}
	if len(ev.Data) == 0 || string(ev.Data) == "null" {
		return nil, fmt.Errorf("sendbee: webhook %s: no data", ev.Type)
	}
	d := new(webhookData)
	if err := json.Unmarshal(ev.Data, d); err != nil {
		return nil, fmt.Errorf("sendbee: webhook %s: %w", ev.Type, err)
	}
	return eventToMessage(raw, ev.webhookEnvelope, d, platform)
}

// handledType reports whether the bot handles events of type typ.
func handledType(typ string) bool {
	switch typ {
	case "message.received", "message.sent", "message.status", "chatbot.status":
		return true
	}
	return false
}

// ignoredOrUntyped is the error of an event of type typ that the bot does
// not handle: errIgnored, or a malformed body when it has no type.
func ignoredOrUntyped(typ string) error {
	if typ == "" {
		return errors.New("sendbee: webhook: no event type")
	}
	return errIgnored
}

// eventToMessage converts the event ev with data d, whose raw body is raw,
// into a message of the adapter named platform, as webhookToMessage.
func eventToMessage(raw []byte, ev webhookEnvelope, d *webhookData, platform string) (*bot.Message, error) {
	if !handledType(ev.Type) {
		return nil, ignoredOrUntyped(ev.Type)
	}
	if d == nil {
		return nil, fmt.Errorf("sendbee: webhook %s: no data", ev.Type)
	}
	if d.ConversationID == "" {
		return nil, fmt.Errorf("sendbee: webhook %s: no conversation_id", ev.Type)
	}
	m := &bot.Message{
		Platform:     platform,
		Conversation: d.ConversationID,
		Direct:       true, // a WhatsApp conversation is one customer and the business
		Raw:          json.RawMessage(raw),
		Time:         unixTime(ev.CreatedAt),
		ID:           ev.ID,
	}
	switch ev.Type {
	case "message.received":
		if d.MessageID == "" {
			return nil, errors.New("sendbee: webhook message.received: no message_id")
		}
		m.ID = d.MessageID
		m.Kind = bot.KindMessage
		m.Text = d.Body
		if d.Contact != nil {
			m.Author = bot.User{ID: d.Contact.ID, Name: d.Contact.Name, Phone: d.Contact.Phone}
		}
		if t := unixTime(d.SentAt); !t.IsZero() {
			m.Time = t
		}
		if d.MediaURL != "" {
			m.Attachments = []bot.Attachment{{Kind: attachmentKind(d.MediaType), URL: d.MediaURL, MIME: mimeOf(d.MediaType)}}
		}
		// The platform's chatbot state when the message arrived. The Bot
		// applies a change it reports only once the chatbot activity
		// status (Adapter.Owner) agrees, so that neither a stale snapshot
		// nor a forged webhook decides who answers. With message.received
		// the one documented event, this is how the Bot learns of an
		// agent's takeover, and of the dashboard's switching the chatbot
		// back on, without other events.
		if d.ChatbotActive != nil {
			m.Owner = bot.OwnerHuman
			if *d.ChatbotActive {
				m.Owner = bot.OwnerBot
			}
		}
	case "message.sent":
		if d.Source != "agent" {
			return nil, errIgnored // the echo of an API send (ours or another integration's)
		}
		if d.MessageID != "" {
			m.ID = d.MessageID
		}
		m.Kind = bot.KindMessage
		m.Text = d.Body
		// An agent's reply switches the chatbot off; the Bot
		// checks the chatbot activity status before it goes silent.
		m.Owner = bot.OwnerHuman
		m.Author = bot.User{Agent: true}
		if d.Agent != nil {
			m.Author.ID, m.Author.Name = d.Agent.ID, d.Agent.Name
		}
		if t := unixTime(d.SentAt); !t.IsZero() {
			m.Time = t
		}
		if d.MediaURL != "" {
			m.Attachments = []bot.Attachment{{Kind: attachmentKind(d.MediaType), URL: d.MediaURL, MIME: mimeOf(d.MediaType)}}
		}
	case "message.status":
		m.Kind = bot.KindStatus
		m.Text = d.Status
		m.Thread = d.MessageID // the outbound message the receipt is about
	case "chatbot.status":
		if d.ChatbotActive == nil {
			return nil, errors.New("sendbee: webhook chatbot.status: no chatbot_active")
		}
		m.Kind = bot.KindOwnership
		m.Owner = bot.OwnerHuman
		if *d.ChatbotActive {
			m.Owner = bot.OwnerBot
		}
	}
	if m.ID == "" {
		return nil, fmt.Errorf("sendbee: webhook %s: no event id", ev.Type)
	}
	return m, nil
}

// unixTime converts Unix seconds (possibly fractional) to a time; 0 or an
// unparsable value gives the zero time.
func unixTime(n json.Number) time.Time {
	f, err := n.Float64()
	if err != nil || f <= 0 || math.IsInf(f, 0) || f > 1e11 {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC()
}

// attachmentKind maps Sendbee's media_type to the shared attachment kinds.
func attachmentKind(mediaType string) string {
	switch t := strings.ToLower(mediaType); {
	case t == "image" || strings.HasPrefix(t, "image/"):
		return "image"
	case t == "video" || strings.HasPrefix(t, "video/"):
		return "video"
	case t == "audio" || strings.HasPrefix(t, "audio/"):
		return "audio"
	case t == "document" || t == "file" || t == "application/pdf":
		return "document"
	case t == "":
		return "file"
	default:
		return t
	}
}

// mimeOf returns media_type when it is a MIME type, else "".
func mimeOf(mediaType string) string {
	if strings.Contains(mediaType, "/") {
		return mediaType
	}
	return ""
}

// MessageOptions is a Message.Payload for text and media replies that sets
// Sendbee-specific send options.
type MessageOptions struct {
	// PreventBotOff overrides the adapter's choice of prevent_bot_off:
	// true for an ordinary bot reply, absent for a Handoff reply. Setting
	// it to Bool(false) or Bool(true) sends exactly that.
	PreventBotOff *bool
	// AgentID assigns the conversation to an agent.
	AgentID string
}

// Template is a Message.Payload that sends an approved WhatsApp template
// instead of free text (needed outside the 24-hour customer-service
// window). Message.Text is ignored. The platform-neutral bot.Template is
// accepted too; this type adds Sendbee's send options.
type Template struct {
	Keyword    string            // the template's keyword; required
	Language   string            // its language code, such as "en"; required
	Tags       map[string]string // body placeholders: {"1": "Ana"}
	ButtonTags map[string]string // dynamic button URL placeholders
	Attachment string            // media URL for templates with an attachment
	// PreventBotOff and AgentID as in MessageOptions.
	PreventBotOff *bool
	AgentID       string
}

// outbound is what fromMessage makes of a bot.Message: exactly one of the
// two requests, and whether the send leaves the platform chatbot on.
type outbound struct {
	text      *SendMessageRequest
	template  *SendTemplateMessageRequest
	keepsBot  bool // prevent_bot_off is true
	recipient string
}

// fromMessage builds the send request for m, to phone. A bot reply keeps
// the platform chatbot on (prevent_bot_off true); a Handoff reply leaves the
// flag out so that the platform switches its chatbot off; a payload's
// explicit PreventBotOff wins over both. It does no I/O.
func fromMessage(m *bot.Message, phone string) (outbound, error) {
	prevent := func(explicit *bool) *bool {
		if explicit != nil {
			return Bool(*explicit)
		}
		if m.Handoff {
			return nil
		}
		return Bool(true)
	}
	var opts MessageOptions
	payload := m.Payload
	switch p := payload.(type) {
	case bot.Template:
		payload = Template{Keyword: p.Keyword, Language: p.Language, Tags: p.Tags, ButtonTags: p.ButtonTags, Attachment: p.Attachment}
	case *bot.Template:
		payload = Template{Keyword: p.Keyword, Language: p.Language, Tags: p.Tags, ButtonTags: p.ButtonTags, Attachment: p.Attachment}
	}
	switch p := payload.(type) {
	case nil:
	case MessageOptions:
		opts = p
	case *MessageOptions:
		opts = *p
	case Template, *Template:
		t, ok := p.(Template)
		if !ok {
			t = *p.(*Template)
		}
		r := &SendTemplateMessageRequest{
			Phone: phone, TemplateKeyword: t.Keyword, Language: t.Language,
			Tags: t.Tags, ButtonTags: t.ButtonTags, Attachment: t.Attachment,
			PreventBotOff: prevent(t.PreventBotOff), AgentID: t.AgentID,
		}
		if t.Keyword == "" || t.Language == "" {
			return outbound{}, errors.New("sendbee: template needs Keyword and Language")
		}
		return outbound{template: r, keepsBot: r.PreventBotOff != nil && *r.PreventBotOff, recipient: phone}, nil
	default:
		return outbound{}, fmt.Errorf("sendbee: payload %T: %w", m.Payload, errors.ErrUnsupported)
	}
	r := &SendMessageRequest{Phone: phone, Text: m.Text, PreventBotOff: prevent(opts.PreventBotOff), AgentID: opts.AgentID}
	switch len(m.Attachments) {
	case 0:
		if strings.TrimSpace(m.Text) == "" {
			return outbound{}, errors.New("sendbee: message has no text and no attachment")
		}
	case 1:
		r.MediaURL = m.Attachments[0].URL
	default:
		return outbound{}, fmt.Errorf("sendbee: a message carries one attachment, got %d", len(m.Attachments))
	}
	return outbound{text: r, keepsBot: r.PreventBotOff != nil && *r.PreventBotOff, recipient: phone}, nil
}

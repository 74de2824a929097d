package velaflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/internal/jsonkey"
)

// VelaFlows documents its delivery envelope and a few payloads;
// the rest is assumed. Everything that depends on the payload shapes is in
// this file, behind deliveryToMessage.
//
//	{"eventId": "evt_…", "eventType": "conversation.message.received",
//	 "timestamp": "2026-03-24T09:00:01.000Z", "workspaceId": "…",
//	 "data": {"conversationId": "…", "message": {"_id": "…", "type": "text",
//	          "text": "Hi", "sender": {"type": "contact", "name": "Ada",
//	          "phone": "+44…"}, "channel": "whatsapp", "createdAt": "…"}}}
//
// Both spellings of each event name are accepted
// ("conversation.message.received" in VelaFlows' Python examples and
// "inbox.message.received" in the docs); see CanonicalEvent.

// envelope is the envelope of a webhook delivery, without its data.
type envelope struct {
	EventID     string `json:"eventId"`
	EventType   string `json:"eventType"`
	Timestamp   string `json:"timestamp"`
	WorkspaceID string `json:"workspaceId"`
}

// delivery is a webhook delivery with its data undecoded.
type delivery struct {
	envelope
	Data json.RawMessage `json:"data"`
}

// decodedDelivery is a webhook delivery with its data decoded.
type decodedDelivery struct {
	envelope
	Data *deliveryData `json:"data"`
}

// deliveryData is the union of the data fields the adapter reads.
type deliveryData struct {
	ConversationID string `json:"conversationId"`
	Message        *struct {
		ID      string `json:"_id"`
		Type    string `json:"type"`
		Text    string `json:"text"`
		Content string `json:"content"`
		Sender  struct {
			Type  string `json:"type"`
			ID    string `json:"_id"`
			Name  string `json:"name"`
			Phone string `json:"phone"`
			Email string `json:"email"`
		} `json:"sender"`
		Channel   string `json:"channel"`
		CreatedAt string `json:"createdAt"`
		Media     *struct {
			URL      string `json:"url"`
			MimeType string `json:"mimeType"`
			FileName string `json:"fileName"`
		} `json:"media"`
	} `json:"message"`
	Conversation *struct {
		ID              string  `json:"_id"`
		Status          string  `json:"status"`
		AssignedAgentID *string `json:"assignedAgentId"`
		Channel         string  `json:"channel"`
		ChannelType     string  `json:"channelType"`
		ContactName     string  `json:"contactName"`
		ContactPhone    string  `json:"contactPhone"`
	} `json:"conversation"`
	Lead *struct {
		ID string `json:"_id"`
	} `json:"lead"`
}

// errIgnored marks a well-formed delivery the bot does not handle.
var errIgnored = errors.New("velaflows: event ignored")

// deliveryToMessage converts the raw body of a webhook delivery into a
// bot.Message of the adapter named platform, whose ID is the delivery's eventId (the platform redelivers an
// event with the same eventId for 24 hours), and returns the envelope's
// timestamp, when the event occurred (zero when it is missing or not
// ISO-8601). The message's Time is the message's createdAt when it has one,
// else that timestamp. It returns errIgnored for events the bot does not
// handle and another error for a malformed body. It does no I/O and reads
// no clock.
func deliveryToMessage(raw []byte, platform string) (*bot.Message, time.Time, error) {
	if jsonkey.AtMostOnce(raw, "data") {
		// One pass over the body instead of two (envelope, then data). It
		// decides only bodies that it decodes without error and that hold
		// at most one data key, for which both passes give the same
		// result: a repeated key would merge in one pass where the second
		// pass keeps the last one. The others take the two passes, which
		// give the errors, and ignore the data of unknown events.
		var d decodedDelivery
		if err := json.Unmarshal(raw, &d); err == nil {
			event, err := handledEvent(&d.envelope)
			if err != nil {
				return nil, time.Time{}, err
			}
			if d.Data == nil {
				return nil, time.Time{}, fmt.Errorf("velaflows: delivery %s: no data", d.EventType)
			}
			return eventToMessage(raw, &d.envelope, d.Data, event, platform)
		}
	}
	return deliveryToMessageTwoPass(raw, platform)
}

// deliveryToMessageTwoPass is deliveryToMessage decoding the envelope, then
// the data of a handled event.
func deliveryToMessageTwoPass(raw []byte, platform string) (*bot.Message, time.Time, error) {
	var d delivery
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, time.Time{}, fmt.Errorf("velaflows: delivery: %w", err)
	}
	event, err := handledEvent(&d.envelope)
	if err != nil {
		return nil, time.Time{}, err
	}
	if len(d.Data) == 0 || string(d.Data) == "null" {
		return nil, time.Time{}, fmt.Errorf("velaflows: delivery %s: no data", d.EventType)
	}
	data := new(deliveryData)
	if err := json.Unmarshal(d.Data, data); err != nil {
		return nil, time.Time{}, fmt.Errorf("velaflows: delivery %s: %w", d.EventType, err)
	}
	return eventToMessage(raw, &d.envelope, data, event, platform)
}

// handledEvent returns the canonical name of the event of the envelope d,
// errIgnored if the bot does not handle it, or an error if d has no
// eventType or eventId.
func handledEvent(d *envelope) (string, error) {
	if d.EventType == "" {
		return "", errors.New("velaflows: delivery: no eventType")
	}
	if d.EventID == "" {
		return "", errors.New("velaflows: delivery: no eventId")
	}
	event := CanonicalEvent(d.EventType)
	switch event {
	case EventConversationMessageReceived, EventConversationCreated, EventConversationAssigned,
		EventConversationUnassigned, EventConversationClosed, EventConversationReopened, EventLeadStageChanged:
		return event, nil
	}
	return "", errIgnored
}

// eventToMessage converts the delivery d of a handled event, with data
// data, whose raw body is raw, into a message of the adapter named
// platform, and returns it with the envelope's timestamp, as
// deliveryToMessage.
func eventToMessage(raw []byte, d *envelope, data *deliveryData, event, platform string) (*bot.Message, time.Time, error) {
	at := parseTime(d.Timestamp)
	m := &bot.Message{
		ID:       d.EventID,
		Platform: platform,
		Raw:      json.RawMessage(raw),
		Time:     at,
		Kind:     bot.KindEvent,
	}
	switch event {
	case EventConversationMessageReceived:
		msg := data.Message
		if msg == nil {
			return nil, time.Time{}, fmt.Errorf("velaflows: delivery %s: no message", d.EventType)
		}
		if data.ConversationID == "" {
			return nil, time.Time{}, fmt.Errorf("velaflows: delivery %s: no conversationId", d.EventType)
		}
		if msg.Sender.Type != "" && msg.Sender.Type != "contact" {
			// Agents', bots' and system messages: the bot answers customers
			// only, and its own replies must not come back as input.
			return nil, time.Time{}, errIgnored
		}
		m.Kind = bot.KindMessage
		m.Conversation = data.ConversationID
		m.Text = msg.Text
		if m.Text == "" {
			m.Text = msg.Content
		}
		m.Author = bot.User{ID: msg.Sender.ID, Name: msg.Sender.Name, Phone: msg.Sender.Phone, Email: msg.Sender.Email}
		if m.Author.ID == "" {
			m.Author.ID = firstNonEmpty(msg.Sender.Phone, msg.Sender.Email, msg.Sender.Name)
		}
		m.Direct = true
		if msg.Channel != "" {
			m.Tags = []string{"channel:" + msg.Channel}
		}
		if t := parseTime(msg.CreatedAt); !t.IsZero() {
			m.Time = t
		}
		if msg.Media != nil && msg.Media.URL != "" {
			m.Attachments = []bot.Attachment{{Kind: attachmentKind(msg.Type), URL: msg.Media.URL, Name: msg.Media.FileName, MIME: msg.Media.MimeType}}
		}
	case EventLeadStageChanged:
		if data.Lead == nil || data.Lead.ID == "" {
			return nil, time.Time{}, fmt.Errorf("velaflows: delivery %s: no lead", d.EventType)
		}
		m.Conversation = "lead:" + data.Lead.ID
	default: // conversation events
		c := data.Conversation
		if c == nil || c.ID == "" {
			return nil, time.Time{}, fmt.Errorf("velaflows: delivery %s: no conversation", d.EventType)
		}
		m.Conversation = c.ID
		assigned := c.AssignedAgentID != nil && *c.AssignedAgentID != ""
		switch event {
		case EventConversationAssigned:
			m.Kind = bot.KindAssignment
			m.Owner = bot.OwnerBot
			if assigned {
				m.Owner = bot.OwnerHuman // an agent took the conversation
			}
		case EventConversationUnassigned, EventConversationClosed:
			// Unassigned or closed: nobody on the team holds it any more.
			m.Kind = bot.KindAssignment
			m.Owner = bot.OwnerBot
		case EventConversationReopened:
			m.Kind = bot.KindAssignment
			if assigned {
				m.Owner = bot.OwnerHuman
			}
		case EventConversationCreated:
			if assigned {
				m.Owner = bot.OwnerHuman
			}
		}
	}
	return m, at, nil
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

func attachmentKind(messageType string) string {
	switch t := strings.ToLower(messageType); t {
	case "image", "video", "audio", "document":
		return t
	case "", "text":
		return "file"
	default:
		return t
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

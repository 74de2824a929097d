package velaflows

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// A Timestamp is a time sent by the API: ISO-8601 UTC with milliseconds,
// such as "2026-03-24T14:30:00.000Z", as VelaFlows documents. Other RFC 3339 forms, a
// date, Unix seconds or milliseconds, "" and null are accepted as well; a
// value in no known format leaves the zero time, so that one odd field
// never fails a whole answer.
type Timestamp struct {
	time.Time
}

// timeLayouts are the string forms Timestamp reads, most likely first.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"}

// UnmarshalJSON implements [json.Unmarshaler].
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	*t = Timestamp{}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] != '"' {
		if f, err := strconv.ParseFloat(string(b), 64); err == nil {
			t.Time = unixTime(f)
		}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if tt, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			t.Time = tt
			return nil
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		t.Time = unixTime(f)
	}
	return nil
}

// MarshalJSON implements [json.Marshaler]: the API's form
// ("2026-03-24T14:30:00.000Z"), or null for the zero Timestamp.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
}

// unixTime reads f as Unix seconds, or milliseconds when it is too large
// to be seconds of this era.
func unixTime(f float64) time.Time {
	if f <= 0 || f != f || f > 1e15 {
		return time.Time{}
	}
	if f > 1e11 {
		return time.UnixMilli(int64(f)).UTC()
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
}

// Conversation statuses: StatusOpen is documented, StatusClosed is implied
// by the "conversation closed" event. The API may know others
// (pending, snoozed); [Conversation.Status] holds whatever it sent.
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// Channel types of [ConversationsOptions.ChannelType] and
// [Conversation.ChannelType]. Only ChannelWhatsApp is documented; the
// others are not in VelaFlows' documentation and are assumed.
const (
	ChannelWhatsApp  = "whatsapp"
	ChannelInstagram = "instagram"
	ChannelMessenger = "messenger"
	ChannelTelegram  = "telegram"
	ChannelEmail     = "email"
	ChannelWebchat   = "webchat"
	ChannelSMS       = "sms"
)

// Priorities of [Conversation.Priority]. Only "normal" appears in VelaFlows'
// documentation; the others are assumed.
const (
	PriorityLow    = "low"
	PriorityNormal = "normal"
	PriorityHigh   = "high"
	PriorityUrgent = "urgent"
)

// A Conversation is an omnichannel inbox conversation. Fields
// the API did not send are zero. The REST API names the channel
// channelType and webhook payloads name it channel; use
// [Conversation.ChannelName] to read either.
type Conversation struct {
	ID          string `json:"_id"`
	WorkspaceID string `json:"workspaceId,omitempty"`
	ChannelType string `json:"channelType,omitempty"`
	Channel     string `json:"channel,omitempty"`
	// Status is StatusOpen, StatusClosed or another status of the API.
	Status       string `json:"status,omitempty"`
	Priority     string `json:"priority,omitempty"`
	ContactName  string `json:"contactName,omitempty"`
	ContactPhone string `json:"contactPhone,omitempty"`
	// AssignedAgentID is the agent the conversation is assigned to; ""
	// when unassigned (null). A human owns an assigned conversation.
	AssignedAgentID string `json:"assignedAgentId,omitempty"`
	AssignedTeamID  string `json:"assignedTeamId,omitempty"`
	CustomerID      string `json:"customerId,omitempty"`
	Language        string `json:"language,omitempty"`
	UnreadCount     int    `json:"unreadCount,omitempty"`
	// Tags are the conversation's tag names (not documented; see TagNames).
	Tags          TagNames  `json:"tags,omitempty"`
	LastMessageAt Timestamp `json:"lastMessageAt"`
	CreatedAt     Timestamp `json:"createdAt"`
	UpdatedAt     Timestamp `json:"updatedAt"`
}

// ChannelName returns ChannelType, or Channel when the API sent only that.
func (c *Conversation) ChannelName() string {
	if c.ChannelType != "" {
		return c.ChannelType
	}
	return c.Channel
}

// Sender types of [MessageSender.Type]: SenderContact (the customer) is
// documented; the others are not in VelaFlows' documentation and are
// assumed.
const (
	SenderContact = "contact"
	SenderAgent   = "agent"
	SenderBot     = "bot"
	SenderSystem  = "system"
)

// MessageTypeText is the message type of text messages, the only one the
// docs show and the default of [MessageRequest.Type].
const MessageTypeText = "text"

// A Message is a message of a conversation. VelaFlows' Python examples
// send message text as content and the docs' payloads carry it as text;
// [Message.Body] reads either.
type Message struct {
	ID             string        `json:"_id"`
	ConversationID string        `json:"conversationId,omitempty"`
	Type           string        `json:"type,omitempty"`
	Content        string        `json:"content,omitempty"`
	Text           string        `json:"text,omitempty"`
	Sender         MessageSender `json:"sender"`
	Channel        string        `json:"channel,omitempty"`
	// Direction is "inbound" or "outbound" where the API says so (not
	// documented); Sender.Type is the documented way to tell a customer's
	// message from an agent's or the bot's.
	Direction string `json:"direction,omitempty"`
	// Status is the delivery status, such as "sent".
	Status    string    `json:"status,omitempty"`
	CreatedAt Timestamp `json:"createdAt"`
}

// Body returns Content, or Text when the API sent only that.
func (m *Message) Body() string {
	if m.Content != "" {
		return m.Content
	}
	return m.Text
}

// A MessageSender says who wrote a [Message].
type MessageSender struct {
	// Type is SenderContact, SenderAgent, SenderBot or SenderSystem.
	Type  string `json:"type,omitempty"`
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// UnmarshalJSON implements [json.Unmarshaler], accepting a bare string as
// the sender's Type.
func (s *MessageSender) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		*s = MessageSender{}
		return json.Unmarshal(b, &s.Type)
	}
	type plain MessageSender
	return json.Unmarshal(b, (*plain)(s))
}

// A Lead is a CRM lead. The lead export of VelaFlows' Python examples
// writes the
// fields _id, firstName, lastName, email, phone, status and createdAt.
type Lead struct {
	ID         string    `json:"_id"`
	FirstName  string    `json:"firstName,omitempty"`
	LastName   string    `json:"lastName,omitempty"`
	Email      string    `json:"email,omitempty"`
	Phone      string    `json:"phone,omitempty"`
	Status     string    `json:"status,omitempty"`
	PipelineID string    `json:"pipelineId,omitempty"`
	StageID    string    `json:"stageId,omitempty"`
	CustomerID string    `json:"customerId,omitempty"`
	Tags       TagNames  `json:"tags,omitempty"`
	CreatedAt  Timestamp `json:"createdAt"`
	UpdatedAt  Timestamp `json:"updatedAt"`
}

// A Customer is a customer record. VelaFlows documents only the customer
// events; the fields are assumed.
type Customer struct {
	ID        string    `json:"_id"`
	FirstName string    `json:"firstName,omitempty"`
	LastName  string    `json:"lastName,omitempty"`
	Email     string    `json:"email,omitempty"`
	Phone     string    `json:"phone,omitempty"`
	Tags      TagNames  `json:"tags,omitempty"`
	CreatedAt Timestamp `json:"createdAt"`
	UpdatedAt Timestamp `json:"updatedAt"`
}

// TagNames are the tags of a record, by name. The shape of a record's
// tags is not documented: a list of names and a list of tag objects (whose
// name is taken) are both read, and any other value leaves TagNames nil
// rather than failing the answer.
type TagNames []string

// UnmarshalJSON implements [json.Unmarshaler].
func (t *TagNames) UnmarshalJSON(b []byte) error {
	*t = nil
	var raw []json.RawMessage
	if json.Unmarshal(b, &raw) != nil || raw == nil {
		return nil
	}
	names := make(TagNames, 0, len(raw))
	for _, r := range raw {
		var s string
		if json.Unmarshal(r, &s) == nil {
			names = append(names, s)
			continue
		}
		var obj struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(r, &obj) == nil && obj.Name != "" {
			names = append(names, obj.Name)
		}
	}
	*t = names
	return nil
}

// Tag entity types of [TagsOptions.EntityType] and [TagRequest.EntityType].
// TagEntityConversation is documented; the others are not in VelaFlows'
// documentation and are assumed.
const (
	TagEntityConversation = "conversation"
	TagEntityCustomer     = "customer"
	TagEntityLead         = "lead"
)

// A Tag is a label for conversations, customers or leads. Only its name
// is documented.
type Tag struct {
	ID         string    `json:"_id"`
	Name       string    `json:"name"`
	Color      string    `json:"color,omitempty"`
	EntityType string    `json:"entityType,omitempty"`
	CreatedAt  Timestamp `json:"createdAt"`
}

// A WebhookSubscription subscribes a URL to webhook events. Only its ID is
// documented; the other fields are assumed.
// The API does not send the signing secret back: keep your own copy.
type WebhookSubscription struct {
	ID     string   `json:"_id"`
	URL    string   `json:"url,omitempty"`
	Events []string `json:"events,omitempty"`
	// Active is false once VelaFlows deactivated the subscription (after
	// repeated failures or a 410 answer), and when the API did not say.
	Active    bool      `json:"active"`
	CreatedAt Timestamp `json:"createdAt"`
	UpdatedAt Timestamp `json:"updatedAt"`
}

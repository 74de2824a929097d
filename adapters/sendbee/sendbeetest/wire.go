package sendbeetest

import (
	"time"
)

// Response bodies, with field names copied literally from Sendbee's API
// and its SDKs' models. These structs are the emulator's own; it never
// shares wire types with a client.

const timeLayout = "2006-01-02 15:04:05"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// unixFloat renders t as Unix seconds with millisecond precision, the
// number form of Message.sent_at (a float, as Sendbee's Python client
// has parsed it since 2021).
func unixFloat(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type envelope struct {
	Data    any        `json:"data"`
	Meta    *wireMeta  `json:"meta,omitempty"`
	Links   *wireLinks `json:"links,omitempty"`
	Warning string     `json:"warning,omitempty"`
}

type wireMeta struct {
	CurrentPage int `json:"current_page"`
	LastPage    int `json:"last_page"`
	PerPage     int `json:"per_page"`
	Total       int `json:"total"`
	From        int `json:"from"`
	To          int `json:"to"`
}

type wireLinks struct {
	First *string `json:"first"`
	Last  *string `json:"last"`
	Prev  *string `json:"prev"`
	Next  *string `json:"next"`
}

type wireErrorBody struct {
	Error wireError `json:"error"`
}

type wireError struct {
	Detail string `json:"detail"`
	Type   string `json:"type"`
}

type wireThrottle struct {
	Detail string `json:"detail"`
	Error  bool   `json:"error"`
	Type   string `json:"type"`
}

type wireServerMessage struct {
	Message string `json:"message"`
}

type wireTag struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type wireKV struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type wireNote struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

type wireContact struct {
	ID                  string     `json:"id"`
	Name                string     `json:"name"`
	Phone               string     `json:"phone"`
	WhatsAppUserID      *string    `json:"whatsapp_user_id"`
	CreatedAt           string     `json:"created_at"`
	ModifiedAt          string     `json:"modified_at"`
	HasMessagingConsent bool       `json:"has_messaging_consent"`
	Status              string     `json:"status"`
	Folder              string     `json:"folder"`
	Tags                []wireTag  `json:"tags"`
	ContactFields       []wireKV   `json:"contact_fields"`
	Notes               []wireNote `json:"notes"`
}

type wireField struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Options []string `json:"options"`
}

type wireConvContact struct {
	ID             string  `json:"id"`
	Name           string  `json:"name"`
	Phone          string  `json:"phone"`
	WhatsAppUserID *string `json:"whatsapp_user_id"`
}

type wireLastMessage struct {
	Direction      *string `json:"direction"`
	Status         *string `json:"status"`
	InboundSentAt  *string `json:"inbound_sent_at"`
	OutboundSentAt *string `json:"outbound_sent_at"`
}

type wireConversation struct {
	ID            string          `json:"id"`
	Folder        string          `json:"folder"`
	ChatbotActive bool            `json:"chatbot_active"`
	Platform      string          `json:"platform"`
	CreatedAt     string          `json:"created_at"`
	Contact       wireConvContact `json:"contact"`
	LastMessage   wireLastMessage `json:"last_message"`
}

type wireMessage struct {
	ID         string  `json:"id"`
	Body       *string `json:"body"`
	MediaType  *string `json:"media_type"`
	MediaURL   *string `json:"media_url"`
	Status     string  `json:"status"`
	Direction  string  `json:"direction"`
	SentAt     float64 `json:"sent_at"`
	FailReason *string `json:"fail_reason"`
	Action     *string `json:"action"`
	MetaData   any     `json:"meta_data"`
	FromUserID *string `json:"from_user_id"`
	ToUserID   *string `json:"to_user_id"`
}

type wireName struct {
	Name string `json:"name"`
}

type wireTemplate struct {
	ID             string     `json:"id"`
	Status         string     `json:"status"`
	Keyword        string     `json:"keyword"`
	Name           string     `json:"name"`
	Category       string     `json:"category"`
	Language       string     `json:"language"`
	Text           string     `json:"text"`
	Attachment     *string    `json:"attachment"`
	Tags           []wireName `json:"tags"`
	ButtonTags     []wireName `json:"button_tags"`
	Buttons        []button   `json:"buttons"`
	RejectedReason *string    `json:"rejected_reason"`
}

type wireSentMessage struct {
	ID                 string `json:"id"`
	MessageID          string `json:"message_id"`
	MessageReferenceID string `json:"message_reference_id"`
	Status             string `json:"status"`
}

type wireChatbotStatus struct {
	ConversationID string `json:"conversation_id"`
	ChatbotActive  bool   `json:"chatbot_active"`
}

type wireTeamMember struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	Online    bool   `json:"online"`
	Available bool   `json:"available"`
}

type wireTeam struct {
	ID      string           `json:"id"`
	Name    string           `json:"name"`
	Members []wireTeamMember `json:"members"`
}

type wireMember struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Online    bool      `json:"online"`
	Available bool      `json:"available"`
	Teams     []wireTag `json:"teams"`
}

func (st *state) wireContact(c *contact) wireContact {
	w := wireContact{
		ID: c.id, Name: c.name, Phone: c.phone, WhatsAppUserID: strOrNil(c.bsuid),
		CreatedAt: fmtTime(c.created), ModifiedAt: fmtTime(c.modified),
		HasMessagingConsent: c.status == "subscribed", Status: c.status, Folder: c.conv.folder,
		Tags: []wireTag{}, ContactFields: []wireKV{}, Notes: []wireNote{},
	}
	for _, t := range c.tags {
		w.Tags = append(w.Tags, wireTag{ID: t.id, Name: t.name})
	}
	for _, f := range st.fields {
		if v, ok := c.fields[f]; ok {
			w.ContactFields = append(w.ContactFields, wireKV{Key: f.name, Value: v})
		}
	}
	for _, n := range c.notes {
		w.Notes = append(w.Notes, wireNote{ID: n.id, Value: n.value})
	}
	return w
}

func wireFieldOf(f *field) wireField {
	opts := []string{}
	if f.typ == "list" {
		opts = append(opts, f.options...)
	}
	return wireField{ID: f.id, Name: f.name, Type: f.typ, Options: opts}
}

func wireConversationOf(c *conversation) wireConversation {
	w := wireConversation{
		ID: c.id, Folder: c.folder, ChatbotActive: c.chatbot, Platform: "whatsapp",
		CreatedAt: fmtTime(c.created),
		Contact: wireConvContact{ID: c.contact.id, Name: c.contact.name, Phone: c.contact.phone,
			WhatsAppUserID: strOrNil(c.contact.bsuid)},
	}
	for i := len(c.msgs) - 1; i >= 0; i-- {
		m := c.msgs[i]
		if w.LastMessage.Direction == nil {
			w.LastMessage.Direction, w.LastMessage.Status = strOrNil(m.direction), strOrNil(m.status)
		}
		switch {
		case m.direction == "inbound" && w.LastMessage.InboundSentAt == nil:
			w.LastMessage.InboundSentAt = strOrNil(fmtTime(m.sentAt))
		case m.direction == "outbound" && w.LastMessage.OutboundSentAt == nil:
			w.LastMessage.OutboundSentAt = strOrNil(fmtTime(m.sentAt))
		}
	}
	return w
}

func wireMessageOf(m *message) wireMessage {
	return wireMessage{
		ID: m.id, Body: strOrNil(m.body), MediaType: strOrNil(m.mediaType), MediaURL: strOrNil(m.mediaURL),
		Status: m.status, Direction: m.direction, SentAt: unixFloat(m.sentAt),
		FailReason: strOrNil(m.failReason), FromUserID: strOrNil(m.fromUserID), ToUserID: strOrNil(m.toUserID),
	}
}

func wireTemplateOf(t *template) wireTemplate {
	w := wireTemplate{
		ID: t.id, Status: t.status, Keyword: t.keyword, Name: t.name, Category: t.category,
		Language: t.language, Text: t.text, Attachment: strOrNil(t.attachment),
		Tags: []wireName{}, ButtonTags: []wireName{}, Buttons: append([]button{}, t.buttons...),
		RejectedReason: strOrNil(t.rejectedReason),
	}
	for _, n := range t.tags {
		w.Tags = append(w.Tags, wireName{Name: n})
	}
	for _, n := range t.buttonTags {
		w.ButtonTags = append(w.ButtonTags, wireName{Name: n})
	}
	return w
}

func wireTeamOf(t *team) wireTeam {
	w := wireTeam{ID: t.id, Name: t.name, Members: []wireTeamMember{}}
	for _, m := range t.members {
		w.Members = append(w.Members, wireTeamMember{ID: m.id, Name: m.name, Role: m.role, Online: m.online, Available: m.available})
	}
	return w
}

func (st *state) wireMemberOf(m *member) wireMember {
	w := wireMember{ID: m.id, Name: m.name, Role: m.role, Online: m.online, Available: m.available, Teams: []wireTag{}}
	for _, t := range st.teams {
		for _, tm := range t.members {
			if tm == m {
				w.Teams = append(w.Teams, wireTag{ID: t.id, Name: t.name})
			}
		}
	}
	return w
}

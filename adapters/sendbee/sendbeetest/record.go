package sendbeetest

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// A Request is one API request as the server received it. Credentials are
// reduced to what a test needs: the API key (public), whether a token was
// sent and whether authentication passed. The token and the secret are
// never stored.
type Request struct {
	Method        string    `json:"method"`
	Path          string    `json:"path"`      // without the prefix; the full path if outside it
	RawQuery      string    `json:"raw_query"` // exactly as sent
	APIKey        string    `json:"api_key"`
	HasAuthToken  bool      `json:"has_auth_token"`
	Authenticated bool      `json:"authenticated"`
	AuthError     string    `json:"auth_error,omitempty"` // why authentication failed
	ContentType   string    `json:"content_type"`
	Accept        string    `json:"accept"`
	UserAgent     string    `json:"user_agent"`
	Body          []byte    `json:"-"`
	Status        int       `json:"status"`          // 0 when the connection was reset
	Fault         string    `json:"fault,omitempty"` // the injected fault that hit this request
	Time          time.Time `json:"time"`            // server clock when it arrived
}

// A SentMessage is a message accepted by one of the two send endpoints.
type SentMessage struct {
	Endpoint           string            `json:"endpoint"` // "/conversations/messages/send" or "/conversations/messages/templates/send"
	ConversationID     string            `json:"conversation_id"`
	MessageID          string            `json:"message_id"`
	MessageReferenceID string            `json:"message_reference_id"`
	Phone              string            `json:"phone,omitempty"` // normalised
	WhatsAppUserID     string            `json:"whatsapp_user_id,omitempty"`
	Text               string            `json:"text"` // the text sent; for templates, the text with the tags filled in
	MediaURL           string            `json:"media_url,omitempty"`
	MediaType          string            `json:"media_type,omitempty"`
	TemplateKeyword    string            `json:"template_keyword,omitempty"`
	TemplateLanguage   string            `json:"language,omitempty"`
	TemplateTags       map[string]string `json:"tags,omitempty"`
	ButtonTags         map[string]string `json:"button_tags,omitempty"`
	Attachment         string            `json:"attachment,omitempty"`
	PreventBotOff      *bool             `json:"prevent_bot_off"` // as received; nil when absent
	AgentID            string            `json:"agent_id,omitempty"`
	LiveInbox          *bool             `json:"live_inbox,omitempty"`
	ChatbotActive      bool              `json:"chatbot_active"` // state right after the send
	Time               time.Time         `json:"time"`
}

func (m SentMessage) clone() SentMessage {
	m.TemplateTags, m.ButtonTags = maps.Clone(m.TemplateTags), maps.Clone(m.ButtonTags)
	m.PreventBotOff, m.LiveInbox = clonePtr(m.PreventBotOff), clonePtr(m.LiveInbox)
	return m
}

// A Contact is a read-only view of a contact.
type Contact struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Phone          string            `json:"phone"`
	WhatsAppUserID string            `json:"whatsapp_user_id,omitempty"`
	Status         string            `json:"status"`
	Tags           []string          `json:"tags"`
	Fields         map[string]string `json:"contact_fields"`
	Notes          []string          `json:"notes"`
}

// A Message is a read-only view of a message in a conversation.
type Message struct {
	ID              string    `json:"id"`
	ReferenceID     string    `json:"message_reference_id,omitempty"`
	Direction       string    `json:"direction"` // inbound or outbound
	Source          string    `json:"source"`    // customer, api, agent or demo
	Body            string    `json:"body"`
	MediaType       string    `json:"media_type,omitempty"`
	MediaURL        string    `json:"media_url,omitempty"`
	Status          string    `json:"status"`
	FailReason      string    `json:"fail_reason,omitempty"`
	AgentID         string    `json:"agent_id,omitempty"`
	AgentName       string    `json:"agent_name,omitempty"`
	TemplateKeyword string    `json:"template_keyword,omitempty"`
	SentAt          time.Time `json:"sent_at"`
}

// A Conversation is a read-only view of a conversation with its contact and
// all its messages, oldest first.
type Conversation struct {
	ID            string    `json:"id"`
	Folder        string    `json:"folder"`
	ChatbotActive bool      `json:"chatbot_active"`
	AgentID       string    `json:"agent_id,omitempty"` // last agent_id given on a send
	CreatedAt     time.Time `json:"created_at"`
	// WindowClosesAt is 24 hours after the customer's last message, when
	// the customer-service window closes; nil if the customer never wrote.
	WindowClosesAt *time.Time `json:"window_closes_at"`
	Contact        Contact    `json:"contact"`
	Messages       []Message  `json:"messages"`
}

func (s *Server) conversationView(cv *conversation) Conversation {
	ct := cv.contact
	v := Conversation{
		ID: cv.id, Folder: cv.folder, ChatbotActive: cv.chatbot, AgentID: cv.agentID, CreatedAt: cv.created,
		Contact: Contact{
			ID: ct.id, Name: ct.name, Phone: ct.phone, WhatsAppUserID: ct.bsuid, Status: ct.status,
			Tags: []string{}, Fields: map[string]string{}, Notes: []string{},
		},
		Messages: []Message{},
	}
	if t, ok := cv.windowClosesAt(); ok {
		v.WindowClosesAt = &t
	}
	for _, t := range ct.tags {
		v.Contact.Tags = append(v.Contact.Tags, t.name)
	}
	for f, val := range ct.fields {
		v.Contact.Fields[f.name] = val
	}
	for _, n := range ct.notes {
		v.Contact.Notes = append(v.Contact.Notes, n.value)
	}
	for _, m := range cv.msgs {
		mv := Message{
			ID: m.id, ReferenceID: m.refID, Direction: m.direction, Source: m.source, Body: m.body,
			MediaType: m.mediaType, MediaURL: m.mediaURL, Status: m.status, FailReason: m.failReason,
			AgentName: m.agentName, TemplateKeyword: m.template, SentAt: m.sentAt,
		}
		if m.source == "agent" || m.agentName != "" {
			mv.AgentID = m.fromUserID
		}
		v.Messages = append(v.Messages, mv)
	}
	return v
}

func (s *Server) addRequest(r Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.mu.Unlock()
}

func (s *Server) addSentLocked(m SentMessage) {
	s.sent = append(s.sent, m)
	close(s.sentCh)
	s.sentCh = make(chan struct{})
}

// Requests returns every API request answered so far (not "/_sim/" ones),
// in the order they finished.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.requests)
	for i := range out {
		out[i].Body = slices.Clone(out[i].Body)
	}
	return out
}

// Sent returns every message accepted by the send endpoints so far, in
// order.
func (s *Server) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SentMessage, len(s.sent))
	for i, m := range s.sent {
		out[i] = m.clone()
	}
	return out
}

// WaitSent waits until at least n messages have been sent through the API
// and returns them all, or fails tb after the wait timeout
// ([WithWaitTimeout]). It must be called from the test goroutine.
func (s *Server) WaitSent(tb testing.TB, n int) []SentMessage {
	tb.Helper()
	timer := time.NewTimer(s.cfg.waitTimeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		have, ch := len(s.sent), s.sentCh
		s.mu.Unlock()
		if have >= n {
			return s.Sent()
		}
		select {
		case <-ch:
		case <-timer.C:
			tb.Fatalf("sendbeetest: waited %v for %d sent messages, got %d", s.cfg.waitTimeout, n, have)
			return nil
		}
	}
}

// Events returns every webhook event emitted so far, in emission order,
// whether or not a webhook URL was configured.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.events)
	for i := range out {
		out[i].Payload = slices.Clone(out[i].Payload)
	}
	return out
}

// ChatbotActive reports chatbot_active of the conversation; false if there
// is no such conversation.
func (s *Server) ChatbotActive(conversationID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.st.convByID(conversationID)
	return cv != nil && cv.chatbot
}

// Conversation returns a snapshot of the conversation with the given ID.
func (s *Server) Conversation(id string) (Conversation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.st.convByID(id)
	if cv == nil {
		return Conversation{}, false
	}
	return s.conversationView(cv), true
}

// ConversationByPhone returns a snapshot of the conversation of the contact
// with the given phone number (spaces and dashes are ignored).
func (s *Server) ConversationByPhone(phone string) (Conversation, bool) {
	p, err := normalizePhone(phone)
	if err != nil {
		p = strings.TrimSpace(phone)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ct := s.st.contactByPhone(p)
	if ct == nil {
		return Conversation{}, false
	}
	return s.conversationView(ct.conv), true
}

// Conversations returns snapshots of every conversation, in creation order.
func (s *Server) Conversations() []Conversation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Conversation, 0, len(s.st.convs))
	for _, cv := range s.st.convs {
		out = append(out, s.conversationView(cv))
	}
	return out
}

package velaflowstest

import (
	"maps"
	"net/url"
	"slices"
	"testing"
	"time"
)

// A Request is one API request as the server received it. The token is
// never stored: only whether authentication passed, why it failed, and
// the token's 16-character "visible prefix" (the part the
// dashboard shows) when the token was valid.
type Request struct {
	Method        string     `json:"method"`
	Path          string     `json:"path"`                // without the prefix; the full path if outside it
	Route         string     `json:"route,omitempty"`     // matched route key, such as "GET /crm/leads/{id}"
	RawQuery      string     `json:"rawQuery"`            // exactly as sent
	Query         url.Values `json:"query"`               // parsed
	TokenPrefix   string     `json:"tokenPrefix"`         // first 16 characters of a valid token
	Authenticated bool       `json:"authenticated"`       // token and workspace passed
	AuthError     string     `json:"authError,omitempty"` // why authentication or the workspace check failed
	WorkspaceID   string     `json:"workspaceId"`         // x-workspace-id as sent
	ContentType   string     `json:"contentType"`
	UserAgent     string     `json:"userAgent"`
	Body          []byte     `json:"-"`
	Status        int        `json:"status"`              // 0 when the connection was reset
	ErrorCode     string     `json:"errorCode,omitempty"` // error.code of an error answer
	Fault         string     `json:"fault,omitempty"`     // the injected fault that hit this request
	Time          time.Time  `json:"time"`                // server clock when it arrived
}

func (r Request) clone() Request {
	r.Body = slices.Clone(r.Body)
	r.Query = maps.Clone(r.Query)
	for k, v := range r.Query {
		r.Query[k] = slices.Clone(v)
	}
	return r
}

// A SentMessage is a message the bot (an API client) sent into a
// conversation with POST /inbox/conversations/{id}/messages.
type SentMessage struct {
	ConversationID string    `json:"conversationId"`
	MessageID      string    `json:"messageId"`
	Content        string    `json:"content"`
	Type           string    `json:"type"`
	Field          string    `json:"field"` // the body field that carried the text: "content" (Python examples) or "text" (alias)
	ChannelType    string    `json:"channelType"`
	TokenPrefix    string    `json:"tokenPrefix"`
	Time           time.Time `json:"time"`
}

// A Message is a read-only view of a message in a conversation.
type Message struct {
	ID         string    `json:"_id"`
	Type       string    `json:"type"`
	Text       string    `json:"text"`
	Direction  string    `json:"direction"`  // inbound or outbound
	SenderType string    `json:"senderType"` // contact, agent or bot
	SenderName string    `json:"senderName"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"createdAt"`
}

// A Conversation is a read-only view of a conversation with all its
// messages, oldest first.
type Conversation struct {
	ID                string    `json:"_id"`
	ChannelType       string    `json:"channelType"`
	Status            string    `json:"status"`
	Priority          string    `json:"priority"`
	CustomerID        string    `json:"customerId"`
	ContactName       string    `json:"contactName"`
	ContactPhone      string    `json:"contactPhone"`
	ContactEmail      string    `json:"contactEmail"`
	AssignedAgentID   string    `json:"assignedAgentId"` // "" when unassigned
	AssignedAgentName string    `json:"assignedAgentName"`
	Tags              []string  `json:"tags"`
	CreatedAt         time.Time `json:"createdAt"`
	UpdatedAt         time.Time `json:"updatedAt"`
	LastMessageAt     time.Time `json:"lastMessageAt"` // zero without messages
	Messages          []Message `json:"messages"`
}

func (s *Server) conversationView(cv *conversation) Conversation {
	v := Conversation{
		ID: cv.id, ChannelType: cv.channel, Status: cv.status, Priority: cv.priority, CustomerID: cv.cust.id,
		ContactName: cv.cust.fullName(), ContactPhone: cv.cust.phone, ContactEmail: cv.cust.email,
		AssignedAgentID: cv.agentID, Tags: nonNil(cv.tags), CreatedAt: cv.created, UpdatedAt: cv.updated,
		LastMessageAt: cv.lastMsg, Messages: make([]Message, 0, len(cv.msgs)),
	}
	if a := s.st.agent(cv.agentID); a != nil {
		v.AssignedAgentName = a.name
	}
	for _, m := range cv.msgs {
		v.Messages = append(v.Messages, Message{
			ID: m.id, Type: m.typ, Text: m.text, Direction: m.direction, SenderType: m.senderType,
			SenderName: m.senderName, Status: m.status, CreatedAt: m.created,
		})
	}
	return v
}

// Requests returns every API request answered so far (not "/_sim/" ones),
// in the order they were answered. A request is recorded before its answer
// goes out, so a client that has an answer finds its request here.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = r.clone()
	}
	return out
}

// Sent returns every message sent through the API so far, in order.
func (s *Server) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
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
			tb.Fatalf("velaflowstest: waited %v for %d sent messages, got %d", s.cfg.waitTimeout, n, have)
			return nil
		}
	}
}

// Conversation returns a snapshot of the conversation with the given ID
// (bare, or with "conv_" under [WithPrefixedIDs]).
func (s *Server) Conversation(id string) (Conversation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.st.convByID[s.conversationKey(id)]
	if cv == nil {
		return Conversation{}, false
	}
	return s.conversationView(cv), true
}

// Conversations returns snapshots of every conversation, in creation
// order.
func (s *Server) Conversations() []Conversation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Conversation, 0, len(s.st.convs))
	for _, cv := range s.st.convs {
		out = append(out, s.conversationView(cv))
	}
	return out
}

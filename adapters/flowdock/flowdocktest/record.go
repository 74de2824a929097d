package flowdocktest

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// A Request is one request as the server received it: REST, stream or file
// download (never "/_sim/"). Tokens are never stored: access_token and
// flow_token values in RawQuery are replaced by "REDACTED". Body is the
// request body verbatim (multipart bodies are not kept).
type Request struct {
	Host          string    `json:"host"` // "api", "stream" or "files"
	Method        string    `json:"method"`
	Path          string    `json:"path"` // without the /api or /stream prefix
	RawQuery      string    `json:"raw_query"`
	Auth          string    `json:"auth"` // "basic", "email", "bearer", "access_token", "flow_token", "unknown" or "" (none sent)
	Authorization bool      `json:"authorization"`
	Authenticated bool      `json:"authenticated"`
	User          int       `json:"user"` // authenticated user id; 0 for none and for flow_token
	ContentType   string    `json:"content_type"`
	Accept        string    `json:"accept"`
	UserAgent     string    `json:"user_agent"`
	LastEventID   string    `json:"last_event_id,omitempty"`
	Stream        bool      `json:"stream"`
	Body          []byte    `json:"-"`
	Status        int       `json:"status"`
	Fault         string    `json:"fault,omitempty"` // the injected fault that answered this request
	Time          time.Time `json:"time"`
}

// A SentMessage is a message the bot posted through the REST API with its
// own token (flow message, thread reply, comment, status, file or private
// message). Edits, tag changes and deletes are not sends; see
// [Server.Requests] and [Server.Messages].
type SentMessage struct {
	Flow      string    `json:"flow,omitempty"`       // "org/flow"; "" for a private message
	FlowID    string    `json:"flow_id,omitempty"`    // the flow's opaque id
	PrivateTo int       `json:"private_to,omitempty"` // recipient of a private message
	Event     string    `json:"event"`                // message, comment, status or file
	Content   string    `json:"content"`              // the text; a file's name
	ThreadID  string    `json:"thread_id,omitempty"`
	Tags      []string  `json:"tags"` // as stored, meta tags included
	UUID      string    `json:"uuid,omitempty"`
	ID        int       `json:"id"`       // message id within the flow or private chat
	Endpoint  string    `json:"endpoint"` // e.g. "/flows/:org/:flow/messages"
	Time      time.Time `json:"time"`
}

// A Message is a read-only view of a stored message.
type Message struct {
	ID       int       `json:"id"`
	Event    string    `json:"event"`
	Flow     string    `json:"flow,omitempty"`    // "org/flow"; "" for a private message
	FlowID   string    `json:"flow_id,omitempty"` // opaque flow id
	To       int       `json:"to,omitempty"`      // private messages: the recipient
	User     int       `json:"user"`              // author; 0 for integrations and anonymous posts
	Content  string    `json:"content"`           // text; comment text; file name
	Title    string    `json:"title,omitempty"`   // activity and discussion
	Body     string    `json:"body,omitempty"`    // activity and discussion
	Tags     []string  `json:"tags"`
	UUID     string    `json:"uuid,omitempty"`
	ThreadID string    `json:"thread_id,omitempty"`
	Sent     time.Time `json:"sent"`
	Edited   bool      `json:"edited"`
	// JSON is the message as the REST API would return it now.
	JSON json.RawMessage `json:"json"`
}

func (s *Server) messageViewLocked(m *message) Message {
	v := Message{ID: m.id, Event: m.event, To: m.to, User: m.user, Content: m.text, Title: m.title,
		Tags: slices.Clone(m.tags), UUID: m.uuid, Sent: m.sent, Edited: !m.edited.IsZero()}
	if m.flow != nil {
		v.Flow, v.FlowID = m.flow.path(), m.flow.id
	}
	if m.body != nil {
		v.Body = *m.body
	}
	if m.file != nil {
		v.Content = m.file.name
	}
	if m.thread != nil {
		v.ThreadID = m.thread.id
	}
	v.JSON, _ = json.Marshal(s.messageJSONLocked(m))
	return v
}

func (s *Server) addSentLocked(m *message, endpoint string) {
	sm := SentMessage{Event: m.event, Content: m.text, Tags: slices.Clone(m.tags), UUID: m.uuid, ID: m.id,
		Endpoint: endpoint, Time: m.sent}
	if m.flow != nil {
		sm.Flow, sm.FlowID = m.flow.path(), m.flow.id
	} else {
		sm.PrivateTo = m.to
	}
	if m.file != nil {
		sm.Content = m.file.name
	}
	if m.thread != nil {
		sm.ThreadID = m.thread.id
	}
	s.sent = append(s.sent, sm)
	close(s.sentCh)
	s.sentCh = make(chan struct{})
}

// Requests returns every request received so far (REST, stream, file
// downloads; not "/_sim/"), in the order they were answered. A request is
// recorded before its answer goes out (a stream when its response headers
// are sent), so a client that has an answer finds its request here.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.requests)
	for i := range out {
		out[i].Body = slices.Clone(out[i].Body)
	}
	return out
}

// Sent returns every message the bot has posted so far, in order.
func (s *Server) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.sent)
	for i := range out {
		out[i].Tags = slices.Clone(out[i].Tags)
	}
	return out
}

// IntegrationPosts returns every post made through the REST API with a
// flow token so far (activities, discussions and chat messages), in
// order, each as it was when posted: its JSON holds the thread (title,
// status, fields) of that moment, which a later post of the same item
// changes. The posts of [Server.Present] and the demo data are not among
// them, nor are the bot's posts with its own token ([Server.Sent]).
func (s *Server) IntegrationPosts() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.integration)
	for i := range out {
		out[i].Tags = slices.Clone(out[i].Tags)
		out[i].JSON = slices.Clone(out[i].JSON)
	}
	return out
}

// WaitSent waits until the bot has posted at least n messages and returns
// them all, or fails tb after the wait timeout ([WithWaitTimeout]). Call
// it from the test goroutine.
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
			tb.Fatalf("flowdocktest: waited %v for %d sent messages, got %d", s.cfg.waitTimeout, n, have)
			return nil
		}
	}
}

// Messages returns the messages of the flow given as "org/flow" or flow id,
// oldest first: every message, comment, status, file, activity and
// discussion, including truncated (deleted) chat messages, excluding fully
// deleted files and integration items and the message-edit and tag-change
// events. It returns nil for an unknown flow.
func (s *Server) Messages(flowRef string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flowRefLocked(flowRef)
	if f == nil {
		return nil
	}
	return s.viewsLocked(f.msgs)
}

// PrivateMessages returns the private messages between the bot and the
// user given as id or nick, oldest first, like [Server.Messages].
func (s *Server) PrivateMessages(userRef string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userRefLocked(userRef)
	if u == nil {
		return nil
	}
	c := s.chatLocked(s.bot.id, u.id, false)
	if c == nil {
		return []Message{}
	}
	return s.viewsLocked(c.msgs)
}

func (s *Server) viewsLocked(ms []*message) []Message {
	out := []Message{}
	for _, m := range ms {
		if !m.removed && listedByDefault(m.event) {
			out = append(out, s.messageViewLocked(m))
		}
	}
	return out
}

package velaflowstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// ErrNotFound is wrapped by the simulation methods when a conversation does
// not exist.
var ErrNotFound = errors.New("velaflowstest: not found")

// customerMessage stores an inbound message; see CustomerMessage.
func (s *Server) customerMessage(channelType, name, contact, text string) (string, string, error) {
	contact, name = strings.TrimSpace(contact), strings.TrimSpace(name)
	switch {
	case !slices.Contains(channelTypes, channelType):
		return "", "", fmt.Errorf("channelType must be one of %s, got %q", strings.Join(channelTypes, ", "), channelType)
	case contact == "":
		return "", "", errors.New("contact (phone, email or handle) is required")
	case strings.TrimSpace(text) == "":
		return "", "", errors.New("text is required")
	case utf8.RuneCountInString(text) > maxTextLen:
		return "", "", fmt.Errorf("text is longer than %d characters", maxTextLen)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	cu := s.st.customerByContact(contact)
	newCustomer := cu == nil
	if newCustomer {
		first, last, _ := strings.Cut(name, " ")
		if first == "" {
			first = contact
		}
		cu = &customer{id: s.st.ids.next(now), firstName: first, lastName: strings.TrimSpace(last), tags: []string{}, created: now, updated: now}
		switch {
		case emailRE.MatchString(contact):
			cu.email = contact
		case phoneRE.MatchString(contact):
			cu.phone = contact
		default:
			cu.handle = contact
		}
		s.st.addCustomer(cu)
		s.emitCustomerLocked(EventCustomerCreated, cu)
	}
	var cv *conversation
	for i := len(s.st.convs) - 1; i >= 0; i-- {
		if c := s.st.convs[i]; c.cust == cu && c.channel == channelType {
			cv = c
			break
		}
	}
	created := cv == nil
	if created {
		cv = &conversation{id: s.st.ids.next(now), channel: channelType, status: "open", priority: "normal", cust: cu, tags: []string{}, created: now, updated: now}
		s.st.addConversation(cv)
	} else if cv.status == "closed" || cv.status == "snoozed" {
		s.setStatusLocked(cv, "open")
	}
	m := &message{
		id: s.st.ids.next(now), typ: "text", text: text, direction: "inbound", senderType: "contact",
		senderName: cu.fullName(), senderPhone: cu.phone, senderEmail: cu.email, status: "received", created: now,
	}
	s.st.addMessage(cv, m)
	if created {
		s.emitConversationLocked(EventConversationCreated, cv, nil)
	}
	s.emitMessageLocked(EventMessageReceived, cv, m)
	return cv.id, m.id, nil
}

// CustomerMessage acts as a customer writing to the workspace on a channel
// (whatsapp, instagram, messenger, telegram, email, webchat or sms).
// contact identifies the customer: a phone number (+E.164), an email
// address, or any other handle. On first contact it creates the customer
// (named customerName) and emits customer.created; it reuses the
// customer's latest conversation on that channel, creating one (and
// emitting conversation.created) if there is none, and reopening a closed
// or snoozed one (emitting conversation.status_changed and
// conversation.reopened). It stores the inbound message and emits
// conversation.message.received. It panics on invalid input, which is a
// mistake in the test.
func (s *Server) CustomerMessage(channelType, customerName, contact, text string) (conversationID, messageID string) {
	cid, mid, err := s.customerMessage(channelType, customerName, contact, text)
	if err != nil {
		panic("velaflowstest: CustomerMessage: " + err.Error())
	}
	return cid, mid
}

// agentLocked finds or invents the agent called name: "" is the first
// known agent; an unknown name gets a stable ID derived from it.
func (s *Server) agentLocked(name string) *agent {
	name = strings.TrimSpace(name)
	if a := s.st.agentByName(name); a != nil {
		return a
	}
	if name == "" {
		if len(s.st.agents) > 0 {
			return s.st.agents[0]
		}
		name = "Agent"
	}
	a := &agent{id: agentIDFor(name), name: name}
	s.st.agents = append(s.st.agents, a)
	return a
}

func (s *Server) simConversation(op, id string, f func(cv *conversation) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.st.convByID[s.conversationKey(id)]
	if cv == nil {
		return fmt.Errorf("velaflowstest: %s: conversation %s: %w", op, id, ErrNotFound)
	}
	return f(cv)
}

// Assign acts as the dashboard assigning the conversation to the agent
// called agentName ("" is the first demo agent; an unknown name becomes a
// new agent with a stable ID). It emits conversation.assigned if the
// assignee changed. It returns an error wrapping [ErrNotFound] for an
// unknown conversation.
func (s *Server) Assign(conversationID, agentName string) error {
	return s.simConversation("Assign", conversationID, func(cv *conversation) error {
		s.setAgentLocked(cv, s.agentLocked(agentName).id)
		return nil
	})
}

// Unassign removes the conversation's agent and emits
// conversation.unassigned if it had one.
func (s *Server) Unassign(conversationID string) error {
	return s.simConversation("Unassign", conversationID, func(cv *conversation) error {
		s.setAgentLocked(cv, "")
		return nil
	})
}

// CloseConversation closes the conversation, as an agent would in the
// dashboard, and emits conversation.status_changed and
// conversation.closed if it was not closed. (Close without arguments stops
// the server.)
func (s *Server) CloseConversation(conversationID string) error {
	return s.SetStatus(conversationID, "closed")
}

// ReopenConversation sets a closed conversation back to open and emits
// conversation.status_changed and conversation.reopened.
func (s *Server) ReopenConversation(conversationID string) error {
	return s.SetStatus(conversationID, "open")
}

// SetStatus sets the conversation's status (open, pending, snoozed or
// closed) and emits the status events if it changed.
func (s *Server) SetStatus(conversationID, status string) error {
	if !slices.Contains(conversationStatuses, status) {
		return fmt.Errorf("velaflowstest: SetStatus: status must be one of %s, got %q", strings.Join(conversationStatuses, ", "), status)
	}
	return s.simConversation("SetStatus", conversationID, func(cv *conversation) error {
		s.setStatusLocked(cv, status)
		return nil
	})
}

// AgentMessage acts as a human agent answering from the dashboard: it
// stores an outbound message by the agent called agentName and emits
// conversation.message.sent. It does not change the assignment. It
// returns the message ID.
func (s *Server) AgentMessage(conversationID, agentName, text string) (string, error) {
	if strings.TrimSpace(text) == "" {
		return "", errors.New("velaflowstest: AgentMessage: empty text")
	}
	var id string
	err := s.simConversation("AgentMessage", conversationID, func(cv *conversation) error {
		if cv.status == "closed" {
			return fmt.Errorf("velaflowstest: AgentMessage: conversation %s is closed", cv.id)
		}
		now := s.now()
		a := s.agentLocked(agentName)
		m := &message{id: s.st.ids.next(now), typ: "text", text: text, direction: "outbound", senderType: "agent", senderName: a.name, status: "sent", created: now}
		s.st.addMessage(cv, m)
		s.emitMessageLocked(EventMessageSent, cv, m)
		id = m.id
		return nil
	})
	return id, err
}

// serveSim serves the control endpoints under "/_sim/". They need no
// authentication, never consume faults, are not rate limited and are not
// recorded in [Server.Requests].
func (s *Server) serveSim(w http.ResponseWriter, r *http.Request) {
	if why := foreignPage(r); why != "" {
		http.Error(w, "the emulator's controls refuse this request: "+why, http.StatusForbidden)
		return
	}
	type endpoint struct {
		method string
		serve  func(b []byte) (any, error)
	}
	get := func(f func() any) func([]byte) (any, error) { return func([]byte) (any, error) { return f(), nil } }
	eps := map[string]endpoint{
		"/_sim/customer":      {http.MethodPost, s.simCustomer},
		"/_sim/assign":        {http.MethodPost, s.simAssign},
		"/_sim/unassign":      {http.MethodPost, s.simStatusOp(func(id string) error { return s.Unassign(id) })},
		"/_sim/close":         {http.MethodPost, s.simStatusOp(s.CloseConversation)},
		"/_sim/reopen":        {http.MethodPost, s.simStatusOp(s.ReopenConversation)},
		"/_sim/agent":         {http.MethodPost, s.simAgent},
		"/_sim/leads":         {http.MethodPost, s.simLeads},
		"/_sim/sent":          {http.MethodGet, get(func() any { return s.Sent() })},
		"/_sim/conversations": {http.MethodGet, get(func() any { return s.Conversations() })},
		"/_sim/events":        {http.MethodGet, get(func() any { return s.Events() })},
		"/_sim/deliveries":    {http.MethodGet, get(func() any { return s.Deliveries() })},
		"/_sim/subscriptions": {http.MethodGet, get(func() any { return s.Subscriptions() })},
		"/_sim/requests":      {http.MethodGet, get(func() any { return s.Requests() })},
		"/_sim/":              {http.MethodGet, get(s.simIndex)},
	}
	p := r.URL.Path
	if p == "/_sim" {
		p = "/_sim/"
	}
	ep, ok := eps[p]
	if !ok {
		writeAPIError(w, &apiError{status: http.StatusNotFound, code: codeNotFound, message: "No control endpoint " + r.URL.Path})
		return
	}
	if r.Method != ep.method {
		writeAPIError(w, &apiError{status: http.StatusMethodNotAllowed, code: codeMethodNotAllowed, allow: ep.method,
			message: fmt.Sprintf("%s needs %s, got %s", p, ep.method, r.Method)})
		return
	}
	var b []byte
	if ep.method == http.MethodPost {
		var err error
		if b, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody)); err != nil {
			writeAPIError(w, badRequest("Cannot read body: %v", err))
			return
		}
	}
	out, err := ep.serve(b)
	if err != nil {
		e := &apiError{status: s.cfg.validationStatus, code: codeValidation, message: err.Error()}
		if errors.Is(err, ErrNotFound) {
			e.status, e.code = http.StatusNotFound, codeNotFound
		}
		writeAPIError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, wireSuccess{Success: true, Data: out})
}

// decodeSim decodes a control body strictly: unknown fields are errors.
func decodeSim(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %v", err)
	}
	return nil
}

func (s *Server) simCustomer(b []byte) (any, error) {
	var in struct {
		ChannelType string `json:"channelType"`
		Name        string `json:"name"`
		Contact     string `json:"contact"`
		Text        string `json:"text"`
	}
	if err := decodeSim(b, &in); err != nil {
		return nil, err
	}
	cid, mid, err := s.customerMessage(in.ChannelType, in.Name, in.Contact, in.Text)
	if err != nil {
		return nil, err
	}
	return map[string]string{"conversationId": cid, "messageId": mid}, nil
}

func (s *Server) simAssign(b []byte) (any, error) {
	var in struct {
		ConversationID string `json:"conversationId"`
		Agent          string `json:"agent"`
	}
	if err := decodeSim(b, &in); err != nil {
		return nil, err
	}
	if err := s.Assign(in.ConversationID, in.Agent); err != nil {
		return nil, err
	}
	cv, _ := s.Conversation(in.ConversationID)
	return map[string]string{"conversationId": cv.ID, "assignedAgentId": cv.AssignedAgentID, "assignedAgentName": cv.AssignedAgentName}, nil
}

func (s *Server) simStatusOp(op func(id string) error) func([]byte) (any, error) {
	return func(b []byte) (any, error) {
		var in struct {
			ConversationID string `json:"conversationId"`
		}
		if err := decodeSim(b, &in); err != nil {
			return nil, err
		}
		if err := op(in.ConversationID); err != nil {
			return nil, err
		}
		cv, _ := s.Conversation(in.ConversationID)
		return map[string]any{"conversationId": cv.ID, "status": cv.Status, "assignedAgentId": strPtr(cv.AssignedAgentID)}, nil
	}
}

func (s *Server) simAgent(b []byte) (any, error) {
	var in struct {
		ConversationID string `json:"conversationId"`
		Agent          string `json:"agent"`
		Text           string `json:"text"`
	}
	if err := decodeSim(b, &in); err != nil {
		return nil, err
	}
	id, err := s.AgentMessage(in.ConversationID, in.Agent, in.Text)
	if err != nil {
		return nil, err
	}
	return map[string]string{"conversationId": in.ConversationID, "messageId": id}, nil
}

func (s *Server) simLeads(b []byte) (any, error) {
	var in struct {
		Count int `json:"count"`
	}
	if err := decodeSim(b, &in); err != nil {
		return nil, err
	}
	if in.Count < 1 || in.Count > 1_000_000 {
		return nil, fmt.Errorf("count must be between 1 and 1000000, got %d", in.Count)
	}
	s.AddLeads(in.Count)
	s.mu.Lock()
	total := len(s.st.leads)
	s.mu.Unlock()
	return map[string]int{"added": in.Count, "total": total}, nil
}

func (s *Server) simIndex() any {
	out := map[string]any{
		"baseUrl":     s.URL(),
		"workspaceId": s.cfg.workspaceID,
		"endpoints": []string{
			"POST /_sim/customer {channelType, name, contact, text}",
			"POST /_sim/assign {conversationId, agent}",
			"POST /_sim/unassign {conversationId}",
			"POST /_sim/close {conversationId}",
			"POST /_sim/reopen {conversationId}",
			"POST /_sim/agent {conversationId, agent, text}",
			"POST /_sim/leads {count}",
			"GET /_sim/sent", "GET /_sim/conversations", "GET /_sim/events",
			"GET /_sim/deliveries", "GET /_sim/subscriptions", "GET /_sim/requests",
		},
	}
	if s.account != "" {
		out["account"] = s.account
	}
	return out
}

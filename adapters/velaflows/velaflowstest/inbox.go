package velaflowstest

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"
)

// sortItems sorts by a time key (or a string key when key returns a zero
// time) with the ID as tie-breaker, ascending or descending.
func sortItems[T any](items []T, desc bool, cmpKey func(a, b T) int, id func(T) string) {
	slices.SortStableFunc(items, func(a, b T) int {
		c := cmpKey(a, b)
		if c == 0 {
			c = cmp.Compare(id(a), id(b))
		}
		if desc {
			return -c
		}
		return c
	})
}

func cmpTime(a, b time.Time) int { return a.Compare(b) }

func (s *Server) conversationLocked(c *call) (*conversation, *apiError) {
	id := c.params["id"]
	cv := s.st.convByID[s.conversationKey(id)]
	if cv == nil {
		return nil, notFound("Conversation", id)
	}
	return cv, nil
}

func (s *Server) listConversations(c *call) (int, any, *apiError) {
	p, e := s.parsePage(c.query, []string{"createdAt", "updatedAt", "lastMessageAt"}, true)
	if e != nil {
		return 0, nil, e
	}
	status, _ := queryValue(c.query, "status")
	channel, _ := queryValue(c.query, "channelType")
	if channel == "" {
		channel, _ = queryValue(c.query, "channel")
	}
	agentID, _ := queryValue(c.query, "assignedAgentId")
	customerID, _ := queryValue(c.query, "customerId")
	search, _ := queryValue(c.query, "search")
	search = strings.ToLower(search)

	s.mu.Lock()
	defer s.mu.Unlock()
	var items []*conversation
	for _, cv := range s.st.convs {
		switch {
		case status != "" && cv.status != status,
			channel != "" && cv.channel != channel,
			agentID != "" && cv.agentID != agentID,
			customerID != "" && cv.cust.id != customerID,
			search != "" && !conversationMatches(cv, search):
			continue
		}
		items = append(items, cv)
	}
	key := func(cv *conversation) time.Time {
		switch p.sortBy {
		case "updatedAt":
			return cv.updated
		case "lastMessageAt":
			if cv.lastMsg.IsZero() {
				return cv.created
			}
			return cv.lastMsg
		}
		return cv.created
	}
	sortItems(items, p.desc, func(a, b *conversation) int { return cmpTime(key(a), key(b)) }, func(cv *conversation) string { return cv.id })
	return http.StatusOK, paginate(items, p, func(cv *conversation) wireConversation { return s.conversationWire(cv, false) }), nil
}

func conversationMatches(cv *conversation, q string) bool {
	for _, f := range []string{cv.cust.fullName(), cv.cust.phone, cv.cust.email, cv.cust.handle} {
		if f != "" && strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	for _, m := range cv.msgs {
		if strings.Contains(strings.ToLower(m.text), q) {
			return true
		}
	}
	return false
}

func (s *Server) getConversation(c *call) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv, e := s.conversationLocked(c)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, map[string]any{"conversation": s.conversationWire(cv, false)}, nil
}

// patchConversation applies {status, assignedAgentId, priority} (not
// documented; assumed) and emits the matching events.
func (s *Server) patchConversation(c *call) (int, any, *apiError) {
	b := c.body
	b.only("status", "assignedAgentId", "priority")
	status, hasStatus := b.str("status")
	if hasStatus && !slices.Contains(conversationStatuses, status) {
		b.fail("status", "status must be one of "+strings.Join(conversationStatuses, ", "))
	}
	agentID, hasAgent := b.nullableStr("assignedAgentId")
	if agentID != nil && !isObjectID(*agentID) {
		b.fail("assignedAgentId", "assignedAgentId must be an agent ID (24 hex characters) or null")
	}
	priority, hasPriority := b.str("priority")
	if hasPriority && !slices.Contains(priorities, priority) {
		b.fail("priority", "priority must be one of "+strings.Join(priorities, ", "))
	}
	if len(b.errs) > 0 {
		return 0, nil, s.validationError(b.errs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cv, e := s.conversationLocked(c)
	if e != nil {
		return 0, nil, e
	}
	if hasPriority && priority != cv.priority {
		cv.priority, cv.updated = priority, c.now
	}
	if hasAgent {
		id := ""
		if agentID != nil {
			id = strings.ToLower(*agentID)
		}
		s.setAgentLocked(cv, id)
	}
	if hasStatus {
		s.setStatusLocked(cv, status)
	}
	return http.StatusOK, map[string]any{"conversation": s.conversationWire(cv, false)}, nil
}

func (s *Server) assignConversation(c *call) (int, any, *apiError) {
	b := c.body
	b.only("assignedAgentId")
	id := b.requiredStr("assignedAgentId")
	if id != "" && !isObjectID(id) {
		b.fail("assignedAgentId", "assignedAgentId must be an agent ID (24 hex characters)")
	}
	if len(b.errs) > 0 {
		return 0, nil, s.validationError(b.errs)
	}
	return s.conversationAction(c, func(cv *conversation) { s.setAgentLocked(cv, strings.ToLower(id)) })
}

func (s *Server) unassignConversation(c *call) (int, any, *apiError) {
	return s.emptyBodyAction(c, func(cv *conversation) { s.setAgentLocked(cv, "") })
}

func (s *Server) closeConversation(c *call) (int, any, *apiError) {
	return s.emptyBodyAction(c, func(cv *conversation) { s.setStatusLocked(cv, "closed") })
}

func (s *Server) reopenConversation(c *call) (int, any, *apiError) {
	return s.emptyBodyAction(c, func(cv *conversation) { s.setStatusLocked(cv, "open") })
}

func (s *Server) emptyBodyAction(c *call, f func(*conversation)) (int, any, *apiError) {
	c.body.only()
	if len(c.body.errs) > 0 {
		return 0, nil, s.validationError(c.body.errs)
	}
	return s.conversationAction(c, f)
}

func (s *Server) conversationAction(c *call, f func(*conversation)) (int, any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cv, e := s.conversationLocked(c)
	if e != nil {
		return 0, nil, e
	}
	f(cv)
	return http.StatusOK, map[string]any{"conversation": s.conversationWire(cv, false)}, nil
}

// setAgentLocked assigns cv to agentID ("" unassigns) and emits
// conversation.assigned or conversation.unassigned if it changed.
func (s *Server) setAgentLocked(cv *conversation, agentID string) {
	prev := cv.agentID
	if prev == agentID {
		return
	}
	cv.agentID, cv.updated = agentID, s.now()
	if agentID == "" {
		s.emitConversationLocked(EventConversationUnassigned, cv, map[string]any{"previousAgentId": prev})
		return
	}
	agentObj := map[string]any{"_id": agentID, "name": nil}
	if a := s.st.agent(agentID); a != nil {
		agentObj["name"] = a.name
	}
	s.emitConversationLocked(EventConversationAssigned, cv, map[string]any{
		"assignedAgentId": agentID, "previousAgentId": strPtr(prev), "agent": agentObj,
	})
}

// setStatusLocked changes cv's status and emits
// conversation.status_changed, plus conversation.closed when it becomes
// closed or conversation.reopened when it leaves closed.
func (s *Server) setStatusLocked(cv *conversation, status string) {
	prev := cv.status
	if prev == status {
		return
	}
	cv.status, cv.updated = status, s.now()
	if status == "closed" {
		cv.unread = 0
	}
	s.emitConversationLocked(EventConversationStatusChanged, cv, map[string]any{"status": status, "previousStatus": prev})
	switch {
	case status == "closed":
		s.emitConversationLocked(EventConversationClosed, cv, nil)
	case prev == "closed":
		s.emitConversationLocked(EventConversationReopened, cv, nil)
	}
}

func (s *Server) listMessages(c *call) (int, any, *apiError) {
	p, e := s.parsePage(c.query, []string{"createdAt"}, true)
	if e != nil {
		return 0, nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cv, e := s.conversationLocked(c)
	if e != nil {
		return 0, nil, e
	}
	items := slices.Clone(cv.msgs)
	sortItems(items, p.desc, func(a, b *message) int { return cmpTime(a.created, b.created) }, func(m *message) string { return m.id })
	return http.StatusOK, paginate(items, p, func(m *message) wireMessage { return s.messageWire(cv, m, false) }), nil
}

// sendMessage is POST /inbox/conversations/{id}/messages. The body is the
// {"content","type"} of VelaFlows' Python examples; "text" is accepted as
// an alias of "content" (the docs pages' form, assumed; the examples'
// form comes first).
func (s *Server) sendMessage(c *call) (int, any, *apiError) {
	b := c.body
	b.only("content", "text", "type")
	typ, hasType := b.str("type")
	switch {
	case !hasType && !b.has("type"):
		b.fail("type", "type is required")
	case hasType && typ != "text":
		b.fail("type", "Unsupported message type "+typ+": only text is supported")
	}
	content, hasContent := b.str("content")
	text, hasText := b.str("text")
	field := "content"
	switch {
	case hasContent && hasText && content != text:
		b.fail("text", "text is an alias of content; send one of them")
	case !hasContent && hasText:
		content, field = text, "text"
	case !hasContent && !b.has("content") && !b.has("text"):
		b.fail("content", "content is required")
	}
	if (hasContent || hasText) && strings.TrimSpace(content) == "" {
		b.fail(field, field+" must not be empty")
	}
	b.checkLen(field, content, maxTextLen)
	if len(b.errs) > 0 {
		return 0, nil, s.validationError(b.errs)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	cv, e := s.conversationLocked(c)
	if e != nil {
		return 0, nil, e
	}
	if cv.status == "closed" {
		return 0, nil, conflict("Conversation %s is closed", cv.id)
	}
	m := &message{
		id: s.st.ids.next(c.now), typ: "text", text: content, direction: "outbound",
		senderType: "agent", status: "sent", created: c.now,
	}
	s.st.addMessage(cv, m)
	s.sent = append(s.sent, SentMessage{
		ConversationID: cv.id, MessageID: m.id, Content: content, Type: "text", Field: field,
		ChannelType: cv.channel, TokenPrefix: visiblePrefix(c.token.token), Time: c.now,
	})
	close(s.sentCh)
	s.sentCh = make(chan struct{})
	s.emitMessageLocked(EventMessageSent, cv, m)
	return http.StatusCreated, map[string]any{"message": s.messageWire(cv, m, false)}, nil
}

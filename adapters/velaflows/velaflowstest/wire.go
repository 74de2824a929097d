package velaflowstest

import (
	"slices"
	"time"
)

// Wire objects. Field names are the documented ones, literally; keys are always
// present (null when there is no value), so a client can index them
// without a default.

type wireConversation struct {
	ID              string   `json:"_id"`
	WorkspaceID     string   `json:"workspaceId"`
	ChannelType     string   `json:"channelType"`
	Channel         string   `json:"channel"`
	Status          string   `json:"status"`
	Priority        string   `json:"priority"`
	ContactName     string   `json:"contactName"`
	ContactPhone    *string  `json:"contactPhone"`
	ContactEmail    *string  `json:"contactEmail"`
	CustomerID      string   `json:"customerId"`
	AssignedAgentID *string  `json:"assignedAgentId"`
	Tags            []string `json:"tags"`
	UnreadCount     int      `json:"unreadCount"`
	LastMessageAt   *string  `json:"lastMessageAt"`
	CreatedAt       string   `json:"createdAt"`
	UpdatedAt       string   `json:"updatedAt"`
}

type wireSender struct {
	Type  string  `json:"type"`
	Name  *string `json:"name"`
	Phone *string `json:"phone,omitempty"`
	Email *string `json:"email,omitempty"`
}

type wireMessage struct {
	ID             string     `json:"_id"`
	ConversationID string     `json:"conversationId"`
	Type           string     `json:"type"`
	Text           string     `json:"text"`
	Content        string     `json:"content"`
	Direction      string     `json:"direction"`
	Sender         wireSender `json:"sender"`
	Channel        string     `json:"channel"`
	Status         string     `json:"status"`
	CreatedAt      string     `json:"createdAt"`
}

type wireLead struct {
	ID         string   `json:"_id"`
	FirstName  string   `json:"firstName"`
	LastName   *string  `json:"lastName"`
	Email      *string  `json:"email"`
	Phone      *string  `json:"phone"`
	Status     string   `json:"status"`
	PipelineID *string  `json:"pipelineId"`
	StageID    *string  `json:"stageId"`
	Source     *string  `json:"source"`
	Value      *float64 `json:"value"`
	CustomerID *string  `json:"customerId"`
	Tags       []string `json:"tags"`
	CreatedAt  string   `json:"createdAt"`
	UpdatedAt  string   `json:"updatedAt"`
}

type wireCustomer struct {
	ID        string   `json:"_id"`
	FirstName string   `json:"firstName"`
	LastName  *string  `json:"lastName"`
	Name      string   `json:"name"`
	Email     *string  `json:"email"`
	Phone     *string  `json:"phone"`
	Tags      []string `json:"tags"`
	CreatedAt string   `json:"createdAt"`
	UpdatedAt string   `json:"updatedAt"`
}

type wireStage struct {
	ID    string `json:"_id"`
	Name  string `json:"name"`
	Order int    `json:"order"`
}

type wirePipeline struct {
	ID        string      `json:"_id"`
	Name      string      `json:"name"`
	Stages    []wireStage `json:"stages"`
	CreatedAt string      `json:"createdAt"`
}

type wireTag struct {
	ID         string `json:"_id"`
	Name       string `json:"name"`
	Color      string `json:"color"`
	EntityType string `json:"entityType"`
	CreatedAt  string `json:"createdAt"`
	UpdatedAt  string `json:"updatedAt"`
}

type wireSubscription struct {
	ID        string   `json:"_id"`
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	Active    bool     `json:"active"`
	CreatedAt string   `json:"createdAt"`
	UpdatedAt string   `json:"updatedAt"`
}

type wireExecution struct {
	ID         string         `json:"_id"`
	WorkflowID string         `json:"workflowId"`
	Status     string         `json:"status"`
	Input      map[string]any `json:"input"`
	CreatedAt  string         `json:"createdAt"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func timePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := formatTime(t)
	return &s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// conversationWire renders cv for REST (webhook false) or for a webhook
// payload (IDs styled per WithPrefixedIDs).
func (s *Server) conversationWire(cv *conversation, webhook bool) wireConversation {
	id, ws := cv.id, s.cfg.workspaceID
	if webhook {
		id, ws = s.webhookID(prefixConversation, id), s.webhookID(prefixWorkspace, ws)
	}
	last := cv.lastMsg
	if last.IsZero() {
		last = cv.created
	}
	return wireConversation{
		ID: id, WorkspaceID: ws, ChannelType: cv.channel, Channel: cv.channel,
		Status: cv.status, Priority: cv.priority,
		ContactName: cv.cust.fullName(), ContactPhone: strPtr(cv.cust.phone), ContactEmail: strPtr(cv.cust.email),
		CustomerID: cv.cust.id, AssignedAgentID: strPtr(cv.agentID), Tags: nonNil(cv.tags),
		UnreadCount: cv.unread, LastMessageAt: timePtr(last),
		CreatedAt: formatTime(cv.created), UpdatedAt: formatTime(cv.updated),
	}
}

func (s *Server) messageWire(cv *conversation, m *message, webhook bool) wireMessage {
	id, cid := m.id, m.convID
	if webhook {
		id, cid = s.webhookID(prefixMessage, id), s.webhookID(prefixConversation, cid)
	}
	return wireMessage{
		ID: id, ConversationID: cid, Type: m.typ, Text: m.text, Content: m.text, Direction: m.direction,
		Sender:  wireSender{Type: m.senderType, Name: strPtr(m.senderName), Phone: strPtr(m.senderPhone), Email: strPtr(m.senderEmail)},
		Channel: cv.channel, Status: m.status, CreatedAt: formatTime(m.created),
	}
}

func leadWire(l *lead) wireLead {
	var value *float64
	if l.value != nil {
		v := *l.value
		value = &v
	}
	return wireLead{
		ID: l.id, FirstName: l.firstName, LastName: strPtr(l.lastName), Email: strPtr(l.email), Phone: strPtr(l.phone),
		Status: l.status, PipelineID: strPtr(l.pipelineID), StageID: strPtr(l.stageID), Source: strPtr(l.source),
		Value: value, CustomerID: strPtr(l.customerID), Tags: nonNil(l.tags),
		CreatedAt: formatTime(l.created), UpdatedAt: formatTime(l.updated),
	}
}

func customerWire(c *customer) wireCustomer {
	return wireCustomer{
		ID: c.id, FirstName: c.firstName, LastName: strPtr(c.lastName), Name: c.fullName(),
		Email: strPtr(c.email), Phone: strPtr(c.phone), Tags: nonNil(c.tags),
		CreatedAt: formatTime(c.created), UpdatedAt: formatTime(c.updated),
	}
}

func pipelineWire(p *pipeline) wirePipeline {
	w := wirePipeline{ID: p.id, Name: p.name, Stages: []wireStage{}, CreatedAt: formatTime(p.created)}
	for _, st := range p.stages {
		w.Stages = append(w.Stages, wireStage{ID: st.id, Name: st.name, Order: st.order})
	}
	return w
}

func tagWire(t *tag) wireTag {
	return wireTag{ID: t.id, Name: t.name, Color: t.color, EntityType: t.entityType, CreatedAt: formatTime(t.created), UpdatedAt: formatTime(t.updated)}
}

func subscriptionWire(sub *subscription) wireSubscription {
	return wireSubscription{
		ID: sub.id, URL: sub.url, Events: nonNil(sub.events), Active: sub.active,
		CreatedAt: formatTime(sub.created), UpdatedAt: formatTime(sub.updated),
	}
}

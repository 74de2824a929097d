package velaflowstest

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// Event names in the spelling of VelaFlows' Python examples. Each has a docs spelling (see
// [DocsEventName]); a subscription to either receives the event. The
// examples and the docs name conversation.created, conversation.message.received,
// lead.stage_changed (and their docs twins), inbox.conversation.assigned,
// crm.lead.created, customer.created; every other name here is an
// assumption, not in VelaFlows' documentation.
const (
	EventConversationCreated       = "conversation.created"          // inbox.conversation.created
	EventMessageReceived           = "conversation.message.received" // inbox.message.received
	EventMessageSent               = "conversation.message.sent"     // inbox.message.sent (assumed)
	EventConversationAssigned      = "conversation.assigned"         // inbox.conversation.assigned
	EventConversationUnassigned    = "conversation.unassigned"       // inbox.conversation.unassigned (assumed)
	EventConversationStatusChanged = "conversation.status_changed"   // inbox.conversation.status_changed (assumed)
	EventConversationClosed        = "conversation.closed"           // inbox.conversation.closed (assumed)
	EventConversationReopened      = "conversation.reopened"         // inbox.conversation.reopened (assumed)
	EventLeadCreated               = "lead.created"                  // crm.lead.created
	EventLeadUpdated               = "lead.updated"                  // crm.lead.updated (assumed)
	EventLeadStageChanged          = "lead.stage_changed"            // crm.lead.stage_changed
	EventLeadDeleted               = "lead.deleted"                  // crm.lead.deleted (assumed)
	EventCustomerCreated           = "customer.created"              // same in both spellings
	EventCustomerUpdated           = "customer.updated"              // same in both spellings (assumed)
	EventWorkflowCompleted         = "workflow.execution.completed"  // same in both spellings (assumed)
)

// docsNames maps each spelling of the Python examples to the docs
// spelling.
var docsNames = map[string]string{
	EventConversationCreated:       "inbox.conversation.created",
	EventMessageReceived:           "inbox.message.received",
	EventMessageSent:               "inbox.message.sent",
	EventConversationAssigned:      "inbox.conversation.assigned",
	EventConversationUnassigned:    "inbox.conversation.unassigned",
	EventConversationStatusChanged: "inbox.conversation.status_changed",
	EventConversationClosed:        "inbox.conversation.closed",
	EventConversationReopened:      "inbox.conversation.reopened",
	EventLeadCreated:               "crm.lead.created",
	EventLeadUpdated:               "crm.lead.updated",
	EventLeadStageChanged:          "crm.lead.stage_changed",
	EventLeadDeleted:               "crm.lead.deleted",
	EventCustomerCreated:           EventCustomerCreated,
	EventCustomerUpdated:           EventCustomerUpdated,
	EventWorkflowCompleted:         EventWorkflowCompleted,
}

// DocsEventName returns the docs' spelling of an event name given in
// either spelling ("conversation.message.received" and
// "inbox.message.received" both give "inbox.message.received"). A name
// the emulator does not emit is returned unchanged.
func DocsEventName(name string) string {
	if d, ok := docsNames[name]; ok {
		return d
	}
	return name
}

// SeedEventName returns the Python examples' spelling of an event name given in
// either spelling. A name the emulator does not emit is returned
// unchanged.
func SeedEventName(name string) string {
	for seed, docs := range docsNames {
		if docs == name {
			return seed
		}
	}
	return name
}

// An Event is a webhook event the server emitted, whether or not any
// subscription received it.
type Event struct {
	ID             string          `json:"eventId"`        // 24 hex; "evt_" is added in payloads under WithPrefixedIDs
	Type           string          `json:"type"`           // Python examples' spelling
	DocsType       string          `json:"docsType"`       // docs spelling
	ConversationID string          `json:"conversationId"` // "" for lead and customer events
	Timestamp      time.Time       `json:"timestamp"`      // when it occurred, by the server clock
	Data           json.RawMessage `json:"data"`           // the "data" member of the payload
	lane           string
}

func (e Event) clone() Event {
	e.Data = slices.Clone(e.Data)
	return e
}

// wireEvent is the delivery body, as documented.
type wireEvent struct {
	EventID     string          `json:"eventId"`
	EventType   string          `json:"eventType"`
	Timestamp   string          `json:"timestamp"`
	WorkspaceID string          `json:"workspaceId"`
	Data        json.RawMessage `json:"data"`
}

// marshal encodes v as compact JSON without HTML escaping.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("velaflowstest: marshal: " + err.Error()) // only our own wire types get here
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// payload renders the delivery body of ev with the given event type.
func (s *Server) payload(ev Event, eventType string) []byte {
	return marshal(wireEvent{
		EventID: s.webhookID(prefixEvent, ev.ID), EventType: eventType, Timestamp: formatTime(ev.Timestamp),
		WorkspaceID: s.webhookID(prefixWorkspace, s.cfg.workspaceID), Data: ev.Data,
	})
}

// emitLocked records an event and hands it to the deliverer. lane orders
// deliveries: events with the same lane reach a subscription in emission
// order. s.mu must be held.
func (s *Server) emitLocked(typ, convID, lane string, data any) {
	now := s.now()
	ev := Event{
		ID: s.st.ids.next(now), Type: typ, DocsType: DocsEventName(typ), ConversationID: convID,
		Timestamp: now, Data: marshal(data), lane: lane,
	}
	s.events = append(s.events, ev)
	close(s.eventsCh)
	s.eventsCh = make(chan struct{})
	s.wh.dispatch(ev)
}

// Payload builders, one per event type. Documented shapes:
// conversation.created carries data.conversation; message.received
// carries data.conversationId and data.message. The rest are assumptions
// that follow the same "{<entity>: {...}}" pattern.

func (s *Server) emitConversationLocked(typ string, cv *conversation, extra map[string]any) {
	data := map[string]any{"conversation": s.conversationWire(cv, true)}
	for k, v := range extra {
		data[k] = v
	}
	s.emitLocked(typ, cv.id, "conv:"+cv.id, data)
}

func (s *Server) emitMessageLocked(typ string, cv *conversation, m *message) {
	s.emitLocked(typ, cv.id, "conv:"+cv.id, map[string]any{
		"conversationId": s.webhookID(prefixConversation, cv.id),
		"message":        s.messageWire(cv, m, true),
	})
}

func (s *Server) emitLeadLocked(typ string, l *lead, extra map[string]any) {
	data := map[string]any{"lead": leadWire(l)}
	for k, v := range extra {
		data[k] = v
	}
	s.emitLocked(typ, "", "lead:"+l.id, data)
}

func (s *Server) emitCustomerLocked(typ string, c *customer) {
	s.emitLocked(typ, "", "customer:"+c.id, map[string]any{"customer": customerWire(c)})
}

// Events returns every event emitted so far, in emission order.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, len(s.events))
	for i, e := range s.events {
		out[i] = e.clone()
	}
	return out
}

// WaitEvents waits until at least n events have been emitted and returns
// them all, or fails tb after the wait timeout ([WithWaitTimeout]). It must
// be called from the test goroutine.
func (s *Server) WaitEvents(tb testing.TB, n int) []Event {
	tb.Helper()
	timer := time.NewTimer(s.cfg.waitTimeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		have, ch := len(s.events), s.eventsCh
		s.mu.Unlock()
		if have >= n {
			return s.Events()
		}
		select {
		case <-ch:
		case <-timer.C:
			tb.Fatalf("velaflowstest: waited %v for %d events, got %d", s.cfg.waitTimeout, n, have)
			return nil
		}
	}
}

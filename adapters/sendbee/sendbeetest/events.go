package sendbeetest

import (
	"bytes"
	"encoding/json"
)

// Webhook event types. Sendbee's real event names and payloads are not
// public: these four, and every payload below, are the
// emulator's invention, kept in this one file so that they are easy to
// replace. The field names inside "data" reuse the names of the API's own
// Message, Contact and Conversation objects.
const (
	// EventMessageReceived reports a message from a customer to the business.
	EventMessageReceived = "message.received"
	// EventMessageSent reports a message from the business to a customer,
	// sent through the API ("source":"api") or by an agent from the
	// dashboard ("source":"agent").
	EventMessageSent = "message.sent"
	// EventMessageStatus reports a delivery status change of a message sent
	// through the API: sent, delivered, read or failed.
	EventMessageStatus = "message.status"
	// EventChatbotStatus reports that chatbot_active of a conversation
	// changed, whatever the cause.
	EventChatbotStatus = "chatbot.status"
)

// hookEnvelope is the body of every webhook request. id is unique per
// event and reused on redelivery and duplicate delivery.
type hookEnvelope struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	BusinessID string `json:"business_id"`
	CreatedAt  int64  `json:"created_at"`
	Data       any    `json:"data"`
}

type hookContact struct {
	ID             string  `json:"id"`
	Name           *string `json:"name"`
	Phone          *string `json:"phone"`
	WhatsAppUserID *string `json:"whatsapp_user_id"`
}

type hookAgent struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type hookTemplate struct {
	Keyword  string `json:"keyword"`
	Language string `json:"language"`
}

type hookMessageReceived struct {
	ConversationID string      `json:"conversation_id"`
	MessageID      string      `json:"message_id"`
	Contact        hookContact `json:"contact"`
	Direction      string      `json:"direction"`
	Body           *string     `json:"body"`
	MediaType      *string     `json:"media_type"`
	MediaURL       *string     `json:"media_url"`
	SentAt         float64     `json:"sent_at"`
	ChatbotActive  bool        `json:"chatbot_active"`
}

type hookMessageSent struct {
	ConversationID     string        `json:"conversation_id"`
	MessageID          string        `json:"message_id"`
	MessageReferenceID *string       `json:"message_reference_id"`
	Contact            hookContact   `json:"contact"`
	Direction          string        `json:"direction"`
	Body               *string       `json:"body"`
	MediaType          *string       `json:"media_type"`
	MediaURL           *string       `json:"media_url"`
	Status             string        `json:"status"`
	SentAt             float64       `json:"sent_at"`
	ChatbotActive      bool          `json:"chatbot_active"`
	Source             string        `json:"source"`
	Agent              *hookAgent    `json:"agent"`
	Template           *hookTemplate `json:"template"`
}

type hookMessageStatus struct {
	ConversationID     string  `json:"conversation_id"`
	MessageID          string  `json:"message_id"`
	MessageReferenceID *string `json:"message_reference_id"`
	Status             string  `json:"status"`
	FailReason         *string `json:"fail_reason"`
}

type hookChatbotStatus struct {
	ConversationID string `json:"conversation_id"`
	ChatbotActive  bool   `json:"chatbot_active"`
	Cause          string `json:"cause"`
}

func hookContactOf(c *contact) hookContact {
	return hookContact{ID: c.id, Name: strOrNil(c.name), Phone: strOrNil(c.phone), WhatsAppUserID: strOrNil(c.bsuid)}
}

// messageReceivedData is the data of a message.received event.
func messageReceivedData(cv *conversation, m *message) any {
	return hookMessageReceived{
		ConversationID: cv.id, MessageID: m.id, Contact: hookContactOf(cv.contact), Direction: "inbound",
		Body: strOrNil(m.body), MediaType: strOrNil(m.mediaType), MediaURL: strOrNil(m.mediaURL),
		SentAt: unixFloat(m.sentAt), ChatbotActive: cv.chatbot,
	}
}

// messageSentData is the data of a message.sent event. source is "api" or
// "agent"; agent messages carry "agent":{"id","name"}, template sends carry
// "template":{"keyword","language"}. chatbot_active is the state after the
// send.
func messageSentData(cv *conversation, m *message, source string) any {
	d := hookMessageSent{
		ConversationID: cv.id, MessageID: m.id, MessageReferenceID: strOrNil(m.refID),
		Contact: hookContactOf(cv.contact), Direction: "outbound",
		Body: strOrNil(m.body), MediaType: strOrNil(m.mediaType), MediaURL: strOrNil(m.mediaURL),
		Status: m.status, SentAt: unixFloat(m.sentAt), ChatbotActive: cv.chatbot, Source: source,
	}
	if source == "agent" {
		d.Agent = &hookAgent{ID: m.fromUserID, Name: m.agentName}
	}
	if m.template != "" {
		d.Template = &hookTemplate{Keyword: m.template, Language: m.templateLang}
	}
	return d
}

// messageStatusData is the data of a message.status event: the current
// status of m and, for "failed", its fail_reason.
func messageStatusData(cv *conversation, m *message) any {
	return hookMessageStatus{
		ConversationID: cv.id, MessageID: m.id, MessageReferenceID: strOrNil(m.refID),
		Status: m.status, FailReason: strOrNil(m.failReason),
	}
}

// chatbotStatusData is the data of a chatbot.status event. cause is one of
// "api_send" (a send without prevent_bot_off), "agent_reply", "api_activity"
// (PUT /automation/chatbot/activity) or "dashboard" (Server.SetChatbot).
func chatbotStatusData(cv *conversation, cause string) any {
	return hookChatbotStatus{ConversationID: cv.id, ChatbotActive: cv.chatbot, Cause: cause}
}

// emitLocked records an event and queues it for delivery. Events are
// queued in the order the state changed, because s.mu is held. s.mu must be
// held.
func (s *Server) emitLocked(conversationID, typ string, data any) {
	now := s.bizNow()
	ev := Event{ID: newUUID(), Type: typ, ConversationID: conversationID, CreatedAt: now}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(hookEnvelope{ID: ev.ID, Type: typ, BusinessID: s.cfg.businessID, CreatedAt: now.Unix(), Data: data})
	ev.Payload = bytes.TrimRight(buf.Bytes(), "\n")
	s.events = append(s.events, ev)
	s.wh.enqueue(ev)
}

package sendbee

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// ChatbotStatus is the platform chatbot's state for one conversation, as
// GET /automation/chatbot/activity/status returns it.
type ChatbotStatus struct {
	ConversationID string `json:"conversation_id"`
	// ChatbotActive is true while the platform's automation answers the
	// conversation, false once a human (or an API send without
	// prevent_bot_off) took over.
	ChatbotActive bool `json:"chatbot_active"`
}

type chatbotActivityBody struct {
	ConversationID string `json:"conversation_id"`
	Active         bool   `json:"active"`
}

// SetChatbotActivity switches the platform chatbot (automated responses)
// on or off for one conversation: PUT /automation/chatbot/activity
// {conversation_id, active}. Switching it off hands the conversation to
// human agents; on takes it back.
func (c *Client) SetChatbotActivity(ctx context.Context, conversationID string, active bool) (*ServerMessage, *Response, error) {
	if strings.TrimSpace(conversationID) == "" {
		return nil, nil, invalid("set chatbot activity", "conversation_id", "is required")
	}
	return getOne[ServerMessage](ctx, c, http.MethodPut, "/automation/chatbot/activity", nil,
		chatbotActivityBody{ConversationID: conversationID, Active: active})
}

// ChatbotStatus reads whether the platform chatbot is on for one
// conversation: GET /automation/chatbot/activity/status.
func (c *Client) ChatbotStatus(ctx context.Context, conversationID string) (*ChatbotStatus, *Response, error) {
	if strings.TrimSpace(conversationID) == "" {
		return nil, nil, invalid("get chatbot status", "conversation_id", "is required")
	}
	q := url.Values{"conversation_id": {conversationID}}
	return getOne[ChatbotStatus](ctx, c, http.MethodGet, "/automation/chatbot/activity/status", q, nil)
}

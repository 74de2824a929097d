package velaflows

import (
	"context"
	"iter"
	"net/http"
	"strings"
)

// MessageRequest is the body of [Client.SendMessage]:
// {"content": "…", "type": "text"}, as VelaFlows' Python examples send it.
type MessageRequest struct {
	// Content is the message text. Required for text messages.
	Content string `json:"content"`
	// Type is the message type. Default: MessageTypeText ("text"), the
	// only type the docs show.
	Type string `json:"type"`
}

// SendMessage sends a message into a conversation, the bot's reply:
// POST /inbox/conversations/{id}/messages, answered with data.message
// (whose ID VelaFlows' Python examples read as data.message._id). Scope: inbox:write
// (assumed).
//
// The call is never retried automatically: VelaFlows documents no
// idempotency key, so a retry after a lost answer could send the message
// twice. A 429 ([*bot.RateLimitError]) means it was not sent.
func (c *Client) SendMessage(ctx context.Context, conversationID string, r MessageRequest) (*Message, *Response, error) {
	const op = "send message"
	seg, err := escapeID(op, "conversationId", conversationID)
	if err != nil {
		return nil, nil, err
	}
	if r.Type == "" {
		r.Type = MessageTypeText
	}
	if r.Type == MessageTypeText && strings.TrimSpace(r.Content) == "" {
		return nil, nil, invalid(op, "content", "is required")
	}
	return getOne[Message](ctx, c, http.MethodPost, "/inbox/conversations/"+seg+"/messages", nil, r, "message")
}

// MessagesOptions pages [Client.ConversationMessages]. The API's default
// order is newest first (sortOrder desc).
type MessagesOptions struct {
	ListOptions
}

// ConversationMessages lists one page of a conversation's messages:
// GET /inbox/conversations/{id}/messages.
//
// Unverified: VelaFlows does not document this endpoint; the path and the
// paginated answer are assumptions.
func (c *Client) ConversationMessages(ctx context.Context, conversationID string, opts MessagesOptions) (*Page[Message], *Response, error) {
	const op = "list messages"
	seg, err := escapeID(op, "conversationId", conversationID)
	if err != nil {
		return nil, nil, err
	}
	q, err := opts.values(op)
	if err != nil {
		return nil, nil, err
	}
	return getPage[Message](ctx, c, "/inbox/conversations/"+seg+"/messages", q)
}

// AllConversationMessages iterates over a conversation's messages of every
// page from opts.Page on, as [Client.AllConversations] does.
func (c *Client) AllConversationMessages(ctx context.Context, conversationID string, opts MessagesOptions) iter.Seq2[Message, error] {
	return allPages(ctx, opts.ListOptions, func(ctx context.Context, lo ListOptions) (*Page[Message], *Response, error) {
		o := opts
		o.ListOptions = lo
		return c.ConversationMessages(ctx, conversationID, o)
	})
}

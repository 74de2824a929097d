package sendbee

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strings"
)

// A Message is one message of a conversation.
type Message struct {
	ID   string `json:"id"`
	Body string `json:"body"` // the text, or a media message's caption
	// MediaType is the kind of attached media, empty for text.
	MediaType string    `json:"media_type"`
	MediaURL  string    `json:"media_url"`
	Status    string    `json:"status"` // delivery status
	Direction Direction `json:"direction"`
	// SentAt is sent by the API as Unix seconds with a fraction.
	SentAt     Timestamp       `json:"sent_at"`
	FailReason string          `json:"fail_reason"`
	Action     string          `json:"action"`
	MetaData   json.RawMessage `json:"meta_data,omitempty"`
	FromUserID string          `json:"from_user_id"`
	ToUserID   string          `json:"to_user_id"`
}

// MessagesOptions selects the messages of [Client.ConversationMessages].
type MessagesOptions struct {
	// ConversationID identifies the conversation. Required.
	ConversationID string
	// Page is the 1-based page; 0 means the first.
	Page int
}

// ConversationMessages lists one page of a conversation's messages:
// GET /conversations/messages.
func (c *Client) ConversationMessages(ctx context.Context, opts MessagesOptions) (*Page[Message], *Response, error) {
	const op = "list messages"
	if strings.TrimSpace(opts.ConversationID) == "" {
		return nil, nil, invalid(op, "conversation_id", "is required")
	}
	q := url.Values{"conversation_id": {opts.ConversationID}}
	if err := pageQuery(op, q, opts.Page, 0); err != nil {
		return nil, nil, err
	}
	return getPage[Message](ctx, c, "/conversations/messages", q)
}

// AllConversationMessages iterates over a conversation's messages on every
// page from opts.Page on. It stops on the first error, which it yields
// once, and when ctx is done.
func (c *Client) AllConversationMessages(ctx context.Context, opts MessagesOptions) iter.Seq2[Message, error] {
	return all(ctx, opts.Page, func(ctx context.Context, page int) (*Page[Message], *Response, error) {
		opts.Page = page
		return c.ConversationMessages(ctx, opts)
	})
}

// SentMessage is what the send endpoints return.
type SentMessage struct {
	// ConversationID is the conversation the message went to (the API's
	// "id" field).
	ConversationID string `json:"id"`
	// MessageID identifies the sent message; status webhooks carry it.
	MessageID          string `json:"message_id"`
	MessageReferenceID string `json:"message_reference_id"`
	Status             string `json:"status"` // initial delivery status
}

// SendMessageRequest is the body of [Client.SendMessage]
// (POST /conversations/messages/send).
// Zero fields are not sent.
type SendMessageRequest struct {
	// Phone is the recipient in international format, "+…". Phone or
	// WhatsAppUserID is required; Phone wins when both are set.
	Phone          string `json:"phone,omitempty"`
	WhatsAppUserID string `json:"whatsapp_user_id,omitempty"`
	// Text is the message text; Text or MediaURL is required.
	Text string `json:"text,omitempty"`
	// MediaURL is a public http(s) URL of a file you host: audio (AAC,
	// M4A, AMR, MP3, OGG Opus), video (MP4, 3GPP), image (JPEG, PNG) or
	// document (PDF, DOC(X), PPT(X), XLS(X)).
	MediaURL string `json:"media_url,omitempty"`
	// PreventBotOff, when true, keeps the conversation's platform chatbot
	// as it is. nil does not send the field, and false sends false: in
	// both cases Sendbee switches the chatbot off, as after an agent's
	// reply. A bot replying as the automation sets Bool(true).
	PreventBotOff *bool `json:"prevent_bot_off,omitempty"`
	// AgentID is the agent to assign the conversation to.
	AgentID string `json:"agent_id,omitempty"`
	// LiveInbox asks Sendbee to trigger real-time inbox events after
	// sending; sent when non-nil.
	LiveInbox *bool `json:"live_inbox,omitempty"`
}

// SendMessage sends a free-form text or media message, inside WhatsApp's
// customer-service window: POST /conversations/messages/send.
func (c *Client) SendMessage(ctx context.Context, r SendMessageRequest) (*SentMessage, *Response, error) {
	const op = "send message"
	if strings.TrimSpace(r.Phone) == "" && strings.TrimSpace(r.WhatsAppUserID) == "" {
		return nil, nil, invalid(op, "phone", "or whatsapp_user_id is required")
	}
	if strings.TrimSpace(r.Text) == "" && strings.TrimSpace(r.MediaURL) == "" {
		return nil, nil, invalid(op, "text", "or media_url is required")
	}
	if r.MediaURL != "" && !isHTTPURL(r.MediaURL) {
		return nil, nil, invalid(op, "media_url", "must be an absolute http or https URL")
	}
	return getOne[SentMessage](ctx, c, http.MethodPost, "/conversations/messages/send", nil, r)
}

// isHTTPURL reports whether s is an absolute http(s) URL with a host.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

package sendbee

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// A Conversation is the thread between the business and one contact.
type Conversation struct {
	ID     string `json:"id"`
	Folder Folder `json:"folder"`
	// ChatbotActive is the platform chatbot's state for the conversation:
	// false once an agent, or an API send without prevent_bot_off, took
	// over.
	ChatbotActive bool                `json:"chatbot_active"`
	Platform      string              `json:"platform"` // "whatsapp"
	CreatedAt     Timestamp           `json:"created_at"`
	Contact       ConversationContact `json:"contact"`
	LastMessage   LastMessage         `json:"last_message"`
}

// ConversationContact is the contact of a [Conversation].
type ConversationContact struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Phone          string `json:"phone"`
	WhatsAppUserID string `json:"whatsapp_user_id"`
}

// LastMessage summarizes a [Conversation]'s last message.
type LastMessage struct {
	Direction      Direction `json:"direction"`
	Status         string    `json:"status"`
	InboundSentAt  Timestamp `json:"inbound_sent_at"`
	OutboundSentAt Timestamp `json:"outbound_sent_at"`
}

// ConversationsOptions filters [Client.Conversations]. Zero fields are not
// sent.
type ConversationsOptions struct {
	// Folder keeps conversations in this folder.
	Folder Folder
	// SearchQuery is free text to search for.
	SearchQuery string
	// DateFrom and DateTo bound the conversations' dates; they are sent as
	// Unix seconds.
	DateFrom, DateTo time.Time
	// Page is the 1-based page; 0 means the first.
	Page int
	// Limit is the page size, at most MaxLimit; 0 means the API's default.
	Limit int
}

// Conversations lists one page of conversations: GET /conversations.
func (c *Client) Conversations(ctx context.Context, opts ConversationsOptions) (*Page[Conversation], *Response, error) {
	const op = "list conversations"
	q := url.Values{}
	if err := pageQuery(op, q, opts.Page, opts.Limit); err != nil {
		return nil, nil, err
	}
	if !opts.DateFrom.IsZero() && !opts.DateTo.IsZero() && opts.DateTo.Before(opts.DateFrom) {
		return nil, nil, invalid(op, "date_to", "is before date_from")
	}
	setQuery(q, "folder", string(opts.Folder))
	setQuery(q, "search_query", opts.SearchQuery)
	if !opts.DateFrom.IsZero() {
		q.Set("date_from", strconv.FormatInt(opts.DateFrom.Unix(), 10))
	}
	if !opts.DateTo.IsZero() {
		q.Set("date_to", strconv.FormatInt(opts.DateTo.Unix(), 10))
	}
	return getPage[Conversation](ctx, c, "/conversations", q)
}

// AllConversations iterates over the conversations of every page from
// opts.Page on. It stops on the first error, which it yields once, and
// when ctx is done.
func (c *Client) AllConversations(ctx context.Context, opts ConversationsOptions) iter.Seq2[Conversation, error] {
	return all(ctx, opts.Page, func(ctx context.Context, page int) (*Page[Conversation], *Response, error) {
		opts.Page = page
		return c.Conversations(ctx, opts)
	})
}

// Conversation gets one conversation: GET /conversation?conversation_id=…
// (singular path).
func (c *Client) Conversation(ctx context.Context, conversationID string) (*Conversation, *Response, error) {
	if strings.TrimSpace(conversationID) == "" {
		return nil, nil, invalid("get conversation", "conversation_id", "is required")
	}
	q := url.Values{"conversation_id": {conversationID}}
	return getOne[Conversation](ctx, c, http.MethodGet, "/conversation", q, nil)
}

type updateConversationBody struct {
	ConversationID string `json:"conversation_id"`
	Folder         Folder `json:"folder"`
}

// UpdateConversation moves a conversation to a folder: POST /conversation
// {conversation_id, folder}. FolderDone closes it and FolderOpen reopens
// it; the API documents no other folder here.
func (c *Client) UpdateConversation(ctx context.Context, conversationID string, folder Folder) (*Conversation, *Response, error) {
	const op = "update conversation"
	if strings.TrimSpace(conversationID) == "" {
		return nil, nil, invalid(op, "conversation_id", "is required")
	}
	if folder != FolderOpen && folder != FolderDone {
		return nil, nil, invalid(op, "folder", `must be "open" or "done", not "`+string(folder)+`"`)
	}
	return getOne[Conversation](ctx, c, http.MethodPost, "/conversation", nil,
		updateConversationBody{ConversationID: conversationID, Folder: folder})
}

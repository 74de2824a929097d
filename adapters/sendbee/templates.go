package sendbee

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strings"
)

// A TemplateStatus is a message template's approval status.
type TemplateStatus string

// Template statuses: a template is approved by Meta before it can be sent.
const (
	TemplatePending  TemplateStatus = "pending"
	TemplateApproved TemplateStatus = "approved"
	TemplateRejected TemplateStatus = "rejected"
)

// An AttachmentKind is the kind of media a message template may be sent
// with.
type AttachmentKind string

// Attachment kinds of a message template.
const (
	AttachmentNone     AttachmentKind = ""         // text only (the API's null)
	AttachmentImage    AttachmentKind = "image"    // JPEG, PNG
	AttachmentVideo    AttachmentKind = "video"    // MP4, 3GPP
	AttachmentDocument AttachmentKind = "document" // PDF, DOC(X), PPT(X), XLS(X)
)

// A MessageTemplate is a pre-approved WhatsApp message.
type MessageTemplate struct {
	ID     string         `json:"id"`
	Status TemplateStatus `json:"status"`
	// Keyword identifies the template when sending it.
	Keyword  string `json:"keyword"`
	Name     string `json:"name"`
	Category string `json:"category"`
	Language string `json:"language"` // "en", "hr_HR"
	// Text is the body, with "{{1}}"-style placeholders.
	Text string `json:"text"`
	// Attachment is the kind of media the template may be sent with.
	Attachment AttachmentKind `json:"attachment"`
	// Tags are the body's placeholders.
	Tags []TemplateTag `json:"tags"`
	// ButtonTags are the placeholders of dynamic button URLs.
	ButtonTags []TemplateTag    `json:"button_tags"`
	Buttons    []TemplateButton `json:"buttons"`
	// RejectedReason says why Meta rejected the template (the API's
	// rejected_reason, or its alias reject_reason).
	RejectedReason string `json:"rejected_reason"`
}

// UnmarshalJSON implements [json.Unmarshaler], reading reject_reason as
// an alias of rejected_reason.
func (t *MessageTemplate) UnmarshalJSON(b []byte) error {
	type plain MessageTemplate
	var w struct {
		plain
		RejectReason string `json:"reject_reason"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*t = MessageTemplate(w.plain)
	if t.RejectedReason == "" {
		t.RejectedReason = w.RejectReason
	}
	return nil
}

// A TemplateTag is a placeholder of a [MessageTemplate].
type TemplateTag struct {
	Name string `json:"name"`
}

// A TemplateButton is a button of a [MessageTemplate].
type TemplateButton struct {
	Index          int    `json:"index"`
	Type           string `json:"type"`
	Title          string `json:"title"`
	Value          string `json:"value"`
	Icon           string `json:"icon"`
	Action         string `json:"action"`
	FlowAction     string `json:"flow_action"`
	NavigateScreen string `json:"navigate_screen"`
	FlowID         string `json:"flow_id"`
	URLType        string `json:"url_type"`
}

// UnmarshalJSON implements [json.Unmarshaler], accepting numbers or
// booleans in the text fields.
func (b *TemplateButton) UnmarshalJSON(data []byte) error {
	var w struct {
		Index          json.Number `json:"index"`
		Type           flexString  `json:"type"`
		Title          flexString  `json:"title"`
		Value          flexString  `json:"value"`
		Icon           flexString  `json:"icon"`
		Action         flexString  `json:"action"`
		FlowAction     flexString  `json:"flow_action"`
		NavigateScreen flexString  `json:"navigate_screen"`
		FlowID         flexString  `json:"flow_id"`
		URLType        flexString  `json:"url_type"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	idx, _ := w.Index.Int64()
	*b = TemplateButton{
		Index: int(idx), Type: string(w.Type), Title: string(w.Title), Value: string(w.Value),
		Icon: string(w.Icon), Action: string(w.Action), FlowAction: string(w.FlowAction),
		NavigateScreen: string(w.NavigateScreen), FlowID: string(w.FlowID), URLType: string(w.URLType),
	}
	return nil
}

// MessageTemplatesOptions filters [Client.MessageTemplates]. Zero fields
// are not sent.
type MessageTemplatesOptions struct {
	// Status keeps templates with this approval status.
	Status TemplateStatus
	// SearchQuery is free text to search for.
	SearchQuery string
	// Page is the 1-based page; 0 means the first.
	Page int
	// Limit is the page size, at most MaxLimit; 0 means the API's default.
	Limit int
}

// MessageTemplates lists one page of message templates:
// GET /conversations/messages/templates.
func (c *Client) MessageTemplates(ctx context.Context, opts MessageTemplatesOptions) (*Page[MessageTemplate], *Response, error) {
	q := url.Values{}
	if err := pageQuery("list message templates", q, opts.Page, opts.Limit); err != nil {
		return nil, nil, err
	}
	setQuery(q, "status", string(opts.Status))
	setQuery(q, "search_query", opts.SearchQuery)
	return getPage[MessageTemplate](ctx, c, "/conversations/messages/templates", q)
}

// AllMessageTemplates iterates over the message templates of every page
// from opts.Page on. It stops on the first error, which it yields once,
// and when ctx is done.
func (c *Client) AllMessageTemplates(ctx context.Context, opts MessageTemplatesOptions) iter.Seq2[MessageTemplate, error] {
	return all(ctx, opts.Page, func(ctx context.Context, page int) (*Page[MessageTemplate], *Response, error) {
		opts.Page = page
		return c.MessageTemplates(ctx, opts)
	})
}

// SendTemplateMessageRequest is the body of [Client.SendTemplateMessage]
// (POST /conversations/messages/templates/send). Zero fields are not sent.
type SendTemplateMessageRequest struct {
	// Phone is the recipient in international format, "+…". Phone or
	// WhatsAppUserID is required; Phone wins when both are set.
	Phone          string `json:"phone,omitempty"`
	WhatsAppUserID string `json:"whatsapp_user_id,omitempty"`
	// TemplateKeyword is the approved template's Keyword. Required.
	TemplateKeyword string `json:"template_keyword"`
	// Language is the template's language code, such as "en". Required.
	Language string `json:"language"`
	// Tags fills the body's placeholders: {"1": "John"} for "{{1}}".
	Tags map[string]string `json:"tags,omitempty"`
	// ButtonTags fills the placeholders of dynamic button URLs.
	ButtonTags map[string]string `json:"button_tags,omitempty"`
	// Attachment is the http(s) URL of the media of a template whose
	// Attachment kind is not AttachmentNone.
	Attachment string `json:"attachment,omitempty"`
	// PreventBotOff, when true, keeps the conversation's platform chatbot
	// as it is. nil does not send the field, and false sends false: in
	// both cases Sendbee switches the chatbot off.
	PreventBotOff *bool `json:"prevent_bot_off,omitempty"`
	// AgentID is the agent to assign the conversation to.
	AgentID string `json:"agent_id,omitempty"`
	// LiveInbox asks Sendbee to trigger real-time inbox events after
	// sending; sent when non-nil.
	LiveInbox *bool `json:"live_inbox,omitempty"`
}

// SendTemplateMessage sends an approved message template, which can open
// a conversation or reach a contact outside the customer-service window:
// POST /conversations/messages/templates/send.
func (c *Client) SendTemplateMessage(ctx context.Context, r SendTemplateMessageRequest) (*SentMessage, *Response, error) {
	const op = "send template message"
	if strings.TrimSpace(r.Phone) == "" && strings.TrimSpace(r.WhatsAppUserID) == "" {
		return nil, nil, invalid(op, "phone", "or whatsapp_user_id is required")
	}
	if strings.TrimSpace(r.TemplateKeyword) == "" {
		return nil, nil, invalid(op, "template_keyword", "is required")
	}
	if strings.TrimSpace(r.Language) == "" {
		return nil, nil, invalid(op, "language", "is required")
	}
	if r.Attachment != "" && !isHTTPURL(r.Attachment) {
		return nil, nil, invalid(op, "attachment", "must be an absolute http or https URL")
	}
	return getOne[SentMessage](ctx, c, http.MethodPost, "/conversations/messages/templates/send", nil, r)
}

package sendbee

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strings"
)

// A ContactStatus is a contact's subscription status.
type ContactStatus string

// Contact statuses.
const (
	ContactSubscribed   ContactStatus = "subscribed"
	ContactUnsubscribed ContactStatus = "unsubscribed"
)

// A Contact is a person the business chats with on WhatsApp.
type Contact struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Phone string `json:"phone"` // international format, "+3859…"
	// WhatsAppUserID is the WhatsApp business-scoped user ID ("BSUID").
	WhatsAppUserID      string              `json:"whatsapp_user_id"`
	CreatedAt           Timestamp           `json:"created_at"`
	ModifiedAt          Timestamp           `json:"modified_at"`
	HasMessagingConsent bool                `json:"has_messaging_consent"`
	Status              ContactStatus       `json:"status"`
	Folder              Folder              `json:"folder"` // of the contact's conversation
	Tags                []ContactTag        `json:"tags"`
	ContactFields       []ContactFieldValue `json:"contact_fields"`
	Notes               []ContactNote       `json:"notes"`
}

// A ContactFieldValue is a contact's value of a contact field.
type ContactFieldValue struct {
	Key   string `json:"key"`   // the field's name
	Value string `json:"value"` // as text, whatever the field's type
}

// UnmarshalJSON implements [json.Unmarshaler], accepting a non-string
// value (a number or a boolean) as its JSON text.
func (v *ContactFieldValue) UnmarshalJSON(b []byte) error {
	var w struct {
		Key   flexString `json:"key"`
		Value flexString `json:"value"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*v = ContactFieldValue{Key: string(w.Key), Value: string(w.Value)}
	return nil
}

// A ContactNote is a note agents or the API wrote about a contact.
type ContactNote struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

// ContactsOptions filters [Client.Contacts]. Zero fields are not sent.
type ContactsOptions struct {
	// Tags keeps contacts with these tag names.
	Tags []string
	// Status keeps contacts with this subscription status.
	Status ContactStatus
	// SearchQuery is free text to search for.
	SearchQuery string
	// Page is the 1-based page; 0 means the first.
	Page int
	// Limit is the page size, at most MaxLimit; 0 means the API's default.
	Limit int
}

// Contacts lists one page of contacts: GET /contacts.
func (c *Client) Contacts(ctx context.Context, opts ContactsOptions) (*Page[Contact], *Response, error) {
	const op = "list contacts"
	q := url.Values{}
	if err := pageQuery(op, q, opts.Page, opts.Limit); err != nil {
		return nil, nil, err
	}
	if len(opts.Tags) > 0 {
		// Comma-joined, as the Python client sends lists.
		q.Set("tags", strings.Join(opts.Tags, ","))
	}
	setQuery(q, "status", string(opts.Status))
	setQuery(q, "search_query", opts.SearchQuery)
	return getPage[Contact](ctx, c, "/contacts", q)
}

// AllContacts iterates over the contacts of every page from opts.Page on,
// fetching each page when needed. It stops on the first error, which it
// yields once, and when ctx is done.
func (c *Client) AllContacts(ctx context.Context, opts ContactsOptions) iter.Seq2[Contact, error] {
	return all(ctx, opts.Page, func(ctx context.Context, page int) (*Page[Contact], *Response, error) {
		opts.Page = page
		return c.Contacts(ctx, opts)
	})
}

// SubscribeContactRequest is the body of [Client.SubscribeContact]
// (POST /contacts/subscribe).
type SubscribeContactRequest struct {
	// Phone is the contact's number in international format, "+…".
	// Required.
	Phone string `json:"phone"`
	// WhatsAppUserID is the contact's WhatsApp business-scoped user ID.
	WhatsAppUserID string `json:"whatsapp_user_id,omitempty"`
	Name           string `json:"name,omitempty"`
	// Tags tag the contact; tags that do not exist yet are created.
	Tags []string `json:"tags,omitempty"`
	// Notes are notes about the new contact.
	Notes []string `json:"notes,omitempty"`
	// ContactFields maps contact field names to values. The fields must
	// exist (see [Client.CreateContactField]); unknown names are ignored by
	// the API.
	ContactFields map[string]string `json:"contact_fields,omitempty"`
	// BlockNotifications, when true, keeps Sendbee from notifying agents
	// (browser push and email) about the new contact. nil sends true, the
	// documented default the Python client always sends.
	BlockNotifications *bool `json:"block_notifications"`
	// BlockAutomation, when true, keeps Sendbee from sending the automated
	// template messages configured for new subscribers. nil sends true, the
	// documented default the Python client always sends.
	BlockAutomation *bool `json:"block_automation"`
}

// SubscribeContact creates (subscribes) a contact: POST /contacts/subscribe.
func (c *Client) SubscribeContact(ctx context.Context, r SubscribeContactRequest) (*Contact, *Response, error) {
	const op = "subscribe contact"
	if strings.TrimSpace(r.Phone) == "" {
		return nil, nil, invalid(op, "phone", "is required")
	}
	if r.BlockNotifications == nil {
		r.BlockNotifications = Bool(true)
	}
	if r.BlockAutomation == nil {
		r.BlockAutomation = Bool(true)
	}
	return getOne[Contact](ctx, c, http.MethodPost, "/contacts/subscribe", nil, r)
}

// UpdateContactRequest is the body of [Client.UpdateContact] (PUT /contacts).
// Zero fields are not sent and leave the contact's value unchanged.
type UpdateContactRequest struct {
	// ID identifies the contact. Required.
	ID             string `json:"id"`
	Phone          string `json:"phone,omitempty"`
	WhatsAppUserID string `json:"whatsapp_user_id,omitempty"`
	Name           string `json:"name,omitempty"`
	// Tags tag the contact; tags that do not exist yet are created.
	Tags []string `json:"tags,omitempty"`
	// Notes are appended to the contact's existing notes.
	Notes []string `json:"notes,omitempty"`
	// ContactFields maps contact field names to values, overwriting the
	// values the contact has.
	ContactFields map[string]string `json:"contact_fields,omitempty"`
	// BlockNotifications is sent when non-nil.
	BlockNotifications *bool `json:"block_notifications,omitempty"`
	// Status subscribes or unsubscribes the contact when set.
	// (Assumption: Sendbee documents the status as a contact field but
	// not as one PUT /contacts changes.)
	Status ContactStatus `json:"status,omitempty"`
}

// UpdateContact updates a contact: PUT /contacts.
func (c *Client) UpdateContact(ctx context.Context, r UpdateContactRequest) (*Contact, *Response, error) {
	if strings.TrimSpace(r.ID) == "" {
		return nil, nil, invalid("update contact", "id", "is required")
	}
	return getOne[Contact](ctx, c, http.MethodPut, "/contacts", nil, r)
}

// setQuery sets q[key] unless v is empty.
func setQuery(q url.Values, key, v string) {
	if v != "" {
		q.Set(key, v)
	}
}

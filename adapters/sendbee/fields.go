package sendbee

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strings"
)

// A FieldType is the type of a contact field's values.
type FieldType string

// Contact field types, as Sendbee documents them.
const (
	FieldText    FieldType = "text"
	FieldNumber  FieldType = "number"
	FieldList    FieldType = "list" // one of the field's Options
	FieldDate    FieldType = "date"
	FieldBoolean FieldType = "boolean"
)

// Valid reports whether t is one of the documented field types.
func (t FieldType) Valid() bool {
	switch t {
	case FieldText, FieldNumber, FieldList, FieldDate, FieldBoolean:
		return true
	}
	return false
}

// A ContactField is a custom field defined for contacts (/contacts/fields).
type ContactField struct {
	ID   string    `json:"id"`
	Name string    `json:"name"`
	Type FieldType `json:"type"`
	// Options are the allowed values of a FieldList field.
	Options []string `json:"options"`
}

// ContactFieldsOptions filters [Client.ContactFields]. Zero fields are not
// sent.
type ContactFieldsOptions struct {
	// SearchQuery is free text to search for.
	SearchQuery string
	// Page is the 1-based page; 0 means the first.
	Page int
	// Limit is the page size, at most MaxLimit; 0 means the API's default.
	Limit int
}

// ContactFields lists one page of contact fields: GET /contacts/fields.
func (c *Client) ContactFields(ctx context.Context, opts ContactFieldsOptions) (*Page[ContactField], *Response, error) {
	q := url.Values{}
	if err := pageQuery("list contact fields", q, opts.Page, opts.Limit); err != nil {
		return nil, nil, err
	}
	setQuery(q, "search_query", opts.SearchQuery)
	return getPage[ContactField](ctx, c, "/contacts/fields", q)
}

// AllContactFields iterates over the contact fields of every page from
// opts.Page on. It stops on the first error, which it yields once, and
// when ctx is done.
func (c *Client) AllContactFields(ctx context.Context, opts ContactFieldsOptions) iter.Seq2[ContactField, error] {
	return all(ctx, opts.Page, func(ctx context.Context, page int) (*Page[ContactField], *Response, error) {
		opts.Page = page
		return c.ContactFields(ctx, opts)
	})
}

// CreateContactFieldRequest is the body of [Client.CreateContactField].
type CreateContactFieldRequest struct {
	// Name is the field's name. Required.
	Name string `json:"name"`
	// Type is the field's type. Required.
	Type FieldType `json:"type"`
	// Options are the allowed values; required for FieldList, and only
	// allowed for it.
	Options []string `json:"options,omitempty"`
}

// CreateContactField creates a contact field: POST /contacts/fields.
func (c *Client) CreateContactField(ctx context.Context, r CreateContactFieldRequest) (*ContactField, *Response, error) {
	const op = "create contact field"
	if strings.TrimSpace(r.Name) == "" {
		return nil, nil, invalid(op, "name", "is required")
	}
	if r.Type == "" {
		return nil, nil, invalid(op, "type", "is required")
	}
	if err := checkFieldType(op, r.Type, r.Options); err != nil {
		return nil, nil, err
	}
	return getOne[ContactField](ctx, c, http.MethodPost, "/contacts/fields", nil, r)
}

// UpdateContactFieldRequest is the body of [Client.UpdateContactField].
// Zero fields other than ID are not sent.
type UpdateContactFieldRequest struct {
	// ID identifies the field. Required.
	ID   string    `json:"id"`
	Name string    `json:"name,omitempty"`
	Type FieldType `json:"type,omitempty"`
	// Options are the allowed values; required when Type is FieldList, and
	// not allowed with another Type.
	Options []string `json:"options,omitempty"`
}

// UpdateContactField updates a contact field: PUT /contacts/fields.
func (c *Client) UpdateContactField(ctx context.Context, r UpdateContactFieldRequest) (*ContactField, *Response, error) {
	const op = "update contact field"
	if strings.TrimSpace(r.ID) == "" {
		return nil, nil, invalid(op, "id", "is required")
	}
	if r.Type != "" {
		if err := checkFieldType(op, r.Type, r.Options); err != nil {
			return nil, nil, err
		}
	}
	return getOne[ContactField](ctx, c, http.MethodPut, "/contacts/fields", nil, r)
}

// DeleteContactField deletes a contact field: DELETE /contacts/fields with
// the JSON body {id}.
func (c *Client) DeleteContactField(ctx context.Context, id string) (*ServerMessage, *Response, error) {
	if strings.TrimSpace(id) == "" {
		return nil, nil, invalid("delete contact field", "id", "is required")
	}
	return getOne[ServerMessage](ctx, c, http.MethodDelete, "/contacts/fields", nil, struct {
		ID string `json:"id"`
	}{id})
}

// checkFieldType validates a field type and its options.
func checkFieldType(op string, t FieldType, options []string) error {
	if !t.Valid() {
		return invalid(op, "type", `must be one of "text", "number", "list", "date", "boolean", not "`+string(t)+`"`)
	}
	if t == FieldList {
		if len(options) == 0 {
			return invalid(op, "options", `are required for type "list"`)
		}
		for _, o := range options {
			if strings.TrimSpace(o) == "" {
				return invalid(op, "options", "must not be empty strings")
			}
		}
	} else if len(options) > 0 {
		return invalid(op, "options", `are only allowed for type "list"`)
	}
	return nil
}

package sendbee

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strings"
)

// A ContactTag is a label on contacts.
type ContactTag struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Editable, DisableContact and Icons are sent by newer API versions.
	Editable       bool            `json:"editable"`
	DisableContact bool            `json:"disable_contact"`
	Icons          json.RawMessage `json:"icons,omitempty"`
}

// ContactTagsOptions filters [Client.ContactTags]. Zero fields are not
// sent.
type ContactTagsOptions struct {
	// Name keeps tags with this name.
	Name string
	// Page is the 1-based page; 0 means the first.
	Page int
	// Limit is the page size, at most MaxLimit; 0 means the API's default.
	Limit int
}

// ContactTags lists one page of contact tags: GET /contacts/tags.
func (c *Client) ContactTags(ctx context.Context, opts ContactTagsOptions) (*Page[ContactTag], *Response, error) {
	q := url.Values{}
	if err := pageQuery("list contact tags", q, opts.Page, opts.Limit); err != nil {
		return nil, nil, err
	}
	setQuery(q, "name", opts.Name)
	return getPage[ContactTag](ctx, c, "/contacts/tags", q)
}

// AllContactTags iterates over the contact tags of every page from
// opts.Page on. It stops on the first error, which it yields once, and
// when ctx is done.
func (c *Client) AllContactTags(ctx context.Context, opts ContactTagsOptions) iter.Seq2[ContactTag, error] {
	return all(ctx, opts.Page, func(ctx context.Context, page int) (*Page[ContactTag], *Response, error) {
		opts.Page = page
		return c.ContactTags(ctx, opts)
	})
}

type tagBody struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// CreateContactTag creates a contact tag: POST /contacts/tags {name}.
func (c *Client) CreateContactTag(ctx context.Context, name string) (*ContactTag, *Response, error) {
	if strings.TrimSpace(name) == "" {
		return nil, nil, invalid("create contact tag", "name", "is required")
	}
	return getOne[ContactTag](ctx, c, http.MethodPost, "/contacts/tags", nil, tagBody{Name: name})
}

// UpdateContactTag renames a contact tag: PUT /contacts/tags {id, name}.
func (c *Client) UpdateContactTag(ctx context.Context, id, name string) (*ContactTag, *Response, error) {
	const op = "update contact tag"
	if strings.TrimSpace(id) == "" {
		return nil, nil, invalid(op, "id", "is required")
	}
	if strings.TrimSpace(name) == "" {
		return nil, nil, invalid(op, "name", "is required")
	}
	return getOne[ContactTag](ctx, c, http.MethodPut, "/contacts/tags", nil, tagBody{ID: id, Name: name})
}

// DeleteContactTag deletes a contact tag: DELETE /contacts/tags with the
// JSON body {id}.
func (c *Client) DeleteContactTag(ctx context.Context, id string) (*ServerMessage, *Response, error) {
	if strings.TrimSpace(id) == "" {
		return nil, nil, invalid("delete contact tag", "id", "is required")
	}
	return getOne[ServerMessage](ctx, c, http.MethodDelete, "/contacts/tags", nil, tagBody{ID: id})
}

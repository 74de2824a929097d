package velaflows

import (
	"context"
	"iter"
	"net/http"
	"strings"
)

// TagsOptions filters [Client.Tags].
type TagsOptions struct {
	ListOptions
	// EntityType keeps the tags of one kind of record, such as
	// TagEntityConversation (the docs' example).
	EntityType string
}

// Tags lists one page of tags: GET /tags?entityType=….
func (c *Client) Tags(ctx context.Context, opts TagsOptions) (*Page[Tag], *Response, error) {
	const op = "list tags"
	q, err := opts.values(op)
	if err != nil {
		return nil, nil, err
	}
	if opts.EntityType != "" {
		if q.Has("entityType") {
			return nil, nil, invalid(op, "entityType", "is set twice (in the options and in Query)")
		}
		q.Set("entityType", opts.EntityType)
	}
	return getPage[Tag](ctx, c, "/tags", q)
}

// AllTags iterates over the tags of every page from opts.Page on, as
// [Client.AllConversations] does.
func (c *Client) AllTags(ctx context.Context, opts TagsOptions) iter.Seq2[Tag, error] {
	return allPages(ctx, opts.ListOptions, func(ctx context.Context, lo ListOptions) (*Page[Tag], *Response, error) {
		o := opts
		o.ListOptions = lo
		return c.Tags(ctx, o)
	})
}

// TagRequest is the body of [Client.CreateTag]. Empty optional fields are
// not sent.
type TagRequest struct {
	// Name is the tag's name, such as "vip". Required.
	Name string `json:"name"`
	// EntityType is the kind of record the tag is for, such as
	// TagEntityConversation.
	EntityType string `json:"entityType,omitempty"`
	// Color is the tag's display colour, such as "#ff0000".
	Color string `json:"color,omitempty"`
}

// CreateTag creates a tag: POST /tags, answered with data.tag.
// Unverified: VelaFlows documents only the list; this endpoint is
// assumed.
func (c *Client) CreateTag(ctx context.Context, r TagRequest) (*Tag, *Response, error) {
	if strings.TrimSpace(r.Name) == "" {
		return nil, nil, invalid("create tag", "name", "is required")
	}
	return getOne[Tag](ctx, c, http.MethodPost, "/tags", nil, r, "tag")
}

// DeleteTag deletes a tag: DELETE /tags/{id}. Unverified: only the list
// is documented; this endpoint is assumed.
func (c *Client) DeleteTag(ctx context.Context, id string) (*Response, error) {
	seg, err := escapeID("delete tag", "id", id)
	if err != nil {
		return nil, err
	}
	return c.deleteCall(ctx, "/tags/"+seg)
}

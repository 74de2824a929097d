package flowdock

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// MaxLimit is the largest page size (limit) of a message list; the API's
// default is 30.
const MaxLimit = 100

// UUIDLookupDepth is how many of a chat's newest messages
// [Client.MessageByUUID] looks through: at most UUIDLookupDepth/MaxLimit
// requests.
const UUIDLookupDepth = 500

// A TagMode says how the tags of [ListOptions] combine.
type TagMode string

// Tag modes.
const (
	TagModeAnd TagMode = "and" // every tag must match (the API's default)
	TagModeOr  TagMode = "or"  // any tag may match
)

// A SortOrder picks which end of a matching range [ListOptions.Limit]
// keeps. It never changes the order of the result, which is always
// ascending by id.
type SortOrder string

// Sort orders.
const (
	SortDesc SortOrder = "desc" // keep the newest Limit messages (the API's default)
	SortAsc  SortOrder = "asc"  // keep the oldest Limit messages
)

// ListOptions filters [Client.ListMessages], [Client.ThreadMessages] and
// the iterators. Zero fields are not sent. The result is always in
// ascending id order (oldest first).
//
// The API combines the parameters in one of two ways, found by trial
// against the live service (the Python wrapper's README records them):
//
//  1. With Search and/or Tags: (messages matching Search) ∪ (messages
//     matching Tags under TagMode) → skip the newest Skip → keep the
//     newest Limit of the rest. SinceID, UntilID and Sort are ignored.
//     For three messages "1. a keyword", "2. keywords" tagged A and
//     "3. more keywords" tagged A and B, Search "keyword", Tags A,B and
//     TagMode or give 1 2 3; with Skip 1, 1 2; with Limit 1, 3; with Skip 1
//     and Limit 1, 2. Search matches whole words ("keyword" does not match
//     "keywords"), and new messages show up in search and tag results
//     only after a short delay.
//  2. Without Search and Tags: (messages of the Events types) ∩ (SinceID <
//     id < UntilID) → keep the newest Limit, or the oldest with Sort asc.
//     For messages 1…5 where 4 is a chat message and the others files,
//     SinceID 1 gives 2 3 4 5; SinceID 1 and UntilID 5 give 2 3 4; Events
//     file and SinceID 1 give 2 3 5; adding Limit 1 gives 5, and with Sort
//     asc 2.
//
// Useful filters: files with Tags ":file" or Events "file"; messages with
// a link or an e-mail address with Tags ":url"; mentions of a user with
// Tags "@nick" (or ":user:<id>").
type ListOptions struct {
	// Search holds space-separated keywords; all must match (search).
	Search string
	// Tags are joined with commas (tags). A tag must not contain a comma.
	Tags []string
	// TagMode combines Tags (tag_mode); empty means the API's "and".
	TagMode TagMode
	// Skip leaves out that many of the newest matches of a Search or
	// Tags query (skip), to page through them.
	Skip int
	// Events keeps only messages of these event types (event), such as
	// "message", "file", "activity", "discussion"; empty means all.
	Events []string
	// SinceID and UntilID are exclusive bounds on the message id
	// (since_id, until_id); zero means unbounded.
	SinceID, UntilID int64
	// Sort chooses which end of the range Limit keeps (sort).
	Sort SortOrder
	// Limit is the number of messages, 1 to MaxLimit (limit); zero means
	// the API's default, 30.
	Limit int
}

// query checks o and returns its query parameters.
func (o ListOptions) query(op string) (url.Values, error) {
	q := url.Values{}
	if o.Search != "" {
		if strings.TrimSpace(o.Search) == "" {
			return nil, invalid(op, "search", "must not be blank")
		}
		q.Set("search", o.Search)
	}
	if err := checkTags(op, o.Tags, true); err != nil {
		return nil, err
	}
	if len(o.Tags) > 0 {
		q.Set("tags", strings.Join(o.Tags, ","))
	}
	switch o.TagMode {
	case "":
	case TagModeAnd, TagModeOr:
		q.Set("tag_mode", string(o.TagMode))
	default:
		return nil, invalid(op, "tag_mode", `must be "and" or "or", not `+strconv.Quote(string(o.TagMode)))
	}
	if o.Skip < 0 {
		return nil, invalid(op, "skip", "must not be negative")
	}
	if o.Skip > 0 {
		q.Set("skip", strconv.Itoa(o.Skip))
	}
	for _, e := range o.Events {
		if strings.TrimSpace(e) == "" || strings.Contains(e, ",") {
			return nil, invalid(op, "event", "must not contain an empty type or a comma")
		}
	}
	if len(o.Events) > 0 {
		q.Set("event", strings.Join(o.Events, ","))
	}
	if o.SinceID < 0 {
		return nil, invalid(op, "since_id", "must not be negative")
	}
	if o.SinceID > 0 {
		q.Set("since_id", strconv.FormatInt(o.SinceID, 10))
	}
	if o.UntilID < 0 {
		return nil, invalid(op, "until_id", "must not be negative")
	}
	if o.UntilID > 0 {
		q.Set("until_id", strconv.FormatInt(o.UntilID, 10))
	}
	switch o.Sort {
	case "":
	case SortAsc, SortDesc:
		q.Set("sort", string(o.Sort))
	default:
		return nil, invalid(op, "sort", `must be "asc" or "desc", not `+strconv.Quote(string(o.Sort)))
	}
	if o.Limit < 0 || o.Limit > MaxLimit {
		return nil, invalid(op, "limit", "must be between 1 and "+strconv.Itoa(MaxLimit))
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	return q, nil
}

// searching reports whether o uses the first pattern (Search or Tags).
func (o ListOptions) searching() bool { return o.Search != "" || len(o.Tags) > 0 }

// ListMessages lists messages of a flow or a private conversation:
// GET /flows/:org/:flow/messages or GET /private/:user_id/messages. See
// [ListOptions] for how the filters combine. The result is in ascending
// id order and never nil on success.
func (c *Client) ListMessages(ctx context.Context, chat Chat, opts ListOptions) ([]Message, *Response, error) {
	const op = "list messages"
	p, err := chat.path(op)
	if err != nil {
		return nil, nil, err
	}
	return c.listMessages(ctx, op, p+"/messages", opts)
}

// listMessages GETs a message list at path.
func (c *Client) listMessages(ctx context.Context, op, path string, opts ListOptions) ([]Message, *Response, error) {
	q, err := opts.query(op)
	if err != nil {
		return nil, nil, err
	}
	var v []Message
	resp, err := c.call(ctx, op, request{method: http.MethodGet, path: path, query: q, auth: authUser}, &v)
	if err != nil {
		return nil, resp, err
	}
	if v == nil {
		v = []Message{}
	}
	return v, resp, nil
}

// AllMessages iterates over the messages of a flow or a private
// conversation after opts.SinceID (and before opts.UntilID when set), of
// the opts.Events types, oldest first, fetching pages of opts.Limit
// (default MaxLimit) with sort=asc and an advancing since_id. It is the
// way to fill a gap after a stream disconnect: pass the last id seen as
// SinceID.
//
// It uses the second pattern of [ListOptions]: Search, Tags, Skip or Sort
// are a *ValidationError (use [Client.SearchMessages]). Iteration stops
// at the end, when the caller stops, or on the first error (including
// ctx's), which is yielded once with a zero Message.
func (c *Client) AllMessages(ctx context.Context, chat Chat, opts ListOptions) iter.Seq2[Message, error] {
	const op = "all messages"
	return func(yield func(Message, error) bool) {
		p, err := chat.path(op)
		if err == nil {
			err = checkPattern2(op, opts)
		}
		if err != nil {
			yield(Message{}, err)
			return
		}
		if opts.Limit == 0 {
			opts.Limit = MaxLimit
		}
		opts.Sort = SortAsc
		for {
			page, _, err := c.listMessages(ctx, op, p+"/messages", opts)
			if err != nil {
				yield(Message{}, err)
				return
			}
			slices.SortFunc(page, byID)
			next := opts.SinceID
			for _, m := range page {
				if m.ID <= opts.SinceID {
					continue // a server that ignores since_id
				}
				if err := ctx.Err(); err != nil {
					yield(Message{}, wrapf(err, "%s", op))
					return
				}
				if !yield(m, nil) {
					return
				}
				next = max(next, m.ID)
			}
			if len(page) < opts.Limit || next <= opts.SinceID {
				return
			}
			opts.SinceID = next
		}
	}
}

// checkPattern2 rejects the first-pattern options in an id-range walk.
func checkPattern2(op string, o ListOptions) error {
	switch {
	case o.Search != "":
		return invalid(op, "search", "is not supported here; use SearchMessages")
	case len(o.Tags) > 0:
		return invalid(op, "tags", "is not supported here; use SearchMessages")
	case o.Skip != 0:
		return invalid(op, "skip", "is not supported here; use SearchMessages")
	case o.Sort != "":
		return invalid(op, "sort", "is set by the iterator")
	}
	return nil
}

// byID orders messages by ascending id.
func byID(a, b Message) int {
	switch {
	case a.ID < b.ID:
		return -1
	case a.ID > b.ID:
		return 1
	}
	return 0
}

// SearchMessages iterates over the results of a Search and/or Tags query
// on a flow or a private conversation, newest first, fetching pages of
// opts.Limit (default MaxLimit) with an advancing skip from opts.Skip. A
// message that moves into a later page because new ones arrived is
// yielded once.
//
// It uses the first pattern of [ListOptions]: opts must have Search or
// Tags, and SinceID, UntilID and Sort, which the API ignores there, are a
// *ValidationError. Iteration stops at the end, when the caller stops, or
// on the first error (including ctx's), which is yielded once with a zero
// Message.
func (c *Client) SearchMessages(ctx context.Context, chat Chat, opts ListOptions) iter.Seq2[Message, error] {
	const op = "search messages"
	return func(yield func(Message, error) bool) {
		p, err := chat.path(op)
		switch {
		case err != nil:
		case !opts.searching():
			err = invalid(op, "search", "or tags is required")
		case opts.SinceID != 0 || opts.UntilID != 0:
			err = invalid(op, "since_id", "and until_id are ignored by the API with search or tags")
		case opts.Sort != "":
			err = invalid(op, "sort", "is ignored by the API with search or tags")
		}
		if err != nil {
			yield(Message{}, err)
			return
		}
		if opts.Limit == 0 {
			opts.Limit = MaxLimit
		}
		seen := map[int64]bool{}
		for {
			page, _, err := c.listMessages(ctx, op, p+"/messages", opts)
			if err != nil {
				yield(Message{}, err)
				return
			}
			slices.SortFunc(page, byID)
			fresh := 0
			for i := len(page) - 1; i >= 0; i-- {
				m := page[i]
				if seen[m.ID] {
					continue
				}
				seen[m.ID] = true
				fresh++
				if err := ctx.Err(); err != nil {
					yield(Message{}, wrapf(err, "%s", op))
					return
				}
				if !yield(m, nil) {
					return
				}
			}
			if len(page) < opts.Limit || fresh == 0 {
				return
			}
			opts.Skip += len(page)
		}
	}
}

// MessageByUUID finds the message a send with this uuid created, among
// the newest UUIDLookupDepth messages of a flow or a private conversation
// (every event type), newest first: GET .../messages?limit=100, then
// until_id= older pages, at most UUIDLookupDepth/MaxLimit requests.
//
// It is how a caller checks whether a send whose answer was lost went
// through: every send of this package carries a uuid (the caller's or
// [NewUUID]'s, returned in Message.UUID), so the Bot's outbox looks it up
// before sending again. No match is an error wrapping [ErrNotFound]: the
// send did not go through, or its message is older than the window, or
// Flowdock has not stored it yet (a 202 answer). It needs the personal
// token, also for messages posted with the flow token.
func (c *Client) MessageByUUID(ctx context.Context, chat Chat, uuid string) (*Message, *Response, error) {
	const op = "message by uuid"
	p, err := chat.path(op)
	if err != nil {
		return nil, nil, err
	}
	if strings.TrimSpace(uuid) == "" {
		return nil, nil, invalid(op, "uuid", "is required")
	}
	opts := ListOptions{Limit: MaxLimit}
	var last *Response
	for range UUIDLookupDepth / MaxLimit {
		page, resp, err := c.listMessages(ctx, op, p+"/messages", opts)
		if resp != nil {
			last = resp
		}
		if err != nil {
			return nil, last, err
		}
		slices.SortFunc(page, byID)
		for i := len(page) - 1; i >= 0; i-- {
			if page[i].UUID == uuid {
				return &page[i], last, nil
			}
		}
		if len(page) < opts.Limit || page[0].ID <= 1 || (opts.UntilID != 0 && page[0].ID >= opts.UntilID) {
			break
		}
		opts.UntilID = page[0].ID
	}
	return nil, last, fmt.Errorf("flowdock: %s: no message with uuid %q among the newest %d: %w", op, uuid, UUIDLookupDepth, ErrNotFound)
}

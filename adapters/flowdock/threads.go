package flowdock

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// threadPath returns "/flows/org/flow/threads/:id" after checking its parts.
func threadPath(op, org, flow, threadID string) (string, error) {
	p, err := flowPath(op, org, flow)
	if err != nil {
		return "", err
	}
	if err := segment(op, "thread_id", threadID); err != nil {
		return "", err
	}
	return p + pathOf("threads", threadID), nil
}

// ReplyInThread sends a chat message into an existing thread of a flow:
// POST /flows/:org/:flow/threads/:thread_id/messages. Every flow message
// belongs to a thread; a message's thread id is Message.ThreadID (also
// Message.Thread.ID). m.ThreadID must be empty or equal threadID.
//
// The uuid and the result are as for [Client.SendMessage].
func (c *Client) ReplyInThread(ctx context.Context, org, flow, threadID string, m NewMessage) (*Message, *Response, error) {
	const op = "reply in thread"
	p, err := threadPath(op, org, flow, threadID)
	if err != nil {
		return nil, nil, err
	}
	if m.ThreadID != "" && m.ThreadID != threadID {
		return nil, nil, invalid(op, "thread_id", "differs from the thread replied to")
	}
	m.ThreadID = ""
	body, err := m.body(op, false)
	if err != nil {
		return nil, nil, err
	}
	local := body.local()
	local.ThreadID = threadID
	return c.postMessage(ctx, op, request{method: http.MethodPost, path: p + "/messages", json: body, auth: authUser}, local)
}

// ThreadMessages lists the messages of a thread of a flow:
// GET /flows/:org/:flow/threads/:thread_id/messages, with the filters of
// [ListOptions]. The result is in ascending id order and never nil on
// success.
func (c *Client) ThreadMessages(ctx context.Context, org, flow, threadID string, opts ListOptions) ([]Message, *Response, error) {
	const op = "list thread messages"
	p, err := threadPath(op, org, flow, threadID)
	if err != nil {
		return nil, nil, err
	}
	return c.listMessages(ctx, op, p+"/messages", opts)
}

// GetThread returns one thread of a flow: GET /flows/:org/:flow/threads/:id.
func (c *Client) GetThread(ctx context.Context, org, flow, threadID string) (*Thread, *Response, error) {
	const op = "get thread"
	p, err := threadPath(op, org, flow, threadID)
	if err != nil {
		return nil, nil, err
	}
	return getOne[Thread](ctx, c, op, p, nil)
}

// ThreadListOptions filters [Client.ListThreads]. Only these parameters
// work on the live API (the documented application and empty did not).
// Zero fields are not sent.
type ThreadListOptions struct {
	// Limit is the number of threads; zero means the API's default.
	Limit int
	// Since and Until bound the threads' updated_at (since, until), sent
	// as ISO-8601 UTC such as "2019-01-01T00:00:00Z".
	Since, Until time.Time
}

// query checks o and returns its query parameters.
func (o ThreadListOptions) query(op string) (url.Values, error) {
	q := url.Values{}
	if o.Limit < 0 {
		return nil, invalid(op, "limit", "must not be negative")
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if !o.Since.IsZero() {
		q.Set("since", formatTime(o.Since))
	}
	if !o.Until.IsZero() {
		q.Set("until", formatTime(o.Until))
	}
	if !o.Since.IsZero() && !o.Until.IsZero() && !o.Until.After(o.Since) {
		return nil, invalid(op, "until", "must be after since")
	}
	return q, nil
}

// formatTime writes t as ISO-8601 UTC, with a fraction only when t has one.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// ListThreads lists the threads of a flow, newest (last updated) first,
// unlike messages: GET /flows/:org/:flow/threads. The result is never nil
// on success; Response.NextURL is the API's link to the next (older) page.
// To find the thread of an integration item, match Thread.ExternalURL.
func (c *Client) ListThreads(ctx context.Context, org, flow string, opts ThreadListOptions) ([]Thread, *Response, error) {
	const op = "list threads"
	p, err := flowPath(op, org, flow)
	if err != nil {
		return nil, nil, err
	}
	q, err := opts.query(op)
	if err != nil {
		return nil, nil, err
	}
	return c.listThreads(ctx, op, p+"/threads", q)
}

// listThreads GETs a thread list.
func (c *Client) listThreads(ctx context.Context, op, path string, q url.Values) ([]Thread, *Response, error) {
	var v []Thread
	resp, err := c.call(ctx, op, request{method: http.MethodGet, path: path, query: q, auth: authUser}, &v)
	if err != nil {
		return nil, resp, err
	}
	if v == nil {
		v = []Thread{}
	}
	return v, resp, nil
}

// AllThreads iterates over the threads of a flow, newest (last updated)
// first, page by page with the until parameter. opts.Limit is the page
// size (zero: the API's default of 30; at most MaxLimit) and opts.Since
// and opts.Until bound the whole walk. A thread on two pages is yielded once.
//
// The API's until is exclusive and its next-page link points at the
// oldest updated_at of a page, which skips threads updated in the same
// millisecond as that one. So each next page is asked with until one
// millisecond after the oldest updated_at seen, and the boundary threads
// it repeats are dropped. When that does not move the cursor (a run of
// threads sharing one updated_at fills the page), the same page is asked
// again with a doubled limit, up to MaxLimit; only a run longer than
// MaxLimit is stepped over, and can be missed. Iteration stops at the end, when the
// caller stops, or on the first error (including ctx's), which is yielded
// once with a zero Thread.
func (c *Client) AllThreads(ctx context.Context, org, flow string, opts ThreadListOptions) iter.Seq2[Thread, error] {
	const op = "all threads"
	return func(yield func(Thread, error) bool) {
		p, err := flowPath(op, org, flow)
		var q url.Values
		if err == nil {
			q, err = opts.query(op)
		}
		if err != nil {
			yield(Thread{}, err)
			return
		}
		pageSize := opts.Limit
		if pageSize == 0 {
			pageSize = defaultThreadLimit
		}
		// A larger limit may be clamped by the server, and a short page
		// would then look like the last one.
		pageSize = min(pageSize, MaxLimit)
		limit := pageSize
		seen := map[string]bool{}
		for {
			q.Set("limit", strconv.Itoa(limit))
			page, resp, err := c.listThreads(ctx, op, p+"/threads", q)
			if err != nil {
				yield(Thread{}, err)
				return
			}
			fresh := 0
			var oldest time.Time
			for _, t := range page {
				if !t.UpdatedAt.IsZero() && (oldest.IsZero() || t.UpdatedAt.Before(oldest)) {
					oldest = t.UpdatedAt.Time
				}
				if t.ID != "" && seen[t.ID] {
					continue
				}
				seen[t.ID] = true
				fresh++
				if err := ctx.Err(); err != nil {
					yield(Thread{}, wrapf(err, "%s", op))
					return
				}
				if !yield(t, nil) {
					return
				}
			}
			if len(page) < limit {
				return // the last page
			}
			current := q.Get("until")
			var next string
			switch {
			case !oldest.IsZero():
				next = oldest.Add(time.Millisecond).UTC().Format(timeLayout)
				if fresh == 0 || next == current {
					// The cursor does not move: a run of threads sharing
					// one updated_at fills the page. Widen it, same until.
					if limit < MaxLimit {
						limit = min(2*limit, MaxLimit)
						continue
					}
					// A run longer than MaxLimit: step past it.
					next = oldest.UTC().Format(timeLayout)
				}
			case fresh > 0:
				next = nextUntil(resp.NextURL) // no updated_at: trust the link
			}
			limit = pageSize
			if next == "" || next == current {
				return
			}
			q.Set("until", next)
		}
	}
}

// defaultThreadLimit is the API's default page size of a thread list.
const defaultThreadLimit = 30

// nextUntil returns the until parameter of a next-page URL.
func nextUntil(next string) string {
	if next == "" {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil {
		return ""
	}
	return u.Query().Get("until")
}

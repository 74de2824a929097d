package velaflows

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// MaxLimit is the largest page size (limit) the API accepts (documented
// by VelaFlows).
const MaxLimit = 100

// Sort orders for [ListOptions.SortOrder].
const (
	SortAsc  = "asc"
	SortDesc = "desc" // the API's default
)

// Pagination is the data.pagination metadata of a list answer: page, limit,
// total and totalPages. Pages are 1-based; TotalPages is 0 when Total is 0
// (not documented; assumed).
type Pagination struct {
	Page       int `json:"page"`
	Limit      int `json:"limit"`
	Total      int `json:"total"`
	TotalPages int `json:"totalPages"`
}

// A Page is one page of a list endpoint's items. It is a plain value
// owned by the caller.
type Page[T any] struct {
	// Items are the page's items, in the API's order; never nil.
	Items []T
	// Pagination is the answer's metadata; zero when it had none.
	Pagination Pagination
}

// HasNext reports whether a page follows this one: Page < TotalPages.
func (p *Page[T]) HasNext() bool {
	return p.Pagination.Page > 0 && p.Pagination.Page < p.Pagination.TotalPages
}

// NextPage returns the number of the page after this one, or 0 when this
// is the last page, so that a loop can read
//
//	for opts.Page = 1; opts.Page != 0; opts.Page = page.NextPage() { … }
func (p *Page[T]) NextPage() int {
	if !p.HasNext() {
		return 0
	}
	return p.Pagination.Page + 1
}

// ListOptions are the query parameters every list endpoint takes: page
// (default 1), limit (default 20, at most 100), search, sortBy (default
// createdAt) and sortOrder (default desc). Zero fields are not sent, and
// the API applies its defaults.
type ListOptions struct {
	// Page is the 1-based page; 0 means the first.
	Page int
	// Limit is the page size, at most MaxLimit; 0 means the API's default
	// (20). The All… iterators use MaxLimit when it is 0.
	Limit int
	// Search is free text to search for.
	Search string
	// SortBy is the field to sort by; the API's default is "createdAt".
	SortBy string
	// SortOrder is SortAsc or SortDesc (the API's default).
	SortOrder string
	// Query holds further query parameters, sent as is, for filters this
	// package does not model. It must not repeat a parameter of the
	// options.
	Query url.Values
}

// values checks o and returns its query parameters.
func (o ListOptions) values(op string) (url.Values, error) {
	q := url.Values{}
	if o.Page < 0 {
		return nil, invalid(op, "page", "must not be negative")
	}
	if o.Limit < 0 || o.Limit > MaxLimit {
		return nil, invalid(op, "limit", "must be between 1 and "+strconv.Itoa(MaxLimit))
	}
	switch o.SortOrder {
	case "", SortAsc, SortDesc:
	default:
		return nil, invalid(op, "sortOrder", `must be "asc" or "desc"`)
	}
	if o.Page > 0 {
		q.Set("page", strconv.Itoa(o.Page))
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	setQuery(q, "search", o.Search)
	setQuery(q, "sortBy", o.SortBy)
	setQuery(q, "sortOrder", o.SortOrder)
	return q, addQuery(op, q, o.Query)
}

// setQuery sets q[key] unless v is empty.
func setQuery(q url.Values, key, v string) {
	if v != "" {
		q.Set(key, v)
	}
}

// addQuery adds extra to q, refusing a parameter q already has.
func addQuery(op string, q, extra url.Values) error {
	for k, vs := range extra {
		if q.Has(k) || k == "page" || k == "limit" {
			return invalid(op, k, "is set twice (in the options and in Query)")
		}
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	return nil
}

// listData is the data member of a list answer.
type listData[T any] struct {
	Items      []T         `json:"items"`
	Pagination *Pagination `json:"pagination"`
}

// getPage calls a list endpoint and decodes data.items and
// data.pagination.
func getPage[T any](ctx context.Context, c *Client, apiPath string, query url.Values) (*Page[T], *Response, error) {
	resp, data, err := c.call(ctx, http.MethodGet, apiPath, query, nil)
	if err != nil {
		return nil, resp, err
	}
	if !isObject(data) {
		return nil, resp, fmt.Errorf("velaflows: GET %s: decode data: not an object", apiPath)
	}
	var d listData[T]
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, resp, wrapf(err, "GET %s: decode data", apiPath)
	}
	p := &Page[T]{Items: d.Items}
	if p.Items == nil {
		p.Items = []T{}
	}
	if d.Pagination != nil {
		p.Pagination = *d.Pagination
	}
	return p, resp, nil
}

// GetPage calls the list endpoint at path (relative to the base URL, such
// as "/crm/leads") with query and decodes one page of its items into T.
// It is the typed form of the Python helper's client.get for paginated
// endpoints this package does not model; the modelled ones have their own
// methods, such as [Client.Leads].
func GetPage[T any](ctx context.Context, c *Client, path string, query url.Values) (*Page[T], *Response, error) {
	return getPage[T](ctx, c, path, query)
}

// Paginate iterates over every item of the paginated endpoint at path, page
// by page: the Go form of the fetch_all_pages helper of VelaFlows'
// Python examples. It
// sends query with limit (default MaxLimit, the helper's 100) and page
// 1, 2, … and stops after the page whose number reaches totalPages, after
// an empty page, when the caller stops, or at the first error (a done ctx
// included), which it yields once with a zero item. query is not
// modified.
//
//	for conv, err := range velaflows.Paginate[velaflows.Conversation](ctx, c,
//		"/inbox/conversations", url.Values{"status": {"open"}}) {
//		if err != nil { … }
//	}
func Paginate[T any](ctx context.Context, c *Client, path string, query url.Values) iter.Seq2[T, error] {
	q := url.Values{}
	for k, vs := range query {
		q[k] = append([]string(nil), vs...)
	}
	if q.Get("limit") == "" {
		q.Set("limit", strconv.Itoa(MaxLimit))
	}
	start := 1
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 {
		start = n
	}
	return paginate(ctx, start, func(ctx context.Context, page int) (*Page[T], error) {
		pq := url.Values{}
		for k, vs := range q {
			pq[k] = vs
		}
		pq.Set("page", strconv.Itoa(page))
		p, _, err := getPage[T](ctx, c, path, pq)
		return p, err
	})
}

// allPages iterates over the items of a list method from opts.Page (or
// 1) with opts.Limit (or MaxLimit). fetch gets one page for the options
// it is given.
func allPages[T any](ctx context.Context, opts ListOptions, fetch func(context.Context, ListOptions) (*Page[T], *Response, error)) iter.Seq2[T, error] {
	if opts.Limit == 0 {
		opts.Limit = MaxLimit
	}
	return paginate(ctx, max(opts.Page, 1), func(ctx context.Context, page int) (*Page[T], error) {
		o := opts
		o.Page = page
		p, _, err := fetch(ctx, o)
		return p, err
	})
}

// paginate yields the items of page start, start+1, … fetched by fetch.
// Like fetch_all_pages it counts pages itself and stops once its page
// number reaches totalPages (so a server whose metadata does not advance
// cannot make it loop), and also after an empty page.
func paginate[T any](ctx context.Context, start int, fetch func(ctx context.Context, page int) (*Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		for page := start; ; page++ {
			if err := ctx.Err(); err != nil {
				yield(zero, wrapf(err, "iterate"))
				return
			}
			p, err := fetch(ctx, page)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, item := range p.Items {
				if err := ctx.Err(); err != nil {
					yield(zero, wrapf(err, "iterate"))
					return
				}
				if !yield(item, nil) {
					return
				}
			}
			if len(p.Items) == 0 || page >= p.Pagination.TotalPages {
				return
			}
		}
	}
}

// Collect gathers the items of an iterator such as [Client.AllLeads] into
// a slice, the way fetch_all_pages of VelaFlows' Python examples
// returns a list. On error it
// returns the items gathered so far and the error.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var items []T
	for item, err := range seq {
		if err != nil {
			return items, err
		}
		items = append(items, item)
	}
	return items, nil
}

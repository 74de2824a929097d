package sendbee

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strconv"
)

// MaxLimit is the largest page size (limit) the API documents.
const MaxLimit = 100

// ErrPagination is wrapped by a [*PaginationError]: a list call asked for
// a page after the last one. It is the Go form of the Python client's
// PaginationException, and a normal way to end a page-by-page loop.
var ErrPagination = errors.New("sendbee: no more pages")

// A PaginationError reports that a list call for page 2 or later got a
// successful answer with no items: the list ended before that page. It
// wraps [ErrPagination].
type PaginationError struct {
	// Method and Path name the call, such as "GET" "/contacts".
	Method, Path string
	// Page is the page that was asked for.
	Page int
	// Meta is the pagination metadata of the empty answer.
	Meta Meta
}

// Error renders the error as "sendbee: GET /contacts: page 4 is past the last page (3)".
func (e *PaginationError) Error() string {
	return fmt.Sprintf("sendbee: %s %s: page %d is past the last page (%d)", e.Method, e.Path, e.Page, e.Meta.LastPage)
}

// Unwrap returns [ErrPagination].
func (e *PaginationError) Unwrap() error { return ErrPagination }

// Meta is the pagination metadata of a list answer. Pages are 1-based.
type Meta struct {
	CurrentPage int `json:"current_page"`
	LastPage    int `json:"last_page"`
	PerPage     int `json:"per_page"`
	Total       int `json:"total"`
	// From and To are the 1-based positions of the page's first and last
	// items in the whole list; zero for an empty page.
	From int `json:"from"`
	To   int `json:"to"`
}

// Links are the page links of a list answer; a missing link is "".
type Links struct {
	First string `json:"first"`
	Last  string `json:"last"`
	Prev  string `json:"prev"`
	Next  string `json:"next"`
}

// A Page is one page of a list endpoint's items. It is a plain value
// owned by the caller.
type Page[T any] struct {
	// Items are the page's items, in the API's order; never nil.
	Items []T
	// Meta is the pagination metadata; zero when the answer had none.
	Meta Meta
	// Links are the page links; zero when the answer had none.
	Links Links
}

// HasNext reports whether a page follows this one: Meta.CurrentPage <
// Meta.LastPage, as in the Python client's has_next().
func (p *Page[T]) HasNext() bool {
	return p.Meta.CurrentPage < p.Meta.LastPage
}

// NextPage returns the number of the page after this one,
// Meta.CurrentPage+1, as the Python client's next_page() does. It does not
// check that the page exists: asking for a page past the end gets a
// [*PaginationError]. Check [Page.HasNext] to avoid that call.
func (p *Page[T]) NextPage() int {
	return p.Meta.CurrentPage + 1
}

// pageQuery adds page and limit to q, leaving out zero values. It returns
// a *ValidationError for a negative page or a limit outside 0..MaxLimit.
func pageQuery(op string, q url.Values, page, limit int) error {
	if page < 0 {
		return invalid(op, "page", "must not be negative")
	}
	if limit < 0 || limit > MaxLimit {
		return invalid(op, "limit", "must be between 1 and "+strconv.Itoa(MaxLimit))
	}
	if page > 0 {
		q.Set("page", strconv.Itoa(page))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return nil
}

// all iterates over every item of a list from page start (0 means the
// API's first page) to the last page. fetch gets one page. Iteration stops
// when the last page is done, when the caller stops, or on the first error
// (including ctx's), which is yielded once with a zero item. A
// *PaginationError ends the iteration without an error: the list is over.
func all[T any](ctx context.Context, start int, fetch func(ctx context.Context, page int) (*Page[T], *Response, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		page := start
		for {
			p, _, err := fetch(ctx, page)
			if errors.Is(err, ErrPagination) {
				return
			}
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
			// A server whose meta does not advance would loop forever.
			if !p.HasNext() || p.NextPage() <= page {
				return
			}
			page = p.NextPage()
		}
	}
}

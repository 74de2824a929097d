package sendbee_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
)

// servePages makes the fake answer GET path with total items {"id":
// "<n>"} split into pages of size per, Laravel-style: a page past the end
// is 200 with data [] and current_page set to the page asked for.
func servePages(f *fakeAPI, path string, total, per int) {
	f.handle("GET", path, func(w http.ResponseWriter, r *http.Request) {
		page := 1
		if p := r.URL.Query().Get("page"); p != "" {
			page, _ = strconv.Atoi(p)
		}
		last := max(1, (total+per-1)/per)
		var items []string
		from, to := 0, 0
		for i := (page-1)*per + 1; i <= min(page*per, total); i++ {
			items = append(items, fmt.Sprintf(`{"id": "%d", "name": "n%d"}`, i, i))
			if from == 0 {
				from = i
			}
			to = i
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"data": [%s], "meta": {"current_page": %d, "last_page": %d, "per_page": %d, "total": %d, "from": %d, "to": %d}}`,
			strings.Join(items, ","), page, last, per, total, from, to)
	})
}

func pagesAsked(f *fakeAPI) []string {
	var pages []string
	for _, r := range f.requests() {
		pages = append(pages, r.Query.Get("page"))
	}
	return pages
}

func TestPage_hasNextLoop(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	servePages(f, "/conversations/messages", 5, 2)
	c := f.newClient(t)
	ctx := t.Context()

	// The Python SDK's second loop style: while has_next().
	var ids []string
	opts := sendbee.MessagesOptions{ConversationID: "c1"}
	for {
		p, _, err := c.ConversationMessages(ctx, opts)
		require.NoError(t, err)
		for _, m := range p.Items {
			ids = append(ids, m.ID)
		}
		if !p.HasNext() {
			break
		}
		opts.Page = p.NextPage()
	}
	assert.Equal(t, []string{"1", "2", "3", "4", "5"}, ids)
	assert.Equal(t, []string{"", "2", "3"}, pagesAsked(f))
}

func TestPage_pastTheEnd(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	servePages(f, "/conversations/messages", 5, 2)
	c := f.newClient(t)
	ctx := t.Context()

	// The Python SDK's first loop style: next_page() until PaginationException.
	p, _, err := c.ConversationMessages(ctx, sendbee.MessagesOptions{ConversationID: "c1"})
	require.NoError(t, err)
	n := len(p.Items)
	for {
		p2, resp, err := c.ConversationMessages(ctx, sendbee.MessagesOptions{ConversationID: "c1", Page: p.NextPage()})
		if errors.Is(err, sendbee.ErrPagination) {
			assert.Nil(t, p2)
			require.NotNil(t, resp)
			var pe *sendbee.PaginationError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, 4, pe.Page)
			assert.Equal(t, 3, pe.Meta.LastPage)
			assert.Equal(t, "/conversations/messages", pe.Path)
			assert.Equal(t, "sendbee: GET /conversations/messages: page 4 is past the last page (3)", err.Error())
			break
		}
		require.NoError(t, err)
		n += len(p2.Items)
		p = p2
	}
	assert.Equal(t, 5, n)
	assert.Equal(t, []string{"", "2", "3", "4"}, pagesAsked(f))
}

func TestPage_emptyFirstPageIsNotAnError(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	servePages(f, "/contacts", 0, 10)
	c := f.newClient(t)

	p, _, err := c.Contacts(t.Context(), sendbee.ContactsOptions{})
	require.NoError(t, err)
	assert.NotNil(t, p.Items)
	assert.Empty(t, p.Items)
	assert.False(t, p.HasNext())
}

// collect drains an iterator, counting errors.
func collect[T any](seq iter.Seq2[T, error], id func(T) string) (ids []string, errs []error) {
	for v, err := range seq {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, id(v))
	}
	return ids, errs
}

func TestClient_iterators(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		path  string
		iter  func(ctx context.Context, c *sendbee.Client) ([]string, []error)
		query map[string]string
	}{
		{"AllContacts", "/contacts", func(ctx context.Context, c *sendbee.Client) ([]string, []error) {
			return collect(c.AllContacts(ctx, sendbee.ContactsOptions{Limit: 3, Status: sendbee.ContactSubscribed}), func(v sendbee.Contact) string { return v.ID })
		}, map[string]string{"limit": "3", "status": "subscribed"}},
		{"AllContactTags", "/contacts/tags", func(ctx context.Context, c *sendbee.Client) ([]string, []error) {
			return collect(c.AllContactTags(ctx, sendbee.ContactTagsOptions{Limit: 3, Name: "x"}), func(v sendbee.ContactTag) string { return v.ID })
		}, map[string]string{"limit": "3", "name": "x"}},
		{"AllContactFields", "/contacts/fields", func(ctx context.Context, c *sendbee.Client) ([]string, []error) {
			return collect(c.AllContactFields(ctx, sendbee.ContactFieldsOptions{Limit: 3}), func(v sendbee.ContactField) string { return v.ID })
		}, map[string]string{"limit": "3"}},
		{"AllConversations", "/conversations", func(ctx context.Context, c *sendbee.Client) ([]string, []error) {
			return collect(c.AllConversations(ctx, sendbee.ConversationsOptions{Limit: 3, Folder: sendbee.FolderOpen}), func(v sendbee.Conversation) string { return v.ID })
		}, map[string]string{"limit": "3", "folder": "open"}},
		{"AllConversationMessages", "/conversations/messages", func(ctx context.Context, c *sendbee.Client) ([]string, []error) {
			return collect(c.AllConversationMessages(ctx, sendbee.MessagesOptions{ConversationID: "c1"}), func(v sendbee.Message) string { return v.ID })
		}, map[string]string{"conversation_id": "c1"}},
		{"AllMessageTemplates", "/conversations/messages/templates", func(ctx context.Context, c *sendbee.Client) ([]string, []error) {
			return collect(c.AllMessageTemplates(ctx, sendbee.MessageTemplatesOptions{Limit: 3, Status: sendbee.TemplateApproved}), func(v sendbee.MessageTemplate) string { return v.ID })
		}, map[string]string{"limit": "3", "status": "approved"}},
		{"AllTeams", "/teams/teams", func(ctx context.Context, c *sendbee.Client) ([]string, []error) {
			return collect(c.AllTeams(ctx, sendbee.TeamsOptions{MemberID: "m"}), func(v sendbee.Team) string { return v.ID })
		}, map[string]string{"member_id": "m"}},
		{"AllMembers", "/teams/members", func(ctx context.Context, c *sendbee.Client) ([]string, []error) {
			return collect(c.AllMembers(ctx, sendbee.MembersOptions{TeamID: "t"}), func(v sendbee.Member) string { return v.ID })
		}, map[string]string{"team_id": "t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			servePages(f, tt.path, 7, 3)
			c := f.newClient(t)

			ids, errs := tt.iter(t.Context(), c)
			assert.Empty(t, errs)
			assert.Equal(t, []string{"1", "2", "3", "4", "5", "6", "7"}, ids)
			assert.Equal(t, []string{"", "2", "3"}, pagesAsked(f))
			for _, r := range f.requests() {
				for k, v := range tt.query {
					assert.Equal(t, v, r.Query.Get(k), k)
				}
			}
		})
	}
}

func TestClient_iteratorStartPage(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	servePages(f, "/contacts", 7, 3)
	c := f.newClient(t)

	ids, errs := collect(c.AllContacts(t.Context(), sendbee.ContactsOptions{Page: 2}), func(v sendbee.Contact) string { return v.ID })
	assert.Empty(t, errs)
	assert.Equal(t, []string{"4", "5", "6", "7"}, ids)

	// Starting past the end is an empty iteration, not an error.
	ids, errs = collect(c.AllContacts(t.Context(), sendbee.ContactsOptions{Page: 9}), func(v sendbee.Contact) string { return v.ID })
	assert.Empty(t, errs)
	assert.Empty(t, ids)
}

func TestClient_iteratorBreak(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	servePages(f, "/contacts", 7, 3)
	c := f.newClient(t)

	var ids []string
	for v, err := range c.AllContacts(t.Context(), sendbee.ContactsOptions{}) {
		require.NoError(t, err)
		ids = append(ids, v.ID)
		if len(ids) == 4 {
			break
		}
	}
	assert.Equal(t, []string{"1", "2", "3", "4"}, ids)
	assert.Equal(t, []string{"", "2"}, pagesAsked(f), "no page is fetched after the break")
}

func TestClient_iteratorError(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	servePages(f, "/contacts", 7, 3)
	var calls atomic.Int32
	inner := f.routes["GET /contacts"]
	f.handle("GET", "/contacts", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 2 {
			writeError(w, http.StatusInternalServerError, "server_error", "boom")
			return
		}
		inner(w, r)
	})
	c := f.newClient(t)

	ids, errs := collect(c.AllContacts(t.Context(), sendbee.ContactsOptions{}), func(v sendbee.Contact) string { return v.ID })
	assert.Equal(t, []string{"1", "2", "3"}, ids)
	require.Len(t, errs, 1, "the error is yielded once")
	var apiErr *sendbee.APIError
	require.ErrorAs(t, errs[0], &apiErr)
	assert.Equal(t, 500, apiErr.StatusCode)
	assert.Equal(t, []string{"", "2"}, pagesAsked(f), "iteration stops at the error")
}

func TestClient_iteratorCanceled(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	servePages(f, "/contacts", 7, 3)
	c := f.newClient(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	var ids []string
	var errs []error
	for v, err := range c.AllContacts(ctx, sendbee.ContactsOptions{}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, v.ID)
		cancel()
	}
	assert.Equal(t, []string{"1"}, ids)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], context.Canceled)
	assert.Equal(t, []string{""}, pagesAsked(f))

	// A ctx cancelled before iterating yields its error once, sending nothing.
	ids, errs = collect(c.AllContacts(ctx, sendbee.ContactsOptions{}), func(v sendbee.Contact) string { return v.ID })
	assert.Empty(t, ids)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], context.Canceled)
	assert.Len(t, f.requests(), 1)
}

func TestClient_iteratorStuckMeta(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	// A broken server that always says "page 1 of 5" must not loop forever.
	f.reply("GET", "/contacts", 200, `{"data": [{"id": "1"}], "meta": {"current_page": 1, "last_page": 5}}`)
	c := f.newClient(t)

	ids, errs := collect(c.AllContacts(t.Context(), sendbee.ContactsOptions{}), func(v sendbee.Contact) string { return v.ID })
	assert.Empty(t, errs)
	assert.Equal(t, []string{"1", "1"}, ids)
	assert.Equal(t, []string{"", "2"}, pagesAsked(f))
}

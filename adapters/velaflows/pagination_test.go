package velaflows_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows"
)

// pagedList serves total items "<prefix><n>" (n from 1) page by page, as
// the API does: page defaults to 1, limit to 20; a page past the end is
// empty with correct totals.
func pagedList(t *testing.T, prefix string, total int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		page, limit := 1, 20
		if v := r.URL.Query().Get("page"); v != "" {
			page, _ = strconv.Atoi(v)
		}
		if v := r.URL.Query().Get("limit"); v != "" {
			limit, _ = strconv.Atoi(v)
		}
		var items []string
		for i := (page-1)*limit + 1; i <= min(page*limit, total); i++ {
			items = append(items, fmt.Sprintf(`{"_id":"%s%d"}`, prefix, i))
		}
		writeJSON(w, 200, pageJSON("["+strings.Join(items, ",")+"]", page, limit, total))
	}
}

func TestPage_HasNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p        velaflows.Pagination
		hasNext  bool
		nextPage int
	}{
		{velaflows.Pagination{Page: 1, Limit: 2, Total: 7, TotalPages: 4}, true, 2},
		{velaflows.Pagination{Page: 2, Limit: 2, Total: 7, TotalPages: 4}, true, 3},
		{velaflows.Pagination{Page: 4, Limit: 2, Total: 7, TotalPages: 4}, false, 0},
		{velaflows.Pagination{Page: 1, Limit: 20, Total: 0, TotalPages: 0}, false, 0},
		{velaflows.Pagination{}, false, 0},
	}
	for _, tt := range tests {
		p := velaflows.Page[int]{Pagination: tt.p}
		assert.Equal(t, tt.hasNext, p.HasNext(), "%+v", tt.p)
		assert.Equal(t, tt.nextPage, p.NextPage(), "%+v", tt.p)
	}
}

// TestPage_loop walks pages by hand with NextPage.
func TestPage_loop(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("GET", "/crm/leads", pagedList(t, "l", 7))
	c := f.newClient(t)
	var ids []string
	opts := velaflows.LeadsOptions{ListOptions: velaflows.ListOptions{Limit: 2}}
	for opts.Page = 1; opts.Page != 0; {
		page, _, err := c.Leads(t.Context(), opts)
		require.NoError(t, err)
		for _, l := range page.Items {
			ids = append(ids, l.ID)
		}
		opts.Page = page.NextPage()
	}
	assert.Equal(t, []string{"l1", "l2", "l3", "l4", "l5", "l6", "l7"}, ids)
	assert.Len(t, f.requests(), 4)
}

func TestClient_AllConversations_manyPages(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("GET", "/inbox/conversations", pagedList(t, "c", 1234))
	c := f.newClient(t)

	var ids []string
	for conv, err := range c.AllConversations(t.Context(), velaflows.ConversationsOptions{Status: "open"}) {
		require.NoError(t, err)
		ids = append(ids, conv.ID)
	}
	require.Len(t, ids, 1234)
	assert.Equal(t, "c1", ids[0])
	assert.Equal(t, "c1234", ids[1233])
	reqs := f.requests()
	require.Len(t, reqs, 13, "100 per page, like the guide's fetch_all_pages")
	for i, r := range reqs {
		assert.Equal(t, url.Values{"page": {strconv.Itoa(i + 1)}, "limit": {"100"}, "status": {"open"}}, r.Query)
	}
}

func TestClient_allIterators(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("GET", "/crm/leads", pagedList(t, "l", 25))
	f.handle("GET", "/customers", pagedList(t, "k", 25))
	f.handle("GET", "/tags", pagedList(t, "t", 25))
	f.handle("GET", "/inbox/conversations/c1/messages", pagedList(t, "m", 25))
	f.handle("GET", "/webhooks/subscriptions", pagedList(t, "s", 25))
	c := f.newClient(t)
	ctx := t.Context()
	lo := velaflows.ListOptions{Limit: 10}

	count := func(name string, n int, err error) {
		t.Helper()
		require.NoError(t, err, name)
		assert.Equal(t, 25, n, name)
	}
	leads, err := velaflows.Collect(c.AllLeads(ctx, velaflows.LeadsOptions{ListOptions: lo}))
	count("leads", len(leads), err)
	customers, err := velaflows.Collect(c.AllCustomers(ctx, velaflows.CustomersOptions{ListOptions: lo}))
	count("customers", len(customers), err)
	tags, err := velaflows.Collect(c.AllTags(ctx, velaflows.TagsOptions{ListOptions: lo, EntityType: "conversation"}))
	count("tags", len(tags), err)
	msgs, err := velaflows.Collect(c.AllConversationMessages(ctx, "c1", velaflows.MessagesOptions{ListOptions: lo}))
	count("messages", len(msgs), err)
	subs, err := velaflows.Collect(c.AllWebhookSubscriptions(ctx, lo))
	count("subscriptions", len(subs), err)
	assert.Equal(t, "s25", subs[24].ID)
	assert.Len(t, f.requests(), 15)
}

func TestClient_AllLeads_startPage(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("GET", "/crm/leads", pagedList(t, "l", 9))
	c := f.newClient(t)
	leads, err := velaflows.Collect(c.AllLeads(t.Context(), velaflows.LeadsOptions{ListOptions: velaflows.ListOptions{Page: 2, Limit: 4, SortBy: "createdAt"}}))
	require.NoError(t, err)
	var ids []string
	for _, l := range leads {
		ids = append(ids, l.ID)
	}
	assert.Equal(t, []string{"l5", "l6", "l7", "l8", "l9"}, ids)
	assert.Equal(t, "createdAt", f.last(t).Query.Get("sortBy"))
}

func TestClient_AllLeads_stopEarly(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("GET", "/crm/leads", pagedList(t, "l", 500))
	c := f.newClient(t)
	n := 0
	for _, err := range c.AllLeads(t.Context(), velaflows.LeadsOptions{}) {
		require.NoError(t, err)
		n++
		if n == 150 {
			break
		}
	}
	assert.Equal(t, 150, n)
	assert.Len(t, f.requests(), 2, "no page is fetched after the caller stops")
}

func TestClient_AllLeads_errorOnce(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	list := pagedList(t, "l", 500)
	f.handle("GET", "/crm/leads", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "3" {
			writeError(w, 403, "FORBIDDEN", "Token lacks required scope", "")
			return
		}
		list(w, r)
	})
	c := f.newClient(t)
	n, errs := 0, 0
	for _, err := range c.AllLeads(t.Context(), velaflows.LeadsOptions{}) {
		if err != nil {
			errs++
			assert.True(t, velaflows.IsCode(err, velaflows.CodeForbidden))
			continue
		}
		n++
	}
	assert.Equal(t, 200, n)
	assert.Equal(t, 1, errs, "the error is yielded once")
	assert.Len(t, f.requests(), 3)
}

func TestClient_AllLeads_validationError(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	c := f.newClient(t)
	items, err := velaflows.Collect(c.AllLeads(t.Context(), velaflows.LeadsOptions{ListOptions: velaflows.ListOptions{Limit: 500}}))
	assert.Empty(t, items)
	var ve *velaflows.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "limit", ve.Field)
	assert.Empty(t, f.requests())
}

func TestClient_AllConversations_cancel(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("GET", "/inbox/conversations", pagedList(t, "c", 500))
	c := f.newClient(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	n, errs := 0, 0
	for _, err := range c.AllConversations(ctx, velaflows.ConversationsOptions{}) {
		if err != nil {
			errs++
			assert.ErrorIs(t, err, context.Canceled)
			continue
		}
		n++
		if n == 42 {
			cancel()
		}
	}
	assert.Equal(t, 42, n, "no item after the cancellation")
	assert.Equal(t, 1, errs)
	assert.Len(t, f.requests(), 1)

	// An already cancelled context fetches nothing.
	items, err := velaflows.Collect(c.AllConversations(ctx, velaflows.ConversationsOptions{}))
	assert.Empty(t, items)
	require.ErrorIs(t, err, context.Canceled)
	assert.Len(t, f.requests(), 1)
}

// TestPaginate_stuckMetadata: a server whose metadata never advances, or
// that returns an empty page early, cannot make the iterator loop.
func TestPaginate_stuckMetadata(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/stuck", 200, pageJSON(`[{"_id":"x"}]`, 1, 1, 3))
	f.reply("GET", "/empty", 200, ok(`{"items":[],"pagination":{"page":1,"limit":100,"total":50,"totalPages":5}}`))
	f.reply("GET", "/nometa", 200, ok(`{"items":[{"_id":"a"},{"_id":"b"}]}`))
	c := f.newClient(t)
	type item struct {
		ID string `json:"_id"`
	}
	items, err := velaflows.Collect(velaflows.Paginate[item](t.Context(), c, "/stuck", nil))
	require.NoError(t, err)
	assert.Len(t, items, 3, "the iterator counts pages itself, up to totalPages")
	items, err = velaflows.Collect(velaflows.Paginate[item](t.Context(), c, "/empty", nil))
	require.NoError(t, err)
	assert.Empty(t, items)
	items, err = velaflows.Collect(velaflows.Paginate[item](t.Context(), c, "/nometa", nil))
	require.NoError(t, err)
	assert.Len(t, items, 2)
	assert.Len(t, f.requests(), 5)
}

// TestPaginate is VelaFlows' Python example
// fetch_all_pages("/inbox/conversations", params={"status": "open"}).
func TestPaginate(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("GET", "/inbox/conversations", pagedList(t, "c", 230))
	c := f.newClient(t)
	query := url.Values{"status": {"open"}}
	convs, err := velaflows.Collect(velaflows.Paginate[velaflows.Conversation](t.Context(), c, "/inbox/conversations", query))
	require.NoError(t, err)
	assert.Len(t, convs, 230)
	assert.Equal(t, url.Values{"status": {"open"}}, query, "the caller's query is not modified")
	reqs := f.requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, url.Values{"status": {"open"}, "limit": {"100"}, "page": {"3"}}, reqs[2].Query)

	// A limit of the caller's is kept.
	convs, err = velaflows.Collect(velaflows.Paginate[velaflows.Conversation](t.Context(), c, "/inbox/conversations", url.Values{"limit": {"50"}}))
	require.NoError(t, err)
	assert.Len(t, convs, 230)
	assert.Len(t, f.requests(), 3+5)

	page, _, err := velaflows.GetPage[velaflows.Conversation](t.Context(), c, "/inbox/conversations", url.Values{"page": {"2"}, "limit": {"100"}})
	require.NoError(t, err)
	assert.Len(t, page.Items, 100)
	assert.Equal(t, "c101", page.Items[0].ID)
	assert.True(t, page.HasNext())
}

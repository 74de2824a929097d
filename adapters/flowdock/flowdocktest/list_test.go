package flowdocktest_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
)

func emptyFlowServer(t *testing.T) *flowdocktest.Server {
	return flowdocktest.NewServer(t, flowdocktest.WithoutDemoData(),
		flowdocktest.WithUsers(flowdocktest.User{ID: 7, Nick: "team"}),
		flowdocktest.WithFlows(flowdocktest.Flow{Org: "hpe", Name: "apua-flow"}))
}

// TestServer_ListSearchAndTags is the first list pattern the Python
// wrapper observed on the live service:
// (search keywords) ∪ (match tags in mode) → skip N → limit N.
func TestServer_ListSearchAndTags(t *testing.T) {
	t.Parallel()
	s := emptyFlowServer(t)
	c := botClient(t, s)
	send := func(content string, tags []string) {
		t.Helper()
		r := c.do(http.MethodPost, "/flows/hpe/apua-flow/messages", map[string]any{"event": "message", "content": content, "tags": tags, "thread_id": nil})
		require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Raw)
	}
	send("1. a keyword", nil)
	send("2. keywords", []string{"A"})
	send("3. more keywords", []string{"A", "B"})

	tests := []struct {
		name  string
		query map[string]any // sent as a JSON body on GET, like the wrapper
		want  string
	}{
		{"search whole word", map[string]any{"search": "keyword"}, "1"},
		{"tags and (default)", map[string]any{"tags": []string{"A", "B"}}, "3"},
		{"tags or", map[string]any{"tags": []string{"A", "B"}, "tag_mode": "or"}, "2 3"},
		{"tags as comma string", map[string]any{"tags": "A,B", "tag_mode": "or"}, "2 3"},
		{"tags are case-insensitive", map[string]any{"tags": "a"}, "2 3"},
		{"search union tags", map[string]any{"search": "keyword", "tags": []string{"A", "B"}, "tag_mode": "or"}, "1 2 3"},
		{"skip drops the newest", map[string]any{"search": "keyword", "tags": []string{"A", "B"}, "tag_mode": "or", "skip": 1}, "1 2"},
		{"limit keeps the newest", map[string]any{"search": "keyword", "tags": []string{"A", "B"}, "tag_mode": "or", "limit": 1}, "3"},
		{"skip then limit", map[string]any{"search": "keyword", "tags": []string{"A", "B"}, "tag_mode": "or", "skip": 1, "limit": 1}, "2"},
		{"all search words must match", map[string]any{"search": "more keywords"}, "3"},
		{"search ignores since_id", map[string]any{"search": "keywords", "since_id": 3}, "2 3"},
		{"search is case-insensitive", map[string]any{"search": "KEYWORD"}, "1"},
		{"no match", map[string]any{"search": "nothing"}, ""},
	}
	verify := func(t *testing.T, r *response) string {
		t.Helper()
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Raw)
		var firsts []string
		for _, m := range r.list(t) {
			firsts = append(firsts, m["content"].(string)[:1])
		}
		return strings.Join(firsts, " ")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, verify(t, c.do(http.MethodGet, "/flows/hpe/apua-flow/messages", tt.query)))
		})
	}
	// The same as a query string.
	assert.Equal(t, "1 2", verify(t, c.do(http.MethodGet, "/flows/hpe/apua-flow/messages?search=keyword&tags=A,B&tag_mode=or&skip=1", nil)))
	// The Python wrapper's basic example: results ascending, [-1] is the
	// newest match.
	send("a keyword here", nil)
	list := c.do(http.MethodGet, "/flows/hpe/apua-flow/messages", map[string]any{"search": "keyword"}).list(t)
	assert.Equal(t, "a keyword here", list[len(list)-1]["content"])
}

// TestServer_ListEventsAndIDs is the second list pattern the Python
// wrapper observed on the live service:
// (event type) ∩ (since ID - until ID) → sort [desc|asc] → limit N.
func TestServer_ListEventsAndIDs(t *testing.T) {
	t.Parallel()
	s := emptyFlowServer(t)
	c := botClient(t, s)
	readme := []byte("Flowdock API wrapper\n====================\n")
	up := func() int {
		t.Helper()
		r := c.upload("/flows/hpe/apua-flow/messages", "README.rst", readme, map[string]string{"event": "file"})
		require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Raw)
		return num(r.obj(t)["id"])
	}
	ids := map[int]string{}
	ids[up()] = "1"
	ids[up()] = "2"
	ids[up()] = "3"
	r := c.do(http.MethodPost, "/flows/hpe/apua-flow/messages", map[string]any{"event": "message", "content": "file_path"})
	require.Equal(t, http.StatusCreated, r.Status)
	ids[num(r.obj(t)["id"])] = "4"
	ids[up()] = "5"
	var msg1, msg5 int
	for id, n := range ids {
		switch n {
		case "1":
			msg1 = id
		case "5":
			msg5 = id
		}
	}
	tests := []struct {
		name  string
		query map[string]any
		want  string
	}{
		{"since_id", map[string]any{"since_id": msg1}, "2 3 4 5"},
		{"since_id and until_id", map[string]any{"since_id": msg1, "until_id": msg5}, "2 3 4"},
		{"event", map[string]any{"event": "file", "since_id": msg1}, "2 3 5"},
		{"limit takes the newest", map[string]any{"event": "file", "since_id": msg1, "limit": 1}, "5"},
		{"sort asc takes the oldest", map[string]any{"event": "file", "since_id": msg1, "sort": "asc", "limit": 1}, "2"},
		{"sort does not change the order", map[string]any{"event": "file", "sort": "asc", "limit": 2}, "1 2"},
		{"sort desc is the default", map[string]any{"event": "file", "sort": "desc", "limit": 2}, "3 5"},
		{"ids as strings", map[string]any{"since_id": strconv.Itoa(msg1), "until_id": strconv.Itoa(msg5)}, "2 3 4"},
		{"event list", map[string]any{"event": "message,file", "since_id": msg1, "limit": 2}, "4 5"},
		{"files by tag", map[string]any{"tags": ":file"}, "1 2 3 5"},
		{"skip ignored without search", map[string]any{"skip": 2}, "1 2 3 4 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(http.MethodGet, "/flows/hpe/apua-flow/messages", tt.query)
			require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Raw)
			var got []string
			for _, m := range r.list(t) {
				got = append(got, ids[num(m["id"])])
			}
			assert.Equal(t, tt.want, strings.Join(got, " "))
		})
	}
	// Bad parameters.
	for _, q := range []string{"limit=x", "sort=up", "tag_mode=xor", "since_id=abc"} {
		assert.Equal(t, http.StatusBadRequest, c.do(http.MethodGet, "/flows/hpe/apua-flow/messages?"+q, nil).Status, q)
	}
}

func TestServer_ListLinksMentionsDefaults(t *testing.T) {
	t.Parallel()
	s := emptyFlowServer(t)
	c := botClient(t, s)
	for i := range 35 {
		require.Equal(t, http.StatusCreated, c.do(http.MethodPost, "/flows/hpe/apua-flow/messages",
			map[string]any{"event": "message", "content": "msg " + strconv.Itoa(i)}).Status)
	}
	require.Equal(t, http.StatusCreated, c.do(http.MethodPost, "/flows/hpe/apua-flow/messages",
		map[string]any{"event": "message", "content": "@team see http://x.test"}).Status)
	require.Equal(t, http.StatusCreated, c.do(http.MethodPost, "/flows/hpe/apua-flow/messages",
		map[string]any{"event": "message", "content": "mail me: a@b.test"}).Status)

	// Default limit 30, newest, ascending.
	all := c.do(http.MethodGet, "/flows/hpe/apua-flow/messages", nil).list(t)
	require.Len(t, all, 30)
	assert.Less(t, num(all[0]["id"]), num(all[29]["id"]))
	assert.Equal(t, "mail me: a@b.test", all[29]["content"])
	// limit is capped at 100.
	assert.Len(t, c.do(http.MethodGet, "/flows/hpe/apua-flow/messages?limit=1000", nil).list(t), 37)

	links := c.do(http.MethodGet, "/flows/hpe/apua-flow/messages", map[string]any{"tags": ":url"}).list(t)
	assert.Len(t, links, 2)
	// "team" is a user here, so @team is :user:7; the filter resolves too.
	mentions := c.do(http.MethodGet, "/flows/hpe/apua-flow/messages", map[string]any{"tags": "@team"}).list(t)
	require.Len(t, mentions, 1)
	assert.Contains(t, strs(mentions[0]["tags"]), ":user:7")
	assert.Len(t, c.do(http.MethodGet, "/flows/hpe/apua-flow/messages?tags=:user:7", nil).list(t), 1)
}

func TestServer_ListEditEvents(t *testing.T) {
	t.Parallel()
	s := emptyFlowServer(t)
	c := botClient(t, s)
	m := c.do(http.MethodPost, "/flows/hpe/apua-flow/messages", map[string]any{"event": "message", "content": "v1"}).obj(t)
	path := "/flows/hpe/apua-flow/messages/" + strconv.Itoa(num(m["id"]))
	require.Equal(t, http.StatusOK, c.do(http.MethodPut, path, map[string]any{"content": "v2", "tags": []string{"t"}}).Status)

	// Edit events take ids but are listed only by name.
	assert.Len(t, c.do(http.MethodGet, "/flows/hpe/apua-flow/messages", nil).list(t), 1)
	evs := c.do(http.MethodGet, "/flows/hpe/apua-flow/messages?event=message-edit,tag-change", nil).list(t)
	require.Len(t, evs, 2)
	assert.Equal(t, "message-edit", evs[0]["event"])
	assert.Equal(t, float64(2), evs[0]["id"])
	assert.Equal(t, map[string]any{"message": float64(1), "updated_content": "v2"}, evs[0]["content"])
	assert.Equal(t, "tag-change", evs[1]["event"])
	assert.Equal(t, map[string]any{"message": float64(1), "add": []any{"t"}, "remove": []any{}}, evs[1]["content"])
	next := c.do(http.MethodPost, "/flows/hpe/apua-flow/messages", map[string]any{"event": "message", "content": "v3"}).obj(t)
	assert.Equal(t, float64(4), next["id"])
}

// TestServer_ListAfterCleanup replays the Python wrapper's doctest cleanup:
// deleted (truncated) messages no longer match search or tags, so a second
// run of the pattern-1 examples sees only the new messages.
func TestServer_ListAfterCleanup(t *testing.T) {
	t.Parallel()
	s := emptyFlowServer(t)
	c := botClient(t, s)
	run := func() {
		for _, m := range []map[string]any{
			{"event": "message", "content": "1. a keyword"},
			{"event": "message", "content": "2. keywords", "tags": []string{"A"}},
			{"event": "message", "content": "3. more keywords", "tags": []string{"A", "B"}},
		} {
			require.Equal(t, http.StatusCreated, c.do(http.MethodPost, "/flows/hpe/apua-flow/messages", m).Status)
		}
	}
	run()
	for _, m := range c.do(http.MethodGet, "/flows/hpe/apua-flow/messages", map[string]any{"search": "keyword", "tags": []string{"A", "B"}, "tag_mode": "or"}).list(t) {
		require.Equal(t, http.StatusOK, c.do(http.MethodDelete, "/flows/hpe/apua-flow/messages/"+strconv.Itoa(num(m["id"])), nil).Status)
	}
	run()
	got := c.do(http.MethodGet, "/flows/hpe/apua-flow/messages", map[string]any{"tags": []string{"A", "B"}, "tag_mode": "or"}).list(t)
	require.Len(t, got, 2)
	assert.Equal(t, "2. keywords", got[0]["content"])
	// Without search or tags the truncated messages still show, with content "".
	all := c.do(http.MethodGet, "/flows/hpe/apua-flow/messages", nil).list(t)
	require.Len(t, all, 6)
	assert.Equal(t, "", all[0]["content"])
}

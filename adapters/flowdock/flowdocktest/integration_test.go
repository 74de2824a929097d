package flowdocktest_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
)

// present posts like the wrapper's integration.present: JSON to /messages
// with flow_token, no Basic auth.
func present(t *testing.T, s *flowdocktest.Server, flowRef, id string, author map[string]any, title string, body *string, thread map[string]any) *response {
	t.Helper()
	payload := map[string]any{"flow_token": s.FlowToken(flowRef), "external_thread_id": id, "author": author, "title": title}
	if body == nil {
		payload["event"] = "activity"
	} else {
		payload["event"] = "discussion"
		payload["body"] = *body
	}
	if thread != nil {
		payload["thread"] = thread
	}
	return anonClient(t, s).do(http.MethodPost, "/messages", payload)
}

func ptr(s string) *string { return &s }

// TestServer_PresentItems follows the Python wrapper's "Present an
// External Service Item", "Check Presented Items" and "Tag, Reply, and
// Delete a Presented Item" walk-throughs.
func TestServer_PresentItems(t *testing.T) {
	t.Parallel()
	s := emptyFlowServer(t)
	c := botClient(t, s)
	const flowRef = "hpe/apua-flow"
	ray := map[string]any{"name": "Ray"}
	// The wrapper's constructors send unset fields as null.
	item := map[string]any{"title": "Item 01", "body": nil, "fields": nil, "status": nil, "external_url": nil, "actions": nil}
	author := map[string]any{"name": "Ray", "avatar": nil}

	ok := func(r *response) {
		t.Helper()
		require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Raw)
		assert.Equal(t, "{}", string(r.Raw))
	}
	ok(present(t, s, flowRef, "ITEM-01", author, "created item", nil, item))
	ok(present(t, s, flowRef, "ITEM-01", ray, "commented", ptr("The comment"), item))
	ok(present(t, s, flowRef, "ITEM-01", ray, "commented", ptr("More comment"), nil))
	ok(present(t, s, flowRef, "ITEM-01", ray, "commented", ptr("No URI returned"), nil))

	list := func(q map[string]any) []map[string]any {
		t.Helper()
		r := c.do(http.MethodGet, "/flows/hpe/apua-flow/messages", q)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Raw)
		return r.list(t)
	}
	last := func(l []map[string]any) map[string]any { return l[len(l)-1] }
	assert.Equal(t, "No URI returned", last(list(map[string]any{"limit": 1}))["body"])
	assert.Equal(t, "No URI returned", last(list(map[string]any{"event": "discussion"}))["body"])
	assert.Equal(t, "No URI returned", last(list(map[string]any{"search": "URI"}))["body"])

	d := last(list(map[string]any{"limit": 1}))
	assert.Equal(t, "discussion", d["event"])
	assert.Equal(t, "0", d["user"])
	assert.Equal(t, "influx", d["app"])
	assert.Nil(t, d["content"])
	assert.Equal(t, "commented", d["title"])
	assert.Equal(t, "No URI returned", d["full_body"])
	assert.Equal(t, map[string]any{"name": "Ray"}, d["author"])
	th := d["thread"].(map[string]any)
	assert.Equal(t, "Item 01", th["title"])
	assert.Equal(t, float64(1), th["activities"])
	assert.Equal(t, float64(3), th["external_comments"])
	src := th["source"].(map[string]any)
	assert.Equal(t, "Emulator", src["name"])
	assert.Equal(t, "Emulator", src["application"].(map[string]any)["name"])

	// external_url identifies the thread; the thread's activities list.
	uri := "https://external.service/item/ITEM-01"
	item["external_url"] = uri
	ok(present(t, s, flowRef, "ITEM-01", ray, "touched item", nil, item))
	var tid string
	for _, th := range c.do(http.MethodGet, "/flows/hpe/apua-flow/threads", nil).list(t) {
		if th["external_url"] == uri {
			tid = th["id"].(string)
		}
	}
	require.NotEmpty(t, tid)
	acts := c.do(http.MethodGet, "/flows/hpe/apua-flow/threads/"+tid+"/messages", map[string]any{"event": "activity"}).list(t)
	assert.Equal(t, "touched item", last(acts)["title"])

	// Tag, reply and delete a presented item.
	disc := last(list(map[string]any{"event": "discussion", "limit": 1}))
	path := "/flows/hpe/apua-flow/messages/" + strconv.Itoa(num(disc["id"]))
	r := c.do(http.MethodPut, path, map[string]any{"tags": []string{"idea"}})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Raw)
	assert.Equal(t, "{}", string(r.Raw))
	assert.Equal(t, http.StatusForbidden, c.do(http.MethodPut, path, map[string]any{"content": "x"}).Status)
	r = c.do(http.MethodPost, "/flows/hpe/apua-flow/messages", map[string]any{"event": "message", "content": "Reply the other idea", "thread_id": disc["thread_id"]})
	require.Equal(t, http.StatusCreated, r.Status)
	assert.Equal(t, disc["thread_id"], r.obj(t)["thread_id"])
	assert.Equal(t, float64(1), r.obj(t)["thread"].(map[string]any)["internal_comments"])

	r = c.do(http.MethodDelete, path, nil)
	assert.Equal(t, http.StatusNoContent, r.Status)
	r = c.do(http.MethodGet, path, nil)
	assert.Equal(t, http.StatusNotFound, r.Status)
	assert.Equal(t, notFound, string(r.Raw))
	// The thread is still there.
	assert.Equal(t, http.StatusOK, c.do(http.MethodGet, "/flows/hpe/apua-flow/threads/"+tid, nil).Status)
}

func TestServer_PresentStatusColours(t *testing.T) {
	t.Parallel()
	s := emptyFlowServer(t)
	colours := []string{"black", "blue", "cyan", "green", "grey", "lime", "orange", "purple", "red", "yellow"}
	for _, colour := range colours {
		t.Run(colour, func(t *testing.T) {
			r := present(t, s, "hpe/apua-flow", "C-"+colour, map[string]any{"name": "Ray"}, "created", nil,
				map[string]any{"title": "Item", "status": map[string]any{"color": colour, "value": "TODO"}})
			require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Raw)
		})
	}
	for _, bad := range []string{"not supported color", "Red", "gray", ""} {
		t.Run("should fail: "+bad, func(t *testing.T) {
			r := present(t, s, "hpe/apua-flow", "C-bad", map[string]any{"name": "Ray"}, "created", nil,
				map[string]any{"title": "Item", "status": map[string]any{"color": bad, "value": "TODO"}})
			require.Equal(t, http.StatusBadRequest, r.Status, "body: %s", r.Raw)
			e := r.err(t)
			assert.Equal(t, "Validation error", e.Message)
			require.Len(t, e.Errors["thread.status.color"], 1)
			assert.Contains(t, e.Errors["thread.status.color"][0], "black, blue, cyan, green, grey, lime, orange, purple, red, yellow")
		})
	}
	threads := botClient(t, s).do(http.MethodGet, "/flows/hpe/apua-flow/threads", map[string]any{"limit": 100}).list(t)
	assert.Len(t, threads, 10)
	for _, th := range threads {
		assert.Equal(t, "TODO", th["status"].(map[string]any)["value"])
	}
}

func TestServer_PresentValidation(t *testing.T) {
	t.Parallel()
	s := emptyFlowServer(t)
	full := map[string]any{
		"title": "Item 01", "external_url": "https://external.service/item/ITEM-01",
		"body":   "<strong>The detail of the item here....</strong>",
		"fields": []any{map[string]any{"label": "a", "value": "1"}, map[string]any{"label": "<a>b</a>", "value": "<a>2</a>"}},
		"status": map[string]any{"color": "green", "value": "TODO"},
		"actions": []any{
			map[string]any{"@type": "ViewAction", "name": "Diff", "url": ""},
			map[string]any{"@type": "UpdateAction", "name": "Assign to me", "target": map[string]any{
				"@type": "EntryPoint", "urlTemplate": "https://external.service/item/ITEM-01?assign=me", "httpMethod": "POST"}},
		},
	}
	r := present(t, s, "hpe/apua-flow", "ITEM-01", map[string]any{"name": "Ray", "avatar": "http://somewhere.public/ray.png"}, "created item", nil, full)
	require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Raw)
	th := botClient(t, s).do(http.MethodGet, "/flows/hpe/apua-flow/threads", nil).list(t)[0]
	assert.Len(t, th["actions"], 2)
	assert.Len(t, th["fields"], 2)
	assert.Equal(t, "<strong>The detail of the item here....</strong>", th["body"])

	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range full {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name   string
		body   map[string]any
		field  string
		status int
	}{
		{"no author", map[string]any{"event": "activity", "external_thread_id": "X", "title": "t", "thread": full}, "author", 400},
		{"author without name", map[string]any{"event": "activity", "external_thread_id": "X", "title": "t", "author": map[string]any{"avatar": "x"}, "thread": full}, "author.name", 400},
		{"no title", map[string]any{"event": "activity", "external_thread_id": "X", "author": map[string]any{"name": "R"}, "thread": full}, "title", 400},
		{"discussion without body", map[string]any{"event": "discussion", "external_thread_id": "X", "title": "t", "author": map[string]any{"name": "R"}, "thread": full}, "body", 400},
		{"no thread id", map[string]any{"event": "activity", "title": "t", "author": map[string]any{"name": "R"}, "thread": full}, "external_thread_id", 400},
		{"new item without thread", map[string]any{"event": "activity", "external_thread_id": "NEW", "title": "t", "author": map[string]any{"name": "R"}}, "thread", 400},
		{"thread without title", map[string]any{"event": "activity", "external_thread_id": "X", "title": "t", "author": map[string]any{"name": "R"}, "thread": with("title", "")}, "thread.title", 400},
		{"bad external_url", map[string]any{"event": "activity", "external_thread_id": "X", "title": "t", "author": map[string]any{"name": "R"}, "thread": with("external_url", "not a url")}, "thread.external_url", 400},
		{"bad fields", map[string]any{"event": "activity", "external_thread_id": "X", "title": "t", "author": map[string]any{"name": "R"}, "thread": with("fields", []any{"x"})}, "thread.fields", 400},
		{"bad action", map[string]any{"event": "activity", "external_thread_id": "X", "title": "t", "author": map[string]any{"name": "R"}, "thread": with("actions", []any{map[string]any{"@type": "Jump", "name": "x"}})}, "thread.actions", 400},
		{"status without value", map[string]any{"event": "activity", "external_thread_id": "X", "title": "t", "author": map[string]any{"name": "R"}, "thread": with("status", map[string]any{"color": "red"})}, "thread.status.value", 400},
		{"bad event", map[string]any{"event": "file", "external_thread_id": "X"}, "event", 400},
		{"known item needs no thread", map[string]any{"event": "discussion", "external_thread_id": "ITEM-01", "title": "commented", "body": "b", "author": map[string]any{"name": "R"}}, "", 202},
		{"thread_id instead of external id", map[string]any{"event": "activity", "thread_id": th["id"], "title": "t", "author": map[string]any{"name": "R"}}, "", 202},
		{"anonymous chat message", map[string]any{"event": "message", "content": "from CI", "external_user_name": "ci"}, "", 202},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"flow_token": s.FlowToken("hpe/apua-flow")}
			for k, v := range tt.body {
				body[k] = v
			}
			r := anonClient(t, s).do(http.MethodPost, "/messages", body)
			require.Equal(t, tt.status, r.Status, "body: %s", r.Raw)
			if tt.status == 400 {
				assert.Contains(t, r.err(t).Errors, tt.field)
			}
		})
	}

	// X-flowdock-wait-for-message returns the created item.
	w := anonClient(t, s)
	w.extra = http.Header{"X-Flowdock-Wait-For-Message": {"1"}}
	r = w.do(http.MethodPost, "/messages", map[string]any{"flow_token": s.FlowToken("hpe/apua-flow"), "event": "activity",
		"external_thread_id": "ITEM-01", "title": "closed", "author": map[string]any{"name": "R"}})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Raw)
	assert.Equal(t, "activity", r.obj(t)["event"])
	assert.Equal(t, th["id"], r.obj(t)["thread_id"])
}

// IntegrationPosts holds the flow-token posts made through the REST API,
// each with its thread as it was when posted; the bot's own sends, refused
// posts and the posts of Server.Present are not among them.
func TestServer_IntegrationPosts(t *testing.T) {
	t.Parallel()
	s := emptyFlowServer(t)
	const flowRef = "hpe/apua-flow"
	author := map[string]any{"name": "Ray"}
	_, err := s.Present(flowRef, map[string]any{"event": "activity", "title": "imported", "author": author,
		"external_thread_id": "ITEM-00", "thread": map[string]any{"title": "Item 00"}})
	require.NoError(t, err)
	r := botClient(t, s).do(http.MethodPost, "/flows/hpe/apua-flow/messages", map[string]any{"event": "message", "content": "hi"})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Raw)
	r = present(t, s, flowRef, "ITEM-01", author, "", nil, map[string]any{"title": "Item 01"})
	require.Equal(t, http.StatusBadRequest, r.Status, "body: %s", r.Raw)
	assert.Empty(t, s.IntegrationPosts())

	item := func(status string) map[string]any {
		return map[string]any{"title": "Item 01", "status": map[string]any{"color": "green", "value": status}}
	}
	r = present(t, s, flowRef, "ITEM-01", author, "created", nil, item("new"))
	require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Raw)
	r = present(t, s, flowRef, "ITEM-01", author, "commented", ptr("<p>Done</p>"), item("done"))
	require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Raw)
	r = anonClient(t, s).do(http.MethodPost, "/messages", map[string]any{"flow_token": s.FlowToken(flowRef), "event": "message",
		"content": "from the form", "external_user_name": "Form"})
	require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Raw)

	got := s.IntegrationPosts()
	require.Len(t, got, 3)
	status := func(m flowdocktest.Message) any {
		var w struct {
			Thread struct {
				Status map[string]any `json:"status"`
			} `json:"thread"`
		}
		require.NoError(t, json.Unmarshal(m.JSON, &w))
		return w.Thread.Status["value"]
	}
	assert.Equal(t, "activity", got[0].Event)
	assert.Equal(t, flowRef, got[0].Flow)
	assert.Equal(t, "created", got[0].Title)
	assert.Equal(t, "new", status(got[0]), "the thread as it was when posted")
	assert.Equal(t, "discussion", got[1].Event)
	assert.Equal(t, "<p>Done</p>", got[1].Body)
	assert.Equal(t, "done", status(got[1]))
	assert.Equal(t, got[0].ThreadID, got[1].ThreadID)
	assert.Equal(t, "message", got[2].Event)
	assert.Equal(t, "from the form", got[2].Content)
	assert.Contains(t, string(got[2].JSON), `"external_user_name":"Form"`)
	assert.Len(t, s.Sent(), 1, "only the bot's own message is sent")
}

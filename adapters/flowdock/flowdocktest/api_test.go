package flowdocktest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
)

const notFound = `{"message":"not found"}`

func TestServer_UsersAndFlows(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)

	// GET /users: everyone sharing a flow with the bot, with integer ids;
	// the wrapper's get_uid builds nick → id from it.
	r := c.do(http.MethodGet, "/users", nil)
	require.Equal(t, http.StatusOK, r.Status)
	ids := map[string]int{}
	for _, u := range r.list(t) {
		ids[u["nick"].(string)] = num(u["id"])
		for _, k := range []string{"id", "nick", "name", "email", "avatar", "website"} {
			assert.Contains(t, u, k)
		}
	}
	assert.Equal(t, map[string]int{"parley": 1201, "dana": 1305, "mike": 1310, "Ray_": 1320}, ids)

	r = c.do(http.MethodGet, "/users/1320", nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "Ray Zhu", r.obj(t)["name"])
	assert.Equal(t, notFound, string(c.do(http.MethodGet, "/users/999", nil).Raw))

	// GET /flows: only joined flows; users only with users=1.
	r = c.do(http.MethodGet, "/flows", nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "1201", r.Header.Get("Flowdock-User"))
	flows := r.list(t)
	var names []string
	for _, f := range flows {
		names = append(names, f["organization"].(map[string]any)["parameterized_name"].(string)+"/"+f["parameterized_name"].(string))
		assert.Equal(t, true, f["joined"])
		assert.Equal(t, true, f["open"])
		assert.NotContains(t, f, "users")
		assert.Equal(t, s.URL()+"/flows/"+names[len(names)-1], f["url"])
	}
	assert.Equal(t, []string{"acme/main", "acme/ops", "acme/random"}, names)
	main := flows[0]
	assert.Equal(t, s.FlowID("acme/main"), main["id"])
	assert.Equal(t, "Main", main["name"])
	assert.Equal(t, "invitation", main["access_mode"])
	org := main["organization"].(map[string]any)
	assert.Equal(t, float64(1), org["id"])
	assert.Equal(t, "Acme", org["name"])

	r = c.do(http.MethodGet, "/flows?users=1", nil)
	users := r.list(t)[0]["users"].([]any)
	require.Len(t, users, 4)
	u0 := users[0].(map[string]any)
	assert.Equal(t, true, u0["in_flow"])
	assert.Equal(t, false, u0["disabled"])
	for _, k := range []string{"status", "last_activity", "last_ping"} {
		assert.Contains(t, u0, k)
	}

	// /flows/all adds the organization-access flow the bot has not joined.
	r = c.do(http.MethodGet, "/flows/all", nil)
	all := r.list(t)
	require.Len(t, all, 4)
	hr := all[3]
	assert.Equal(t, "hr", hr["parameterized_name"])
	assert.Equal(t, false, hr["joined"])
	assert.Equal(t, "organization", hr["access_mode"])
	assert.NotEmpty(t, hr["join_url"])

	// One flow, always with users; find by id.
	r = c.do(http.MethodGet, "/flows/acme/ops", nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Len(t, r.obj(t)["users"], 3)
	r = c.do(http.MethodGet, "/flows/find?id="+s.FlowID("acme/ops"), nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "ops", r.obj(t)["parameterized_name"])
	r = c.do(http.MethodGet, "/flows/acme/ops/users", nil)
	assert.Len(t, r.list(t), 3)

	// hr is visible but its messages are not; unknown flows are 404.
	assert.Equal(t, http.StatusOK, c.do(http.MethodGet, "/flows/acme/hr", nil).Status)
	assert.Equal(t, notFound, string(c.do(http.MethodGet, "/flows/acme/hr/messages", nil).Raw))
	assert.Equal(t, notFound, string(c.do(http.MethodGet, "/flows/acme/nope", nil).Raw))
	assert.Equal(t, http.StatusNotFound, c.do(http.MethodGet, "/flows/find?id=nope", nil).Status)

	// Organizations.
	r = c.do(http.MethodGet, "/organizations/acme/users", nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Len(t, r.list(t), 4)
	assert.Equal(t, http.StatusOK, c.do(http.MethodGet, "/organizations", nil).Status)
	assert.Equal(t, http.StatusNotFound, c.do(http.MethodGet, "/organizations/nope", nil).Status)
}

func TestServer_PutUser(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)
	st, _ := openStream(t, s, "/flows?filter=acme/random", c.auth, "text/event-stream", "")

	r := c.do(http.MethodPut, "/users/1201", map[string]any{"nick": "parley2"})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Raw)
	assert.Equal(t, "{}", string(r.Raw))
	assert.Equal(t, "parley2", c.do(http.MethodGet, "/user", nil).obj(t)["nick"])
	ev := decode(t, st.next(t).Data)
	assert.Equal(t, "user-edit", ev["event"])
	assert.Equal(t, "parley2", ev["content"].(map[string]any)["user"].(map[string]any)["nick"])

	assert.Equal(t, http.StatusForbidden, c.do(http.MethodPut, "/users/1305", map[string]any{"nick": "x"}).Status)
	r = c.do(http.MethodPut, "/users/1201", map[string]any{"nick": "dana"})
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Equal(t, []string{"has already been taken"}, r.err(t).Errors["nick"])
}

// TestServer_SendEditDelete follows the Python wrapper's "Send, Edit, and
// Delete a Message" walk-through for flows and private chats.
func TestServer_SendEditDelete(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)
	for _, base := range []string{"/flows/acme/main", "/private/1320"} {
		t.Run(base, func(t *testing.T) {
			r := c.do(http.MethodPost, base+"/messages", map[string]any{
				"event": "message", "content": "a message", "tags": nil, "thread_id": nil, "uuid": "u-" + base,
			})
			require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Raw)
			m := r.obj(t)
			id := strconv.Itoa(num(m["id"]))
			assert.Equal(t, "a message", m["content"])
			assert.Equal(t, "u-"+base, m["uuid"])
			assert.Equal(t, "1201", m["user"])
			assert.Equal(t, "message", m["event"])
			assert.Equal(t, "chat", m["app"])
			assert.IsType(t, float64(0), m["sent"])
			assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, m["created_at"])
			if strings.HasPrefix(base, "/flows") {
				assert.Equal(t, s.FlowID("acme/main"), m["flow"])
				assert.NotContains(t, m, "to")
				assert.NotEmpty(t, m["thread_id"])
				assert.Equal(t, m["thread_id"], m["thread"].(map[string]any)["id"])
				assert.Equal(t, float64(num(m["id"])), m["thread"].(map[string]any)["initial_message"])
				assert.Contains(t, r.Header.Get("Link"), `/comments>; rel="comments"`)
			} else {
				assert.Equal(t, "1320", m["to"])
				assert.NotContains(t, m, "flow")
			}

			assert.Equal(t, "a message", c.do(http.MethodGet, base+"/messages/"+id, nil).obj(t)["content"])

			r = c.do(http.MethodPut, base+"/messages/"+id, map[string]any{"content": "an edit message"})
			require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Raw)
			assert.Equal(t, "{}", string(r.Raw))
			shown := c.do(http.MethodGet, base+"/messages/"+id, nil).obj(t)
			assert.Equal(t, "an edit message", shown["content"])
			assert.NotNil(t, shown["edited"])

			r = c.do(http.MethodDelete, base+"/messages/"+id, nil)
			require.Equal(t, http.StatusOK, r.Status)
			assert.Equal(t, "{}", string(r.Raw))
			r = c.do(http.MethodGet, base+"/messages/"+id, nil)
			require.Equal(t, http.StatusOK, r.Status)
			assert.Equal(t, "", r.obj(t)["content"])

			assert.Equal(t, notFound, string(c.do(http.MethodGet, base+"/messages/99999", nil).Raw))
			assert.Equal(t, http.StatusNotFound, c.do(http.MethodPut, base+"/messages/99999", map[string]any{"content": "x"}).Status)
			assert.Equal(t, http.StatusNotFound, c.do(http.MethodDelete, base+"/messages/99999", nil).Status)
		})
	}
	sent := s.Sent()
	require.Len(t, sent, 2)
	assert.Equal(t, "acme/main", sent[0].Flow)
	assert.Equal(t, "a message", sent[0].Content)
	assert.Equal(t, "u-/flows/acme/main", sent[0].UUID)
	assert.Equal(t, "/flows/:org/:flow/messages", sent[0].Endpoint)
	assert.Equal(t, 1320, sent[1].PrivateTo)
	assert.Equal(t, "/private/:user_id/messages", sent[1].Endpoint)
}

func TestServer_EditPermissions(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)
	dana := userClient(t, s, "dana")
	r := dana.do(http.MethodPost, "/flows/acme/main/messages", map[string]any{"event": "message", "content": "dana's"})
	require.Equal(t, http.StatusCreated, r.Status)
	path := "/flows/acme/main/messages/" + strconv.Itoa(num(r.obj(t)["id"]))

	// Anyone may replace tags; only the author may change content.
	assert.Equal(t, http.StatusOK, c.do(http.MethodPut, path, map[string]any{"tags": []string{"x"}}).Status)
	assert.Equal(t, []string{"x"}, strs(c.do(http.MethodGet, path, nil).obj(t)["tags"]))
	assert.Equal(t, http.StatusForbidden, c.do(http.MethodPut, path, map[string]any{"content": "mine now"}).Status)
	assert.Equal(t, http.StatusForbidden, c.do(http.MethodPut, path, map[string]any{"content": "x", "tags": []string{"y"}}).Status)
	assert.Equal(t, http.StatusForbidden, c.do(http.MethodDelete, path, nil).Status)
	assert.Equal(t, http.StatusBadRequest, c.do(http.MethodPut, path, map[string]any{}).Status)
	// PATCH is an alias of PUT; form bodies work too.
	assert.Equal(t, http.StatusOK, dana.form(http.MethodPatch, path, url.Values{"content": {"patched"}}).Status)
	assert.Equal(t, "patched", c.do(http.MethodGet, path, nil).obj(t)["content"])
	// thread_id cannot be changed.
	before := c.do(http.MethodGet, path, nil).obj(t)["thread_id"]
	assert.Equal(t, http.StatusOK, dana.do(http.MethodPut, path, map[string]any{"content": "again", "thread_id": "other"}).Status)
	assert.Equal(t, before, c.do(http.MethodGet, path, nil).obj(t)["thread_id"])
}

// TestServer_Tags follows the Python wrapper's "Tag a Message"
// walk-through.
func TestServer_Tags(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)
	r := c.do(http.MethodPost, "/flows/acme/main/messages", map[string]any{
		"event": "message", "content": "@team, ref here: http://docs.python.org", "tags": []string{"ref"}})
	require.Equal(t, http.StatusCreated, r.Status)
	path := "/flows/acme/main/messages/" + strconv.Itoa(num(r.obj(t)["id"]))
	tags := func() []string { return strs(c.do(http.MethodGet, path, nil).obj(t)["tags"]) }
	assert.Equal(t, []string{"ref", ":user:team", ":url"}, tags())

	edit := func(body map[string]any) {
		t.Helper()
		r := c.do(http.MethodPut, path, body)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Raw)
		assert.Equal(t, "{}", string(r.Raw))
	}
	edit(map[string]any{"tags": []string{"ref", ":user:team", "important", ":url"}})
	assert.Equal(t, []string{"ref", ":user:team", "important", ":url"}, tags())

	edit(map[string]any{"content": "@team, read ref here: http://docs.python.org", "tags": []string{"ref", ":user:team", ":url"}})
	m := c.do(http.MethodGet, path, nil).obj(t)
	assert.Equal(t, "@team, read ref here: http://docs.python.org", m["content"])
	assert.Equal(t, []string{"ref", ":user:team", ":url"}, strs(m["tags"]))

	edit(map[string]any{"tags": []string{"ref", ":user:team", ":url", "ref", "python"}})
	assert.Equal(t, []string{"ref", ":user:team", ":url", "python"}, tags())
	edit(map[string]any{"tags": []string{"ref", ":user:team", ":url"}})
	assert.Equal(t, []string{"ref", ":user:team", ":url"}, tags())

	// Private: the recipient's :unread: comes first.
	r = c.do(http.MethodPost, "/private/1320/messages", map[string]any{
		"event": "message", "content": "ref here: http://docs.python.org", "tags": []string{"ref"}})
	require.Equal(t, http.StatusCreated, r.Status)
	ppath := "/private/1320/messages/" + strconv.Itoa(num(r.obj(t)["id"]))
	assert.Equal(t, []string{":unread:1320", "ref", ":url"}, strs(r.obj(t)["tags"]))
	r = c.do(http.MethodPut, ppath, map[string]any{"tags": []string{":unread:1320", "ref", "resources", ":url"}})
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, []string{":unread:1320", "ref", "resources", ":url"}, strs(c.do(http.MethodGet, ppath, nil).obj(t)["tags"]))

	// Normalization: #x → x, @nick → :user:<id> (+ :unread: from content),
	// comma-string tags, @everyone, emails count as :url.
	tests := []struct {
		name    string
		content string
		tags    any
		want    []string
	}{
		{"hashtag and user tags", "hello", []string{"#cool", "awesome", "@Dana"}, []string{"cool", "awesome", ":user:1305"}},
		{"comma string", "hello", "#awesome,cool,@dana", []string{"awesome", "cool", ":user:1305"}},
		{"mention in content", "deploy done? @dana", nil, []string{":user:1305", ":unread:1305"}},
		{"hashtag in content", "ship it #deploy now, not #88", nil, []string{"deploy"}},
		{"everyone", "@all lunch", nil, []string{":user:everyone", ":unread:1305", ":unread:1310", ":unread:1320"}},
		{"email is a link", "mail dana@acme.test", nil, []string{":url"}},
		{"dedup case-insensitively", "hi #Ref", []string{"ref", "REF"}, []string{"ref"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"event": "message", "content": tt.content}
			if tt.tags != nil {
				body["tags"] = tt.tags
			}
			r := c.do(http.MethodPost, "/flows/acme/main/messages", body)
			require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Raw)
			assert.Equal(t, tt.want, strs(r.obj(t)["tags"]))
		})
	}
}

// TestServer_Threads follows the Python wrapper's "Reply Message onto a
// Thread" and "List Threads" walk-throughs.
func TestServer_Threads(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t, flowdocktest.WithoutDemoData(),
		flowdocktest.WithUsers(flowdocktest.User{ID: 7, Nick: "ann"}),
		flowdocktest.WithFlows(flowdocktest.Flow{Org: "org", Name: "flow"}))
	c := botClient(t, s)
	post := func(path string, body map[string]any) map[string]any {
		t.Helper()
		r := c.do(http.MethodPost, path, body)
		require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Raw)
		return r.obj(t)
	}
	start := post("/flows/org/flow/messages", map[string]any{"event": "message", "content": "Thread start"})
	tid := start["thread_id"].(string)
	assert.Len(t, tid, 27)
	assert.Equal(t, tid, start["thread"].(map[string]any)["id"])
	assert.Equal(t, "Thread start", start["thread"].(map[string]any)["title"])

	reply := post("/flows/org/flow/threads/"+tid+"/messages", map[string]any{"event": "message", "content": "A message replied", "tags": nil})
	assert.Equal(t, tid, reply["thread_id"])
	reply2 := post("/messages", map[string]any{"flow": s.FlowID("org/flow"), "thread_id": tid, "event": "message", "content": "via /messages", "tags": []string{}})
	assert.Equal(t, tid, reply2["thread_id"])
	th := reply2["thread"].(map[string]any)
	assert.Equal(t, float64(3), th["internal_comments"])
	assert.Equal(t, float64(num(start["id"])), th["initial_message"])
	assert.Equal(t, s.FlowID("org/flow"), th["flow"])

	other := post("/flows/org/flow/messages", map[string]any{"event": "message", "content": "second thread"})
	assert.NotEqual(t, tid, other["thread_id"])

	// Thread messages, ascending; list(limit=1) gives the newest.
	r := c.do(http.MethodGet, "/flows/org/flow/threads/"+tid+"/messages", nil)
	require.Equal(t, http.StatusOK, r.Status)
	var contents []string
	for _, m := range r.list(t) {
		contents = append(contents, m["content"].(string))
	}
	assert.Equal(t, []string{"Thread start", "A message replied", "via /messages"}, contents)
	r = c.do(http.MethodGet, "/flows/org/flow/threads/"+tid+"/messages", map[string]any{"limit": 1})
	assert.Equal(t, "via /messages", r.list(t)[0]["content"])

	// Threads list: newest first, limit, since/until, Link rel=next.
	r = c.do(http.MethodGet, "/flows/org/flow/threads", nil)
	require.Equal(t, http.StatusOK, r.Status)
	threads := r.list(t)
	require.Len(t, threads, 2)
	assert.Equal(t, other["thread_id"], threads[0]["id"])
	assert.Equal(t, tid, threads[1]["id"])
	assert.Contains(t, threads[0], "external_url")
	assert.Nil(t, threads[0]["external_url"])

	r = c.do(http.MethodGet, "/flows/org/flow/threads", map[string]any{"limit": 1})
	require.Len(t, r.list(t), 1)
	assert.Equal(t, other["thread_id"], r.list(t)[0]["id"])
	link := r.Header.Get("Link")
	require.Contains(t, link, `rel="next"`)
	next := link[1:strings.Index(link, ">")]
	r = c.send(http.MethodGet, next, "", nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Raw)

	r = c.do(http.MethodGet, "/flows/org/flow/threads?since=2000-01-01T00:00:00Z&until=2000-12-01T00:00:00Z", nil)
	assert.Empty(t, r.list(t))
	r = c.do(http.MethodGet, "/flows/org/flow/threads", map[string]any{"since": "2000-01-01T00:00:00Z", "until": "2999-12-01T00:00:00Z"})
	assert.Len(t, r.list(t), 2)
	assert.Equal(t, http.StatusBadRequest, c.do(http.MethodGet, "/flows/org/flow/threads?since=yesterday", nil).Status)

	r = c.do(http.MethodGet, "/flows/org/flow/threads/"+tid, nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "Thread start", r.obj(t)["title"])
	assert.Equal(t, notFound, string(c.do(http.MethodGet, "/flows/org/flow/threads/nope", nil).Raw))
	assert.Equal(t, http.StatusNotFound, c.do(http.MethodPost, "/flows/org/flow/threads/nope/messages", map[string]any{"event": "message", "content": "x"}).Status)
	r = c.do(http.MethodPost, "/flows/org/flow/messages", map[string]any{"event": "message", "content": "x", "thread_id": "nope"})
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Equal(t, []string{"is invalid"}, r.err(t).Errors["thread_id"])
}

func TestServer_CommentsAndStatus(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)
	parent := c.do(http.MethodPost, "/flows/acme/main/messages", map[string]any{"event": "message", "content": "Build #88 failed"}).obj(t)
	pid := num(parent["id"])

	r := c.do(http.MethodPost, "/comments", map[string]any{"flow": s.FlowID("acme/main"), "message": pid, "event": "comment", "content": "looking"})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Raw)
	cm := r.obj(t)
	assert.Equal(t, "comment", cm["event"])
	assert.Equal(t, map[string]any{"title": "Build #88 failed", "text": "looking"}, cm["content"])
	assert.Equal(t, []string{"influx:" + strconv.Itoa(pid)}, strs(cm["tags"]))
	assert.Equal(t, parent["thread_id"], cm["thread_id"])

	r = c.do(http.MethodPost, "/flows/acme/main/messages/"+strconv.Itoa(pid)+"/comments", map[string]any{"event": "comment", "content": "again"})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Raw)

	// Not a comment on a comment; comments only on comment endpoints.
	r = c.do(http.MethodPost, "/flows/acme/main/messages/"+strconv.Itoa(num(cm["id"]))+"/comments", map[string]any{"event": "comment", "content": "x"})
	assert.Equal(t, http.StatusBadRequest, r.Status)
	r = c.do(http.MethodPost, "/flows/acme/main/messages", map[string]any{"event": "comment", "content": "x"})
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Contains(t, r.err(t).Errors, "event")

	r = c.do(http.MethodPost, "/messages", map[string]any{"flow": s.FlowID("acme/main"), "event": "status", "content": "in a meeting"})
	require.Equal(t, http.StatusCreated, r.Status)
	assert.NotContains(t, r.obj(t), "thread_id")

	// The comment's edit content is {title, text}.
	st, _ := openStream(t, s, "/flows?filter=acme/main", c.auth, "text/event-stream", "")
	r = c.do(http.MethodPut, "/flows/acme/main/messages/"+strconv.Itoa(num(cm["id"])), map[string]any{"content": "fixed"})
	require.Equal(t, http.StatusOK, r.Status)
	ev := decode(t, st.next(t).Data)
	assert.Equal(t, "message-edit", ev["event"])
	assert.Equal(t, map[string]any{"message": float64(num(cm["id"])), "updated_content": map[string]any{"title": "Build #88 failed", "text": "fixed"}}, ev["content"])
}

func TestServer_Validation(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)
	tests := []struct {
		name   string
		path   string
		body   map[string]any
		status int
		field  string
	}{
		{"missing event", "/flows/acme/main/messages", map[string]any{"content": "x"}, 400, "event"},
		{"unknown event", "/flows/acme/main/messages", map[string]any{"event": "shout", "content": "x"}, 400, "event"},
		{"blank content", "/flows/acme/main/messages", map[string]any{"event": "message", "content": "  "}, 400, "content"},
		{"content not a string", "/flows/acme/main/messages", map[string]any{"event": "message", "content": []int{1}}, 400, "content"},
		{"too long", "/flows/acme/main/messages", map[string]any{"event": "message", "content": strings.Repeat("x", 8097)}, 400, "content"},
		{"bad tags", "/flows/acme/main/messages", map[string]any{"event": "message", "content": "x", "tags": 5}, 400, "tags"},
		{"activity with user token", "/flows/acme/main/messages", map[string]any{"event": "activity", "title": "x"}, 400, "event"},
		{"no flow on /messages", "/messages", map[string]any{"event": "message", "content": "x"}, 400, "flow"},
		{"unknown flow on /messages", "/messages", map[string]any{"flow": "nope", "event": "message", "content": "x"}, 404, ""},
		{"flow not joined", "/flows/acme/hr/messages", map[string]any{"event": "message", "content": "x"}, 404, ""},
		{"private status", "/private/1305/messages", map[string]any{"event": "status", "content": "x"}, 400, "event"},
		{"private to self", "/private/1201/messages", map[string]any{"event": "message", "content": "x"}, 404, ""},
		{"private to unknown", "/private/4242/messages", map[string]any{"event": "message", "content": "x"}, 404, ""},
		{"comment without parent", "/comments", map[string]any{"flow": "acme/main", "event": "comment", "content": "x"}, 400, "message"},
		{"file without content", "/flows/acme/main/messages", map[string]any{"event": "file"}, 400, "content"},
		{"file bad base64", "/flows/acme/main/messages", map[string]any{"event": "file", "content": map[string]any{"data": "%%%", "file_name": "a.txt"}}, 400, "content.data"},
		{"8096 characters is fine", "/flows/acme/main/messages", map[string]any{"event": "message", "content": strings.Repeat("é", 8096)}, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(http.MethodPost, tt.path, tt.body)
			require.Equal(t, tt.status, r.Status, "body: %s", r.Raw)
			if tt.status == 400 {
				e := r.err(t)
				assert.Equal(t, "Validation error", e.Message)
				assert.Contains(t, e.Errors, tt.field)
			}
			if tt.status == 404 {
				assert.Equal(t, notFound, string(r.Raw))
			}
		})
	}

	// uuid must be unique within the flow.
	body := map[string]any{"event": "message", "content": "once", "uuid": "same"}
	require.Equal(t, http.StatusCreated, c.do(http.MethodPost, "/flows/acme/main/messages", body).Status)
	r := c.do(http.MethodPost, "/flows/acme/main/messages", body)
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Equal(t, []string{"has already been taken"}, r.err(t).Errors["uuid"])
	assert.Equal(t, http.StatusCreated, c.do(http.MethodPost, "/flows/acme/ops/messages", body).Status)

	// Bad JSON.
	r = c.send(http.MethodPost, "/flows/acme/main/messages", "application/json", strings.NewReader("{"))
	assert.Equal(t, http.StatusBadRequest, r.Status)
}

func TestServer_SendForms(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)

	// Form-encoded body (node-flowdock style), tags[] and the legacy flow id.
	r := c.form(http.MethodPost, "/messages", url.Values{"flow": {"acme:main"}, "event": {"message"}, "content": {"form post"}, "tags[]": {"a", "b"}})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Raw)
	assert.Equal(t, []string{"a", "b"}, strs(r.obj(t)["tags"]))

	// X-flowdock-wait-for-message: 200 and the message.
	w := &client{t: t, base: c.base, auth: c.auth, hc: c.hc, extra: http.Header{"X-Flowdock-Wait-For-Message": {"true"}}}
	r = w.do(http.MethodPost, "/flows/acme/main/messages", map[string]any{"event": "message", "content": "waited"})
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "waited", r.obj(t)["content"])

	// external_user_name makes the post anonymous.
	r = c.do(http.MethodPost, "/flows/acme/main/messages", map[string]any{"event": "message", "content": "anon", "external_user_name": "Bob"})
	require.Equal(t, http.StatusCreated, r.Status)
	assert.Equal(t, "0", r.obj(t)["user"])
	assert.Equal(t, "Bob", r.obj(t)["external_user_name"])

	// Ids are per flow.
	a := c.do(http.MethodPost, "/flows/acme/random/messages", map[string]any{"event": "message", "content": "1"}).obj(t)
	b := c.do(http.MethodPost, "/flows/acme/random/messages", map[string]any{"event": "message", "content": "2"}).obj(t)
	assert.Equal(t, num(a["id"])+1, num(b["id"]))
	assert.Less(t, num(b["id"]), 5)
}

func TestServer_Private(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)

	// The demo has a conversation with dana.
	r := c.do(http.MethodGet, "/private", nil)
	require.Equal(t, http.StatusOK, r.Status)
	convs := r.list(t)
	require.Len(t, convs, 1)
	assert.Equal(t, float64(1305), convs[0]["id"])
	assert.Equal(t, "@dana", convs[0]["name"])
	assert.Len(t, convs[0]["users"], 2)

	// GET /private/:id creates a closed conversation.
	r = c.do(http.MethodGet, "/private/1310", nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, false, r.obj(t)["open"])
	r = c.do(http.MethodPut, "/private/1310", map[string]any{"open": true})
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, true, r.obj(t)["open"])
	assert.Len(t, c.do(http.MethodGet, "/private", nil).list(t), 2)

	// Messages from dana, listed ascending; ids per conversation.
	_, err := s.PrivateMessage("dana", "second")
	require.NoError(t, err)
	msgs := c.do(http.MethodGet, "/private/1305/messages", nil).list(t)
	require.Len(t, msgs, 2)
	assert.Equal(t, "hi bot, are you there?", msgs[0]["content"])
	assert.Equal(t, float64(1), msgs[0]["id"])
	assert.Equal(t, "1201", msgs[1]["to"])
	assert.Equal(t, "1305", msgs[1]["user"])

	// Dana sees the same conversation from her side.
	dana := userClient(t, s, "dana")
	assert.Len(t, dana.do(http.MethodGet, "/private/1201/messages", nil).list(t), 2)
	// Others cannot edit or delete dana's message.
	assert.Equal(t, http.StatusForbidden, c.do(http.MethodPut, "/private/1305/messages/1", map[string]any{"content": "x"}).Status)
	assert.Equal(t, http.StatusForbidden, c.do(http.MethodDelete, "/private/1305/messages/1", nil).Status)
	assert.Equal(t, []flowdocktest.Message{}, s.PrivateMessages("mike"))
}

// A request is recorded before its answer goes out: a client that has read
// an answer (here pages of 100 messages, larger than the server's write
// buffer, so that they leave before the handler returns) finds the request
// in Requests at once.
func TestServer_RequestsRecordedBeforeAnswer(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	for i := range 100 {
		_, err := s.Post("acme/main", "dana", fmt.Sprintf("message %d with some text to make the page long", i))
		require.NoError(t, err)
	}
	c := botClient(t, s)
	for i := range 200 {
		r := c.do(http.MethodGet, "/flows/acme/main/messages?limit=100", nil)
		require.Equal(t, http.StatusOK, r.Status)
		require.Equal(t, i+1, len(s.Requests()), "request %d is recorded once its answer is read", i)
	}
}

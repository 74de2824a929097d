package flowdock_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
)

// Payloads in the shape of Flowdock's flow, user, message and thread
// objects.
const (
	flowJSON = `{"id":"7f3c2a10-5b1e-4c8e-9d2f-0a6b3c4d5e6f","name":"Ops","parameterized_name":"ops",
 "organization":{"id":7,"name":"Acme","parameterized_name":"acme","user_limit":0,"user_count":3,
 "active":true,"url":"https://api.flowdock.com/organizations/acme"},
 "unread_mentions":0,"open":true,"joined":true,"access_mode":"invitation",
 "url":"https://api.flowdock.com/flows/acme/ops","web_url":"https://www.flowdock.com/app/acme/ops",
 "users":[{"id":1201,"nick":"opsbot","name":"Ops Bot","email":"bot@acme.test","avatar":"https://example.test/a/1201/",
   "status":null,"disabled":false,"in_flow":true,"last_activity":1600000000000,"last_ping":1600000000000}]}`
	usersJSON = `[{"id":336968,"nick":"Ray_","email":"ray@example.test","avatar":"http://somewhere.public/ray.png","name":"Ray Zhu","website":null},
 {"id":1201,"nick":"opsbot","name":"Ops Bot"},{"id":1305,"nick":"dana","name":"Dana"}]`
	sentJSON = `{"event":"message","id":501,"flow":"7f3c2a10-5b1e-4c8e-9d2f-0a6b3c4d5e6f","user":"1201","content":"a message",
 "tags":["ref",":url"],"uuid":"u-1","sent":1600000001000,"created_at":"2020-09-13T12:26:41.000Z","app":"chat","attachments":[],
 "thread_id":"Tq9xK2mZ","thread":{"id":"Tq9xK2mZ","title":"a message","initial_message":501}}`
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestClient_CurrentUser(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/user", 200, `{"id":1201,"nick":"opsbot","name":"Ops Bot","email":"bot@acme.test","avatar":"https://a/","website":null}`)
	u, resp, err := f.newClient(t).CurrentUser(t.Context())
	require.NoError(t, err)
	assert.Equal(t, &flowdock.User{ID: 1201, Nick: "opsbot", Name: "Ops Bot", Email: "bot@acme.test", Avatar: "https://a/"}, u)
	assert.EqualValues(t, 1201, resp.UserID)
	r := f.last(t)
	assert.Equal(t, "GET", r.Method)
	assert.Equal(t, "/user", r.Path)
	assert.Empty(t, r.Query)
}

func TestClient_Users(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/users", 200, usersJSON)
	f.reply("GET", "/users/336968", 200, `{"id":336968,"nick":"Ray_"}`)
	f.reply("GET", "/flows/acme/ops/users", 200, `[{"id":1201,"nick":"opsbot","in_flow":true,"status":"busy","last_activity":5}]`)
	c := f.newClient(t)

	users, _, err := c.Users(t.Context())
	require.NoError(t, err)
	require.Len(t, users, 3)
	assert.Equal(t, "Ray_", users[0].Nick)
	assert.Equal(t, "Ray Zhu", users[0].Name)
	assert.Empty(t, users[0].Website, "null")

	u, _, err := c.GetUser(t.Context(), 336968)
	require.NoError(t, err)
	assert.EqualValues(t, 336968, u.ID)
	assert.Equal(t, "/users/336968", f.last(t).Path)

	fu, _, err := c.FlowUsers(t.Context(), "acme", "ops")
	require.NoError(t, err)
	assert.Equal(t, []flowdock.User{{ID: 1201, Nick: "opsbot", InFlow: true, Status: "busy", LastActivity: 5}}, fu)
	assert.Equal(t, "/flows/acme/ops/users", f.last(t).Path)
}

func TestClient_UserIDByName(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/users", 200, usersJSON+``)
	c := f.newClient(t)

	tests := []struct {
		name    string
		in      string
		want    int64
		wantErr string
	}{
		{name: "seed", in: "Ray_", want: 336968},
		{name: "at sign", in: "@dana", want: 1305},
		{name: "case-insensitive fallback", in: "OPSBOT", want: 1201},
		{name: "unknown", in: "nobody", wantErr: `no user has the display name "nobody"`},
	}
	for _, tt := range tests {
		id, resp, err := c.UserIDByName(t.Context(), tt.in)
		if tt.wantErr != "" {
			require.ErrorIs(t, err, flowdock.ErrNotFound, tt.name)
			assert.Contains(t, err.Error(), tt.wantErr, tt.name)
			continue
		}
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, id, tt.name)
		assert.Equal(t, 200, resp.StatusCode)
	}

	f.reply("GET", "/users", 200, `[{"id":1,"nick":"Ray"},{"id":2,"nick":"ray"},{"id":3,"nick":"Bo"},{"id":4,"nick":"bo"}]`)
	id, _, err := c.UserIDByName(t.Context(), "Ray")
	require.NoError(t, err)
	assert.EqualValues(t, 1, id, "an exact match wins over case-insensitive ones")
	_, _, err = c.UserIDByName(t.Context(), "BO")
	require.Error(t, err)
	assert.NotErrorIs(t, err, flowdock.ErrNotFound)
	assert.Contains(t, err.Error(), "2 users have the display name")
	assert.Contains(t, err.Error(), "ids 3, 4")
}

func TestClient_Flows(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/flows", 200, `[`+flowJSON+`]`)
	f.reply("GET", "/flows/all", 200, `[]`)
	c := f.newClient(t)

	flows, _, err := c.Flows(t.Context(), flowdock.FlowsOptions{})
	require.NoError(t, err)
	assert.Equal(t, "users=0", f.last(t).Query.Encode())
	require.Len(t, flows, 1)
	fl := flows[0]
	assert.Equal(t, "7f3c2a10-5b1e-4c8e-9d2f-0a6b3c4d5e6f", fl.ID)
	assert.Equal(t, "ops", fl.ParameterizedName)
	assert.Equal(t, "acme", fl.Organization.ParameterizedName)
	assert.EqualValues(t, 7, fl.Organization.ID)
	assert.True(t, fl.Open)
	assert.True(t, fl.Joined)
	assert.Equal(t, "invitation", fl.AccessMode)
	assert.Equal(t, "https://www.flowdock.com/app/acme/ops", fl.WebURL)
	require.Len(t, fl.Users, 1)
	assert.True(t, fl.Users[0].InFlow)
	assert.EqualValues(t, 1600000000000, fl.Users[0].LastPing)
	assert.Equal(t, flowdock.FlowChat("acme", "ops"), fl.Chat())

	all, _, err := c.Flows(t.Context(), flowdock.FlowsOptions{All: true, Users: true})
	require.NoError(t, err)
	assert.NotNil(t, all)
	assert.Empty(t, all)
	r := f.last(t)
	assert.Equal(t, "/flows/all", r.Path)
	assert.Equal(t, "users=1", r.Query.Encode())
}

func TestClient_GetFlow_FindFlow(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/flows/acme/ops", 200, flowJSON)
	f.reply("GET", "/flows/find", 200, flowJSON)
	c := f.newClient(t)

	fl, _, err := c.GetFlow(t.Context(), "acme", "ops")
	require.NoError(t, err)
	assert.Equal(t, "Ops", fl.Name)
	assert.Equal(t, "/flows/acme/ops", f.last(t).Path)

	fl, _, err = c.FindFlow(t.Context(), "7f3c2a10-5b1e-4c8e-9d2f-0a6b3c4d5e6f")
	require.NoError(t, err)
	assert.Equal(t, "ops", fl.ParameterizedName)
	r := f.last(t)
	assert.Equal(t, "/flows/find", r.Path)
	assert.Equal(t, "id=7f3c2a10-5b1e-4c8e-9d2f-0a6b3c4d5e6f&users=1", r.Query.Encode())
}

func TestClient_pathEscaping(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/flows/my%20org/a%2Fb/messages/3", 200, `{"id":3,"event":"message"}`)
	f.reply("GET", "/flows/acme/ops/threads/T%3Fx", 200, `{"id":"T?x","title":"t"}`)
	c := f.newClient(t)
	_, _, err := c.GetMessage(t.Context(), flowdock.FlowChat("my org", "a/b"), 3)
	require.NoError(t, err)
	th, _, err := c.GetThread(t.Context(), "acme", "ops", "T?x")
	require.NoError(t, err)
	assert.Equal(t, "T?x", th.ID)
}

func TestClient_PrivateConversations(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	conv := `{"id":336968,"url":"https://api.flowdock.com/private/336968","name":"@Ray_","open":true,
 "activity":{"inbox":false,"mentions":2,"chat":true},"users":[{"id":1201,"nick":"opsbot"},{"id":336968,"nick":"Ray_"}]}`
	f.reply("GET", "/private", 200, `[`+conv+`]`)
	f.reply("GET", "/private/336968", 200, conv)
	c := f.newClient(t)

	convs, _, err := c.PrivateConversations(t.Context())
	require.NoError(t, err)
	require.Len(t, convs, 1)
	assert.Equal(t, "@Ray_", convs[0].Name)
	assert.Equal(t, 2, convs[0].Activity.Mentions)
	assert.True(t, convs[0].Activity.Chat)
	assert.Len(t, convs[0].Users, 2)
	chat, err := convs[0].Chat()
	require.NoError(t, err)
	assert.Equal(t, flowdock.PrivateChat(336968), chat)

	pc, _, err := c.GetPrivateConversation(t.Context(), 336968)
	require.NoError(t, err)
	assert.Equal(t, flowdock.ID("336968"), pc.ID)
	assert.Equal(t, "/private/336968", f.last(t).Path)
}

func TestClient_SendMessage(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("POST", "/flows/acme/ops/messages", 201, sentJSON)
	c := f.newClient(t)

	m, resp, err := c.SendMessage(t.Context(), flowdock.FlowChat("acme", "ops"), flowdock.NewMessage{
		Content:          "a message",
		Tags:             []string{"ref"},
		ThreadID:         "Tq9xK2mZ",
		ExternalUserName: "ci",
		UUID:             "u-1",
	})
	require.NoError(t, err)
	assert.Equal(t, 201, resp.StatusCode)
	r := f.last(t)
	assert.Equal(t, "POST", r.Method)
	assert.JSONEq(t, `{"event":"message","content":"a message","tags":["ref"],"thread_id":"Tq9xK2mZ",
		"external_user_name":"ci","uuid":"u-1"}`, string(r.Body))

	assert.EqualValues(t, 501, m.ID)
	assert.Equal(t, "a message", m.Text())
	assert.Equal(t, "Tq9xK2mZ", m.ThreadID, "msg['thread_id']")
	require.NotNil(t, m.Thread)
	assert.Equal(t, "Tq9xK2mZ", m.Thread.ID, "msg['thread']['id']")
	assert.EqualValues(t, 501, m.Thread.InitialMessage)
	assert.Equal(t, []string{"ref", ":url"}, m.Tags)
	assert.Equal(t, flowdock.ID("1201"), m.User)
	assert.Equal(t, "u-1", m.UUID)
	assert.Equal(t, time.Date(2020, 9, 13, 12, 26, 41, 0, time.UTC), m.CreatedAt.Time)
	assert.Equal(t, time.UnixMilli(1600000001000).UTC(), m.SentAt())
}

func TestClient_SendMessage_generatedUUID(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	// The server does not echo the uuid: the client still returns it.
	f.reply("POST", "/flows/acme/ops/messages", 201, `{"id":5,"event":"message","content":"hi","uuid":null}`)
	c := f.newClient(t)

	m, _, err := c.SendMessage(t.Context(), flowdock.FlowChat("acme", "ops"), flowdock.NewMessage{Content: "hi"})
	require.NoError(t, err)
	body := f.last(t).JSON(t)
	assert.Equal(t, map[string]any{"event": "message", "content": "hi", "uuid": m.UUID}, body, "no tags, thread_id or external_user_name when unset")
	assert.Regexp(t, uuidRE, m.UUID)

	m2, _, err := c.SendMessage(t.Context(), flowdock.FlowChat("acme", "ops"), flowdock.NewMessage{Content: "hi"})
	require.NoError(t, err)
	assert.NotEqual(t, m.UUID, m2.UUID, "each send gets its own uuid")
}

func TestClient_SendMessage_accepted(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{}`, ``} {
		f := newFakeAPI(t)
		f.reply("POST", "/flows/acme/ops/messages", 202, body)
		m, resp, err := f.newClient(t).SendMessage(t.Context(), flowdock.FlowChat("acme", "ops"),
			flowdock.NewMessage{Content: "later", Tags: []string{"x"}, UUID: "u-9"})
		require.NoError(t, err)
		assert.Equal(t, 202, resp.StatusCode)
		assert.Zero(t, m.ID, "no id: accepted, not processed")
		assert.Equal(t, "u-9", m.UUID)
		assert.Equal(t, "later", m.Text())
		assert.Equal(t, []string{"x"}, m.Tags)
		assert.Equal(t, "message", m.Event)
	}
}

func TestClient_SendMessage_private(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("POST", "/private/336968/messages", 201,
		`{"event":"message","id":77,"to":"336968","user":"1201","content":"ref here:","tags":[":unread:336968","ref",":url"],"uuid":"p-1","sent":1600000002000,"app":"chat","attachments":[]}`)
	m, _, err := f.newClient(t).SendMessage(t.Context(), flowdock.PrivateChat(336968),
		flowdock.NewMessage{Content: "ref here:", Tags: []string{"ref"}, UUID: "p-1"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"event":"message","content":"ref here:","tags":["ref"],"uuid":"p-1"}`, string(f.last(t).Body))
	assert.EqualValues(t, 77, m.ID)
	assert.True(t, m.IsPrivate())
	assert.Equal(t, flowdock.ID("336968"), m.To)
	assert.Equal(t, []string{":unread:336968", "ref", ":url"}, m.Tags)
}

func TestClient_GetMessage(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/flows/acme/ops/messages/501", 200, sentJSON)
	f.reply("GET", "/private/336968/messages/77", 200, `{"event":"message","id":77,"to":"336968","user":"1201","content":"a message"}`)
	c := f.newClient(t)

	m, _, err := c.GetMessage(t.Context(), flowdock.FlowChat("acme", "ops"), 501)
	require.NoError(t, err)
	assert.Equal(t, "a message", m.Text())
	assert.Equal(t, "GET", f.last(t).Method)

	m, _, err = c.GetMessage(t.Context(), flowdock.PrivateChat(336968), 77)
	require.NoError(t, err)
	assert.Equal(t, "a message", m.Text())
	assert.Equal(t, "/private/336968/messages/77", f.last(t).Path)
}

func TestClient_EditMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		chat     flowdock.Chat
		update   flowdock.MessageUpdate
		wantPath string
		wantBody string
	}{
		{
			name: "content", chat: flowdock.FlowChat("acme", "ops"),
			update:   flowdock.MessageUpdate{Content: flowdock.Ptr("an edit message")},
			wantPath: "/flows/acme/ops/messages/501", wantBody: `{"content":"an edit message"}`,
		},
		{
			name: "tags only (anyone may)", chat: flowdock.FlowChat("acme", "ops"),
			update:   flowdock.MessageUpdate{Tags: []string{"ref", ":user:team", "important", ":url"}},
			wantPath: "/flows/acme/ops/messages/501", wantBody: `{"tags":["ref",":user:team","important",":url"]}`,
		},
		{
			name: "content and tags (author only)", chat: flowdock.FlowChat("acme", "ops"),
			update:   flowdock.MessageUpdate{Content: flowdock.Ptr("@team, read ref here:"), Tags: []string{"ref", ":user:team", ":url"}},
			wantPath: "/flows/acme/ops/messages/501", wantBody: `{"content":"@team, read ref here:","tags":["ref",":user:team",":url"]}`,
		},
		{
			name: "remove all tags", chat: flowdock.FlowChat("acme", "ops"),
			update:   flowdock.MessageUpdate{Tags: []string{}},
			wantPath: "/flows/acme/ops/messages/501", wantBody: `{"tags":[]}`,
		},
		{
			name: "private", chat: flowdock.PrivateChat(336968),
			update:   flowdock.MessageUpdate{Tags: []string{":unread:336968", "ref", "resources", ":url"}},
			wantPath: "/private/336968/messages/501", wantBody: `{"tags":[":unread:336968","ref","resources",":url"]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.reply("PUT", tt.wantPath, 200, `{}`)
			resp, err := f.newClient(t).EditMessage(t.Context(), tt.chat, 501, tt.update)
			require.NoError(t, err)
			assert.Equal(t, 200, resp.StatusCode)
			r := f.last(t)
			assert.Equal(t, "PUT", r.Method)
			assert.Equal(t, tt.wantPath, r.Path)
			assert.JSONEq(t, tt.wantBody, string(r.Body))
		})
	}
}

func TestClient_DeleteMessage(t *testing.T) {
	t.Parallel()
	for _, status := range []int{200, 204} {
		f := newFakeAPI(t)
		body := `{}`
		if status == 204 {
			body = ``
		}
		f.reply("DELETE", "/private/336968/messages/9", status, body)
		resp, err := f.newClient(t).DeleteMessage(t.Context(), flowdock.PrivateChat(336968), 9)
		require.NoError(t, err)
		assert.Equal(t, status, resp.StatusCode)
		assert.Equal(t, "DELETE", f.last(t).Method)
	}
}

// TestClient_sendEditDelete runs the Python wrapper's first walk-through
// against a stateful flow: send, edit, show, delete a file, show → 404.
func TestClient_sendEditDelete(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	flow := newMiniFlow(f, "/flows/acme/ops")
	c := f.newClient(t)
	chat := flowdock.FlowChat("acme", "ops")

	sent, _, err := c.SendMessage(t.Context(), chat, flowdock.NewMessage{Content: "a message"})
	require.NoError(t, err)
	msgID := sent.ID
	require.NotZero(t, msgID)
	got, _, err := c.GetMessage(t.Context(), chat, msgID)
	require.NoError(t, err)
	assert.Equal(t, "a message", got.Text())

	_, err = c.EditMessage(t.Context(), chat, msgID, flowdock.MessageUpdate{Content: flowdock.Ptr("an edit message")})
	require.NoError(t, err)
	got, _, err = c.GetMessage(t.Context(), chat, msgID)
	require.NoError(t, err)
	assert.Equal(t, "an edit message", got.Text())

	_, err = c.DeleteMessage(t.Context(), chat, msgID)
	require.NoError(t, err)
	got, _, err = c.GetMessage(t.Context(), chat, msgID)
	require.NoError(t, err)
	assert.Empty(t, got.Text(), "a deleted chat message is truncated")

	file := flow.add(miniMsg{Event: "file", Content: json.RawMessage(`{"file_name":"README.rst","path":"/files/7/ab/README.rst"}`)})
	_, err = c.DeleteMessage(t.Context(), chat, file)
	require.NoError(t, err)
	_, resp, err := c.GetMessage(t.Context(), chat, file)
	var apiErr *flowdock.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
	assert.Equal(t, "not found", apiErr.Message)
	assert.Equal(t, `{"message":"not found"}`, string(apiErr.Body))
	assert.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, "flowdock: GET /flows/acme/ops/messages/"+itoa(file)+": 404 Not Found", err.Error())
}

func TestClient_ReplyInThread(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("POST", "/flows/acme/ops/threads/Tq9xK2mZ/messages", 201,
		`{"event":"message","id":502,"content":"A message replied","thread_id":"Tq9xK2mZ","uuid":"r-1","thread":{"id":"Tq9xK2mZ","title":"Thread start"}}`)
	m, _, err := f.newClient(t).ReplyInThread(t.Context(), "acme", "ops", "Tq9xK2mZ",
		flowdock.NewMessage{Content: "A message replied", Tags: []string{"idea"}, UUID: "r-1"})
	require.NoError(t, err)
	r := f.last(t)
	assert.Equal(t, "POST", r.Method)
	assert.JSONEq(t, `{"event":"message","content":"A message replied","tags":["idea"],"uuid":"r-1"}`, string(r.Body),
		"the thread is in the path, not the body")
	assert.EqualValues(t, 502, m.ID)
	assert.Equal(t, "Tq9xK2mZ", m.ThreadID)
	assert.Equal(t, "Thread start", m.Thread.Title)

	// A matching ThreadID is allowed; an accepted (202) reply keeps the thread id.
	f.reply("POST", "/flows/acme/ops/threads/Tq9xK2mZ/messages", 202, `{}`)
	m, _, err = f.newClient(t).ReplyInThread(t.Context(), "acme", "ops", "Tq9xK2mZ", flowdock.NewMessage{Content: "x", ThreadID: "Tq9xK2mZ"})
	require.NoError(t, err)
	assert.Equal(t, "Tq9xK2mZ", m.ThreadID)
	assert.Regexp(t, uuidRE, m.UUID)
	assert.NotContains(t, f.last(t).JSON(t), "thread_id")
}

func TestClient_ThreadMessages(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/flows/acme/ops/threads/Hh7Qp0/messages", 200,
		`[{"event":"activity","id":600,"user":"0","app":"influx","content":null,"title":"touched item","author":{"name":"Ray"},"thread_id":"Hh7Qp0"}]`)
	msgs, _, err := f.newClient(t).ThreadMessages(t.Context(), "acme", "ops", "Hh7Qp0",
		flowdock.ListOptions{Events: []string{"activity"}, Limit: 1})
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, "touched item", msgs[len(msgs)-1].Title)
	assert.Equal(t, "Ray", msgs[0].Author.Name)
	assert.Equal(t, flowdock.ID("0"), msgs[0].User)
	assert.Equal(t, "event=activity&limit=1", f.last(t).Query.Encode())
}

func TestClient_ListThreads(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/flows/acme/ops/threads", 200, `[
 {"id":"B","title":"Item 02","external_url":"https://external.service/item/ITEM-02","updated_at":"2019-11-02T10:00:00.000Z","activities":1},
 {"id":"A","title":"Item 01","external_url":"https://external.service/item/ITEM-01","updated_at":"2019-11-01T10:00:00.000Z",
  "status":{"color":"green","value":"TODO"},"fields":[{"label":"a","value":"1"}],
  "actions":[{"@type":"ViewAction","name":"Diff","url":""}],
  "source":{"id":1,"application":{"id":2,"name":"ExternalService"}},"internal_comments":2,"external_comments":3}]`,
		"Link", `<https://api.flowdock.com/flows/acme/ops/threads?until=2019-11-01T10%3A00%3A00.000Z>; rel="next"`)
	c := f.newClient(t)

	threads, resp, err := c.ListThreads(t.Context(), "acme", "ops", flowdock.ThreadListOptions{
		Since: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC),
		Until: time.Date(2019, 12, 1, 0, 0, 0, 0, time.UTC),
		Limit: 2,
	})
	require.NoError(t, err)
	assert.Equal(t, "limit=2&since=2019-01-01T00%3A00%3A00Z&until=2019-12-01T00%3A00%3A00Z", f.last(t).Query.Encode())
	require.Len(t, threads, 2)
	assert.Equal(t, "B", threads[0].ID, "newest first, as sent")
	th := threads[1]
	assert.Equal(t, "https://external.service/item/ITEM-01", th.ExternalURL)
	assert.Equal(t, &flowdock.Status{Color: flowdock.ColorGreen, Value: "TODO"}, th.Status)
	assert.Equal(t, []flowdock.Field{{Label: "a", Value: "1"}}, th.Fields)
	assert.Equal(t, "ViewAction", th.Actions[0]["@type"])
	assert.JSONEq(t, `{"id":1,"application":{"id":2,"name":"ExternalService"}}`, string(th.Source))
	assert.Equal(t, 2, th.InternalComments)
	assert.Equal(t, 3, th.ExternalComments)
	assert.Equal(t, time.Date(2019, 11, 1, 10, 0, 0, 0, time.UTC), th.UpdatedAt.Time)
	assert.Equal(t, "https://api.flowdock.com/flows/acme/ops/threads?until=2019-11-01T10%3A00%3A00.000Z", resp.NextURL)

	// The Python wrapper's lookup of an item's thread by its external URL.
	uri := "https://external.service/item/ITEM-01"
	var found *flowdock.Thread
	for i := range threads {
		if threads[i].ExternalURL == uri {
			found = &threads[i]
		}
	}
	require.NotNil(t, found)
	assert.Equal(t, "A", found.ID)
}

func TestClient_GetThread(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/flows/acme/ops/threads/Hh7Qp0", 200, `{"id":"Hh7Qp0","title":"Build #88","initial_message":600,"flow":"7f3c","activities":1}`)
	th, _, err := f.newClient(t).GetThread(t.Context(), "acme", "ops", "Hh7Qp0")
	require.NoError(t, err)
	assert.Equal(t, "Build #88", th.Title)
	assert.EqualValues(t, 600, th.InitialMessage)
	assert.Equal(t, 1, th.Activities)
}

func TestClient_AllThreads(t *testing.T) {
	t.Parallel()
	// Threads newest first by updated_at; B and B2 tie at a page boundary.
	type th struct{ id, updated string }
	threads := []th{
		{"D", "2019-01-04T00:00:00.000Z"},
		{"C", "2019-01-03T00:00:00.000Z"},
		{"B", "2019-01-02T00:00:00.000Z"},
		{"B2", "2019-01-02T00:00:00.000Z"},
		{"A", "2019-01-01T00:00:00.000Z"},
	}
	f := newFakeAPI(t)
	// The API's semantics: until is exclusive, limit caps the page, and a
	// full page links to until=<its oldest updated_at>.
	f.handle("GET", "/flows/acme/ops/threads", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit, _ := strconv.Atoi(q.Get("limit"))
		if limit == 0 {
			limit = 30
		}
		limit = min(limit, 100) // clamped, as the emulator does
		var until time.Time
		if u := q.Get("until"); u != "" {
			var err error
			until, err = time.Parse(time.RFC3339Nano, u)
			if err != nil {
				writeError(w, 400, "bad until")
				return
			}
		}
		var page []map[string]any
		for _, x := range threads {
			ts, _ := time.Parse(time.RFC3339Nano, x.updated)
			if !until.IsZero() && !ts.Before(until) {
				continue
			}
			if len(page) == limit {
				break
			}
			page = append(page, map[string]any{"id": x.id, "title": x.id, "updated_at": x.updated})
		}
		if len(page) == limit {
			w.Header().Set("Link", `<https://api.flowdock.com/flows/acme/ops/threads?until=`+url.QueryEscape(page[len(page)-1]["updated_at"].(string))+`>; rel="next"`)
		}
		if page == nil {
			page = []map[string]any{}
		}
		writeJSON(w, 200, page)
	})
	c := f.newClient(t)

	for _, limit := range []int{2, 3, 10, 0} {
		n := len(f.requests())
		var ids []string
		for th, err := range c.AllThreads(t.Context(), "acme", "ops", flowdock.ThreadListOptions{Limit: limit}) {
			require.NoError(t, err)
			ids = append(ids, th.ID)
		}
		assert.Equal(t, []string{"D", "C", "B", "B2", "A"}, ids, "limit %d", limit)
		if limit == 2 {
			var untils []string
			for _, r := range f.requests()[n:] {
				untils = append(untils, r.Query.Get("until"))
			}
			assert.Equal(t, []string{"", "2019-01-03T00:00:00.001Z", "2019-01-02T00:00:00.001Z", "2019-01-02T00:00:00.001Z"}, untils,
				"one millisecond past the oldest seen, so that ties are not skipped; the same until, wider, on a page of ties")
			var limits []string
			for _, r := range f.requests()[n:] {
				limits = append(limits, r.Query.Get("limit"))
			}
			assert.Equal(t, []string{"2", "2", "2", "4"}, limits)
		}
	}
	// A page of ties is widened rather than skipped.
	var ids []string
	for th, err := range c.AllThreads(t.Context(), "acme", "ops", flowdock.ThreadListOptions{Limit: 1}) {
		require.NoError(t, err)
		ids = append(ids, th.ID)
	}
	assert.Equal(t, []string{"D", "C", "B", "B2", "A"}, ids)

	// A bound on the whole walk.
	ids = nil
	for th, err := range c.AllThreads(t.Context(), "acme", "ops", flowdock.ThreadListOptions{Limit: 2, Until: time.Date(2019, 1, 3, 0, 0, 0, 0, time.UTC)}) {
		require.NoError(t, err)
		ids = append(ids, th.ID)
	}
	assert.Equal(t, []string{"B", "B2", "A"}, ids)
}

// TestClient_AllThreads_tieRuns: a run of threads sharing one updated_at
// is read whole by widening the page up to MaxLimit; a longer run is the
// documented loss.
func TestClient_AllThreads_tieRuns(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		ties, want int
	}{{ties: 60, want: 62}, {ties: 150, want: 102}} {
		f := newFakeAPI(t)
		f.handle("GET", "/flows/acme/ops/threads", func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			limit, _ := strconv.Atoi(q.Get("limit"))
			limit = min(limit, 100)
			until := q.Get("until")
			var page []map[string]any
			add := func(id, ts string) {
				if len(page) < limit && (until == "" || ts < until) {
					page = append(page, map[string]any{"id": id, "title": id, "updated_at": ts})
				}
			}
			add("new", "2019-01-03T00:00:00.000Z")
			for i := range tt.ties {
				add("tie"+strconv.Itoa(i), "2019-01-02T00:00:00.000Z")
			}
			add("old", "2019-01-01T00:00:00.000Z")
			if page == nil {
				page = []map[string]any{}
			}
			writeJSON(w, 200, page)
		})
		var ids []string
		for th, err := range f.newClient(t).AllThreads(t.Context(), "acme", "ops", flowdock.ThreadListOptions{Limit: 10}) {
			require.NoError(t, err)
			ids = append(ids, th.ID)
		}
		assert.Len(t, ids, tt.want, "%d ties", tt.ties)
		assert.Equal(t, "new", ids[0])
		assert.Equal(t, "old", ids[len(ids)-1])
		assert.LessOrEqual(t, len(f.requests()), 12, "%d ties", tt.ties)
	}
}

func TestClient_AllThreads_stopEarlyAndErrors(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/flows/acme/ops/threads", 200, `[{"id":"C","title":"c"},{"id":"B","title":"b"}]`)
	c := f.newClient(t)
	n := 0
	for _, err := range c.AllThreads(t.Context(), "acme", "ops", flowdock.ThreadListOptions{}) {
		require.NoError(t, err)
		n++
		break
	}
	assert.Equal(t, 1, n)
	assert.Len(t, f.requests(), 1)

	f.reply("GET", "/flows/acme/ops/threads", 500, `{"message":"boom"}`)
	var errs []error
	for _, err := range c.AllThreads(t.Context(), "acme", "ops", flowdock.ThreadListOptions{}) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	var apiErr *flowdock.APIError
	assert.ErrorAs(t, errs[0], &apiErr)
}

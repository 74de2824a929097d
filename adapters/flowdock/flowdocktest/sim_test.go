package flowdocktest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
)

func TestSim_HTTP(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	sim := &client{t: t, base: s.RootURL() + "/_sim", hc: newHTTPClient(t)}
	bot := botClient(t, s)
	st, _ := openStream(t, s, "/flows?filter=acme/main&user=1", bot.auth, sseAccept, "")
	s.WaitConnections(t, 1)

	// info
	r := sim.do(http.MethodGet, "/info", nil)
	require.Equal(t, http.StatusOK, r.Status)
	info := r.obj(t)
	assert.Equal(t, s.URL(), info["api_url"])
	assert.Equal(t, s.StreamURL(), info["stream_url"])
	assert.Equal(t, s.Token(), info["bot"].(map[string]any)["token"])
	assert.Len(t, info["flows"], 4)

	// post, thread reply, private, comment
	r = sim.do(http.MethodPost, "/post", map[string]any{"flow": "acme/main", "user": "dana", "text": "hello bot"})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Raw)
	posted := r.obj(t)
	assert.Equal(t, "hello bot", decode(t, st.next(t).Data)["content"])
	r = sim.do(http.MethodPost, "/post", map[string]any{"flow": "acme/main", "user": "1310", "text": "reply", "thread_id": posted["thread_id"], "tags": []string{"x"}, "uuid": "u1"})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Raw)
	ev := decode(t, st.next(t).Data)
	assert.Equal(t, posted["thread_id"], ev["thread_id"])
	assert.Equal(t, []string{"x"}, strs(ev["tags"]))
	assert.Equal(t, "u1", ev["uuid"])

	r = sim.form(http.MethodPost, "/private", map[string][]string{"user": {"Ray_"}, "text": {"dm"}})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Raw)
	assert.Equal(t, "dm", decode(t, st.next(t).Data)["content"])
	r = sim.do(http.MethodPost, "/comment", map[string]any{"flow": "acme/main", "user": "mike", "message": posted["id"], "text": "a comment"})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Raw)
	assert.Equal(t, "comment", decode(t, st.next(t).Data)["event"])
	r = sim.do(http.MethodPost, "/present", map[string]any{"flow": "acme/main", "event": "activity", "external_thread_id": "E1",
		"title": "opened", "author": map[string]any{"name": "CI"}, "thread": map[string]any{"title": "Ticket 1"}})
	require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Raw)
	assert.Equal(t, "activity", decode(t, st.next(t).Data)["event"])

	// errors
	assert.Equal(t, http.StatusNotFound, sim.do(http.MethodPost, "/post", map[string]any{"flow": "acme/nope", "user": "dana", "text": "x"}).Status)
	assert.Equal(t, http.StatusNotFound, sim.do(http.MethodPost, "/post", map[string]any{"flow": "acme/main", "user": "nobody", "text": "x"}).Status)
	assert.Equal(t, http.StatusBadRequest, sim.do(http.MethodPost, "/post", map[string]any{"flow": "acme/ops", "user": "Ray_", "text": "not a member"}).Status)
	assert.Equal(t, http.StatusBadRequest, sim.do(http.MethodPost, "/post", map[string]any{"flow": "acme/main", "user": "dana"}).Status)
	assert.Equal(t, http.StatusBadRequest, sim.do(http.MethodPost, "/present", map[string]any{"flow": "acme/main", "event": "activity"}).Status)
	assert.Equal(t, http.StatusNotFound, sim.do(http.MethodGet, "/nope", nil).Status)
	assert.Equal(t, http.StatusMethodNotAllowed, sim.do(http.MethodGet, "/post", nil).Status)

	// flows add/remove
	r = sim.do(http.MethodPost, "/flows/add", map[string]any{"flow": "acme/hr"})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Raw)
	assert.Equal(t, "flow-add", decode(t, st.next(t).Data)["event"])
	r = sim.do(http.MethodPost, "/flows/remove", map[string]any{"flow": "acme/hr"})
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "flow-remove", decode(t, st.next(t).Data)["event"])
	assert.Equal(t, http.StatusNotFound, sim.do(http.MethodPost, "/flows/add", map[string]any{"flow": "acme/nope"}).Status)

	// sent and messages
	require.Equal(t, http.StatusCreated, bot.do(http.MethodPost, "/flows/acme/main/messages", map[string]any{"event": "message", "content": "bot says"}).Status)
	assert.Equal(t, "bot says", decode(t, st.next(t).Data)["content"])
	var sent []flowdocktest.SentMessage
	sim.do(http.MethodGet, "/sent", nil).json(t, &sent)
	require.Len(t, sent, 1)
	assert.Equal(t, "bot says", sent[0].Content)
	var msgs []flowdocktest.Message
	sim.do(http.MethodGet, "/messages?flow=acme/main", nil).json(t, &msgs)
	assert.Equal(t, "bot says", msgs[len(msgs)-1].Content)
	sim.do(http.MethodGet, "/messages?user=dana", nil).json(t, &msgs)
	assert.Equal(t, "hi bot, are you there?", msgs[0].Content)
	assert.Equal(t, http.StatusBadRequest, sim.do(http.MethodGet, "/messages", nil).Status)
	assert.Equal(t, http.StatusNotFound, sim.do(http.MethodGet, "/messages?flow=x/y", nil).Status)
	var reqs []flowdocktest.Request
	sim.do(http.MethodGet, "/requests", nil).json(t, &reqs)
	assert.NotEmpty(t, reqs)

	// faults
	require.Equal(t, http.StatusOK, sim.do(http.MethodPost, "/malformed", nil).Status)
	assert.False(t, json.Valid([]byte(st.next(t).Data)))
	require.Equal(t, http.StatusOK, sim.do(http.MethodPost, "/stall", map[string]any{"seconds": 0.05}).Status)
	require.Equal(t, http.StatusBadRequest, sim.do(http.MethodPost, "/stall", map[string]any{}).Status)
	require.Equal(t, http.StatusOK, sim.do(http.MethodPost, "/fail-requests", map[string]any{"status": 502}).Status)
	assert.Equal(t, http.StatusBadGateway, bot.do(http.MethodGet, "/flows", nil).Status)
	require.Equal(t, http.StatusOK, sim.do(http.MethodPost, "/fail-streams", map[string]any{"status": 503, "count": 1}).Status)
	require.Equal(t, http.StatusBadRequest, sim.do(http.MethodPost, "/fail-streams", map[string]any{"status": 200}).Status)
	require.Equal(t, http.StatusOK, sim.do(http.MethodPost, "/drop", nil).Status)
	st.ended(t)
	_, resp := openStream(t, s, "/flows?filter=acme/main", bot.auth, sseAccept, "")
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

func TestSim_GoAPI(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t, flowdocktest.WithWaitTimeout(2*time.Second))
	m, err := s.Post("acme/main", "@dana", "hi", flowdocktest.Tagged("#x"), flowdocktest.WithMessageUUID("u"))
	require.NoError(t, err)
	assert.Equal(t, []string{"x"}, m.Tags)
	assert.Equal(t, "u", m.UUID)
	assert.Equal(t, "acme/main", m.Flow)
	assert.Equal(t, 1305, m.User)
	reply, err := s.PostInThread("acme/main", "mike", m.ThreadID, "re")
	require.NoError(t, err)
	assert.Equal(t, m.ThreadID, reply.ThreadID)
	_, err = s.PostInThread("acme/main", "mike", "nope", "re")
	assert.ErrorContains(t, err, "thread_id")
	st, err := s.Status("acme/main", "dana", "away")
	require.NoError(t, err)
	assert.Equal(t, "status", st.Event)
	cm, err := s.Comment("acme/main", "mike", m.ID, "ok")
	require.NoError(t, err)
	assert.Equal(t, "ok", cm.Content)
	assert.Equal(t, "hi", cm.Title)
	_, err = s.Comment("acme/main", "mike", 999, "ok")
	assert.Error(t, err)
	_, err = s.PrivateMessage("parley", "self")
	assert.Error(t, err)
	_, err = s.Post("acme/main", "dana", "")
	assert.ErrorContains(t, err, "content")
	assert.Error(t, s.Edit("acme/main", "mike", m.ID, "not mine"))
	require.NoError(t, s.Edit("acme/main", "dana", m.ID, "edited"))
	require.NoError(t, s.SetTags("acme/main", "mike", m.ID, "a", "b"))
	msgs := s.Messages("acme/main")
	var found bool
	for _, x := range msgs {
		if x.ID == m.ID {
			found = true
			assert.Equal(t, "edited", x.Content)
			assert.True(t, x.Edited)
			assert.Equal(t, []string{"a", "b"}, x.Tags)
		}
	}
	assert.True(t, found)
	assert.Nil(t, s.Messages("x/y"))
	assert.Nil(t, s.PrivateMessages("nobody"))

	_, err = s.Present("acme/ops", map[string]any{"event": "discussion", "external_thread_id": "build-88", "title": "commented",
		"body": "flaky", "author": map[string]any{"name": "Dana"}})
	require.NoError(t, err)
	ops := s.Messages("acme/ops")
	last := ops[len(ops)-1]
	assert.Equal(t, "discussion", last.Event)
	assert.Equal(t, "flaky", last.Body)
	_, err = s.Present("acme/ops", map[string]any{"event": "activity"})
	assert.ErrorContains(t, err, "author")

	// WaitSent returns once the bot has posted.
	c := botClient(t, s)
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, err := http.NewRequest(http.MethodPost, s.URL()+"/flows/acme/main/messages",
			strings.NewReader(`{"event":"message","content":"from the bot"}`))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", c.auth)
		if resp, err := c.hc.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	sent := s.WaitSent(t, 1)
	<-done
	require.Len(t, sent, 1)
	assert.Equal(t, "from the bot", sent[0].Content)
	assert.NotEmpty(t, sent[0].ThreadID)
	assert.Equal(t, s.FlowID("acme/main"), sent[0].FlowID)
}

func TestSim_Inject(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	sim := &client{t: t, base: s.RootURL() + "/_sim", hc: newHTTPClient(t)}
	st, _ := openStream(t, s, "/flows?filter=acme/main", botClient(t, s).auth, sseAccept, "")
	s.WaitConnections(t, 1)

	r := sim.do(http.MethodPost, "/inject/event", map[string]any{"id": "a\x00b", "data": "x"})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Raw)
	ev := st.next(t)
	assert.Equal(t, "a\x00b", ev.ID)
	assert.Equal(t, "x", ev.Data)

	r = sim.do(http.MethodPost, "/inject/message", map[string]any{"flow": "acme/main", "user": "dana", "id": 9007199254740993, "text": "big"})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Raw)
	assert.Contains(t, string(r.Raw), `"id":9007199254740993`)
	assert.Contains(t, st.next(t).Data, `"id":9007199254740993`)
	r = sim.form(http.MethodPost, "/inject/message", map[string][]string{"flow": {"acme/main"}, "user": {"dana"}, "id": {"-3"}, "text": {"negative"}})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Raw)
	assert.Contains(t, st.next(t).Data, `"id":-3`)

	assert.Equal(t, http.StatusBadRequest, sim.do(http.MethodPost, "/inject/event", map[string]any{"id": "a\nb"}).Status)
	assert.Equal(t, http.StatusBadRequest, sim.do(http.MethodPost, "/inject/message", map[string]any{"flow": "acme/main", "user": "dana", "text": "no id"}).Status)
	assert.Equal(t, http.StatusBadRequest, sim.do(http.MethodPost, "/inject/message", map[string]any{"flow": "acme/main", "user": "dana", "id": "x", "text": "bad id"}).Status)
	assert.Equal(t, http.StatusNotFound, sim.do(http.MethodPost, "/inject/message", map[string]any{"flow": "acme/nope", "user": "dana", "id": 1, "text": "x"}).Status)
}

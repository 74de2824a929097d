package flowdocktest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
)

const sseAccept = "text/event-stream"

func TestStream_SSE(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t, flowdocktest.WithKeepAlive(20*time.Millisecond))
	c := botClient(t, s)
	st, resp := openStream(t, s, "/flows?filter=acme/main,"+s.FlowID("acme/ops")+"&user=1&active=idle", c.auth, sseAccept, "")
	require.NotNil(t, st)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	assert.Equal(t, "1201", resp.Header.Get("Flowdock-User"))
	s.WaitConnections(t, 1)

	// Someone else's message.
	m, err := s.Post("acme/main", "dana", "deploy done? @parley")
	require.NoError(t, err)
	ev := st.next(t)
	assert.True(t, ev.HasID)
	assert.Empty(t, ev.Event, "Flowdock events carry no event: field")
	id1, err := strconv.Atoi(ev.ID)
	require.NoError(t, err)
	data := decode(t, ev.Data)
	assert.Equal(t, "message", data["event"])
	assert.Equal(t, float64(m.ID), data["id"])
	assert.Equal(t, "1305", data["user"])
	assert.Equal(t, s.FlowID("acme/main"), data["flow"])
	assert.Equal(t, []string{":user:1201", ":unread:1201"}, strs(data["tags"]))
	assert.JSONEq(t, string(m.JSON), ev.Data)

	// The bot's own message is echoed with its user id and uuid.
	r := c.do(http.MethodPost, "/flows/acme/ops/messages", map[string]any{"event": "message", "content": "on it", "uuid": "echo-1"})
	require.Equal(t, http.StatusCreated, r.Status)
	ev = st.next(t)
	id2, _ := strconv.Atoi(ev.ID)
	assert.Greater(t, id2, id1)
	data = decode(t, ev.Data)
	assert.Equal(t, "1201", data["user"])
	assert.Equal(t, "echo-1", data["uuid"])
	assert.Equal(t, s.FlowID("acme/ops"), data["flow"])

	// Private messages with user=1: "to" and no "flow".
	_, err = s.PrivateMessage("mike", "psst")
	require.NoError(t, err)
	data = decode(t, st.next(t).Data)
	assert.Equal(t, "psst", data["content"])
	assert.Equal(t, "1201", data["to"])
	assert.NotContains(t, data, "flow")

	// A flow outside the filter is not streamed.
	_, err = s.Post("acme/random", "Ray_", "not streamed")
	require.NoError(t, err)
	_, err = s.Post("acme/main", "mike", "streamed")
	require.NoError(t, err)
	assert.Equal(t, "streamed", decode(t, st.next(t).Data)["content"])

	// Keep-alives are SSE comments.
	for {
		it := st.nextItem(t, false)
		if it.Comment != "" {
			assert.Equal(t, "keep-alive", it.Comment)
			break
		}
	}
	assert.Equal(t, 1, s.Connections())
}

func TestStream_JSON(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t, flowdocktest.WithKeepAlive(20*time.Millisecond))
	c := botClient(t, s)
	// No Accept header: the JSON stream is the default.
	st, resp := openStream(t, s, "/flows?filter=acme/main", c.auth, "", "")
	require.NotNil(t, st)
	assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "1201", resp.Header.Get("Flowdock-User"))

	_, err := s.Post("acme/main", "dana", "line one\nline two")
	require.NoError(t, err)
	ev := st.next(t)
	assert.Equal(t, "line one\nline two", decode(t, ev.Data)["content"])
	assert.False(t, ev.HasID)
	for !st.nextItem(t, false).KeepAlive {
	}

	// accept=text/event-stream in the query overrides the Accept header;
	// Accept: application/json gives the JSON stream.
	st2, resp2 := openStream(t, s, "/flows/acme/main?accept=text/event-stream", c.auth, "application/json", "")
	require.NotNil(t, st2)
	assert.Equal(t, "text/event-stream", resp2.Header.Get("Content-Type"))
	st3, resp3 := openStream(t, s, "/flows/acme/main?access_token="+s.Token(), "", "application/json", "")
	require.NotNil(t, st3)
	assert.Equal(t, "application/json; charset=utf-8", resp3.Header.Get("Content-Type"))
	s.WaitConnections(t, 3)
	_, err = s.Post("acme/main", "mike", "to all three")
	require.NoError(t, err)
	for _, x := range []*stream{st, st2, st3} {
		assert.Equal(t, "to all three", decode(t, x.next(t).Data)["content"])
	}
}

// TestStream_Replay drops the stream, posts while the client is away
// (two flows and a private chat), and resumes with Last-Event-ID.
func TestStream_Replay(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)
	const path = "/flows?filter=acme/main,acme/ops&user=1"
	st, _ := openStream(t, s, path, c.auth, sseAccept, "")
	require.NotNil(t, st)
	_, err := s.Post("acme/main", "dana", "before")
	require.NoError(t, err)
	ev := st.next(t)
	lastID := ev.ID

	s.DropConnections()
	st.ended(t)
	s.WaitConnections(t, 0)

	var want []string
	for i, p := range []struct{ flow, user string }{{"acme/ops", "mike"}, {"acme/main", "dana"}, {"acme/random", "Ray_"}, {"", "dana"}, {"acme/main", "Ray_"}} {
		text := "missed " + strconv.Itoa(i)
		if p.flow == "" {
			_, err = s.PrivateMessage(p.user, text)
		} else {
			_, err = s.Post(p.flow, p.user, text)
		}
		require.NoError(t, err)
		if p.flow != "acme/random" {
			want = append(want, text)
		}
	}

	st2, _ := openStream(t, s, path, c.auth, sseAccept, lastID)
	require.NotNil(t, st2)
	var got, ids []string
	for range want {
		ev := st2.next(t)
		got = append(got, decode(t, ev.Data)["content"].(string))
		ids = append(ids, ev.ID)
	}
	assert.Equal(t, want, got)
	for i := 1; i < len(ids); i++ {
		a, _ := strconv.Atoi(ids[i-1])
		b, _ := strconv.Atoi(ids[i])
		assert.Greater(t, b, a)
	}
	// Then live, with no duplicates.
	_, err = s.Post("acme/main", "dana", "live")
	require.NoError(t, err)
	assert.Equal(t, "live", decode(t, st2.next(t).Data)["content"])
	st2.nothingFor(t, 50*time.Millisecond)

	assert.Equal(t, []string{"", lastID}, s.LastEventIDs())
	reqs := s.Requests()
	var streamReqs []flowdocktest.Request
	for _, rq := range reqs {
		if rq.Stream {
			streamReqs = append(streamReqs, rq)
		}
	}
	require.Len(t, streamReqs, 2)
	assert.Equal(t, lastID, streamReqs[1].LastEventID)
	assert.Equal(t, "stream", streamReqs[1].Host)
	assert.Equal(t, 200, streamReqs[1].Status)

	// An id from the future, or garbage, means "from now".
	for _, id := range []string{"999999", "not-a-number"} {
		st3, _ := openStream(t, s, path, c.auth, sseAccept, id)
		require.NotNil(t, st3)
		_, err = s.Post("acme/main", "dana", "after "+id)
		require.NoError(t, err)
		assert.Equal(t, "after "+id, decode(t, st3.next(t).Data)["content"])
		st3.close()
	}
	// Last-Event-ID 0 replays the whole log, demo data included.
	st4, _ := openStream(t, s, "/flows?filter=acme/main", c.auth, sseAccept, "0")
	require.NotNil(t, st4)
	assert.Equal(t, "Good morning! Deploy is at 10:00 #deploy", decode(t, st4.next(t).Data)["content"])
}

func TestStream_Errors(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)
	tests := []struct {
		name   string
		path   string
		auth   string
		status int
	}{
		{"bad token", "/flows?filter=acme/main", basic("nope", ""), 401},
		{"no credentials", "/flows?filter=acme/main", "", 401},
		{"flow token is not a user", "/flows?filter=acme/main", basic(s.FlowToken("acme/main"), ""), 401},
		{"unknown flow", "/flows?filter=acme/main,acme/nope", c.auth, 404},
		{"flow not joined", "/flows?filter=acme/hr", c.auth, 404},
		{"unknown single flow", "/flows/acme/nope", c.auth, 404},
		{"neither filter nor user", "/flows", c.auth, 400},
		{"unknown path", "/nope", c.auth, 404},
		{"user=1 alone is fine", "/flows?user=1", c.auth, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, resp := openStream(t, s, tt.path, tt.auth, sseAccept, "")
			require.Equal(t, tt.status, resp.StatusCode)
			if st != nil {
				st.close()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			var e errorBody
			require.NoError(t, json.Unmarshal(b, &e), "body %s", b)
			if tt.status == 404 && tt.path != "/nope" {
				assert.Equal(t, notFound, string(b))
			}
			if tt.status == 401 {
				assert.Empty(t, resp.Header.Get("Flowdock-User"))
			}
		})
	}

	s.FailStreams(http.StatusServiceUnavailable, 2)
	s.FailStreams(http.StatusUnauthorized, 1)
	for _, want := range []int{503, 503, 401, 200} {
		st, resp := openStream(t, s, "/flows?filter=acme/main", c.auth, sseAccept, "7")
		require.Equal(t, want, resp.StatusCode)
		if want == 503 {
			assert.Equal(t, "1", resp.Header.Get("Retry-After"))
		}
		if st != nil {
			st.close()
		}
	}
	ids := s.LastEventIDs()
	assert.Equal(t, []string{"7", "7", "7", "7"}, ids[len(ids)-4:])
}

func TestStream_Malformed(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)
	st, _ := openStream(t, s, "/flows?filter=acme/main", c.auth, sseAccept, "")
	js, _ := openStream(t, s, "/flows?filter=acme/main", c.auth, "application/json", "")
	s.WaitConnections(t, 2)
	s.SendMalformed()
	_, err := s.Post("acme/main", "dana", "after the bad one")
	require.NoError(t, err)
	for _, x := range []*stream{st, js} {
		bad := x.next(t)
		assert.False(t, json.Valid([]byte(bad.Data)), "data %q", bad.Data)
		assert.Equal(t, "after the bad one", decode(t, x.next(t).Data)["content"])
	}
	// Malformed events are not replayed.
	st.close()
	st2, _ := openStream(t, s, "/flows?filter=acme/main", c.auth, sseAccept, "0")
	for {
		ev := st2.next(t)
		require.True(t, json.Valid([]byte(ev.Data)))
		if decode(t, ev.Data)["content"] == "after the bad one" {
			break
		}
	}
}

func TestStream_InjectEvent(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)
	st, _ := openStream(t, s, "/flows?filter=acme/main", c.auth, sseAccept, "")
	js, _ := openStream(t, s, "/flows?filter=acme/main", c.auth, "application/json", "")
	s.WaitConnections(t, 2)
	require.NoError(t, s.InjectEvent("7\x00x\x01\x7f", []byte(`{"a":1}`)))
	require.NoError(t, s.InjectEvent("", []byte("no id")))
	_, err := s.Post("acme/main", "dana", "after the injected ones")
	require.NoError(t, err)

	ev := st.next(t)
	assert.True(t, ev.HasID)
	assert.Equal(t, "7\x00x\x01\x7f", ev.ID, "the id goes out byte for byte")
	assert.Equal(t, `{"a":1}`, ev.Data)
	ev = st.next(t)
	assert.False(t, ev.HasID)
	assert.Equal(t, "no id", ev.Data)
	assert.Equal(t, "after the injected ones", decode(t, st.next(t).Data)["content"])

	assert.Equal(t, `{"a":1}`, js.next(t).Data)
	assert.Equal(t, "no id", js.next(t).Data)
	assert.Equal(t, "after the injected ones", decode(t, js.next(t).Data)["content"])
	js.close()

	require.NoError(t, s.InjectEvent("8", []byte("line 1\nline 2")))
	ev = st.next(t)
	assert.Equal(t, "8", ev.ID)
	assert.Equal(t, "line 1\nline 2", ev.Data, "one data: line per line")

	// Not replayed.
	st.close()
	st2, _ := openStream(t, s, "/flows?filter=acme/main", c.auth, sseAccept, "0")
	for {
		ev := st2.next(t)
		require.True(t, json.Valid([]byte(ev.Data)), "data %q", ev.Data)
		if decode(t, ev.Data)["content"] == "after the injected ones" {
			break
		}
	}

	// What would end the event early is refused.
	assert.Error(t, s.InjectEvent("1\n", nil))
	assert.Error(t, s.InjectEvent("1\r", nil))
	assert.Error(t, s.InjectEvent("1", []byte("a\rb")))
}

func TestStream_InjectMessage(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)
	st, _ := openStream(t, s, "/flows?filter=acme/main", c.auth, sseAccept, "")
	s.WaitConnections(t, 1)
	before := s.Messages("acme/main")
	lastID := before[len(before)-1].ID

	const huge = 1<<53 + 1
	m, err := s.InjectMessage("acme/main", "dana", huge, "hostile")
	require.NoError(t, err)
	assert.Equal(t, huge, m.ID)
	_, err = s.InjectMessage("acme/main", "mike", -5, "negative")
	require.NoError(t, err)
	next, err := s.Post("acme/main", "dana", "legit")
	require.NoError(t, err)
	assert.Equal(t, lastID+1, next.ID, "the flow's own ids go on")

	first := st.next(t)
	ev := decode(t, first.Data)
	assert.Equal(t, "9007199254740993", string(mustNumber(t, first.Data, "id")))
	assert.Equal(t, "message", ev["event"])
	assert.Equal(t, s.FlowID("acme/main"), ev["flow"])
	assert.Equal(t, "1305", ev["user"])
	assert.Equal(t, "hostile", ev["content"])
	assert.Equal(t, "-5", string(mustNumber(t, st.next(t).Data, "id")))
	assert.Equal(t, "legit", decode(t, st.next(t).Data)["content"])

	assert.Len(t, s.Messages("acme/main"), len(before)+1, "injected messages are not stored")
	r := c.do(http.MethodGet, "/flows/acme/main/messages/"+strconv.Itoa(huge), nil)
	assert.Equal(t, http.StatusNotFound, r.Status)

	// Replayed like any event of the flow.
	st2, _ := openStream(t, s, "/flows?filter=acme/main", c.auth, sseAccept, strconv.Itoa(mustInt(t, first.ID)-1))
	assert.Equal(t, "hostile", decode(t, st2.next(t).Data)["content"])

	_, err = s.InjectMessage("acme/nope", "dana", 1, "x")
	assert.Error(t, err)
	_, err = s.InjectMessage("acme/ops", "Ray_", 1, "not a member")
	assert.Error(t, err)
}

// mustNumber returns the JSON number field key of the object data as written.
func mustNumber(t *testing.T, data, key string) json.Number {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(data), &m))
	return json.Number(m[key])
}

func mustInt(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

func TestStream_Stall(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t, flowdocktest.WithKeepAlive(10*time.Millisecond))
	c := botClient(t, s)
	st, _ := openStream(t, s, "/flows?filter=acme/main", c.auth, sseAccept, "")
	st.nextItem(t, false) // a keep-alive: the stream is live
	s.Stall(300 * time.Millisecond)
	// Drain what was in flight, then nothing at all, keep-alives included.
	drain := time.NewTimer(30 * time.Millisecond)
	for draining := true; draining; {
		select {
		case <-st.items:
		case <-drain.C:
			draining = false
		}
	}
	_, err := s.Post("acme/main", "dana", "during the stall")
	require.NoError(t, err)
	st.nothingFor(t, 150*time.Millisecond)
	// Delivered when the stall ends.
	assert.Equal(t, "during the stall", decode(t, st.next(t).Data)["content"])

	// Stall(0) ends a stall early.
	s.Stall(time.Hour)
	_, err = s.Post("acme/main", "dana", "released")
	require.NoError(t, err)
	s.Stall(0)
	assert.Equal(t, "released", decode(t, st.next(t).Data)["content"])
}

func TestStream_FlowAddRemove(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)
	st, _ := openStream(t, s, "/flows?filter=acme/main&user=1", c.auth, sseAccept, "")
	s.WaitConnections(t, 1)

	require.NoError(t, s.AddToFlow("acme/hr"))
	ev := st.next(t)
	assert.True(t, ev.HasID, "every SSE event has a stream id")
	data := decode(t, ev.Data)
	assert.Equal(t, "flow-add", data["event"])
	assert.Equal(t, "1201", data["user"])
	assert.NotContains(t, data, "id", "flow-add has no message id")
	content := data["content"].(map[string]any)
	assert.Equal(t, s.FlowID("acme/hr"), content["id"])
	assert.Equal(t, "HR", content["name"])
	assert.Equal(t, true, content["open"])
	assert.Equal(t, "acme", content["organization"].(map[string]any)["parameterized_name"])
	require.NoError(t, s.AddToFlow("acme/hr")) // again: nothing happens

	// The bot can now read and stream hr.
	assert.Equal(t, http.StatusOK, c.do(http.MethodGet, "/flows/acme/hr/messages", nil).Status)
	st2, resp := openStream(t, s, "/flows?filter=acme/hr", c.auth, sseAccept, "")
	require.Equal(t, 200, resp.StatusCode)
	st2.close()

	require.NoError(t, s.RemoveFromFlow("acme/main"))
	data = decode(t, st.next(t).Data)
	assert.Equal(t, "flow-remove", data["event"])
	assert.Equal(t, map[string]any{"id": s.FlowID("acme/main")}, data["content"])

	// main's events stop at once; the REST API and the stream refuse it.
	_, err := s.Post("acme/main", "dana", "bot is gone")
	require.NoError(t, err)
	_, err = s.PrivateMessage("dana", "still private")
	require.NoError(t, err)
	assert.Equal(t, "still private", decode(t, st.next(t).Data)["content"])
	assert.Equal(t, http.StatusNotFound, c.do(http.MethodGet, "/flows/acme/main/messages", nil).Status)
	_, resp = openStream(t, s, "/flows?filter=acme/main", c.auth, sseAccept, "")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	assert.Error(t, s.AddToFlow("acme/nope"))
	assert.Error(t, s.RemoveFromFlow("acme/nope"))
}

func TestStream_EditEvents(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)
	st, _ := openStream(t, s, "/flows?filter=acme/main&user=1", c.auth, sseAccept, "")
	s.WaitConnections(t, 1)
	m, err := s.Post("acme/main", "dana", "v1")
	require.NoError(t, err)
	st.next(t)
	require.NoError(t, s.Edit("acme/main", "dana", m.ID, "v2 @mike"))
	ev := decode(t, st.next(t).Data)
	assert.Equal(t, "message-edit", ev["event"])
	assert.Equal(t, float64(m.ID+1), ev["id"])
	assert.Equal(t, map[string]any{"message": float64(m.ID), "updated_content": "v2 @mike"}, ev["content"])
	ev = decode(t, st.next(t).Data)
	assert.Equal(t, "tag-change", ev["event"])
	assert.Equal(t, map[string]any{"message": float64(m.ID), "add": []any{":user:1310", ":unread:1310"}, "remove": []any{}}, ev["content"])

	require.NoError(t, s.SetTags("acme/main", "mike", m.ID, "#ops"))
	ev = decode(t, st.next(t).Data)
	assert.Equal(t, "tag-change", ev["event"])
	assert.Equal(t, "1310", ev["user"])
	assert.Equal(t, []any{"ops"}, ev["content"].(map[string]any)["add"])

	// Private edits go to both participants' user=1 streams.
	r := c.do(http.MethodPost, "/private/1305/messages", map[string]any{"event": "message", "content": "p1"})
	require.Equal(t, http.StatusCreated, r.Status)
	assert.Equal(t, "p1", decode(t, st.next(t).Data)["content"])
	require.Equal(t, http.StatusOK, c.do(http.MethodPut, "/private/1305/messages/"+strconv.Itoa(num(r.obj(t)["id"])), map[string]any{"content": "p2"}).Status)
	ev = decode(t, st.next(t).Data)
	assert.Equal(t, "message-edit", ev["event"])
	assert.Equal(t, "1305", ev["to"])
}

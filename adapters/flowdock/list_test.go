package flowdock_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A miniMsg is a message as the mini flow stores it (its own wire shape).
type miniMsg struct {
	ID       int64           `json:"id"`
	Event    string          `json:"event"`
	Content  json.RawMessage `json:"content"`
	Tags     []string        `json:"tags"`
	UUID     string          `json:"uuid,omitempty"`
	ThreadID string          `json:"thread_id,omitempty"`
	User     string          `json:"user"`
	removed  bool
}

// A miniFlow is a stateful flow or private chat on a fakeAPI that applies
// the two list patterns the Python wrapper's doctests observed on the live
// service, so that the wrapper's examples can run end to end.
type miniFlow struct {
	mu   sync.Mutex
	next int64
	msgs []*miniMsg
}

func newMiniFlow(f *fakeAPI, prefix string) *miniFlow {
	m := &miniFlow{}
	f.handle("POST", prefix+"/messages", m.post)
	f.handle("GET", prefix+"/messages", m.list)
	f.handlePrefix("GET", prefix+"/messages", m.byID(func(w http.ResponseWriter, _ *http.Request, msg *miniMsg) {
		writeJSON(w, 200, msg)
	}))
	f.handlePrefix("PUT", prefix+"/messages", m.byID(func(w http.ResponseWriter, r *http.Request, msg *miniMsg) {
		var body struct {
			Content *string   `json:"content"`
			Tags    *[]string `json:"tags"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeError(w, 400, "bad json")
			return
		}
		if body.Content != nil {
			msg.Content, _ = json.Marshal(*body.Content)
		}
		if body.Tags != nil {
			msg.Tags = *body.Tags
		}
		writeJSON(w, 200, map[string]any{})
	}))
	f.handlePrefix("DELETE", prefix+"/messages", m.byID(func(w http.ResponseWriter, _ *http.Request, msg *miniMsg) {
		if msg.Event == "message" {
			msg.Content = json.RawMessage(`""`)
			writeJSON(w, 200, map[string]any{})
			return
		}
		msg.removed = true
		w.WriteHeader(204)
	}))
	return m
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// add stores a message and returns its id.
func (m *miniFlow) add(msg miniMsg) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	msg.ID = m.next
	if msg.User == "" {
		msg.User = testUserID
	}
	if msg.Tags == nil {
		msg.Tags = []string{}
	}
	m.msgs = append(m.msgs, &msg)
	return msg.ID
}

func (m *miniFlow) post(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, 400, "bad json")
		return
	}
	content, _ := body["content"].(string)
	if strings.TrimSpace(content) == "" {
		writeJSON(w, 400, map[string]any{"message": "Validation error", "errors": map[string][]string{"content": {"can't be blank"}}})
		return
	}
	msg := miniMsg{Event: "message", Content: mustJSON(content)}
	if tags, ok := body["tags"].([]any); ok {
		for _, t := range tags {
			msg.Tags = append(msg.Tags, t.(string))
		}
	}
	msg.UUID, _ = body["uuid"].(string)
	id := m.add(msg)
	m.mu.Lock()
	stored := *m.msgs[len(m.msgs)-1]
	m.mu.Unlock()
	stored.ThreadID = "T" + itoa(id)
	writeJSON(w, 201, stored)
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func (m *miniFlow) byID(h func(http.ResponseWriter, *http.Request, *miniMsg)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		idStr := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		id, err := strconv.ParseInt(idStr, 10, 64)
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, msg := range m.msgs {
			if err == nil && msg.ID == id && !msg.removed {
				h(w, r, msg)
				return
			}
		}
		writeError(w, 404, "not found")
	}
}

// list applies the two observed list patterns: with search and/or tags,
// (search ∪ tags) → skip from the newest → limit; otherwise event ∩
// (since_id, until_id) → the newest (or, with sort=asc, oldest) limit.
func (m *miniFlow) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 30
	if v := q.Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	m.mu.Lock()
	var all []miniMsg
	for _, msg := range m.msgs {
		if !msg.removed {
			all = append(all, *msg)
		}
	}
	m.mu.Unlock()

	var picked []miniMsg
	search, tags := q.Get("search"), q.Get("tags")
	if search != "" || tags != "" {
		// (search ∪ tags) → skip the newest N → the newest limit.
		var matched []miniMsg
		for _, msg := range all {
			if (search != "" && matchesSearch(msg, search)) || (tags != "" && matchesTags(msg, strings.Split(tags, ","), q.Get("tag_mode"))) {
				matched = append(matched, msg)
			}
		}
		slices.Reverse(matched) // newest first
		skip, _ := strconv.Atoi(q.Get("skip"))
		matched = matched[min(skip, len(matched)):]
		picked = matched[:min(limit, len(matched))]
	} else {
		// (event ∩ id range) → the newest (or oldest) limit.
		since, _ := strconv.ParseInt(q.Get("since_id"), 10, 64)
		until, _ := strconv.ParseInt(q.Get("until_id"), 10, 64)
		events := q.Get("event")
		var matched []miniMsg
		for _, msg := range all {
			if msg.ID <= since || (until > 0 && msg.ID >= until) {
				continue
			}
			if events != "" && !slices.Contains(strings.Split(events, ","), msg.Event) {
				continue
			}
			matched = append(matched, msg)
		}
		if q.Get("sort") == "asc" {
			picked = matched[:min(limit, len(matched))]
		} else {
			picked = matched[max(0, len(matched)-limit):]
		}
	}
	slices.SortFunc(picked, func(a, b miniMsg) int { return int(a.ID - b.ID) })
	if picked == nil {
		picked = []miniMsg{}
	}
	writeJSON(w, 200, picked)
}

func matchesSearch(msg miniMsg, search string) bool {
	var content string
	_ = json.Unmarshal(msg.Content, &content)
	words := strings.FieldsFunc(strings.ToLower(content), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for kw := range strings.FieldsSeq(strings.ToLower(search)) {
		if !slices.Contains(words, kw) {
			return false
		}
	}
	return true
}

func matchesTags(msg miniMsg, tags []string, mode string) bool {
	has := func(t string) bool {
		return slices.ContainsFunc(msg.Tags, func(x string) bool { return strings.EqualFold(x, t) })
	}
	if mode == "or" {
		return slices.ContainsFunc(tags, has)
	}
	for _, t := range tags {
		if !has(t) {
			return false
		}
	}
	return true
}

// TestListOptions_seedPatterns runs the Python wrapper's list examples:
// each options value must produce the query the wrapper's keyword
// arguments mean, and, against a flow applying the observed semantics, the
// result the wrapper's doctests got from the live service.
func TestListOptions_seedPatterns(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	flow := newMiniFlow(f, "/flows/acme/ops")
	c := f.newClient(t)
	chat := flowdock.FlowChat("acme", "ops")

	// Pattern 1: three messages sent through the client.
	for _, m := range []flowdock.NewMessage{
		{Content: "1. a keyword"},
		{Content: "2. keywords", Tags: []string{"A"}},
		{Content: "3. more keywords", Tags: []string{"A", "B"}},
	} {
		_, _, err := c.SendMessage(t.Context(), chat, m)
		require.NoError(t, err)
	}
	firstChars := func(ms []flowdock.Message) string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Text()[:1])
		}
		return strings.Join(out, " ")
	}
	pattern1 := []struct {
		name      string
		opts      flowdock.ListOptions
		wantQuery string
		want      string
	}{
		{"search", flowdock.ListOptions{Search: "keyword"}, "search=keyword", "1"},
		{"tags and", flowdock.ListOptions{Tags: []string{"A", "B"}}, "tags=A%2CB", "3"},
		{"tags or", flowdock.ListOptions{Tags: []string{"A", "B"}, TagMode: flowdock.TagModeOr}, "tag_mode=or&tags=A%2CB", "2 3"},
		{"search or tags", flowdock.ListOptions{Search: "keyword", Tags: []string{"A", "B"}, TagMode: flowdock.TagModeOr},
			"search=keyword&tag_mode=or&tags=A%2CB", "1 2 3"},
		{"skip", flowdock.ListOptions{Search: "keyword", Tags: []string{"A", "B"}, TagMode: flowdock.TagModeOr, Skip: 1},
			"search=keyword&skip=1&tag_mode=or&tags=A%2CB", "1 2"},
		{"limit", flowdock.ListOptions{Search: "keyword", Tags: []string{"A", "B"}, TagMode: flowdock.TagModeOr, Limit: 1},
			"limit=1&search=keyword&tag_mode=or&tags=A%2CB", "3"},
		{"skip and limit", flowdock.ListOptions{Search: "keyword", Tags: []string{"A", "B"}, TagMode: flowdock.TagModeOr, Skip: 1, Limit: 1},
			"limit=1&search=keyword&skip=1&tag_mode=or&tags=A%2CB", "2"},
	}
	for _, tt := range pattern1 {
		t.Run("1/"+tt.name, func(t *testing.T) {
			msgs, _, err := c.ListMessages(t.Context(), chat, tt.opts)
			require.NoError(t, err)
			assert.Equal(t, tt.wantQuery, f.last(t).Query.Encode())
			assert.Equal(t, tt.want, firstChars(msgs))
		})
	}

	// Pattern 2: five more, 1–3 and 5 files, 4 a chat message.
	file := func() int64 {
		return flow.add(miniMsg{Event: "file", Content: json.RawMessage(`{"file_name":"README.rst"}`), Tags: []string{":file"}})
	}
	ids := []int64{file(), file(), file()}
	sent, _, err := c.SendMessage(t.Context(), chat, flowdock.NewMessage{Content: "file_path"})
	require.NoError(t, err)
	ids = append(ids, sent.ID, file())
	pos := map[int64]int{}
	for i, id := range ids {
		pos[id] = i + 1
	}
	positions := func(ms []flowdock.Message) string {
		var out []string
		for _, m := range ms {
			out = append(out, strconv.Itoa(pos[m.ID]))
		}
		return strings.Join(out, " ")
	}
	id1, id5 := ids[0], ids[4]
	pattern2 := []struct {
		name      string
		opts      flowdock.ListOptions
		wantQuery string
		want      string
	}{
		{"since", flowdock.ListOptions{SinceID: id1}, "since_id=" + itoa(id1), "2 3 4 5"},
		{"since until", flowdock.ListOptions{SinceID: id1, UntilID: id5}, "since_id=" + itoa(id1) + "&until_id=" + itoa(id5), "2 3 4"},
		{"event", flowdock.ListOptions{Events: []string{"file"}, SinceID: id1}, "event=file&since_id=" + itoa(id1), "2 3 5"},
		{"event limit", flowdock.ListOptions{Events: []string{"file"}, SinceID: id1, Limit: 1},
			"event=file&limit=1&since_id=" + itoa(id1), "5"},
		{"event sort asc limit", flowdock.ListOptions{Events: []string{"file"}, SinceID: id1, Sort: flowdock.SortAsc, Limit: 1},
			"event=file&limit=1&since_id=" + itoa(id1) + "&sort=asc", "2"},
	}
	for _, tt := range pattern2 {
		t.Run("2/"+tt.name, func(t *testing.T) {
			msgs, _, err := c.ListMessages(t.Context(), chat, tt.opts)
			require.NoError(t, err)
			assert.Equal(t, tt.wantQuery, f.last(t).Query.Encode())
			assert.Equal(t, tt.want, positions(msgs))
		})
	}
}

func TestListOptions_query(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/flows/acme/ops/messages", 200, `[]`)
	f.reply("GET", "/private/336968/messages", 200, `[]`)
	c := f.newClient(t)

	tests := []struct {
		name      string
		chat      flowdock.Chat
		opts      flowdock.ListOptions
		wantQuery url.Values
	}{
		{"none", flowdock.FlowChat("acme", "ops"), flowdock.ListOptions{}, url.Values{}},
		{"files by tag", flowdock.FlowChat("acme", "ops"), flowdock.ListOptions{Tags: []string{":file"}}, url.Values{"tags": {":file"}}},
		{"files by event", flowdock.FlowChat("acme", "ops"), flowdock.ListOptions{Events: []string{"file"}}, url.Values{"event": {"file"}}},
		{"links", flowdock.FlowChat("acme", "ops"), flowdock.ListOptions{Tags: []string{":url"}}, url.Values{"tags": {":url"}}},
		{"mentions", flowdock.FlowChat("acme", "ops"), flowdock.ListOptions{Tags: []string{"@team"}}, url.Values{"tags": {"@team"}}},
		{"last discussion", flowdock.FlowChat("acme", "ops"), flowdock.ListOptions{Events: []string{"discussion"}, Limit: 1},
			url.Values{"event": {"discussion"}, "limit": {"1"}}},
		{"several events", flowdock.FlowChat("acme", "ops"), flowdock.ListOptions{Events: []string{"message", "comment"}, Sort: flowdock.SortDesc},
			url.Values{"event": {"message,comment"}, "sort": {"desc"}}},
		{"search words", flowdock.FlowChat("acme", "ops"), flowdock.ListOptions{Search: "No URI", TagMode: flowdock.TagModeAnd},
			url.Values{"search": {"No URI"}, "tag_mode": {"and"}}},
		{"private", flowdock.PrivateChat(336968), flowdock.ListOptions{SinceID: 5, Limit: 100, Sort: flowdock.SortAsc},
			url.Values{"since_id": {"5"}, "limit": {"100"}, "sort": {"asc"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, _, err := c.ListMessages(t.Context(), tt.chat, tt.opts)
			require.NoError(t, err)
			assert.NotNil(t, msgs)
			r := f.last(t)
			assert.Equal(t, tt.wantQuery, r.Query)
			assert.Empty(t, r.Body, "parameters go in the query, not a GET body")
			assert.Equal(t, "/"+map[bool]string{true: "private/336968", false: "flows/acme/ops"}[tt.chat.IsPrivate()]+"/messages", r.Path)
		})
	}
}

func TestListOptions_invalid(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	c := f.newClient(t)
	tests := []struct {
		name  string
		opts  flowdock.ListOptions
		field string
	}{
		{"limit too big", flowdock.ListOptions{Limit: 101}, "limit"},
		{"limit negative", flowdock.ListOptions{Limit: -1}, "limit"},
		{"skip negative", flowdock.ListOptions{Skip: -1}, "skip"},
		{"since negative", flowdock.ListOptions{SinceID: -1}, "since_id"},
		{"until negative", flowdock.ListOptions{UntilID: -1}, "until_id"},
		{"tag mode", flowdock.ListOptions{TagMode: "xor"}, "tag_mode"},
		{"sort", flowdock.ListOptions{Sort: "up"}, "sort"},
		{"comma in tag", flowdock.ListOptions{Tags: []string{"a,b"}}, "tags"},
		{"empty tag", flowdock.ListOptions{Tags: []string{""}}, "tags"},
		{"empty event", flowdock.ListOptions{Events: []string{""}}, "event"},
		{"blank search", flowdock.ListOptions{Search: "  "}, "search"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.ListMessages(t.Context(), flowdock.FlowChat("acme", "ops"), tt.opts)
			var ve *flowdock.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
		})
	}
	assert.Empty(t, f.requests())
}

func TestClient_AllMessages(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	flow := newMiniFlow(f, "/private/336968")
	for i := range 250 {
		ev := "message"
		if i%10 == 0 {
			ev = "file"
		}
		flow.add(miniMsg{Event: ev, Content: mustJSON(fmt.Sprint(i + 1))})
	}
	c := f.newClient(t)

	var got []int64
	for m, err := range c.AllMessages(t.Context(), flowdock.PrivateChat(336968), flowdock.ListOptions{SinceID: 20}) {
		require.NoError(t, err)
		got = append(got, m.ID)
	}
	require.Len(t, got, 230)
	assert.EqualValues(t, 21, got[0])
	assert.EqualValues(t, 250, got[len(got)-1])
	assert.True(t, slices.IsSorted(got), "oldest first")
	var queries []string
	for _, r := range f.requests() {
		queries = append(queries, r.Query.Encode())
	}
	assert.Equal(t, []string{
		"limit=100&since_id=20&sort=asc",
		"limit=100&since_id=120&sort=asc",
		"limit=100&since_id=220&sort=asc",
	}, queries)

	// Events and an upper bound.
	got = got[:0]
	for m, err := range c.AllMessages(t.Context(), flowdock.PrivateChat(336968), flowdock.ListOptions{Events: []string{"file"}, UntilID: 100, Limit: 4}) {
		require.NoError(t, err)
		got = append(got, m.ID)
	}
	assert.Equal(t, []int64{1, 11, 21, 31, 41, 51, 61, 71, 81, 91}, got)
}

func TestClient_AllMessages_invalidAndErrors(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/flows/acme/ops/messages", 503, `{"message":"maintenance"}`)
	c := f.newClient(t)
	chat := flowdock.FlowChat("acme", "ops")

	for _, opts := range []flowdock.ListOptions{{Search: "x"}, {Tags: []string{"x"}}, {Skip: 1}, {Sort: flowdock.SortDesc}} {
		var errs []error
		for _, err := range c.AllMessages(t.Context(), chat, opts) {
			errs = append(errs, err)
		}
		require.Len(t, errs, 1)
		var ve *flowdock.ValidationError
		assert.ErrorAs(t, errs[0], &ve)
	}
	assert.Empty(t, f.requests())

	var errs []error
	for _, err := range c.AllMessages(t.Context(), chat, flowdock.ListOptions{}) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	var apiErr *flowdock.APIError
	require.ErrorAs(t, errs[0], &apiErr)
	assert.True(t, apiErr.Temporary())
}

func TestClient_SearchMessages(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	flow := newMiniFlow(f, "/flows/acme/ops")
	for i := range 120 {
		tags := []string{}
		if i%2 == 1 {
			tags = []string{"x"}
		}
		flow.add(miniMsg{Event: "message", Content: mustJSON("m" + strconv.Itoa(i+1)), Tags: tags})
	}
	c := f.newClient(t)

	var got []int64
	for m, err := range c.SearchMessages(t.Context(), flowdock.FlowChat("acme", "ops"), flowdock.ListOptions{Tags: []string{"x"}, Limit: 25}) {
		require.NoError(t, err)
		got = append(got, m.ID)
	}
	require.Len(t, got, 60)
	assert.EqualValues(t, 120, got[0], "newest first")
	assert.EqualValues(t, 2, got[len(got)-1])
	assert.True(t, slices.IsSortedFunc(got, func(a, b int64) int { return int(b - a) }))
	var skips []string
	for _, r := range f.requests() {
		skips = append(skips, r.Query.Get("skip"))
	}
	assert.Equal(t, []string{"", "25", "50"}, skips)

	for _, opts := range []flowdock.ListOptions{{}, {Tags: []string{"x"}, SinceID: 3}, {Search: "m", Sort: flowdock.SortAsc}} {
		var errs []error
		for _, err := range c.SearchMessages(t.Context(), flowdock.FlowChat("acme", "ops"), opts) {
			errs = append(errs, err)
		}
		require.Len(t, errs, 1)
		var ve *flowdock.ValidationError
		assert.ErrorAs(t, errs[0], &ve)
	}
}

func TestClient_MessageByUUID(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	flow := newMiniFlow(f, "/flows/acme/ops")
	for i := range 350 {
		flow.add(miniMsg{Event: "message", Content: mustJSON("m"), UUID: "uuid-" + strconv.Itoa(i+1)})
	}
	c := f.newClient(t)
	chat := flowdock.FlowChat("acme", "ops")

	m, resp, err := c.MessageByUUID(t.Context(), chat, "uuid-349")
	require.NoError(t, err)
	assert.EqualValues(t, 349, m.ID)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "limit=100", f.last(t).Query.Encode())

	n := len(f.requests())
	m, _, err = c.MessageByUUID(t.Context(), chat, "uuid-120")
	require.NoError(t, err)
	assert.EqualValues(t, 120, m.ID)
	var queries []string
	for _, r := range f.requests()[n:] {
		queries = append(queries, r.Query.Encode())
	}
	assert.Equal(t, []string{"limit=100", "limit=100&until_id=251", "limit=100&until_id=151"}, queries)

	n = len(f.requests())
	_, _, err = c.MessageByUUID(t.Context(), chat, "never-sent")
	require.ErrorIs(t, err, flowdock.ErrNotFound)
	assert.Len(t, f.requests()[n:], 4, "the history ends before the depth")
}

func TestClient_MessageByUUID_depth(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	flow := newMiniFlow(f, "/private/5")
	for range flowdock.UUIDLookupDepth + 50 {
		flow.add(miniMsg{Event: "message", Content: mustJSON("m")})
	}
	flow.mu.Lock()
	flow.msgs[10].UUID = "too-old"
	flow.mu.Unlock()
	c := f.newClient(t)

	_, _, err := c.MessageByUUID(t.Context(), flowdock.PrivateChat(5), "too-old")
	require.ErrorIs(t, err, flowdock.ErrNotFound)
	assert.Contains(t, err.Error(), "among the newest 500")
	assert.Len(t, f.requests(), flowdock.UUIDLookupDepth/flowdock.MaxLimit)
}

// TestClient_MessageByUUID_lostAnswer is the outbox's use: a send whose
// answer was lost is found by its uuid instead of being sent twice.
func TestClient_MessageByUUID_lostAnswer(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	flow := newMiniFlow(f, "/flows/acme/ops")
	f.handle("POST", "/flows/acme/ops/messages", func(w http.ResponseWriter, r *http.Request) {
		flow.post(httptestRecorder{}, r) // stored, but the answer is lost
		writeError(w, 502, "bad gateway")
	})
	c := f.newClient(t)
	chat := flowdock.FlowChat("acme", "ops")

	uuid := flowdock.NewUUID()
	_, _, err := c.SendMessage(t.Context(), chat, flowdock.NewMessage{Content: "deploy done", UUID: uuid})
	var apiErr *flowdock.APIError
	require.ErrorAs(t, err, &apiErr)
	require.True(t, apiErr.Temporary())

	m, _, err := c.MessageByUUID(t.Context(), chat, uuid)
	require.NoError(t, err, "the send went through: do not send again")
	assert.Equal(t, "deploy done", m.Text())
}

// httptestRecorder discards an answer.
type httptestRecorder struct{}

func (httptestRecorder) Header() http.Header         { return http.Header{} }
func (httptestRecorder) Write(p []byte) (int, error) { return len(p), nil }
func (httptestRecorder) WriteHeader(int)             {}

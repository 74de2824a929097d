package flowdock_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
)

func decodeMessage(t *testing.T, s string) flowdock.Message {
	t.Helper()
	var m flowdock.Message
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	return m
}

// TestMessage_events decodes samples of each Flowdock event type.
func TestMessage_events(t *testing.T) {
	t.Parallel()

	t.Run("message", func(t *testing.T) {
		t.Parallel()
		m := decodeMessage(t, `{"event":"message","id":501,"flow":"7f3c","user":"1305","content":"deploy done? @opsbot",
 "tags":[":user:1201",":unread:1201"],"uuid":"c1a2b3","sent":1600000001000,"created_at":"2020-09-13T12:26:41.000Z",
 "app":"chat","attachments":[],"thread_id":"Tq9xK2mZ","thread":{"id":"Tq9xK2mZ","title":"deploy done? @opsbot","initial_message":501}}`)
		assert.Equal(t, "deploy done? @opsbot", m.Text())
		assert.True(t, m.HasTag(":USER:1201"))
		assert.False(t, m.HasTag("x"))
		assert.False(t, m.IsPrivate())
		id, err := m.User.Int64()
		require.NoError(t, err)
		assert.EqualValues(t, 1305, id)
		assert.Equal(t, "chat", m.App)
		_, err = m.File()
		assert.ErrorContains(t, err, `message 501 is a "message" event, not "file"`)
	})

	t.Run("private", func(t *testing.T) {
		t.Parallel()
		m := decodeMessage(t, `{"event":"message","id":77,"to":"1201","user":"1305","content":"ping","tags":[],"sent":1600000002000,"app":"chat","attachments":[],"uuid":null}`)
		assert.True(t, m.IsPrivate())
		assert.Equal(t, flowdock.ID("1201"), m.To)
		assert.Empty(t, m.UUID)
	})

	t.Run("legacy numeric user", func(t *testing.T) {
		t.Parallel()
		m := decodeMessage(t, `{"event":"message","id":1,"user":1305,"content":"old","app":null,"edited":null}`)
		assert.Equal(t, flowdock.ID("1305"), m.User)
		assert.Empty(t, m.App)
	})

	t.Run("status", func(t *testing.T) {
		t.Parallel()
		m := decodeMessage(t, `{"event":"status","id":502,"flow":"7f3c","user":"1305","content":"in a meeting","tags":[]}`)
		assert.Equal(t, "in a meeting", m.Text())
	})

	t.Run("comment", func(t *testing.T) {
		t.Parallel()
		m := decodeMessage(t, `{"event":"comment","id":503,"flow":"7f3c","user":"1305","content":{"title":"Build #88 failed","text":"looking"},"tags":["influx:480"]}`)
		c, err := m.Comment()
		require.NoError(t, err)
		assert.Equal(t, &flowdock.CommentContent{Title: "Build #88 failed", Text: "looking"}, c)
		assert.Equal(t, "looking", m.Text())
		posted := decodeMessage(t, `{"event":"comment","id":504,"content":"plain"}`)
		assert.Equal(t, "plain", posted.Text())
	})

	t.Run("action", func(t *testing.T) {
		t.Parallel()
		m := decodeMessage(t, `{"event":"action","id":504,"flow":"7f3c","user":"1310","content":{"type":"join","description":""},"tags":[]}`)
		a, err := m.Action()
		require.NoError(t, err)
		assert.Equal(t, "join", a.Type)
		assert.JSONEq(t, `""`, string(a.Description))
		assert.Empty(t, m.Text())
	})

	t.Run("tag-change", func(t *testing.T) {
		t.Parallel()
		m := decodeMessage(t, `{"event":"tag-change","id":505,"flow":"7f3c","user":"1305","content":{"message":501,"add":["urgent"],"remove":[]},"tags":[],"app":null}`)
		tc, err := m.TagChange()
		require.NoError(t, err)
		assert.Equal(t, &flowdock.TagChangeContent{Message: 501, Add: []string{"urgent"}, Remove: []string{}}, tc)
	})

	t.Run("message-edit", func(t *testing.T) {
		t.Parallel()
		m := decodeMessage(t, `{"event":"message-edit","id":506,"flow":"7f3c","user":"1305","content":{"message":501,"updated_content":"deploy done?"}}`)
		e, err := m.Edit()
		require.NoError(t, err)
		assert.EqualValues(t, 501, e.Message)
		assert.Equal(t, "deploy done?", e.Text())
		c := decodeMessage(t, `{"event":"message-edit","id":507,"content":{"message":503,"updated_content":{"title":"t","text":"new text"}}}`)
		e, err = c.Edit()
		require.NoError(t, err)
		assert.Equal(t, "new text", e.Text())
	})

	t.Run("file", func(t *testing.T) {
		t.Parallel()
		m := decodeMessage(t, `{"event":"file","id":507,"flow":"7f3c","user":"1305","tags":[":file"],"sent":1600000008000,"app":"chat",
 "content":{"file_name":"log.txt","content_type":"text/plain","file_size":2048,"path":"/files/7/ab12cd/log.txt"},
 "attachments":[{"file_name":"shot.png","content_type":"image/png","file_size":2048,"path":"/files/7/ab12cd/shot.png",
   "image":{"width":640,"height":480},"thumbnail":{"path":"/files/7/ab12cd/thumb.png","width":64,"height":48}}]}`)
		fc, err := m.File()
		require.NoError(t, err)
		assert.Equal(t, &flowdock.File{FileName: "log.txt", ContentType: "text/plain", FileSize: 2048, Path: "/files/7/ab12cd/log.txt"}, fc)
		require.Len(t, m.Attachments, 1)
		assert.Equal(t, &flowdock.ImageSize{Width: 640, Height: 480}, m.Attachments[0].Image)
		assert.Equal(t, "/files/7/ab12cd/thumb.png", m.Attachments[0].Thumbnail.Path)
		assert.Empty(t, m.Text())
	})

	t.Run("activity", func(t *testing.T) {
		t.Parallel()
		m := decodeMessage(t, `{"event":"activity","id":600,"flow":"7f3c","user":"0","app":"influx","content":null,"tags":[],"attachments":[],"sent":1600000010000,
 "author":{"name":"ci-bot"},"title":"marked build as failed","body":null,"thread_id":"Hh7Qp0",
 "thread":{"id":"Hh7Qp0","title":"Build #88","external_url":"https://ci.example.test/b/88","status":{"color":"red","value":"failed"},
   "fields":[{"label":"Branch","value":"main"}],"actions":[],"body":"","activities":1,"internal_comments":0,"external_comments":0}}`)
		assert.Equal(t, flowdock.ID("0"), m.User)
		assert.Equal(t, "ci-bot", m.Author.Name)
		assert.Equal(t, "marked build as failed", m.Title)
		assert.Empty(t, m.Body)
		assert.Equal(t, flowdock.ColorRed, m.Thread.Status.Color)
		assert.Equal(t, "main", m.Thread.Fields[0].Value)
		assert.Empty(t, m.Text())
		_, err := m.Comment()
		assert.Error(t, err)
	})

	t.Run("discussion", func(t *testing.T) {
		t.Parallel()
		m := decodeMessage(t, `{"event":"discussion","id":601,"flow":"7f3c","user":"0","app":"influx","content":null,"tags":[],
 "author":{"name":"Dana","email":"dana@example.test"},"title":"commented","body":"Flaky test, re-running.","full_body":"Flaky test, re-running!",
 "thread_id":"Hh7Qp0","thread":{"id":"Hh7Qp0","title":"Build #88"}}`)
		assert.Equal(t, "Flaky test, re-running.", m.Body)
		assert.Equal(t, "Flaky test, re-running!", m.FullBody)
		assert.Equal(t, "dana@example.test", m.Author.Email)
	})

	t.Run("stream-only without id", func(t *testing.T) {
		t.Parallel()
		m := decodeMessage(t, `{"user":"1201","event":"flow-add","content":{"id":"f1","name":"New","open":true}}`)
		assert.Zero(t, m.ID)
		assert.Equal(t, "flow-add", m.Event)
		_, err := m.Edit()
		assert.Error(t, err)
	})

	t.Run("missing content", func(t *testing.T) {
		t.Parallel()
		m := decodeMessage(t, `{"event":"file","id":9,"content":null}`)
		_, err := m.File()
		assert.ErrorContains(t, err, "file message 9 has no content")
		m = decodeMessage(t, `{"event":"file","id":9,"content":"oops"}`)
		_, err = m.File()
		assert.ErrorContains(t, err, "decode content")
	})
}

func TestID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    flowdock.ID
		wantErr bool
	}{
		{in: `"1305"`, want: "1305"},
		{in: `1305`, want: "1305"},
		{in: `null`, want: ""},
		{in: `"0"`, want: "0"},
		{in: `true`, wantErr: true},
		{in: `{}`, wantErr: true},
	}
	for _, tt := range tests {
		var id flowdock.ID
		err := json.Unmarshal([]byte(tt.in), &id)
		if tt.wantErr {
			assert.Error(t, err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, id, tt.in)
	}
	b, err := json.Marshal(flowdock.ID("7"))
	require.NoError(t, err)
	assert.Equal(t, `"7"`, string(b))
	_, err = flowdock.ID("").Int64()
	assert.Error(t, err)
	_, err = flowdock.ID("abc").Int64()
	assert.ErrorContains(t, err, `user id "abc" is not a number`)
}

func TestTimestamp(t *testing.T) {
	t.Parallel()
	want := time.Date(2020, 9, 13, 12, 26, 41, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantRaw string
	}{
		{in: `"2020-09-13T12:26:41.000Z"`, want: want, wantRaw: "2020-09-13T12:26:41.000Z"},
		{in: `"2020-09-13T14:26:41+02:00"`, want: want, wantRaw: "2020-09-13T14:26:41+02:00"},
		{in: `1600000001000`, want: time.UnixMilli(1600000001000).UTC(), wantRaw: "1600000001000"},
		{in: `null`},
		{in: `""`},
		{in: `"yesterday"`, wantRaw: "yesterday"},
	}
	for _, tt := range tests {
		var ts flowdock.Timestamp
		require.NoError(t, json.Unmarshal([]byte(tt.in), &ts), tt.in)
		assert.True(t, tt.want.Equal(ts.Time), tt.in)
		assert.Equal(t, tt.wantRaw, ts.Raw, tt.in)
	}
	b, err := json.Marshal(flowdock.Timestamp{Time: want})
	require.NoError(t, err)
	assert.Equal(t, `"2020-09-13T12:26:41.000Z"`, string(b))
	b, err = json.Marshal(flowdock.Timestamp{})
	require.NoError(t, err)
	assert.Equal(t, `null`, string(b))
	var m flowdock.Message
	assert.True(t, m.SentAt().IsZero())
}

func TestChat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    flowdock.Chat
		wantErr bool
	}{
		{in: "acme/ops", want: flowdock.FlowChat("acme", "ops")},
		{in: " hpe/apua-flow ", want: flowdock.FlowChat("hpe", "apua-flow")},
		{in: "private/336968", want: flowdock.PrivateChat(336968)},
		{in: "private/0", wantErr: true},
		{in: "private/ray", wantErr: true},
		{in: "acme", wantErr: true},
		{in: "acme/", wantErr: true},
		{in: "/ops", wantErr: true},
		{in: "a/b/c", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		c, err := flowdock.ParseChat(tt.in)
		if tt.wantErr {
			assert.Error(t, err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, c, tt.in)
		back, err := flowdock.ParseChat(c.String())
		require.NoError(t, err)
		assert.Equal(t, c, back, "String and ParseChat round-trip")
	}
	assert.True(t, flowdock.PrivateChat(5).IsPrivate())
	assert.False(t, flowdock.FlowChat("a", "b").IsPrivate())
	assert.Equal(t, "private/5", flowdock.PrivateChat(5).String())
}

func TestNewUUID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		u := flowdock.NewUUID()
		require.Regexp(t, uuidRE, u)
		require.False(t, seen[u])
		seen[u] = true
	}
}

func TestMessage_roundTrip(t *testing.T) {
	t.Parallel()
	in := `{"event":"message","id":501,"flow":"7f3c","user":"1305","content":"hi","tags":["a"],"uuid":"u","sent":1600000001000,
 "created_at":"2020-09-13T12:26:41.000Z","app":"chat","thread_id":"T","thread":{"id":"T","title":"hi","initial_message":501}}`
	m := decodeMessage(t, in)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	assert.JSONEq(t, in, string(b))
}

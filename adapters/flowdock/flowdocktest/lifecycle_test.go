package flowdocktest_test

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
)

func TestServer_CloseEndsStreams(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)
	st, _ := openStream(t, s, "/flows?filter=acme/main", c.auth, sseAccept, "")
	js, _ := openStream(t, s, "/flows?filter=acme/main", c.auth, "", "")
	s.WaitConnections(t, 2)
	s.Close()
	st.ended(t)
	js.ended(t)
	assert.Equal(t, 0, s.Connections())
	s.Close() // idempotent
}

// TestServer_CloseWithStuckReader closes while a client has stopped reading
// a stream that the server keeps writing to.
func TestServer_CloseWithStuckReader(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t, flowdocktest.WithKeepAlive(time.Millisecond))
	c := botClient(t, s)
	st, _ := openStream(t, s, "/flows?filter=acme/main", c.auth, sseAccept, "")
	s.WaitConnections(t, 1)
	big := strings.Repeat("x", 8000)
	for range 50 {
		_, err := s.Post("acme/main", "dana", big)
		require.NoError(t, err)
	}
	done := make(chan struct{})
	go func() {
		s.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked")
	}
	st.close()
}

func TestStart(t *testing.T) {
	t.Parallel()
	s, err := flowdocktest.Start("127.0.0.1:0", flowdocktest.WithUser(flowdocktest.User{Token: "sim-token"}))
	require.NoError(t, err)
	defer s.Close()
	assert.True(t, strings.HasPrefix(s.URL(), "http://127.0.0.1:"))
	assert.Equal(t, s.RootURL(), s.URL(), "REST at the root, as on api.flowdock.com (see TestStart_Layout)")
	assert.True(t, strings.HasPrefix(s.StreamURL(), "http://127.0.0.1:"))
	assert.Equal(t, "sim-token", s.Token())
	c := &client{t: t, base: s.URL(), auth: basic("sim-token", ""), hc: newHTTPClient(t)}
	assert.Equal(t, http.StatusOK, c.do(http.MethodGet, "/user", nil).Status)

	_, err = flowdocktest.Start("127.0.0.1:0", flowdocktest.WithFlows(flowdocktest.Flow{Org: "Bad Org", Name: "x"}))
	assert.Error(t, err)
	_, err = flowdocktest.Start("not an address")
	assert.Error(t, err)
}

func TestServer_Options(t *testing.T) {
	t.Parallel()
	at := time.Date(2020, 9, 13, 12, 26, 41, 0, time.UTC)
	s := flowdocktest.NewServer(t,
		flowdocktest.WithUser(flowdocktest.User{ID: 42, Nick: "opsbot", Token: "tok"}),
		flowdocktest.WithUsers(flowdocktest.User{ID: 1305, Nick: "danielle"}, flowdocktest.User{ID: 77, Nick: "zoe", Token: "zoe-token"}),
		flowdocktest.WithFlows(
			flowdocktest.Flow{Org: "acme", Name: "main", Members: []int{42, 77}, FlowToken: "ft-main"},
			flowdocktest.Flow{Org: "zeta", OrgName: "Zeta Inc", Name: "lab", ID: "lab-id", AccessMode: "link", Members: []int{42}},
		),
		flowdocktest.WithClock(func() time.Time { return at }),
	)
	assert.Equal(t, 42, s.BotID())
	assert.Equal(t, "ft-main", s.FlowToken("acme/main"))
	assert.Equal(t, "lab-id", s.FlowID("zeta/lab"))
	assert.Equal(t, "zoe-token", s.UserToken("zoe"))
	assert.Equal(t, "zoe-token", s.UserToken("77"))
	assert.Empty(t, s.UserToken("dana"), "replaced by danielle")
	assert.Empty(t, s.FlowToken("x/y"))
	assert.Empty(t, s.FlowID("x/y"))

	c := &client{t: t, base: s.URL(), auth: basic("tok", ""), hc: newHTTPClient(t)}
	me := c.do(http.MethodGet, "/user", nil).obj(t)
	assert.Equal(t, "opsbot", me["nick"])
	assert.Equal(t, "Opsbot", me["name"])
	assert.Equal(t, "42", c.do(http.MethodGet, "/user", nil).Header.Get("Flowdock-User"))

	var paths []string
	for _, f := range c.do(http.MethodGet, "/flows", nil).list(t) {
		paths = append(paths, f["organization"].(map[string]any)["parameterized_name"].(string)+"/"+f["parameterized_name"].(string))
	}
	assert.Equal(t, []string{"acme/main", "acme/ops", "acme/random", "zeta/lab"}, paths)

	r := c.do(http.MethodPost, "/flows/zeta/lab/messages", map[string]any{"event": "message", "content": "timed"})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Raw)
	m := r.obj(t)
	assert.Equal(t, float64(at.UnixMilli()), m["sent"])
	assert.Equal(t, "2020-09-13T12:26:41.000Z", m["created_at"])
	assert.Equal(t, "lab-id", m["flow"])

	// The demo mention of the bot follows its nick.
	found := false
	for _, x := range s.Messages("acme/main") {
		if x.Content == "@opsbot ping" {
			found = true
		}
	}
	assert.False(t, found, "Ray_ is not a member of the replaced acme/main")
}

func TestServer_WithoutDemoData(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t, flowdocktest.WithoutDemoData())
	c := botClient(t, s)
	assert.Empty(t, c.do(http.MethodGet, "/flows", nil).list(t))
	assert.Len(t, c.do(http.MethodGet, "/users", nil).list(t), 1)
	assert.Empty(t, c.do(http.MethodGet, "/private", nil).list(t))
	assert.Equal(t, "0", s.LastEventID())
}

func TestServer_InvalidOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []flowdocktest.Option
	}{
		{"duplicate nick", []flowdocktest.Option{flowdocktest.WithUsers(flowdocktest.User{ID: 9, Nick: "dana"})}},
		{"nick with space", []flowdocktest.Option{flowdocktest.WithUsers(flowdocktest.User{ID: 9, Nick: "a b"})}},
		{"user id of the bot", []flowdocktest.Option{flowdocktest.WithUsers(flowdocktest.User{ID: flowdocktest.DefaultBotID, Nick: "x"})}},
		{"unknown member", []flowdocktest.Option{flowdocktest.WithFlows(flowdocktest.Flow{Org: "a", Name: "b", Members: []int{999}})}},
		{"bad access mode", []flowdocktest.Option{flowdocktest.WithFlows(flowdocktest.Flow{Org: "a", Name: "b", AccessMode: "public"})}},
		{"shared token", []flowdocktest.Option{flowdocktest.WithUser(flowdocktest.User{Token: "t"}), flowdocktest.WithUsers(flowdocktest.User{ID: 9, Nick: "x", Token: "t"})}},
		{"zero wait timeout", []flowdocktest.Option{flowdocktest.WithWaitTimeout(0)}},
		{"nil clock", []flowdocktest.Option{flowdocktest.WithClock(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := flowdocktest.Start("127.0.0.1:0", tt.opts...)
			if err == nil {
				s.Close()
			}
			assert.Error(t, err)
		})
	}
}

func TestServer_LoggerNeverLogsSecrets(t *testing.T) {
	t.Parallel()
	var buf lockedBuffer
	s := flowdocktest.NewServer(t, flowdocktest.WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	c := botClient(t, s)
	require.Equal(t, http.StatusCreated, c.do(http.MethodPost, "/flows/acme/main/messages?access_token="+s.Token(),
		map[string]any{"event": "message", "content": "top secret text"}).Status)
	out := buf.String()
	assert.Contains(t, out, "path=/flows/acme/main/messages")
	assert.Contains(t, out, "status=201")
	assert.NotContains(t, out, s.Token())
	assert.NotContains(t, out, "top secret text")
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

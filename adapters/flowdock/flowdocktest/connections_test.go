package flowdocktest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
)

// next returns the next report of the observer, failing t after 2s.
func next(t *testing.T, ch <-chan flowdocktest.ConnectionEvent) flowdocktest.ConnectionEvent {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(2 * time.Second):
		t.Fatal("no connection report within 2s")
		return flowdocktest.ConnectionEvent{}
	}
}

func TestServer_ConnectionObserver(t *testing.T) {
	t.Parallel()
	reports := make(chan flowdocktest.ConnectionEvent, 16)
	s := flowdocktest.NewServer(t, flowdocktest.WithConnectionObserver(func(e flowdocktest.ConnectionEvent) { reports <- e }))
	auth := basic(s.Token(), "")

	_, resp := openStream(t, s, "/flows?filter=acme/main", basic("not-the-token", ""), "text/event-stream", "")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	e := next(t, reports)
	assert.Equal(t, flowdocktest.ConnRefused, e.State)
	assert.Equal(t, http.StatusUnauthorized, e.Status)
	assert.Equal(t, 0, e.User)
	assert.Equal(t, "bad credentials", e.Reason)
	assert.Equal(t, `stream connection refused 401 (bad credentials) — the bot's FLOWDOCK_API_TOKEN is not the emulator's; run: eval "$(parley sim env)" and restart the bot`, e.Explain())

	_, resp = openStream(t, s, "/flows?filter=acme/nope", auth, "text/event-stream", "")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	e = next(t, reports)
	assert.Equal(t, flowdocktest.ConnRefused, e.State)
	assert.Equal(t, http.StatusNotFound, e.Status)
	assert.Equal(t, s.BotID(), e.User)
	assert.True(t, e.Bot)
	assert.Equal(t, []string{"acme/nope"}, e.Flows)
	assert.Equal(t, "stream connection of parley refused 404 (no such flow, or not a member: acme/nope) — check FLOWDOCK_FLOWS", e.Explain())

	st, _ := openStream(t, s, "/flows?filter=acme/main,acme/ops&user=1", auth, "text/event-stream", "")
	require.NotNil(t, st)
	e = next(t, reports)
	assert.Equal(t, flowdocktest.ConnConnected, e.State)
	assert.Equal(t, s.BotID(), e.User)
	assert.Equal(t, "parley", e.Nick)
	assert.True(t, e.Bot)
	assert.Equal(t, []string{"acme/main", "acme/ops"}, e.Flows)
	assert.True(t, e.Private)
	assert.Equal(t, 1, e.Open)
	assert.Equal(t, "stream: parley connected to acme/main, acme/ops and private messages; 1 stream open", e.Explain())

	s.DropConnections()
	e = next(t, reports)
	assert.Equal(t, flowdocktest.ConnDisconnected, e.State)
	assert.Equal(t, "dropped by the emulator", e.Reason)
	assert.Equal(t, 0, e.Open)
	assert.Positive(t, e.Duration)
	assert.Contains(t, e.Explain(), "stream: parley disconnected after ")
	assert.Contains(t, e.Explain(), ": dropped by the emulator; no bot stream is open")

	dana, _ := openStream(t, s, "/flows/acme/main", basic(s.UserToken("dana"), ""), "", "")
	require.NotNil(t, dana)
	e = next(t, reports)
	assert.Equal(t, flowdocktest.ConnConnected, e.State)
	assert.False(t, e.Bot)
	assert.Equal(t, "stream: dana connected to acme/main; 1 stream open", e.Explain())
	dana.close()
	e = next(t, reports)
	assert.Equal(t, flowdocktest.ConnDisconnected, e.State)
	assert.Equal(t, "the client closed it", e.Reason)

	s.Close()
	assert.Empty(t, reports, "one report per connection and per end, no more")
}

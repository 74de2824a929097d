package flowdocktest_test

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
)

// Start serves the layout of the real service: REST at the root of its own
// address (api.flowdock.com) and the stream at the root of another
// (stream.flowdock.com), with the /api and /stream paths of NewServer kept
// on the main address.
func TestStart_Layout(t *testing.T) {
	t.Parallel()
	s, err := flowdocktest.Start("127.0.0.1:0", flowdocktest.WithUser(flowdocktest.User{Token: "sim-token"}),
		flowdocktest.WithStreamAddr("127.0.0.1:0"))
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, s.RootURL(), s.URL(), "REST at the root")
	api, err := url.Parse(s.URL())
	require.NoError(t, err)
	stream, err := url.Parse(s.StreamURL())
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", stream.Hostname())
	assert.NotEqual(t, api.Host, stream.Host, "the stream has an address of its own")
	assert.Empty(t, stream.Path, "the stream at the root of its address")

	auth := basic("sim-token", "")
	rest := &client{t: t, base: s.URL(), auth: auth, hc: newHTTPClient(t)}
	assert.Equal(t, http.StatusOK, rest.do(http.MethodGet, "/user", nil).Status)
	flows := rest.do(http.MethodGet, "/flows", nil)
	require.Equal(t, http.StatusOK, flows.Status, "GET /flows on the REST address is the REST list, not a stream")
	assert.Equal(t, "application/json; charset=utf-8", flows.Header.Get("Content-Type"))
	alias := &client{t: t, base: s.RootURL() + "/api", auth: auth, hc: rest.hc}
	assert.Equal(t, http.StatusOK, alias.do(http.MethodGet, "/user", nil).Status, "/api stays an alias")
	assert.Equal(t, http.StatusOK, alias.do(http.MethodGet, "/v1/user", nil).Status, "the /v1 prefix of the Ruby gem")

	st, resp := openStreamAt(t, s.StreamURL()+"/flows?filter=acme/main", auth, "text/event-stream", "")
	require.NotNil(t, st, "status %d", resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	s.WaitConnections(t, 1)
	compat, resp := openStreamAt(t, s.RootURL()+"/stream/flows/acme/main", auth, "text/event-stream", "")
	require.NotNil(t, compat, "status %d: /stream on the main address stays", resp.StatusCode)
	s.WaitConnections(t, 2)
	st.close()
	compat.close()
	s.WaitConnections(t, 0)

	onStream := &client{t: t, base: s.StreamURL(), auth: auth, hc: rest.hc}
	assert.Equal(t, http.StatusNotFound, onStream.do(http.MethodGet, "/user", nil).Status, "no REST on the stream address")
	sim := &client{t: t, base: s.RootURL() + "/_sim", hc: rest.hc}
	info := sim.do(http.MethodGet, "/info", nil).obj(t)
	assert.Equal(t, s.URL(), info["api_url"])
	assert.Equal(t, s.StreamURL(), info["stream_url"])
}

func TestStart_StreamAddrInUse(t *testing.T) {
	t.Parallel()
	s, err := flowdocktest.Start("127.0.0.1:0", flowdocktest.WithStreamAddr("127.0.0.1:0"))
	require.NoError(t, err)
	defer s.Close()
	taken, err := url.Parse(s.StreamURL())
	require.NoError(t, err)

	_, err = flowdocktest.Start("127.0.0.1:0", flowdocktest.WithStreamAddr(taken.Host))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "flowdocktest: stream listener")
	assert.Contains(t, err.Error(), "WithStreamAddr")
	le, ok := errors.AsType[*flowdocktest.StreamListenError](err)
	require.True(t, ok, "%T", err)
	assert.Equal(t, taken.Host, le.Addr)
	var op *net.OpError
	assert.ErrorAs(t, err, &op, "it wraps the listener's error")
}

// NewServer keeps the layout for clients' tests: one address, REST under
// /api and the stream under /stream, nothing at the root.
func TestNewServer_Layout(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	assert.Equal(t, s.RootURL()+"/api", s.URL())
	assert.Equal(t, s.RootURL()+"/stream", s.StreamURL())
	root := &client{t: t, base: s.RootURL(), auth: basic(s.Token(), ""), hc: newHTTPClient(t)}
	assert.Equal(t, http.StatusNotFound, root.do(http.MethodGet, "/user", nil).Status)
}

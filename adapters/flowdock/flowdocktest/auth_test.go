package flowdocktest_test

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
)

func TestServer_Auth(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t, flowdocktest.WithUser(flowdocktest.User{Token: "bot-token-1", Password: "s3cret"}))
	tests := []struct {
		name   string
		auth   string
		query  string
		status int
		method string
	}{
		{name: "basic token and empty password", auth: basic("bot-token-1", ""), status: 200, method: "basic"},
		{name: "basic token and any password", auth: basic("bot-token-1", "x"), status: 200, method: "basic"},
		{name: "basic token:undefined (node-flowdock)", auth: basic("bot-token-1", "undefined"), status: 200, method: "basic"},
		{name: "basic token without colon (hedwig)", auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("bot-token-1")), status: 200, method: "basic"},
		{name: "bearer", auth: "Bearer bot-token-1", status: 200, method: "bearer"},
		{name: "access_token query", query: "?access_token=bot-token-1", status: 200, method: "access_token"},
		{name: "email and password", auth: basic("parley@acme.test", "s3cret"), status: 200, method: "email"},
		{name: "should fail: email and wrong password", auth: basic("parley@acme.test", "nope"), status: 401, method: "basic"},
		{name: "should fail: wrong token", auth: basic("wrong", ""), status: 401, method: "basic"},
		{name: "should fail: token as password", auth: basic("x", "bot-token-1"), status: 401, method: "basic"},
		{name: "should fail: bad base64", auth: "Basic !!!", status: 401, method: "basic"},
		{name: "should fail: wrong bearer", auth: "Bearer nope", status: 401, method: "bearer"},
		{name: "should fail: unknown scheme", auth: "Token bot-token-1", status: 401, method: "unknown"},
		{name: "should fail: no credentials", status: 401, method: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &client{t: t, base: s.URL(), auth: tt.auth, hc: newHTTPClient(t)}
			r := c.do(http.MethodGet, "/user"+tt.query, nil)
			require.Equal(t, tt.status, r.Status, "body: %s", r.Raw)
			if tt.status == 200 {
				assert.Equal(t, strconv.Itoa(flowdocktest.DefaultBotID), r.Header.Get("Flowdock-User"))
				me := r.obj(t)
				assert.Equal(t, float64(flowdocktest.DefaultBotID), me["id"])
				assert.Equal(t, "parley", me["nick"])
				assert.Equal(t, "Parley Bot", me["name"])
				assert.Equal(t, "parley@acme.test", me["email"])
			} else {
				assert.Empty(t, r.Header.Get("Flowdock-User"))
				assert.NotEmpty(t, r.Header.Get("WWW-Authenticate"))
				assert.Contains(t, r.err(t).Message, "unauthorized")
			}
		})
	}
	// The request log records how each request authenticated, never tokens.
	for _, rq := range s.Requests() {
		assert.NotContains(t, rq.RawQuery, "bot-token-1")
	}
}

func TestServer_FlowToken(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	anon := anonClient(t, s)
	activity := func(token string) map[string]any {
		return map[string]any{
			"flow_token": token, "event": "activity", "external_thread_id": "T-1",
			"author": map[string]any{"name": "Ray"}, "title": "created item",
			"thread": map[string]any{"title": "Item 01"},
		}
	}

	r := anon.do(http.MethodPost, "/messages", activity(s.FlowToken("acme/main")))
	require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Raw)
	assert.Equal(t, "{}", string(r.Raw))
	assert.Empty(t, r.Header.Get("Flowdock-User"))

	// flow_token in the query string works too.
	body := activity("")
	delete(body, "flow_token")
	r = anon.do(http.MethodPost, "/messages?flow_token="+s.FlowToken("acme/main"), body)
	require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Raw)

	// The flow in the path must be the token's flow.
	r = anon.do(http.MethodPost, "/flows/acme/ops/messages", activity(s.FlowToken("acme/main")))
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	r = anon.do(http.MethodPost, "/flows/acme/main/messages", activity(s.FlowToken("acme/main")))
	assert.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Raw)

	r = anon.do(http.MethodPost, "/messages", activity("bogus"))
	assert.Equal(t, http.StatusUnauthorized, r.Status)

	// A flow token is not a user credential.
	ft := &client{t: t, base: s.URL(), auth: basic(s.FlowToken("acme/main"), ""), hc: newHTTPClient(t)}
	assert.Equal(t, http.StatusUnauthorized, ft.do(http.MethodGet, "/flows", nil).Status)
	assert.Equal(t, http.StatusUnauthorized, anon.do(http.MethodGet, "/flows/acme/main/messages?flow_token="+s.FlowToken("acme/main"), nil).Status)

	require.True(t, s.RevokeFlowToken("acme/main"))
	r = anon.do(http.MethodPost, "/messages", activity(s.FlowToken("acme/main")))
	assert.Equal(t, http.StatusGone, r.Status)

	for _, rq := range s.Requests() {
		assert.NotContains(t, rq.RawQuery, s.FlowToken("acme/main"))
	}
}

func TestServer_UnknownPathsAndMethods(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)

	r := c.do(http.MethodGet, "/nope", nil)
	assert.Equal(t, http.StatusNotFound, r.Status)
	assert.Equal(t, `{"message":"not found"}`, string(r.Raw))

	r = c.do(http.MethodDelete, "/flows", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, r.Status)
	assert.Equal(t, "GET", r.Header.Get("Allow"))

	// Outside the prefixes.
	root := &client{t: t, base: s.RootURL(), auth: c.auth, hc: c.hc}
	assert.Equal(t, http.StatusNotFound, root.do(http.MethodGet, "/flows", nil).Status)

	// The /v1 prefix of the Ruby gem.
	assert.Equal(t, http.StatusOK, c.do(http.MethodGet, "/v1/user", nil).Status)

	// CORS preflight.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodOptions, s.URL()+"/messages", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://app.example.test")
	resp, err := c.hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, "https://app.example.test", resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Methods"), "PUT")

	// Bad credentials win over a bad body.
	bad := &client{t: t, base: s.URL(), auth: basic("wrong", ""), hc: c.hc}
	assert.Equal(t, http.StatusUnauthorized, bad.send(http.MethodPut, "/flows/acme/main/messages/1", "text/plain", strings.NewReader("x")).Status)
	assert.Equal(t, http.StatusUnsupportedMediaType, c.send(http.MethodPut, "/flows/acme/main/messages/1", "text/plain", strings.NewReader("x")).Status)
	assert.Equal(t, http.StatusUnsupportedMediaType, c.send(http.MethodPut, "/flows/acme/main/messages/1", "", strings.NewReader(`{"content":"x"}`)).Status)
}

func TestServer_FailRequests(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)
	s.FailRequests(http.StatusServiceUnavailable, 2)
	for range 2 {
		r := c.do(http.MethodGet, "/flows", nil)
		assert.Equal(t, http.StatusServiceUnavailable, r.Status)
		assert.Equal(t, "service unavailable", r.err(t).Message)
	}
	assert.Equal(t, http.StatusOK, c.do(http.MethodGet, "/flows", nil).Status)
	var faults int
	for _, rq := range s.Requests() {
		if rq.Fault != "" {
			faults++
		}
	}
	assert.Equal(t, 2, faults)
}

// ResetRequests drops a write's connection before it is served, and
// LoseAnswers after: in both the client gets no answer, and only the
// second leaves the message in the flow. Reads do not use them up.
func TestServer_ConnectionFaults(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := botClient(t, s)
	post := func(text string) error {
		body := strings.NewReader(`{"event":"message","content":"` + text + `"}`)
		req, err := http.NewRequest(http.MethodPost, s.URL()+"/flows/acme/main/messages", body)
		require.NoError(t, err)
		req.Header.Set("Authorization", c.auth)
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.hc.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		return err
	}
	has := func(text string) bool {
		for _, m := range s.Messages("acme/main") {
			if m.Content == text {
				return true
			}
		}
		return false
	}

	s.ResetRequests(1)
	s.LoseAnswers(1)
	assert.Equal(t, http.StatusOK, c.do(http.MethodGet, "/flows", nil).Status, "a read uses no connection fault")
	require.Error(t, post("reset"))
	assert.False(t, has("reset"), "a reset request is not served")
	require.Error(t, post("lost"))
	assert.True(t, has("lost"), "a request whose answer is lost is served")
	require.NoError(t, post("fine"))
	assert.True(t, has("fine"))

	var faults []string
	for _, rq := range s.Requests() {
		if rq.Fault != "" {
			faults = append(faults, rq.Fault)
		}
	}
	assert.Equal(t, []string{"reset", "lose-answer"}, faults)
}

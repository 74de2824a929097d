package sendbeetest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

func TestFaults_FailNext(t *testing.T) {
	s := sendbeetest.NewServer(t)
	c := newClient(t, s)

	s.FailNext(http.StatusBadGateway, "")
	s.FailNext(http.StatusServiceUnavailable, `{"error":{"detail":"maintenance","type":"maintenance"}}`)
	assert.Equal(t, 2, s.PendingFaults())

	r := c.get("/contacts", "")
	require.Equal(t, http.StatusBadGateway, r.Status)
	assert.Equal(t, apiErr{Detail: "Bad Gateway", Type: "server_error"}, r.err(t))
	r = c.get("/contacts", "")
	require.Equal(t, http.StatusServiceUnavailable, r.Status)
	assert.Equal(t, "maintenance", r.err(t).Detail)
	mustOK(t, c.get("/contacts", ""))

	// A non-JSON body exercises the client's "Unrecognized error" path.
	s.FailNext(http.StatusInternalServerError, "<html><body>oops</body></html>")
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(s.URL() + "/contacts")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Equal(t, "<html><body>oops</body></html>", string(body))
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")

	reqs := s.Requests()
	assert.Equal(t, "fail 502", reqs[0].Fault)
	assert.Empty(t, reqs[2].Fault)

	s.FailNext(500, "")
	s.ClearFaults()
	assert.Zero(t, s.PendingFaults())
	mustOK(t, c.get("/contacts", ""))
}

func TestFaults_RateLimitNext(t *testing.T) {
	s := sendbeetest.NewServer(t)
	c := newClient(t, s)
	s.RateLimitNext(1500 * time.Millisecond)
	r := c.get("/teams/teams", "")
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	assert.Equal(t, "2", r.Header.Get("Retry-After"), "rounded up to whole seconds")
	var body map[string]any
	require.NoError(t, json.Unmarshal(r.Raw, &body))
	assert.Equal(t, true, body["error"])
	assert.Equal(t, "throttled", body["type"])
	assert.NotEmpty(t, r.Header.Get("X-RateLimit-Limit"))

	s.RateLimitNext(-1)
	r = c.get("/teams/teams", "")
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	assert.Empty(t, r.Header.Get("Retry-After"))
	mustOK(t, c.get("/teams/teams", ""))
}

func TestFaults_ResetNext(t *testing.T) {
	s := sendbeetest.NewServer(t)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	s.ResetNext()
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/conversations/messages/send", nil)
	require.NoError(t, err)
	_, err = hc.Do(req)
	require.Error(t, err, "the connection is dropped without an answer")
	assert.Empty(t, s.Sent())
	reqs := s.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, 0, reqs[0].Status)
	assert.Equal(t, "reset", reqs[0].Fault)

	mustOK(t, newClient(t, s).get("/contacts", ""))
}

func TestFaults_DelayNext(t *testing.T) {
	s := sendbeetest.NewServer(t)
	c := newClient(t, s)
	s.DelayNext(150 * time.Millisecond)
	start := time.Now()
	mustOK(t, c.get("/contacts", ""))
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)

	// A client that gives up early gets its timeout, and Close is not held up.
	s.DelayNext(time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/contacts", nil)
	require.NoError(t, err)
	_, err = c.hc.Do(req)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestFaults_DelayAbortedByClose(t *testing.T) {
	s, err := sendbeetest.Start("127.0.0.1:0")
	require.NoError(t, err)
	s.DelayNext(time.Hour)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	done := make(chan error, 1)
	go func() {
		resp, err := (&http.Client{Transport: tr}).Get(s.URL() + "/contacts")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	require.Eventually(t, func() bool { return s.PendingFaults() == 0 }, 2*time.Second, 5*time.Millisecond)
	start := time.Now()
	s.Close()
	assert.Less(t, time.Since(start), 2*time.Second)
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("the delayed request did not end")
	}
}

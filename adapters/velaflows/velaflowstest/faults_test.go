package velaflowstest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFaults(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)

	s.FailNext(http.StatusInternalServerError, "", "")
	s.FailNext(http.StatusConflict, "CONFLICT", "Lead already exists")
	s.FailNext(http.StatusBadGateway, "", "")
	s.RateLimitNext(45 * time.Second)
	require.Equal(t, 4, s.PendingFaults())

	r := mustFail(t, c.get("/inbox/conversations"), http.StatusInternalServerError, "INTERNAL_ERROR")
	assert.Equal(t, "300", r.Header.Get("X-RateLimit-Remaining"), "a faulted request is not counted")
	r = mustFail(t, c.post("/crm/leads", map[string]any{}), http.StatusConflict, "CONFLICT")
	assert.Equal(t, "Lead already exists", r.Body["error"].(map[string]any)["message"])

	// A gateway error without the JSON envelope (502-504 are not
	// documented; assumed).
	r = c.get("/inbox/conversations")
	assert.Equal(t, http.StatusBadGateway, r.Status)
	assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/html"))
	assert.Contains(t, string(r.Raw), "502 Bad Gateway")

	r = mustFail(t, c.get("/inbox/conversations"), http.StatusTooManyRequests, "TOO_MANY_REQUESTS")
	assert.Equal(t, "45", r.Header.Get("Retry-After"))
	assert.Equal(t, "0", r.Header.Get("X-RateLimit-Remaining"))

	mustOK(t, c.get("/inbox/conversations"))
	assert.Equal(t, 0, s.PendingFaults())

	reqs := s.Requests()
	assert.Equal(t, []string{"fail 500", "fail 409", "fail 502", "rate-limit", ""},
		[]string{reqs[0].Fault, reqs[1].Fault, reqs[2].Fault, reqs[3].Fault, reqs[4].Fault})

	s.FailNext(http.StatusInternalServerError, "", "")
	s.ClearFaults()
	mustOK(t, c.get("/tags"))
}

func TestFaults_DelayNext(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	s.DelayNext(80 * time.Millisecond)
	start := time.Now()
	mustOK(t, c.get("/tags"))
	assert.GreaterOrEqual(t, time.Since(start), 80*time.Millisecond)

	// A client that gives up ends the wait early.
	s.DelayNext(time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/tags", nil)
	_, err := c.hc.Do(req)
	require.Error(t, err)
}

func TestFaults_ResetNext(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	s.ResetNext()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/inbox/conversations/"+convID+"/messages", strings.NewReader(`{"type":"text","content":"x"}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("x-workspace-id", testWorkspace)
	req.Header.Set("Content-Type", "application/json")
	_, err := c.hc.Do(req)
	require.Error(t, err, "the connection is dropped without an answer")
	assert.Empty(t, s.Sent(), "nothing was sent")
	require.Len(t, s.Requests(), 1, "recorded before the connection was dropped")
	assert.Equal(t, 0, s.Requests()[0].Status)
	assert.Equal(t, "reset", s.Requests()[0].Fault)
	mustOK(t, c.get("/tags"))
}

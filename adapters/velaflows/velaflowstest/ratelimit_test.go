package velaflowstest_test

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
)

// clock is a settable clock for WithClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func rateHeaders(r response) [3]string {
	return [3]string{r.Header.Get("X-RateLimit-Limit"), r.Header.Get("X-RateLimit-Remaining"), r.Header.Get("X-RateLimit-Reset")}
}

func TestRateLimit_DefaultsOnEveryResponse(t *testing.T) {
	start := time.Unix(1774361700, 0)
	clk := &clock{t: start}
	s := newServer(t, velaflowstest.WithClock(clk.Now))
	c := newClient(t, s)
	reset := strconv.FormatInt(start.Add(15*time.Minute).Unix(), 10)

	assert.Equal(t, [3]string{"300", "299", reset}, rateHeaders(mustOK(t, c.get("/inbox/conversations"))))
	assert.Equal(t, [3]string{"100", "99", reset}, rateHeaders(mustOK(t, c.post("/tags", map[string]any{"name": "a"}))))
	assert.Equal(t, [3]string{"50", "49", reset}, rateHeaders(mustOK(t, c.del("/tags/65f0c0ffee0000000000e001"))))
	// Error answers carry them too, and count.
	assert.Equal(t, [3]string{"300", "298", reset}, rateHeaders(mustFail(t, c.get("/crm/leads/0"), http.StatusNotFound, "NOT_FOUND")))
	assert.Equal(t, [3]string{"100", "98", reset}, rateHeaders(mustFail(t, c.post("/tags", map[string]any{}), http.StatusUnprocessableEntity, "VALIDATION_ERROR")))
	// Unknown routes and 405s show the counter without counting.
	assert.Equal(t, [3]string{"300", "298", reset}, rateHeaders(mustFail(t, c.get("/nope"), http.StatusNotFound, "NOT_FOUND")))
}

func TestRateLimit_CategoriesWindowsAndTokens(t *testing.T) {
	start := time.Unix(1774361700, 0)
	clk := &clock{t: start}
	other := "sk_live_otherotherotherotherotherotherotherother"
	s := newServer(t, velaflowstest.WithClock(clk.Now), velaflowstest.WithRateLimits(3, 2, 1, time.Minute), velaflowstest.WithToken(other, "*"))
	c := newClient(t, s)

	for i := 2; i >= 0; i-- {
		r := mustOK(t, c.get("/tags"))
		assert.Equal(t, strconv.Itoa(i), r.Header.Get("X-RateLimit-Remaining"))
	}
	clk.Advance(15 * time.Second)
	r := mustFail(t, c.get("/crm/leads"), http.StatusTooManyRequests, "TOO_MANY_REQUESTS")
	assert.Equal(t, "45", r.Header.Get("Retry-After"))
	assert.Equal(t, [3]string{"3", "0", strconv.FormatInt(start.Add(time.Minute).Unix(), 10)}, rateHeaders(r))
	assert.Equal(t, "Rate limit exceeded. Try again in 45 seconds.", r.Body["error"].(map[string]any)["message"])

	// Writes and deletes have their own counters.
	mustOK(t, c.post("/tags", map[string]any{"name": "a"}))
	mustOK(t, c.patch("/crm/leads/65f0c0ffee0000000000d001", map[string]any{"status": "won"}))
	mustFail(t, c.post("/tags", map[string]any{"name": "b"}), http.StatusTooManyRequests, "TOO_MANY_REQUESTS")
	mustOK(t, c.del("/crm/leads/65f0c0ffee0000000000d002"))
	mustFail(t, c.del("/crm/leads/65f0c0ffee0000000000d003"), http.StatusTooManyRequests, "TOO_MANY_REQUESTS")
	_, ok := s.Lead("65f0c0ffee0000000000d003")
	assert.True(t, ok, "a refused delete deletes nothing")

	// Another token has its own counters.
	o := newClient(t, s)
	o.token = other
	assert.Equal(t, "2", mustOK(t, o.get("/tags")).Header.Get("X-RateLimit-Remaining"))

	// The window ends.
	clk.Advance(45 * time.Second)
	r = mustOK(t, c.get("/tags"))
	assert.Equal(t, [3]string{"3", "2", strconv.FormatInt(start.Add(2*time.Minute).Unix(), 10)}, rateHeaders(r))

	// The delete window started 15 seconds after the read window.
	mustFail(t, c.del("/crm/leads/65f0c0ffee0000000000d003"), http.StatusTooManyRequests, "TOO_MANY_REQUESTS")
	clk.Advance(15 * time.Second)
	mustOK(t, c.del("/crm/leads/65f0c0ffee0000000000d003"))

	// ResetRateLimits forgets everything.
	mustFail(t, c.del("/crm/leads/65f0c0ffee0000000000d004"), http.StatusTooManyRequests, "TOO_MANY_REQUESTS")
	s.ResetRateLimits()
	mustOK(t, c.del("/crm/leads/65f0c0ffee0000000000d004"))
}

func TestRateLimit_PerEndpoint(t *testing.T) {
	s := newServer(t, velaflowstest.WithRateLimits(1, 1, 1, time.Hour), velaflowstest.WithPerEndpointRateLimits())
	c := newClient(t, s)
	mustOK(t, c.get("/tags"))
	mustFail(t, c.get("/tags"), http.StatusTooManyRequests, "TOO_MANY_REQUESTS")
	mustOK(t, c.get("/crm/leads"))
	mustOK(t, c.get("/crm/leads/65f0c0ffee0000000000d001")) // a route template, not a path, is the endpoint
	mustFail(t, c.get("/crm/leads/65f0c0ffee0000000000d002"), http.StatusTooManyRequests, "TOO_MANY_REQUESTS")
}

func TestRateLimit_Off(t *testing.T) {
	s := newServer(t, velaflowstest.WithRateLimits(0, 1, 1, time.Hour))
	c := newClient(t, s)
	for range 5 {
		r := mustOK(t, c.get("/tags"))
		require.Empty(t, r.Header.Get("X-RateLimit-Limit"))
	}
}

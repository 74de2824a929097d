package sendbeetest_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

const specToken = "MTcwMDAwMDAwMC4xYjc0ZWFmODdkYTQ2ODc3YmE2NTFhYzgxMmIyNGEzYmYwMTk5MGU5ZWQwMTAxYjg4MjY4ZjYwZjk2NTcyOWUy"

func TestToken_SpecVector(t *testing.T) {
	assert.Equal(t, specToken, signToken("test-secret", 1700000000))
	assert.Equal(t, specToken, sendbeetest.Token("test-secret", time.Unix(1700000000, 0)))
	assert.Len(t, specToken, 100)
}

func TestServer_Auth(t *testing.T) {
	const ts = 1700000000
	clk := newClock(time.Unix(ts, 0))
	s := sendbeetest.NewServer(t, sendbeetest.WithCredentials("test-key", "test-secret"), sendbeetest.WithClock(clk.Now))
	c := newClient(t, s)
	c.now = clk.Now
	assert.Equal(t, "test-key", s.APIKey())
	assert.Equal(t, "test-secret", s.APISecret())

	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name       string
		hdr        map[string]string
		wantStatus int
		wantDetail string
	}{
		{"spec test vector accepted", map[string]string{"X-Auth-Token": specToken}, http.StatusOK, ""},
		{"fresh token accepted", nil, http.StatusOK, ""},
		{"token 14 minutes old accepted", map[string]string{"X-Auth-Token": signToken("test-secret", ts-14*60)}, http.StatusOK, ""},
		{"token 30s in the future accepted", map[string]string{"X-Auth-Token": signToken("test-secret", ts+30)}, http.StatusOK, ""},
		{"missing api key", map[string]string{"X-Api-Key": ""}, http.StatusUnauthorized, "missing X-Api-Key"},
		{"wrong api key", map[string]string{"X-Api-Key": "nope"}, http.StatusUnauthorized, "invalid API key"},
		{"missing token", map[string]string{"X-Auth-Token": ""}, http.StatusUnauthorized, "missing X-Auth-Token"},
		{"expired token", map[string]string{"X-Auth-Token": signToken("test-secret", ts-901)}, http.StatusUnauthorized, "expired"},
		{"future beyond skew", map[string]string{"X-Auth-Token": signToken("test-secret", ts+120)}, http.StatusUnauthorized, "future"},
		{"wrong secret", map[string]string{"X-Auth-Token": signToken("other-secret", ts)}, http.StatusUnauthorized, "signature"},
		{"malformed base64", map[string]string{"X-Auth-Token": "!!!not base64!!!"}, http.StatusUnauthorized, "Base64"},
		{"non-canonical base64 rejected", map[string]string{"X-Auth-Token": specToken + "=="}, http.StatusUnauthorized, "Base64"},
		{"url-safe alphabet rejected", map[string]string{"X-Auth-Token": strings.ReplaceAll(b64("1700000000.>>>?"), "+", "-")}, http.StatusUnauthorized, "Base64"},
		{"no dot", map[string]string{"X-Auth-Token": b64("1700000000")}, http.StatusUnauthorized, "expected"},
		{"two dots", map[string]string{"X-Auth-Token": b64("1700000000.ab.cd")}, http.StatusUnauthorized, "expected"},
		{"non-decimal timestamp", map[string]string{"X-Auth-Token": b64("17e8.abcdef")}, http.StatusUnauthorized, "decimal"},
		{"uppercase hex rejected", map[string]string{"X-Auth-Token": b64("1700000000.1B74EAF87DA46877BA651AC812B24A3BF01990E9ED0101B88268F60F965729E2")}, http.StatusUnauthorized, "signature"},
		{"raw digest form of the pre-2020 client rejected", map[string]string{"X-Auth-Token": b64(b64("1700000000") + "." + "G3Tq+H2kaHe6ZRrIErJKO/AZkOntAQG4gmj2D5ZXKeI=")}, http.StatusUnauthorized, "decimal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.request(http.MethodGet, "/teams/teams", "", nil, tt.hdr)
			require.Equal(t, tt.wantStatus, r.Status, "body %s", r.Raw)
			if tt.wantStatus == http.StatusOK {
				assert.NotEmpty(t, r.Data)
				return
			}
			e := r.err(t)
			assert.Equal(t, "authentication_error", e.Type)
			assert.Contains(t, e.Detail, tt.wantDetail)
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			assert.Nil(t, r.Data)
		})
	}

	reqs := s.Requests()
	require.Len(t, reqs, len(tests))
	for _, rq := range reqs {
		assert.Equal(t, "/teams/teams", rq.Path)
		for _, v := range []string{rq.APIKey, rq.AuthError, rq.RawQuery, string(rq.Body)} {
			assert.NotContains(t, v, "test-secret", "the secret must never be recorded")
		}
	}
	assert.True(t, reqs[0].Authenticated)
	assert.False(t, reqs[len(reqs)-1].Authenticated)
	assert.NotEmpty(t, reqs[len(reqs)-1].AuthError)
}

func TestServer_AuthTokenWindow(t *testing.T) {
	clk := newClock(time.Unix(1700000000, 0))
	s := sendbeetest.NewServer(t, sendbeetest.WithClock(clk.Now), sendbeetest.WithTokenWindow(time.Minute))
	c := newClient(t, s)
	c.now = func() time.Time { return clk.Now().Add(-90 * time.Second) }
	r := c.get("/teams/teams", "")
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	c.now = func() time.Time { return clk.Now().Add(-50 * time.Second) }
	mustOK(t, c.get("/teams/teams", ""))
}

func TestServer_AuthBeforeMethodAndRateLimit(t *testing.T) {
	s := sendbeetest.NewServer(t, sendbeetest.WithRateLimit(1, time.Minute))
	c := newClient(t, s)
	bad := map[string]string{"X-Api-Key": "wrong"}
	for range 3 {
		r := c.request(http.MethodPatch, "/contacts", "", nil, bad)
		assert.Equal(t, http.StatusUnauthorized, r.Status, "auth is checked before the method")
	}
	mustOK(t, c.get("/contacts", "")) // unauthenticated requests did not use the budget
}

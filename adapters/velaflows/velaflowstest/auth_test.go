package velaflowstest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
)

func TestAuth(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	tests := []struct {
		name   string
		hdr    []string
		status int
		code   string
	}{
		{"ok", nil, http.StatusOK, ""},
		{"lower-case bearer scheme", []string{"Authorization", "bearer " + testToken}, http.StatusOK, ""},
		{"upper-case workspace id", []string{"X-Workspace-Id", strings.ToUpper(testWorkspace)}, http.StatusOK, ""},
		{"missing token", []string{"Authorization", ""}, http.StatusUnauthorized, "UNAUTHORIZED"},
		{"no Bearer scheme", []string{"Authorization", testToken}, http.StatusUnauthorized, "UNAUTHORIZED"},
		{"Basic scheme", []string{"Authorization", "Basic dXNlcjpwYXNz"}, http.StatusUnauthorized, "UNAUTHORIZED"},
		{"empty Bearer", []string{"Authorization", "Bearer "}, http.StatusUnauthorized, "UNAUTHORIZED"},
		{"wrong token", []string{"Authorization", "Bearer sk_live_0000000000000000000000000000000000000000"}, http.StatusUnauthorized, "UNAUTHORIZED"},
		{"token with a suffix", []string{"Authorization", "Bearer " + testToken + "x"}, http.StatusUnauthorized, "UNAUTHORIZED"},
		{"missing workspace", []string{"X-Workspace-Id", ""}, http.StatusBadRequest, "BAD_REQUEST"},
		{"workspace not 24 hex", []string{"X-Workspace-Id", "ws_" + testWorkspace}, http.StatusForbidden, "FORBIDDEN"},
		{"workspace too short", []string{"X-Workspace-Id", "64f1a2b3"}, http.StatusForbidden, "FORBIDDEN"},
		{"other workspace", []string{"X-Workspace-Id", "000000000000000000000001"}, http.StatusForbidden, "FORBIDDEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(http.MethodGet, "/inbox/conversations", nil, tt.hdr...)
			if tt.code == "" {
				mustOK(t, r)
				return
			}
			mustFail(t, r, tt.status, tt.code)
		})
	}

	// The log records validity, never the token.
	for _, rec := range s.Requests() {
		assert.NotContains(t, rec.TokenPrefix+rec.AuthError+rec.Path+rec.RawQuery, testToken[16:])
	}
	reqs := s.Requests()
	assert.True(t, reqs[0].Authenticated)
	assert.Equal(t, testToken[:16], reqs[0].TokenPrefix)
	assert.False(t, reqs[3].Authenticated)
	assert.Equal(t, "Missing Authorization header", reqs[3].AuthError)
}

func TestAuth_RateHeadersOnlyWithValidToken(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	r := c.do(http.MethodGet, "/inbox/conversations", nil, "Authorization", "")
	assert.Empty(t, r.Header.Get("X-RateLimit-Limit"), "no counter for an unknown caller")
	r = c.do(http.MethodGet, "/inbox/conversations", nil, "X-Workspace-Id", "000000000000000000000001")
	assert.Equal(t, "300", r.Header.Get("X-RateLimit-Limit"))
	assert.Equal(t, "300", r.Header.Get("X-RateLimit-Remaining"), "a refused workspace is not counted")
}

func TestScopes(t *testing.T) {
	s := newServer(t,
		velaflowstest.WithToken("sk_live_readonlyreadonlyreadonlyreadonlyreadonly", "inbox:read"),
		velaflowstest.WithToken("sk_live_nothingnothingnothingnothingnothingnothi"),
		velaflowstest.WithScopes(map[string]string{"GET /tags": ""}),
	)
	ro := newClient(t, s)
	ro.token = "sk_live_readonlyreadonlyreadonlyreadonlyreadonly"
	mustOK(t, ro.get("/inbox/conversations"))
	mustOK(t, ro.get("/inbox/conversations/"+velaflowstest.SeedConversationID))
	r := mustFail(t, ro.post("/inbox/conversations/"+velaflowstest.SeedConversationID+"/messages", map[string]any{"content": "hi", "type": "text"}),
		http.StatusForbidden, "FORBIDDEN")
	assert.Equal(t, "inbox:write", r.errDetails()["requiredScope"])
	mustFail(t, ro.get("/crm/leads"), http.StatusForbidden, "FORBIDDEN")
	mustOK(t, ro.get("/tags")) // WithScopes made it public to any token
	assert.Empty(t, s.Sent(), "a forbidden send stores nothing")

	none := newClient(t, s)
	none.token = "sk_live_nothingnothingnothingnothingnothingnothi"
	mustFail(t, none.get("/inbox/conversations"), http.StatusForbidden, "FORBIDDEN")
	mustFail(t, none.post("/webhooks/subscriptions", map[string]any{}), http.StatusForbidden, "FORBIDDEN")
	mustFail(t, none.del("/crm/leads/65f0c0ffee0000000000d001"), http.StatusForbidden, "FORBIDDEN")
	mustOK(t, none.get("/tags"))

	scopes := velaflowstest.DefaultScopes()
	assert.Equal(t, "inbox:read", scopes["GET /inbox/conversations"], "the one documented scope")
	assert.Equal(t, "integrations:write", scopes["POST /webhooks/subscriptions"])
	assert.Equal(t, "integrations:write", scopes["POST /integrations/webhooks"])
	assert.Equal(t, "crm:write", scopes["DELETE /crm/leads/{id}"])
}

func TestScopes_UnknownRouteKeyIsAnError(t *testing.T) {
	_, err := velaflowstest.Start("127.0.0.1:0", velaflowstest.WithScopes(map[string]string{"GET /nope": "x"}))
	require.Error(t, err)
}

func TestRouting_NotFoundAndMethodNotAllowed(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	r := mustFail(t, c.get("/inbox/nope"), http.StatusNotFound, "NOT_FOUND")
	assert.Contains(t, r.Body["error"].(map[string]any)["message"], "/api/v1/inbox/nope")
	mustFail(t, c.get("/inbox/conversations/"), http.StatusNotFound, "NOT_FOUND")

	r = mustFail(t, c.do(http.MethodDelete, "/inbox/conversations", nil), http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
	assert.Equal(t, "GET", r.Header.Get("Allow"))
	r = mustFail(t, c.do(http.MethodPut, "/crm/leads/65f0c0ffee0000000000d001", nil), http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
	assert.Equal(t, "DELETE, GET, PATCH", r.Header.Get("Allow"))

	// Outside the prefix (an absolute-URL bug in a client) is a 404 too.
	root := newClient(t, s)
	root.base = s.RootURL()
	r = mustFail(t, root.get("/inbox/conversations"), http.StatusNotFound, "NOT_FOUND")
	assert.Equal(t, "/inbox/conversations", s.Requests()[len(s.Requests())-1].Path)

	// Unknown IDs are 404 with details.resourceId, as documented.
	r = mustFail(t, c.get("/inbox/conversations/000000000000000000000000"), http.StatusNotFound, "NOT_FOUND")
	assert.Equal(t, "000000000000000000000000", r.errDetails()["resourceId"])
}

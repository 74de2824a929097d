package admin_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/admin"
	"github.com/parleybot/parley/bot/bottest"
)

// With a token, every request needs it as a bearer token: 401 with
// WWW-Authenticate without it or with another; then the Host is free (a
// proxy may name the API as it likes).
func TestToken(t *testing.T) {
	b, _ := newBot(t)
	base := serve(t, b, admin.WithToken("s3cret-admin-token"))
	bottest.Run(t, b)
	u := base + "/admin/v1/stats"
	tests := []struct {
		name, auth string
		want       int
	}{
		{"missing", "", http.StatusUnauthorized},
		{"wrong", "Bearer s3cret-admin-tokeN", http.StatusUnauthorized},
		{"a prefix of it", "Bearer s3cret", http.StatusUnauthorized},
		{"another scheme", "Basic s3cret-admin-token", http.StatusUnauthorized},
		{"no scheme", "s3cret-admin-token", http.StatusUnauthorized},
		{"right", "Bearer s3cret-admin-token", http.StatusOK},
		{"right, scheme in lower case", "bearer s3cret-admin-token", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, http.MethodGet, u, "", "Authorization", tt.auth)
			require.Equal(t, tt.want, a.status, a.body)
			if tt.want == http.StatusUnauthorized {
				assert.Equal(t, `Bearer realm="parley admin"`, a.header.Get("WWW-Authenticate"))
				assert.JSONEq(t, `{"error":"admin: missing or wrong bearer token"}`, a.body)
			}
		})
	}
	a := call(t, http.MethodGet, u, "", "Authorization", "Bearer s3cret-admin-token", "Host", "bot.example.com")
	assert.Equal(t, http.StatusOK, a.status, "with the token, any Host")
	a = call(t, http.MethodGet, base+"/admin/v1/nope", "")
	assert.Equal(t, http.StatusUnauthorized, a.status, "an unknown path too: nothing is told without the token")
}

// Without a token, a request to a name that is not a loopback one is
// refused, as a DNS rebinding attack would send it.
func TestNoToken_host(t *testing.T) {
	_, _, base := start(t)
	port := mustPort(t, base)
	tests := []struct {
		host string
		want int
	}{
		{"127.0.0.1:" + port, http.StatusOK},
		{"localhost:" + port, http.StatusOK},
		{"LOCALHOST", http.StatusOK},
		{"console.localhost:" + port, http.StatusOK},
		{"[::1]:" + port, http.StatusOK},
		{"127.0.0.2", http.StatusOK},
		{"evil.example:" + port, http.StatusForbidden},
		{"localhost.evil.example", http.StatusForbidden},
		{"10.0.0.5:" + port, http.StatusForbidden},
		{"0.0.0.0:" + port, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			a := call(t, http.MethodGet, base+"/admin/v1/stats", "", "Host", tt.host)
			require.Equal(t, tt.want, a.status, a.body)
			if tt.want == http.StatusForbidden {
				requireError(t, a, http.StatusForbidden, "is not a loopback address")
			}
		})
	}
}

// Without a token, a request that came through a reverse proxy is
// refused though its Host is a loopback one: the proxy may pass anyone's
// requests. With the token it goes.
func TestNoToken_throughAProxy(t *testing.T) {
	_, _, base := start(t)
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP", "Via"} {
		t.Run(h, func(t *testing.T) {
			a := call(t, http.MethodGet, base+"/admin/v1/stats", "", h, "203.0.113.7")
			requireError(t, a, http.StatusForbidden, "came through a proxy")
		})
	}
	b, _ := newBot(t)
	url := serve(t, b, admin.WithToken("s3cret"))
	a := call(t, http.MethodGet, url+"/admin/v1/stats", "", "X-Forwarded-For", "203.0.113.7", "Authorization", "Bearer s3cret")
	assert.Equal(t, http.StatusOK, a.status, a.body)
}

// Without a token, a POST or DELETE from another origin, or with a body a
// form could send, is refused; one without a body needs no Content-Type.
func TestNoToken_originAndContentType(t *testing.T) {
	b, _, base := start(t)
	handoff := base + "/admin/v1/conversations/fake/c1/handoff"
	own := "http://" + mustHost(t, base)
	tests := []struct {
		name    string
		method  string
		url     string
		body    string
		headers []string
		want    int
	}{
		{"another origin", http.MethodPost, handoff, "", []string{"Origin", "http://evil.example"}, http.StatusForbidden},
		{"an opaque origin", http.MethodPost, handoff, "", []string{"Origin", "null"}, http.StatusForbidden},
		{"another origin deletes", http.MethodDelete, base + "/admin/v1/dead-letters/1", "", []string{"Origin", "http://evil.example"}, http.StatusForbidden},
		{"a form", http.MethodPost, handoff, "", []string{"Content-Type", "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		{"plain text", http.MethodPost, handoff, "{}", []string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType},
		{"the own origin", http.MethodPost, handoff, "", []string{"Origin", own}, http.StatusOK},
		{"no body, no type", http.MethodPost, handoff, "", nil, http.StatusOK},
		{"JSON with a charset", http.MethodPost, handoff, "{}", []string{"Content-Type", "application/json; charset=utf-8"}, http.StatusOK},
		{"a GET from another origin reads nothing it can see", http.MethodGet, base + "/admin/v1/stats", "", []string{"Origin", "http://evil.example"}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, tt.method, tt.url, tt.body, tt.headers...)
			require.Equal(t, tt.want, a.status, a.body)
		})
	}
	owner, err := b.Owner(t.Context(), "fake", "c1")
	require.NoError(t, err)
	assert.Equal(t, "human", owner.String())
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "localhost:8080": true, "a.localhost": true, "localhost.": true,
		"127.0.0.1": true, "127.1.2.3:9": true, "[::1]:9090": true, "::1": true,
		"": false, "example.com": false, "localhost.example.com": false, "0.0.0.0": false,
		"[::]:80": false, "192.168.1.2": false, "[::ffff:127.0.0.1]:80": true,
	} {
		assert.Equal(t, want, admin.IsLoopbackHost(host), host)
	}
}

func mustHost(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	require.NoError(t, err)
	return u.Host
}

func mustPort(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	require.NoError(t, err)
	return u.Port()
}

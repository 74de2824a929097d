package fromenv_test

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/adapters/fromenv"
	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// closedURL returns the URL of a loopback address nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return "http://" + addr + "/api/v1"
}

// After the VelaFlows walkthrough, its emulator stopped, the Flowdock
// exports pasted into the same terminal: the leftover VELAFLOWS_ variables
// still turn VelaFlows on, and the error names the variable that points
// at the problem, VELAFLOWS_BASE_URL, not PARLEY_PUBLIC_URL.
func TestBuild_leftoverVelaFlowsBaseURL(t *testing.T) {
	fd := flowdocktest.NewServer(t)
	gone := closedURL(t)
	env := map[string]string{
		// The VelaFlows walkthrough's exports.
		"VELAFLOWS_API_TOKEN":    "sk_test_leftover",
		"VELAFLOWS_WORKSPACE_ID": "64f1a2b3c4d5e6f7a8b9c0d1",
		"VELAFLOWS_BASE_URL":     gone,
		"PARLEY_PUBLIC_URL":      "http://127.0.0.1:8080",
		// The Flowdock walkthrough's.
		"FLOWDOCK_API_TOKEN":  fd.Token(),
		"FLOWDOCK_API_URL":    fd.URL(),
		"FLOWDOCK_STREAM_URL": fd.StreamURL(),
		"FLOWDOCK_FLOWS":      "acme/support",
	}
	_, err := fromenv.Build(t.Context(), func(k string) string { return env[k] }, bottest.Logger(t))
	require.Error(t, err)
	t.Log(err)
	assert.Regexp(t, `^VELAFLOWS_BASE_URL=`+gone+`: no answer from the VelaFlows API \(VelaFlows is on because VELAFLOWS_API_TOKEN is set\): `, err.Error())
	assert.NotContains(t, err.Error(), "PARLEY_PUBLIC_URL")
	assert.NotContains(t, err.Error(), "sk_test_leftover")
}

// A public URL the adapter refuses is blamed on PARLEY_PUBLIC_URL.
func TestBuild_badPublicURL(t *testing.T) {
	vf := velaflowstest.NewServer(t)
	env := map[string]string{
		"VELAFLOWS_API_TOKEN": vf.Token(), "VELAFLOWS_WORKSPACE_ID": vf.WorkspaceID(), "VELAFLOWS_BASE_URL": vf.URL(),
		"PARLEY_PUBLIC_URL": "bot.example.com",
	}
	_, err := fromenv.Build(t.Context(), func(k string) string { return env[k] }, bottest.Logger(t))
	require.Error(t, err)
	assert.Regexp(t, `^PARLEY_PUBLIC_URL=bot.example.com: `, err.Error())
}

// The VelaFlows API refuses the token: the error names the credentials'
// variables.
func TestBuild_velaFlowsTokenRefused(t *testing.T) {
	vf := velaflowstest.NewServer(t)
	env := map[string]string{
		"VELAFLOWS_API_TOKEN":    "sk_test_stale",
		"VELAFLOWS_WORKSPACE_ID": vf.WorkspaceID(),
		"VELAFLOWS_BASE_URL":     vf.URL(),
		"PARLEY_PUBLIC_URL":      "http://127.0.0.1:8080",
	}
	_, err := fromenv.Build(t.Context(), func(k string) string { return env[k] }, bottest.Logger(t))
	require.Error(t, err)
	t.Log(err)
	assert.Regexp(t, `^VELAFLOWS_API_TOKEN, VELAFLOWS_WORKSPACE_ID: refused by the VelaFlows API at `, err.Error())
	assert.NotContains(t, err.Error(), "sk_test_stale")
}

// A Sendbee adapter built from the environment names SENDBEE_API_SECRET
// when webhooks come signed with another secret.
func TestBuild_sendbeeStaleSecretNamesVariable(t *testing.T) {
	env := map[string]string{"SENDBEE_API_KEY": "key", "SENDBEE_API_SECRET": "old-secret", "SENDBEE_BASE_URL": closedURL(t)}
	var log syncBuffer
	logger := slog.New(slog.NewTextHandler(&log, nil))
	p, err := fromenv.Build(t.Context(), func(k string) string { return env[k] }, logger)
	require.NoError(t, err)
	b, err := bot.New(bot.WithAdapters(p.Adapters...), bot.WithLogger(logger))
	require.NoError(t, err)
	bottest.Run(t, b)

	post := func() int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/webhooks/sendbee", strings.NewReader(`{}`))
		req.Header.Set("X-Authorization", sendbee.Token("new-secret", time.Now()))
		p.Webhooks.ServeHTTP(rec, req)
		return rec.Code
	}
	require.Eventually(t, func() bool { return post() == http.StatusUnauthorized }, 5*time.Second, time.Millisecond)
	assert.Contains(t, log.String(), "check SENDBEE_API_SECRET")
	assert.NotContains(t, log.String(), "old-secret")
}

// The errors of the VelaFlows webhook registration name the URLs without
// their user information or query, wherever the failure comes from, and
// say what failed once.
func TestBuild_velaFlowsErrorRedactsURLs(t *testing.T) {
	tests := []struct {
		name   string
		public string
		fault  func(vf *velaflowstest.Server)
		want   string // a regular expression for the whole error
	}{
		{
			name:   "refused before any request",
			public: "ftp://u:pub-secret@bot.example.com/?token=q-secret",
			want:   `^PARLEY_PUBLIC_URL=ftp://bot\.example\.com/: velaflows: public URL "ftp://bot\.example\.com/": want http\(s\)://host\[:port\]\[/path\]$`,
		},
		{
			name:   "subscription refused",
			public: "http://u:pub-secret@bot.example.com",
			want: `^PARLEY_PUBLIC_URL=http://bot\.example\.com: the VelaFlows API refused the webhook subscription: ` +
				`velaflows: register webhook http://bot\.example\.com/webhooks/velaflows: POST /webhooks/subscriptions: 422 Unprocessable Entity \(VALIDATION_ERROR; fields: url\)$`,
		},
		{
			name:   "API failure",
			public: "https://u:pub-secret@bot.example.com/?token=q-secret",
			fault:  func(vf *velaflowstest.Server) { vf.FailNext(http.StatusInternalServerError, "", "") },
			want:   `^the VelaFlows API at http://127\.0\.0\.1:\d+/api/v1/: velaflows: list webhook subscriptions: GET /webhooks/subscriptions: 500 Internal Server Error \(INTERNAL_ERROR\)$`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vf := velaflowstest.NewServer(t)
			if tt.fault != nil {
				tt.fault(vf)
			}
			env := map[string]string{
				"VELAFLOWS_API_TOKEN": vf.Token(), "VELAFLOWS_WORKSPACE_ID": vf.WorkspaceID(), "VELAFLOWS_BASE_URL": vf.URL(),
				"PARLEY_PUBLIC_URL": tt.public,
			}
			_, err := fromenv.Build(t.Context(), func(k string) string { return env[k] }, bottest.Logger(t))
			require.Error(t, err)
			assert.Regexp(t, tt.want, err.Error())
			assert.NotContains(t, err.Error(), "secret")
		})
	}
}

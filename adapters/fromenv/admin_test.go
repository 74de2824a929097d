package fromenv_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/fromenv"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

const adminToken = "t0ken-of-the-admin-api"

// runAdmin runs a Bot on a fake adapter with fromenv.Run in env until the
// test ends (or stop is called, which returns Run's error), once its
// summary is printed. The summary is returned.
func runAdmin(t *testing.T, env map[string]string) (fa *bottest.FakeAdapter, summary string, stop func() error) {
	t.Helper()
	getenv := func(k string) string { return env[k] }
	logger := bottest.Logger(t)
	p, err := fromenv.Build(t.Context(), getenv, logger)
	require.NoError(t, err)
	out := &syncBuffer{}
	p.Out = out
	fa = bottest.NewFakeAdapter("")
	b, err := bot.New(bot.WithAdapters(fa), bot.WithLogger(logger))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fromenv.Run(ctx, b, p, getenv, logger) }()
	var (
		stopped bool
		result  error
	)
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case result = <-done:
			case <-time.After(10 * time.Second):
				t.Error("Run did not return within 10s of cancellation")
			}
		}
		return result
	}
	t.Cleanup(func() { assert.NoError(t, stop()) })
	servers := 0 // the fake adapter takes no webhooks: a server for each address set
	for _, v := range []string{"PARLEY_ADDR", "PARLEY_ADMIN_ADDR"} {
		if env[v] != "" {
			servers++
		}
	}
	require.Eventually(t, func() bool { return strings.Count(out.String(), "listening on") == servers },
		5*time.Second, time.Millisecond, "summary: %s", out)
	return fa, out.String(), stop
}

// request makes a request with the admin token when withToken, and
// returns the status and the body.
func request(t *testing.T, method, url string, withToken bool) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	require.NoError(t, err)
	if withToken {
		req.Header.Set("Authorization", "Bearer "+adminToken)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// With PARLEY_ADMIN_ADDR and PARLEY_ADMIN_TOKEN, the admin API is there,
// needs the token, and is not on the public address; the summary says
// so, without the token.
func TestRun_adminAPIWithToken(t *testing.T) {
	public, admin := freeAddr(t), freeAddr(t)
	_, summary, _ := runAdmin(t, map[string]string{"PARLEY_ADDR": public, "PARLEY_ADMIN_ADDR": admin, "PARLEY_ADMIN_TOKEN": adminToken})
	assert.Contains(t, summary, "parley: listening on "+admin+" (PARLEY_ADMIN_ADDR): /metrics, /healthz, /readyz, /admin/v1/ (PARLEY_ADMIN_TOKEN required)\n")
	assert.NotContains(t, summary, adminToken)

	code, _ := request(t, http.MethodGet, "http://"+admin+"/admin/v1/stats", false)
	assert.Equal(t, http.StatusUnauthorized, code)
	code, body := request(t, http.MethodGet, "http://"+admin+"/admin/v1/stats", true)
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"received":0`)
	code, _ = request(t, http.MethodGet, "http://"+public+"/admin/v1/stats", true)
	assert.Equal(t, http.StatusNotFound, code, "not on the public address")
	code, _ = request(t, http.MethodGet, "http://"+admin+"/metrics", false)
	assert.Equal(t, http.StatusOK, code, "the metrics need no token")
}

// The admin API may listen beyond loopback only with a token: without,
// Run refuses to start and says which variable to set.
func TestRun_adminAddrBeyondLoopback(t *testing.T) {
	port := func() string { _, p, _ := net.SplitHostPort(freeAddr(t)); return p }
	env := map[string]string{"PARLEY_ADMIN_ADDR": "0.0.0.0:" + port()}
	getenv := func(k string) string { return env[k] }
	p, err := fromenv.Build(t.Context(), getenv, bottest.Logger(t))
	require.NoError(t, err)
	b, err := bot.New(bot.WithAdapters(bottest.NewFakeAdapter("")), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	err = fromenv.Run(t.Context(), b, p, getenv, bottest.Logger(t))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "PARLEY_ADMIN_ADDR=0.0.0.0:")
	assert.Contains(t, err.Error(), "set PARLEY_ADMIN_TOKEN")

	admin := "0.0.0.0:" + port()
	_, summary, _ := runAdmin(t, map[string]string{"PARLEY_ADMIN_ADDR": admin, "PARLEY_ADMIN_TOKEN": adminToken})
	assert.Contains(t, summary, "(PARLEY_ADMIN_ADDR): /metrics, /healthz, /readyz, /admin/v1/ (PARLEY_ADMIN_TOKEN required)\n")
	_, p2, _ := net.SplitHostPort(admin)
	code, body := request(t, http.MethodGet, "http://127.0.0.1:"+p2+"/admin/v1/jobs", true)
	require.Equal(t, http.StatusOK, code, body)
	assert.JSONEq(t, `{"jobs":[]}`, body)
}

// Without an admin address, a loopback public address serves the admin
// API (local requests only, without a token); a public address beyond
// loopback does not, and the summary says so.
func TestRun_adminAPIOnThePublicAddress(t *testing.T) {
	public := freeAddr(t)
	_, summary, _ := runAdmin(t, map[string]string{"PARLEY_ADDR": public})
	assert.Contains(t, summary, "parley: listening on "+public+" (PARLEY_ADDR): /metrics, /healthz, /readyz, /admin/v1/ (no PARLEY_ADMIN_TOKEN: local requests only)\n")
	code, body := request(t, http.MethodGet, "http://"+public+"/admin/v1/stats", false)
	require.Equal(t, http.StatusOK, code, body)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+public+"/admin/v1/stats", nil)
	require.NoError(t, err)
	req.Host = "rebound.example"
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "another Host: refused")

	_, p, _ := net.SplitHostPort(freeAddr(t))
	_, summary, _ = runAdmin(t, map[string]string{"PARLEY_ADDR": "0.0.0.0:" + p})
	assert.Contains(t, summary, "(PARLEY_ADDR): /metrics, /healthz, /readyz (not the admin API /admin/v1/: PARLEY_ADDR is not a loopback address; set PARLEY_ADMIN_ADDR)\n")
	code, _ = request(t, http.MethodGet, "http://127.0.0.1:"+p+"/admin/v1/stats", false)
	assert.Equal(t, http.StatusNotFound, code)
	code, _ = request(t, http.MethodGet, "http://127.0.0.1:"+p+"/healthz", false)
	assert.Equal(t, http.StatusOK, code)
}

// The event stream outlasts the server's write timeout, carries the
// Bot's events, and ends when the Bot stops, which Run then reports as a
// clean stop.
func TestRun_adminEvents(t *testing.T) {
	admin := freeAddr(t)
	fa, _, stop := runAdmin(t, map[string]string{"PARLEY_ADMIN_ADDR": admin, "PARLEY_ADMIN_TOKEN": adminToken,
		"PARLEY_WRITE_TIMEOUT": "100ms"})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+admin+"/admin/v1/events?type=received", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	r := bufio.NewReader(resp.Body)
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, ": parley events\n", line)

	start := time.Now()
	require.Eventually(t, func() bool { return time.Since(start) > 200*time.Millisecond }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, fa.Inject(t.Context(), bottest.NewMessage("hello", bottest.WithID("m1"))))
	var got []string
	for len(got) < 3 {
		line, err := r.ReadString('\n')
		require.NoError(t, err, "the stream after the write timeout")
		if line != "\n" {
			got = append(got, strings.TrimSuffix(line, "\n"))
		}
	}
	assert.Equal(t, "event: received", got[1])
	assert.Contains(t, got[2], `"message":"m1"`)

	require.NoError(t, stop(), "the stream ends with the Bot: nothing cut off")
	_, err = io.ReadAll(r)
	assert.NoError(t, err, "the stream ended cleanly")
}

// Beside webhooks, the public address serves the admin API only with a
// token, even on loopback: a reverse proxy in front of the webhooks on the
// same machine passes the internet's requests to it with a loopback Host.
func TestRun_adminAPIBesideWebhooks(t *testing.T) {
	for _, tt := range []struct {
		name   string
		token  string
		status int // of a request without the token
		line   string
	}{
		{"no token", "", http.StatusNotFound,
			"webhooks, /metrics, /healthz, /readyz (not the admin API /admin/v1/: beside webhooks only with PARLEY_ADMIN_TOKEN; or set PARLEY_ADMIN_ADDR)\n"},
		{"token", adminToken, http.StatusUnauthorized,
			"webhooks, /metrics, /healthz, /readyz, /admin/v1/ (PARLEY_ADMIN_TOKEN required)\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			public := freeAddr(t)
			_, summary, _ := runAdmin(t, map[string]string{"PARLEY_ADDR": public, "PARLEY_ADMIN_TOKEN": tt.token,
				"SENDBEE_API_KEY": "k", "SENDBEE_API_SECRET": "s", "SENDBEE_BASE_URL": "http://127.0.0.1:1"})
			assert.Contains(t, summary, "(PARLEY_ADDR): "+tt.line)
			code, body := request(t, http.MethodGet, "http://"+public+"/admin/v1/stats", false)
			assert.Equal(t, tt.status, code, body)
			if tt.token != "" {
				code, body = request(t, http.MethodGet, "http://"+public+"/admin/v1/stats", true)
				assert.Equal(t, http.StatusOK, code, body)
			}
		})
	}
}

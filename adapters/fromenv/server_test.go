package fromenv_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/fromenv"
	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// failsafe bounds every read of a test's raw connections: a server that
// works answers or closes long before it.
const failsafe = 5 * time.Second

// runServer runs a Bot on the VelaFlows adapter built from the
// environment env (plus the adapter's credentials) with fromenv.Run until
// the test ends. It waits until /healthz answers on admin and the adapter
// on public is running (it answers a delivery without a signature 401, not
// 503).
func runServer(t *testing.T, env map[string]string, admin, public string) {
	t.Helper()
	full := map[string]string{
		"VELAFLOWS_API_TOKEN": "sk_test_token", "VELAFLOWS_WORKSPACE_ID": "64f1a2b3c4d5e6f7a8b9c0d1",
		"VELAFLOWS_BASE_URL": "http://127.0.0.1:9/", "VELAFLOWS_WEBHOOK_SECRET": "whsec_test",
	}
	for k, v := range env {
		full[k] = v
	}
	getenv := func(k string) string { return full[k] }
	logger := bottest.Logger(t)
	p, err := fromenv.Build(t.Context(), getenv, logger)
	require.NoError(t, err)
	p.Out = io.Discard
	b, err := bot.New(bot.WithAdapters(p.Adapters...), bot.WithLogger(logger), bot.WithHooks(p.Metrics.Hooks()))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fromenv.Run(ctx, b, p, getenv, logger) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10s of cancellation")
		}
	})
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + admin + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 5*time.Second, 5*time.Millisecond, "the server answers")
	require.Eventually(t, func() bool {
		resp, err := http.Post("http://"+public+velaflows.WebhookPath, "application/json", strings.NewReader(`{}`))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusUnauthorized
	}, 5*time.Second, 5*time.Millisecond, "the adapter runs")
}

// startSlowDelivery opens a connection to addr and sends the headers of a
// VelaFlows delivery with a well-formed signature and the first bytes of
// its body, and never the rest.
func startSlowDelivery(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = io.WriteString(conn, "POST "+velaflows.WebhookPath+" HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"+
		"Content-Length: 1000\r\nX-Webhook-Signature: "+velaflows.Sign("whsec_other", []byte("x"))+"\r\n\r\n"+`{"eventId":"evt_1",`)
	require.NoError(t, err)
	return conn
}

// requireClosed reads conn to its end and fails unless the server closed
// it (rather than the failsafe deadline passing).
func requireClosed(t *testing.T, conn net.Conn, msg string) {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(failsafe)))
	_, err := io.Copy(io.Discard, conn)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: the connection was still open after %s", msg, failsafe)
	}
}

// A delivery whose body is sent too slowly is cut off at the read timeout:
// holding it open costs no more than PARLEY_READ_TIMEOUT.
func TestRun_slowBodyCutOff(t *testing.T) {
	addr := freeAddr(t)
	runServer(t, map[string]string{"PARLEY_ADDR": addr, "PARLEY_READ_TIMEOUT": "200ms"}, addr, addr)
	conn := startSlowDelivery(t, addr)
	start := time.Now()
	requireClosed(t, conn, "a body that never ends")
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond, "cut off by the timeout, not at once")
}

// An idle keep-alive connection is closed at the idle timeout.
func TestRun_idleConnectionClosed(t *testing.T) {
	addr := freeAddr(t)
	runServer(t, map[string]string{"PARLEY_ADDR": addr, "PARLEY_IDLE_TIMEOUT": "200ms"}, addr, addr)
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n")
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(failsafe)))
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.False(t, resp.Close, "a keep-alive connection")
	_, err = r.ReadByte()
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the idle connection was still open after %s", failsafe)
	}
	assert.ErrorIs(t, err, io.EOF, "the server closed the idle connection")
}

// At most PARLEY_MAX_IN_FLIGHT webhook requests are served at once; more
// are answered 503 with Retry-After at once, and the probes still answer.
func TestRun_maxInFlight(t *testing.T) {
	addr := freeAddr(t)
	runServer(t, map[string]string{"PARLEY_ADDR": addr, "PARLEY_MAX_IN_FLIGHT": "2"}, addr, addr)
	slow := []net.Conn{startSlowDelivery(t, addr), startSlowDelivery(t, addr)}
	deliver := func() *http.Response {
		resp, err := http.Post("http://"+addr+velaflows.WebhookPath, "application/json", strings.NewReader(`{}`))
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	var resp *http.Response
	require.Eventually(t, func() bool {
		resp = deliver()
		return resp.StatusCode == http.StatusServiceUnavailable
	}, 5*time.Second, 5*time.Millisecond, "a third delivery is refused while two are read")
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	probe, err := http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	probe.Body.Close()
	assert.Equal(t, http.StatusOK, probe.StatusCode, "the probes are not counted")

	for _, c := range slow {
		require.NoError(t, c.Close())
	}
	require.Eventually(t, func() bool {
		return deliver().StatusCode == http.StatusUnauthorized
	}, 5*time.Second, 5*time.Millisecond, "served again once the slow ones are gone")
}

// get returns the status and body of a GET of url.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// With PARLEY_ADMIN_ADDR, the metrics and probes are served there and
// only there, and the webhooks only on PARLEY_ADDR.
func TestRun_adminAddr(t *testing.T) {
	public, admin := freeAddr(t), freeAddr(t)
	runServer(t, map[string]string{"PARLEY_ADDR": public, "PARLEY_ADMIN_ADDR": admin}, admin, public)

	for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
		code, _ := get(t, "http://"+admin+path)
		assert.Equal(t, http.StatusOK, code, "admin %s", path)
		code, _ = get(t, "http://"+public+path)
		assert.Equal(t, http.StatusNotFound, code, "public %s", path)
	}
	resp, err := http.Post("http://"+public+velaflows.WebhookPath, "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the webhook is on the public address")
	resp, err = http.Post("http://"+admin+velaflows.WebhookPath, "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "and not on the admin address")
}

// The metrics include the Go runtime's and the process's.
func TestRun_runtimeMetrics(t *testing.T) {
	addr := freeAddr(t)
	runServer(t, map[string]string{"PARLEY_ADDR": addr}, addr, addr)
	code, body := get(t, "http://"+addr+"/metrics")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "\ngo_goroutines ")
	assert.Contains(t, body, "\ngo_memstats_heap_alloc_bytes ")
	if runtime.GOOS == "linux" {
		assert.Contains(t, body, "\nprocess_open_fds ")
		assert.Contains(t, body, "\nprocess_resident_memory_bytes ")
	}
	assert.Contains(t, body, "\nparley_queue_depth{", "beside the Bot's")
}

// Only the admin address: a bot without webhooks serves its metrics and
// probes there.
func TestRun_adminAddrOnly(t *testing.T) {
	admin := freeAddr(t)
	logger := bottest.Logger(t)
	env := map[string]string{"PARLEY_ADMIN_ADDR": admin}
	getenv := func(k string) string { return env[k] }
	p, err := fromenv.Build(t.Context(), getenv, logger)
	require.NoError(t, err)
	b, err := bot.New(bot.WithAdapters(bottest.NewFakeAdapter("")), bot.WithLogger(logger))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- fromenv.Run(ctx, b, p, getenv, logger) }()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + admin + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 5*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}

func TestRun_badServerVariables(t *testing.T) {
	tests := []struct {
		name, value string
	}{
		{"PARLEY_READ_TIMEOUT", "soon"},
		{"PARLEY_READ_HEADER_TIMEOUT", "-1s"},
		{"PARLEY_WRITE_TIMEOUT", "0"},
		{"PARLEY_IDLE_TIMEOUT", "10"},
		{"PARLEY_MAX_IN_FLIGHT", "0"},
		{"PARLEY_MAX_IN_FLIGHT", "many"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			env := map[string]string{"PARLEY_ADDR": "127.0.0.1:0", tt.name: tt.value}
			getenv := func(k string) string { return env[k] }
			p, err := fromenv.Build(t.Context(), getenv, bottest.Logger(t))
			require.NoError(t, err)
			b, err := bot.New(bot.WithAdapters(bottest.NewFakeAdapter("")), bot.WithLogger(bottest.Logger(t)))
			require.NoError(t, err)
			err = fromenv.Run(t.Context(), b, p, getenv, bottest.Logger(t))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.name+"="+strconv.Quote(tt.value))
		})
	}
}

// A connection that never sent a request does not make shutting down an
// error: net/http counts such a connection as active for its first five
// seconds, but it holds no request to finish.
func TestRun_shutdownWithAConnectionThatSentNothing(t *testing.T) {
	addr := freeAddr(t)
	var conn net.Conn
	t.Cleanup(func() { conn.Close() }) // after runServer's cleanup, which stops Run and asserts its nil error
	runServer(t, map[string]string{"PARLEY_ADDR": addr, "PARLEY_SHUTDOWN_TIMEOUT": "100ms"}, addr, addr)
	var err error
	conn, err = net.Dial("tcp", addr)
	require.NoError(t, err)
}

package velaflows_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// runningAdapter returns an adapter with webhook secret secret whose Run
// publishes into a channel the test never reads, and a server for it on
// loopback with no timeouts of its own.
func runningAdapter(t *testing.T, secret string) *httptest.Server {
	t.Helper()
	emu := velaflowstest.NewServer(t)
	vf, err := velaflows.New(velaflows.AdapterConfig{Config: velaflows.Config{
		Token: emu.Token(), WorkspaceID: emu.WorkspaceID(), BaseURL: emu.URL(), Logger: bottest.Logger(t),
	}, WebhookSecret: secret})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- vf.Run(ctx, bot.PublisherFunc(func(context.Context, *bot.Message) error { return nil }))
	}()
	srv := httptest.NewServer(vf)
	t.Cleanup(func() { srv.Close(); cancel(); require.NoError(t, <-done) })
	require.Eventually(t, func() bool {
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader("{}"))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusUnauthorized
	}, 5*time.Second, time.Millisecond, "the adapter runs")
	return srv
}

// A delivery that cannot be genuine — no signature, a header that is not
// a signature, or a declared length over the cap — is refused from its
// headers: the body is never waited for, so holding a request open costs
// someone without the secret nothing but the headers. The client sends
// the headers and a few bytes of a longer body, then waits.
func TestAdapter_ServeHTTP_refusedBeforeTheBody(t *testing.T) {
	const secret = "whsec_test_secret"
	srv := runningAdapter(t, secret)
	tests := []struct {
		name      string
		signature string
		length    int
		want      int
	}{
		{name: "no signature", length: 1000, want: http.StatusUnauthorized},
		{name: "not a signature", signature: "sha256=not-hex", length: 1000, want: http.StatusUnauthorized},
		{name: "signature of another algorithm", signature: "sha1=" + strings.Repeat("0", 40), length: 1000, want: http.StatusUnauthorized},
		{name: "declared over the cap", signature: velaflows.Sign(secret, []byte("x")), length: velaflows.DefaultMaxBodyBytes + 1, want: http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			require.NoError(t, err)
			defer conn.Close()
			head := "POST " + velaflows.WebhookPath + " HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n" +
				"Content-Length: " + itoa(int64(tt.length)) + "\r\n"
			if tt.signature != "" {
				head += "X-Webhook-Signature: " + tt.signature + "\r\n"
			}
			_, err = conn.Write([]byte(head + "\r\n" + `{"eventId":"evt_1",`))
			require.NoError(t, err)
			// A failsafe: the answer comes at once, or the server is
			// waiting for the rest of the body.
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			require.NoError(t, err, "the server waited for the body")
			resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode)
			assert.True(t, resp.Close, "the connection is closed, not kept for a body that never comes")
		})
	}
}

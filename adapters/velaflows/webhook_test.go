package velaflows_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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

// FuzzAdapter_ServeHTTP feeds the webhook receiver arbitrary bodies with
// signatures computed here, so that the fuzzer gets past the signature
// check to the decoding, the age check and the publishing. mode picks, in
// its low two bits, the signature (valid, missing, valid for a body that
// differs by one byte, valid but of a different secret), in bit 2 whether
// the age check is on, and in bit 3 whether the Bot refuses the message.
//
// Whatever the input: the answer is 200, 400, 401 or 503 (with
// Retry-After), never 410; an unsigned or wrongly signed body is 401 and
// publishes nothing; a published message is answered 200, has an ID, a
// Conversation and the platform's name, carries the body as Raw, and,
// with the age check on, has a signed timestamp inside the window.
func FuzzAdapter_ServeHTTP(f *testing.F) {
	const secret = "whsec_fuzz_secret"
	files, err := filepath.Glob("testdata/inbound/*.json")
	require.NoError(f, err)
	for _, in := range files {
		if strings.HasSuffix(in, ".golden.json") {
			continue
		}
		b, err := os.ReadFile(in)
		require.NoError(f, err)
		for mode := range byte(16) {
			f.Add(b, mode)
		}
	}
	now := time.Now().UTC()
	for _, ts := range []string{now.Format(time.RFC3339Nano), now.Add(time.Hour).Format(time.RFC3339), "", "yesterday", "2020-01-01T00:00:00Z"} {
		f.Add([]byte(`{"eventId":"evt_1","eventType":"conversation.message.received","timestamp":"`+ts+`",`+
			`"data":{"conversationId":"c1","message":{"_id":"m1","type":"text","text":"hi","sender":{"type":"contact","name":"A","phone":"+1"}}}}`), byte(4))
	}
	f.Add([]byte(`{"eventId":"e","eventType":"broadcast.sent","data":{}}`), byte(0))

	var (
		published *bot.Message
		refuse    bool
	)
	pub := bot.PublisherFunc(func(_ context.Context, m *bot.Message) error {
		if refuse {
			return bot.ErrClosed
		}
		published = m
		return nil
	})
	adapters := make([]*velaflows.Adapter, 2) // age check off, on
	for i, age := range []time.Duration{-1, 0} {
		vf, err := velaflows.New(velaflows.AdapterConfig{Config: velaflows.Config{
			Token: "sk_test_fuzz", WorkspaceID: "64f1a2b3c4d5e6f7a8b9c0d1", BaseURL: "http://127.0.0.1:9/",
			Logger: slog.New(slog.DiscardHandler),
		}, WebhookSecret: secret, MaxEventAge: age})
		require.NoError(f, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- vf.Run(ctx, pub) }()
		f.Cleanup(func() { cancel(); <-done })
		require.Eventually(f, func() bool {
			rec := httptest.NewRecorder()
			vf.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, velaflows.WebhookPath, strings.NewReader("{}")))
			return rec.Code == http.StatusUnauthorized
		}, 5*time.Second, time.Millisecond, "the adapter runs")
		adapters[i] = vf
	}

	f.Fuzz(func(t *testing.T, body []byte, mode byte) {
		ageCheck := mode&4 != 0
		vf := adapters[0]
		if ageCheck {
			vf = adapters[1]
		}
		published, refuse = nil, mode&8 != 0
		req := httptest.NewRequest(http.MethodPost, velaflows.WebhookPath, bytes.NewReader(body))
		signed := false
		switch mode & 3 {
		case 0:
			req.Header.Set("X-Webhook-Signature", velaflows.Sign(secret, body))
			signed = true
		case 1: // no signature
		case 2:
			other := append([]byte(nil), body...)
			if len(other) == 0 {
				other = []byte{0}
			} else {
				other[len(other)/2] ^= 1
			}
			req.Header.Set("X-Webhook-Signature", velaflows.Sign(secret, other))
		case 3:
			req.Header.Set("X-Webhook-Signature", velaflows.Sign("whsec_other", body))
		}
		start := time.Now()
		rec := httptest.NewRecorder()
		vf.ServeHTTP(rec, req)

		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized:
		case http.StatusServiceUnavailable:
			if rec.Header().Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
		default:
			t.Fatalf("status %d", rec.Code)
		}
		if !signed {
			if rec.Code != http.StatusUnauthorized || published != nil {
				t.Fatalf("a body without a valid signature: status %d, published %v", rec.Code, published != nil)
			}
			return
		}
		if rec.Code == http.StatusServiceUnavailable && !refuse {
			t.Fatal("503 although the Bot accepts messages")
		}
		if published == nil {
			return
		}
		m := published
		if rec.Code != http.StatusOK {
			t.Fatalf("published, and answered %d", rec.Code)
		}
		if m.ID == "" || m.Conversation == "" || m.Platform != velaflows.Name {
			t.Fatalf("published a message without identity: %+v", m)
		}
		if !bytes.Equal(m.Raw, body) {
			t.Fatal("Raw is not the delivery's body")
		}
		if ageCheck {
			var env struct {
				Timestamp string `json:"timestamp"`
			}
			if err := json.Unmarshal(body, &env); err != nil {
				t.Fatalf("published a body that is not JSON: %v", err)
			}
			at, err := time.Parse(time.RFC3339Nano, env.Timestamp)
			if err != nil {
				t.Fatalf("published an event whose timestamp %q is not ISO-8601", env.Timestamp)
			}
			if at.Before(start.Add(-velaflows.DefaultMaxEventAge)) || at.After(time.Now().Add(velaflows.DefaultMaxClockSkew)) {
				t.Fatalf("published an event dated %s, outside the window", at)
			}
		}
	})
}

package sendbeetest_test

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

func TestStart_RootPrefixAndClose(t *testing.T) {
	s, err := sendbeetest.Start("127.0.0.1:0", sendbeetest.WithCredentials("k", "secret"))
	require.NoError(t, err)
	assert.Equal(t, s.RootURL(), s.URL(), "Start serves the API at the root")
	assert.True(t, strings.HasPrefix(s.URL(), "http://127.0.0.1:"))

	tr := &http.Transport{}
	c := &apiClient{t: t, base: s.URL(), key: "k", secret: "secret", now: time.Now, hc: &http.Client{Transport: tr}}
	mustOK(t, c.get("/contacts", ""))
	tr.CloseIdleConnections()

	s.Close()
	s.Close() // idempotent; goleak (TestMain) checks that nothing is left running

	s2, err := sendbeetest.Start("127.0.0.1:0", sendbeetest.WithPrefix("/api"))
	require.NoError(t, err)
	defer s2.Close()
	assert.Equal(t, s2.RootURL()+"/api", s2.URL())

	_, err = sendbeetest.Start("127.0.0.1:0", sendbeetest.WithPageSize(0))
	assert.Error(t, err)
	_, err = sendbeetest.Start("127.0.0.1:0", sendbeetest.WithWebhook("ftp://x"))
	assert.Error(t, err)
	_, err = sendbeetest.Start("127.0.0.1:0", sendbeetest.WithPrefix("/_sim"))
	assert.Error(t, err)
}

// TestClose_AbandonsPendingDeliveries shows that Close returns promptly
// while the receiver hangs, a retry waits and events are queued, and that no
// goroutine outlives it (TestMain runs goleak).
func TestClose_AbandonsPendingDeliveries(t *testing.T) {
	var arrived atomic.Int32
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // lets net/http notice the client leaving
		arrived.Add(1)
		<-r.Context().Done() // answers only when the emulator gives up
	}))
	t.Cleanup(hang.Close)

	s, err := sendbeetest.Start("127.0.0.1:0", sendbeetest.WithWebhook(hang.URL),
		sendbeetest.WithRedelivery(5, time.Hour))
	require.NoError(t, err)
	for range 3 {
		s.CustomerMessage("+385911234567", "", "hi") // one in flight, two queued
	}
	s.CustomerMessage("+385921112233", "", "hi") // another conversation, in parallel
	require.Eventually(t, func() bool { return arrived.Load() >= 2 }, 2*time.Second, 5*time.Millisecond)

	start := time.Now()
	s.Close()
	assert.Less(t, time.Since(start), 2*time.Second)
	for _, d := range s.Deliveries() {
		assert.False(t, d.OK())
	}
	assert.LessOrEqual(t, len(s.Deliveries()), 2, "queued events were abandoned")
}

func TestServer_Logger(t *testing.T) {
	var buf safeBuffer
	rc := newReceiver(t, "s", nil)
	s := sendbeetest.NewServer(t, sendbeetest.WithLogger(log.New(&buf, "", 0)), sendbeetest.WithWebhook(rc.srv.URL),
		sendbeetest.WithCredentials("", "very-secret"))
	c := newClient(t, s)
	mustOK(t, c.post("/conversations/messages/send", map[string]any{"phone": "+385911234567", "text": "private text"}))
	s.WaitDeliveries(t, 3)
	out := buf.String()
	assert.Contains(t, out, "POST /api/conversations/messages/send -> 200")
	assert.Contains(t, out, "webhook message.sent")
	assert.NotContains(t, out, "very-secret")
	assert.NotContains(t, out, "private text")
}

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

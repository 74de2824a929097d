package velaflowstest_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
)

func TestNewServer_URLAndDefaults(t *testing.T) {
	s := velaflowstest.NewServer(t)
	assert.True(t, strings.HasPrefix(s.URL(), "http://127.0.0.1:"))
	assert.Equal(t, s.RootURL()+"/api/v1", s.URL())
	assert.Regexp(t, `^sk_test_[A-Za-z0-9]{40}$`, s.Token(), "the documented format")
	assert.Regexp(t, hex24RE, s.WorkspaceID())
}

func TestStart_PrefixAndClose(t *testing.T) {
	s, err := velaflowstest.Start("127.0.0.1:0", velaflowstest.WithCredentials(testToken, testWorkspace))
	require.NoError(t, err)
	assert.Equal(t, s.RootURL()+"/api/v1", s.URL(), "VELAFLOWS_BASE_URL=URL() works")
	c := newClient(t, s)
	mustOK(t, c.get("/inbox/conversations"))
	c.hc.CloseIdleConnections()
	s.Close()
	s.Close() // idempotent
	_, err = http.Get(s.URL() + "/inbox/conversations")
	assert.Error(t, err, "the listener is closed")

	s2, err := velaflowstest.Start("127.0.0.1:0", velaflowstest.WithPrefix(""))
	require.NoError(t, err)
	defer s2.Close()
	assert.Equal(t, s2.RootURL(), s2.URL())

	for _, opt := range []velaflowstest.Option{
		velaflowstest.WithPageSize(0),
		velaflowstest.WithPageSize(101),
		velaflowstest.WithPrefix("/_sim"),
		velaflowstest.WithCredentials("", "not-hex"),
		velaflowstest.WithValidationStatus(418),
		velaflowstest.WithRateLimits(1, 1, 1, 0),
		velaflowstest.WithRetrySchedule(-time.Second),
		velaflowstest.WithSubscription("ftp://x", "", "lead.created"),
		velaflowstest.WithSubscription("https://x.example", "", "inbox.*"),
		velaflowstest.WithToken(testToken, "*"),
		velaflowstest.WithEventNaming(9),
	} {
		_, err := velaflowstest.Start("127.0.0.1:0", velaflowstest.WithCredentials(testToken, ""), opt)
		assert.Error(t, err)
	}
	_, err = velaflowstest.Start("256.0.0.1:0")
	assert.Error(t, err)
}

// TestClose_WithHangingReceiver shows that Close returns while a receiver
// hangs, a retry waits and events are queued, and that no goroutine
// outlives it (TestMain runs goleak).
func TestClose_WithHangingReceiver(t *testing.T) {
	var arrived atomic.Int32
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		arrived.Add(1)
		<-r.Context().Done() // answers only when the emulator gives up
	}))
	defer hang.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer failing.Close()

	s, err := velaflowstest.Start("127.0.0.1:0",
		velaflowstest.WithRetrySchedule(time.Hour),
		velaflowstest.WithReorderHold(time.Hour),
		velaflowstest.WithSubscription(hang.URL, secret, "conversation.message.received"),
		velaflowstest.WithSubscription(failing.URL, secret, "conversation.message.received"))
	require.NoError(t, err)
	s.CustomerMessage("sms", "A", "+15550123456", "one")
	s.CustomerMessage("sms", "A", "+15550123456", "two") // queued behind "one" for both
	s.ReorderDeliveries(true)
	s.CustomerMessage("sms", "B", "+15550000002", "held")
	require.Eventually(t, func() bool { return arrived.Load() == 1 && len(s.Deliveries()) >= 1 }, 2*time.Second, time.Millisecond)

	start := time.Now()
	s.Close()
	assert.Less(t, time.Since(start), 5*time.Second, "in-flight attempts get at most the close grace")
	assert.Equal(t, int32(1), arrived.Load(), "queued events are abandoned")
	s.Close()
}

// TestClose_LetsAnInFlightDeliveryFinish: an attempt already in flight
// completes within the grace period instead of being cut off.
func TestClose_LetsAnInFlightDeliveryFinish(t *testing.T) {
	entered, proceed := make(chan struct{}), make(chan struct{})
	var finished atomic.Bool
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-proceed // a slow but healthy receiver
		finished.Store(true)
	}))
	defer slow.Close()
	s, err := velaflowstest.Start("127.0.0.1:0", velaflowstest.WithSubscription(slow.URL, secret, "conversation.message.received"))
	require.NoError(t, err)
	s.CustomerMessage("sms", "A", "+15550123456", "one")
	<-entered
	release := time.AfterFunc(100*time.Millisecond, func() { close(proceed) }) // while Close waits
	defer release.Stop()
	s.Close()
	assert.True(t, finished.Load())
	require.Len(t, s.Deliveries(), 1)
	assert.True(t, s.Deliveries()[0].OK())
}

func TestClose_RefusesLateRequests(t *testing.T) {
	s, err := velaflowstest.Start("127.0.0.1:0")
	require.NoError(t, err)
	s.Close()
	_, err = http.Get(s.RootURL() + "/_sim/")
	assert.Error(t, err)
}

func TestLogger_NoSecrets(t *testing.T) {
	mu := atomicWriter{w: &bytes.Buffer{}}
	rc := newReceiver(t, nil)
	s := newServer(t, velaflowstest.WithLogger(slog.New(slog.NewTextHandler(&mu, nil))),
		velaflowstest.WithSubscription(rc.URL, secret, "conversation.message.received"))
	c := newClient(t, s)
	mustOK(t, c.post("/inbox/conversations/"+convID+"/messages", map[string]any{"type": "text", "content": "secret text"}))
	s.CustomerMessage("sms", "A", "+15550123456", "private words")
	s.WaitDeliveries(t, 1)
	s.Close()
	out := mu.String()
	assert.Contains(t, out, "api request")
	assert.Contains(t, out, "webhook delivery")
	for _, bad := range []string{testToken, secret, "secret text", "private words", "sha256="} {
		assert.NotContains(t, out, bad)
	}
}

// atomicWriter serialises writes from several goroutines.
type atomicWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (a *atomicWriter) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.w.Write(p)
}

func (a *atomicWriter) String() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.w.String()
}

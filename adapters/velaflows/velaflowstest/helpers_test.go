package velaflowstest_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	testToken     = "sk_test_a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0"
	testWorkspace = "64f1a2b3c4d5e6f7a8b9c0d1"
)

// newServer starts an emulator with fixed credentials.
func newServer(t *testing.T, opts ...velaflowstest.Option) *velaflowstest.Server {
	t.Helper()
	return velaflowstest.NewServer(t, append([]velaflowstest.Option{velaflowstest.WithCredentials(testToken, testWorkspace)}, opts...)...)
}

// client makes raw API requests, as any HTTP client would.
type client struct {
	t         *testing.T
	base      string
	token     string
	workspace string
	hc        *http.Client
}

func newClient(t *testing.T, s *velaflowstest.Server) *client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{t: t, base: s.URL(), token: testToken, workspace: testWorkspace, hc: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// response is a decoded API answer.
type response struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// data returns body.data as an object.
func (r response) data() map[string]any {
	d, _ := r.Body["data"].(map[string]any)
	return d
}

// obj returns body.data[key] as an object.
func (r response) obj(key string) map[string]any {
	o, _ := r.data()[key].(map[string]any)
	return o
}

func (r response) items() []any {
	it, _ := r.data()["items"].([]any)
	return it
}

func (r response) pagination() map[string]any {
	p, _ := r.data()["pagination"].(map[string]any)
	return p
}

func (r response) errCode() string {
	e, _ := r.Body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (r response) errDetails() map[string]any {
	e, _ := r.Body["error"].(map[string]any)
	d, _ := e["details"].(map[string]any)
	return d
}

// errPaths lists details.errors[].path.
func (r response) errPaths() []string {
	var out []string
	errs, _ := r.errDetails()["errors"].([]any)
	for _, e := range errs {
		m, _ := e.(map[string]any)
		p, _ := m["path"].(string)
		out = append(out, p)
	}
	return out
}

func (c *client) do(method, path string, body any, hdr ...string) response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(c.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	require.NoError(c.t, err)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.workspace != "" {
		req.Header.Set("x-workspace-id", c.workspace)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := c.hc.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	r := response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(c.t, json.Unmarshal(raw, &r.Body), "body: %s", raw)
	}
	return r
}

func (c *client) get(path string) response { c.t.Helper(); return c.do(http.MethodGet, path, nil) }
func (c *client) post(path string, b any) response {
	c.t.Helper()
	return c.do(http.MethodPost, path, b)
}
func (c *client) patch(path string, b any) response {
	c.t.Helper()
	return c.do(http.MethodPatch, path, b)
}
func (c *client) del(path string) response { c.t.Helper(); return c.do(http.MethodDelete, path, nil) }

// mustOK fails unless r is a 2xx success envelope.
func mustOK(t *testing.T, r response) response {
	t.Helper()
	require.True(t, r.Status >= 200 && r.Status < 300, "status %d: %s", r.Status, r.Raw)
	require.Equal(t, true, r.Body["success"], "body: %s", r.Raw)
	return r
}

// mustFail checks an error envelope with status and code.
func mustFail(t *testing.T, r response, status int, code string) response {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %s", r.Raw)
	require.Equal(t, false, r.Body["success"], "body: %s", r.Raw)
	require.Equal(t, code, r.errCode(), "body: %s", r.Raw)
	e, _ := r.Body["error"].(map[string]any)
	require.NotEmpty(t, e["message"], "error.message")
	return r
}

// verifySignature checks X-Webhook-Signature the way the docs say a
// receiver must (as VelaFlows documents it), written independently of the package.
func verifySignature(secret string, body []byte, header string) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(want), []byte(header))
}

// received is one webhook request as a receiver saw it.
type received struct {
	Header http.Header
	Body   []byte
	Event  map[string]any
}

func (r received) eventID() string   { s, _ := r.Event["eventId"].(string); return s }
func (r received) eventType() string { s, _ := r.Event["eventType"].(string); return s }
func (r received) data() map[string]any {
	d, _ := r.Event["data"].(map[string]any)
	return d
}

// receiver is a webhook endpoint that records requests and answers with
// the status its answer function gives (200 by default).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	ch     chan struct{}
	answer func(n int, r received) int // n counts from 1
}

func newReceiver(t *testing.T, answer func(n int, r received) int) *receiver {
	rc := &receiver{ch: make(chan struct{}, 1), answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := received{Header: r.Header.Clone(), Body: body}
		_ = json.Unmarshal(body, &rec.Event)
		rc.mu.Lock()
		rc.got = append(rc.got, rec)
		n, answer := len(rc.got), rc.answer
		rc.mu.Unlock()
		select { // signal arrival before answering: an answer may block
		case rc.ch <- struct{}{}:
		default: // wait re-reads the list, one pending signal is enough
		}
		status := http.StatusOK
		if answer != nil {
			status = answer(n, rec)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// setAnswer replaces the answer function.
func (rc *receiver) setAnswer(f func(n int, r received) int) {
	rc.mu.Lock()
	rc.answer = f
	rc.mu.Unlock()
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// wait waits for n requests in total.
func (rc *receiver) wait(t *testing.T, n int) []received {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if got := rc.all(); len(got) >= n {
			return got
		}
		select {
		case <-rc.ch:
		case <-deadline:
			t.Fatalf("waited for %d webhook requests, got %d", n, len(rc.all()))
		}
	}
}

// fastRetries compresses the documented 1/2/4/8 s schedule a thousandfold
// and ends retrying after the fast phase.
func fastRetries() []velaflowstest.Option {
	return []velaflowstest.Option{
		velaflowstest.WithRetrySchedule(time.Millisecond, 2*time.Millisecond, 4*time.Millisecond, 8*time.Millisecond),
		velaflowstest.WithRedeliveryWindow(0),
	}
}

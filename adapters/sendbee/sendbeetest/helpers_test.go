package sendbeetest_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// signToken is Sendbee's auth token, written independently of the package:
// base64(ts + "." + lowercase hex HMAC-SHA256(secret, ts)).
func signToken(secret string, ts int64) string {
	t := strconv.FormatInt(ts, 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(t))
	return base64.StdEncoding.EncodeToString([]byte(t + "." + hex.EncodeToString(mac.Sum(nil))))
}

// verifyToken checks a webhook X-Authorization value the way a receiver
// would, as the PHP SDK does: decode, split on ".", rebuild the token from
// the timestamp and compare.
func verifyToken(secret, token string, now time.Time) error {
	plain, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return err
	}
	parts := strings.Split(string(plain), ".")
	if len(parts) != 2 {
		return fmt.Errorf("want 2 parts, got %d", len(parts))
	}
	ts, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return err
	}
	if now.Unix()-ts > 900 || ts-now.Unix() > 60 {
		return fmt.Errorf("timestamp %d out of window", ts)
	}
	if !hmac.Equal([]byte(signToken(secret, ts)), []byte(token)) {
		return fmt.Errorf("bad signature")
	}
	return nil
}

// clock is a settable clock for WithClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// apiClient makes raw, signed API requests.
type apiClient struct {
	t      *testing.T
	base   string
	key    string
	secret string
	now    func() time.Time
	hc     *http.Client
}

func newClient(t *testing.T, s *sendbeetest.Server) *apiClient {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &apiClient{t: t, base: s.URL(), key: s.APIKey(), secret: s.APISecret(), now: time.Now,
		hc: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// response is a decoded API answer.
type response struct {
	Status  int
	Header  http.Header
	Raw     []byte
	Data    json.RawMessage `json:"data"`
	Meta    *meta           `json:"meta"`
	Links   *links          `json:"links"`
	Warning string          `json:"warning"`
	Error   json.RawMessage `json:"error"`
}

type meta struct {
	CurrentPage int `json:"current_page"`
	LastPage    int `json:"last_page"`
	PerPage     int `json:"per_page"`
	Total       int `json:"total"`
	From        int `json:"from"`
	To          int `json:"to"`
}

type links struct {
	First *string `json:"first"`
	Last  *string `json:"last"`
	Prev  *string `json:"prev"`
	Next  *string `json:"next"`
}

type apiErr struct {
	Detail string `json:"detail"`
	Type   string `json:"type"`
}

func (r *response) err(t *testing.T) apiErr {
	t.Helper()
	var e apiErr
	require.NoError(t, json.Unmarshal(r.Error, &e), "error body: %s", r.Raw)
	return e
}

func (r *response) decode(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Data, v), "data: %s", r.Raw)
}

// request sends method path?query with body (nil, a string sent raw, or a
// value encoded as JSON) and the given header tweaks.
func (c *apiClient) request(method, path, query string, body any, hdr map[string]string) *response {
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
	u := c.base + path
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequest(method, u, rd)
	require.NoError(c.t, err)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", c.key)
	req.Header.Set("X-Auth-Token", signToken(c.secret, c.now().Unix()))
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.hc.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	r := &response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	require.NoError(c.t, json.Unmarshal(raw, r), "body %q", raw)
	return r
}

func (c *apiClient) get(path, query string) *response {
	return c.request(http.MethodGet, path, query, nil, nil)
}
func (c *apiClient) post(path string, body any) *response {
	return c.request(http.MethodPost, path, "", body, nil)
}
func (c *apiClient) put(path string, body any) *response {
	return c.request(http.MethodPut, path, "", body, nil)
}
func (c *apiClient) del(path string, body any) *response {
	return c.request(http.MethodDelete, path, "", body, nil)
}

// mustOK fails unless r is 200.
func mustOK(t *testing.T, r *response) *response {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Raw)
	return r
}

// hook is one webhook request seen by a receiver.
type hook struct {
	Header   http.Header
	Body     []byte
	SigErr   error
	Envelope struct {
		ID         string          `json:"id"`
		Type       string          `json:"type"`
		BusinessID string          `json:"business_id"`
		CreatedAt  int64           `json:"created_at"`
		Data       json.RawMessage `json:"data"`
	}
}

// receiver is a webhook endpoint that verifies signatures and answers with
// the status chosen by answer (200 when nil). answer gets the 1-based
// number of the request.
type receiver struct {
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	hooks  []hook
	answer func(n int, h hook, w http.ResponseWriter) int
}

func newReceiver(t *testing.T, secret string, answer func(n int, h hook, w http.ResponseWriter) int) *receiver {
	t.Helper()
	rc := &receiver{secret: secret, answer: answer}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := hook{Header: r.Header.Clone(), Body: body}
		h.SigErr = verifyToken(rc.secret, r.Header.Get("X-Authorization"), time.Now())
		_ = json.Unmarshal(body, &h.Envelope)
		rc.mu.Lock()
		rc.hooks = append(rc.hooks, h)
		n := len(rc.hooks)
		rc.mu.Unlock()
		status := http.StatusOK
		if rc.answer != nil {
			status = rc.answer(n, h, w)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) got() []hook {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hook(nil), rc.hooks...)
}

// uuidRE matches the UUID form the API uses for IDs.
const uuidRE = `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`

// Seeded IDs (documented in doc.go).
const (
	anaConv   = "5eedc0de-0000-4000-8000-000000000001"
	markoConv = "5eedc0de-0000-4000-8000-000000000002"
	ivanaID   = "5eedae00-0000-4000-8000-000000000001"
	supportID = "5eed7ea0-0000-4000-8000-000000000001"
	salesID   = "5eed7ea0-0000-4000-8000-000000000002"
	leadTagID = "5eed7a90-0000-4000-8000-000000000001"
	cityField = "5eedf1e1-0000-4000-8000-000000000001"
)

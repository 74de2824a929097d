package velaflows_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows"
)

// Credentials and path prefix of the fake API.
const (
	testToken     = "sk_test_Zq8xP2mN4vR7tY1wK5jH9bC3dF6gL0sA2eU4iO8p"
	testWorkspace = "64f1a2b3c4d5e6f7a8b9c0d1"
	testPrefix    = "/api/v1"
)

// A fakeRequest is a request as the fake API received it, prefix removed.
type fakeRequest struct {
	Method string
	Path   string // escaped, without the prefix
	Query  url.Values
	Body   []byte
	Header http.Header
	Time   time.Time
}

// A fakeAPI is a small, strict stand-in for the VelaFlows API, written
// independently of the package under test: it serves under testPrefix,
// checks the Bearer token and x-workspace-id, requires the JSON content
// headers and JSON object bodies, and answers unknown routes with a 404
// envelope (and fails the test unless allowUnknown is set).
type fakeAPI struct {
	t   *testing.T
	srv *httptest.Server // nil for an in-process fake

	mu           sync.Mutex
	reqs         []fakeRequest
	routes       map[string]http.HandlerFunc
	allowUnknown bool
}

// newFakeAPI starts a fake on a loopback listener.
func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, routes: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

// newInProcessFake returns a fake reached through an in-memory transport,
// for tests inside a synctest bubble (no network, so the fake clock runs).
func newInProcessFake(t *testing.T) *fakeAPI {
	t.Helper()
	return &fakeAPI{t: t, routes: map[string]http.HandlerFunc{}}
}

// baseURL is the API root the clients under test use.
func (f *fakeAPI) baseURL() string {
	if f.srv == nil {
		return "http://velaflows.test" + testPrefix
	}
	return f.srv.URL + testPrefix
}

// handle registers h for "METHOD /path" (path without the prefix, escaped).
func (f *fakeAPI) handle(method, path string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[method+" "+path] = h
}

// reply registers a fixed answer; header holds name, value pairs.
func (f *fakeAPI) reply(method, path string, status int, body string, header ...string) {
	f.handle(method, path, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, status, body, header...)
	})
}

// requests returns a copy of the recorded requests.
func (f *fakeAPI) requests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.reqs...)
}

// last returns the last recorded request.
func (f *fakeAPI) last(t *testing.T) fakeRequest {
	t.Helper()
	reqs := f.requests()
	require.NotEmpty(t, reqs, "the fake API got no request")
	return reqs[len(reqs)-1]
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path, ok := strings.CutPrefix(r.URL.EscapedPath(), testPrefix+"/")
	if !ok {
		f.t.Errorf("request outside the base path: %s %s", r.Method, r.URL.EscapedPath())
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no route outside "+testPrefix, "")
		return
	}
	rec := fakeRequest{Method: r.Method, Path: "/" + path, Query: r.URL.Query(), Body: body, Header: r.Header.Clone(), Time: time.Now()}
	f.mu.Lock()
	f.reqs = append(f.reqs, rec)
	h := f.routes[r.Method+" "+rec.Path]
	allowUnknown := f.allowUnknown
	f.mu.Unlock()

	if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
		f.t.Errorf("%s %s: Authorization = %q", r.Method, rec.Path, got)
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "Invalid API token", "")
		return
	}
	// The docs write the header in lower case; Go canonicalises it.
	if got := r.Header.Values("x-workspace-id"); len(got) != 1 || got[0] != testWorkspace {
		f.t.Errorf("%s %s: x-workspace-id = %q", r.Method, rec.Path, got)
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "missing x-workspace-id", "")
		return
	}
	for _, name := range []string{"Accept", "Content-Type"} {
		if got := r.Header.Get(name); got != "application/json" {
			f.t.Errorf("%s %s: %s = %q, want application/json", r.Method, rec.Path, name, got)
		}
	}
	if !strings.HasPrefix(r.Header.Get("User-Agent"), "parley-velaflows/") && r.Header.Get("User-Agent") != "custom-agent/1" {
		f.t.Errorf("%s %s: User-Agent = %q", r.Method, rec.Path, r.Header.Get("User-Agent"))
	}
	switch r.Method {
	case http.MethodGet, http.MethodDelete:
		if len(body) != 0 {
			f.t.Errorf("%s %s has a body: %s", r.Method, rec.Path, body)
		}
	default:
		var obj map[string]any
		if err := json.Unmarshal(body, &obj); err != nil {
			f.t.Errorf("%s %s: body is not a JSON object: %s", r.Method, rec.Path, body)
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "body is not JSON", "")
			return
		}
	}
	if limit := r.URL.Query().Get("limit"); limit != "" {
		if n, err := strconv.Atoi(limit); err != nil || n < 1 || n > 100 {
			f.t.Errorf("%s %s: limit = %q", r.Method, rec.Path, limit)
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "limit must be 1..100", "")
			return
		}
	}
	if h == nil {
		if !allowUnknown {
			f.t.Errorf("no route %s %s", r.Method, rec.Path)
		}
		writeError(w, http.StatusNotFound, "NOT_FOUND", "Route "+r.Method+" "+rec.Path+" not found", "")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h(w, r)
}

// writeJSON writes a JSON answer with the rate-limit headers VelaFlows
// sends on every response (unless header sets them).
func writeJSON(w http.ResponseWriter, status int, body string, header ...string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-RateLimit-Limit", "300")
	w.Header().Set("X-RateLimit-Remaining", "297")
	w.Header().Set("X-RateLimit-Reset", "1774362600")
	for i := 0; i+1 < len(header); i += 2 {
		w.Header().Set(header[i], header[i+1])
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// writeError writes the error envelope; details is raw JSON or "".
func writeError(w http.ResponseWriter, status int, code, message, details string, header ...string) {
	body := `{"success":false,"error":{"code":` + strconv.Quote(code) + `,"message":` + strconv.Quote(message)
	if details != "" {
		body += `,"details":` + details
	}
	writeJSON(w, status, body+`}}`, header...)
}

// ok wraps data in the success envelope.
func ok(data string) string { return `{"success":true,"data":` + data + `}` }

// pageJSON is a paginated data member.
func pageJSON(items string, page, limit, total int) string {
	totalPages := 0
	if limit > 0 {
		totalPages = (total + limit - 1) / limit
	}
	return ok(fmt.Sprintf(`{"items":%s,"pagination":{"page":%d,"limit":%d,"total":%d,"totalPages":%d}}`, items, page, limit, total, totalPages))
}

// handlerTransport serves requests in process with h.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	if r.Body == nil {
		r.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// newClient returns a client of the fake API. mod may change the config.
func (f *fakeAPI) newClient(t *testing.T, mod ...func(*velaflows.Config)) *velaflows.Client {
	t.Helper()
	cfg := velaflows.Config{
		Token:       testToken,
		WorkspaceID: testWorkspace,
		BaseURL:     f.baseURL(),
		Logger:      slog.New(slog.DiscardHandler),
	}
	if f.srv == nil {
		cfg.HTTPClient = &http.Client{Transport: handlerTransport{f}}
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := velaflows.NewClient(cfg)
	require.NoError(t, err)
	return c
}

// logBuffer is a concurrency-safe log destination.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// captureLogger returns a Debug-level text logger writing into a buffer.
func captureLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

package sendbee_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/bot/bottest"
)

// Credentials and path prefix of the fake API.
const (
	testKey    = "test-key-7f3a"
	testSecret = "test-secret-c41d"
	testPrefix = "/api"
)

// A fakeRequest is a request as the fake API received it, prefix removed.
type fakeRequest struct {
	Method string
	Path   string
	Query  url.Values
	Body   []byte
	Header http.Header
}

// A fakeAPI is a small, strict stand-in for the Sendbee API, written
// independently of the package under test: it serves under testPrefix,
// checks the API key, verifies the X-Auth-Token with its own HMAC code,
// requires the JSON content headers, and answers unknown routes with 404.
type fakeAPI struct {
	t   *testing.T
	srv *httptest.Server

	mu     sync.Mutex
	reqs   []fakeRequest
	routes map[string]http.HandlerFunc
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, routes: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// handle registers h for "METHOD /path" (path without the prefix).
func (f *fakeAPI) handle(method, path string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[method+" "+path] = h
}

// reply registers a fixed answer.
func (f *fakeAPI) reply(method, path string, status int, body string, header ...string) {
	f.handle(method, path, func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
}

// requests returns a copy of the recorded requests.
func (f *fakeAPI) requests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.reqs...)
}

// baseURL is the API root the clients under test use.
func (f *fakeAPI) baseURL() string { return f.srv.URL + testPrefix }

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path, ok := strings.CutPrefix(r.URL.Path, testPrefix+"/")
	if !ok {
		f.t.Errorf("request outside the base path: %s %s", r.Method, r.URL.Path)
		writeError(w, http.StatusNotFound, "not_found", "no route outside "+testPrefix)
		return
	}
	rec := fakeRequest{Method: r.Method, Path: "/" + path, Query: r.URL.Query(), Body: body, Header: r.Header.Clone()}
	f.mu.Lock()
	f.reqs = append(f.reqs, rec)
	h := f.routes[r.Method+" "+rec.Path]
	f.mu.Unlock()

	if problem := checkAuth(r.Header, time.Now()); problem != "" {
		f.t.Errorf("%s %s: %s", r.Method, rec.Path, problem)
		writeError(w, http.StatusUnauthorized, "authentication_error", problem)
		return
	}
	for _, name := range []string{"Accept", "Content-Type"} {
		if got := r.Header.Get(name); got != "application/json" {
			f.t.Errorf("%s %s: %s = %q, want application/json", r.Method, rec.Path, name, got)
		}
	}
	if r.Method == http.MethodGet && len(body) != 0 {
		f.t.Errorf("GET %s has a body: %s", rec.Path, body)
	}
	if h == nil {
		writeError(w, http.StatusNotFound, "not_found", "no route "+r.Method+" "+rec.Path)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h(w, r)
}

// checkAuth verifies the credential headers the way the platform does,
// with code of its own. It returns "" when they are valid.
func checkAuth(h http.Header, now time.Time) string {
	if h.Get("X-Api-Key") != testKey {
		return "unknown X-Api-Key"
	}
	plain, err := base64.StdEncoding.DecodeString(h.Get("X-Auth-Token"))
	if err != nil {
		return "X-Auth-Token is not Base64"
	}
	parts := strings.Split(string(plain), ".")
	if len(parts) != 2 {
		return "X-Auth-Token is not <ts>.<hmac>"
	}
	ts, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return "X-Auth-Token timestamp is not decimal"
	}
	if d := now.Sub(time.Unix(ts, 0)); d > 15*time.Minute || d < -time.Minute {
		return "X-Auth-Token is stale"
	}
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte(parts[0]))
	if !hmac.Equal([]byte(parts[1]), []byte(hex.EncodeToString(m.Sum(nil)))) {
		return "X-Auth-Token signature mismatch"
	}
	return ""
}

func writeError(w http.ResponseWriter, status int, typ, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"error":{"detail":`+strconv.Quote(detail)+`,"type":`+strconv.Quote(typ)+`}}`)
}

// newClient returns a client of the fake API. mod may change the config.
func (f *fakeAPI) newClient(t *testing.T, mod ...func(*sendbee.Config)) *sendbee.Client {
	t.Helper()
	cfg := sendbee.Config{
		APIKey:    testKey,
		APISecret: testSecret,
		BaseURL:   f.baseURL(),
		Logger:    slog.New(slog.DiscardHandler),
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := sendbee.NewClient(cfg)
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

// bottestLogger is the test kit's logger: output only for failing tests.
func bottestLogger(t *testing.T) *slog.Logger { return bottest.Logger(t) }

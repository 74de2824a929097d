package flowdock_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/bot/bottest"
)

// Credentials, user and path prefix of the fake API.
const (
	testToken     = "tok-5f2c9a"
	testFlowToken = "flowtok-81be"
	testUserID    = "1201"
	testPrefix    = "/api"
)

// A fakeRequest is a request as the fake API received it, prefix removed.
type fakeRequest struct {
	Method string
	// Path is the escaped path below the prefix, such as
	// "/flows/acme/ops/messages".
	Path   string
	Query  url.Values
	Body   []byte
	Header http.Header
	// FlowToken is true when the request authenticated with flow_token.
	FlowToken bool
}

// JSON decodes the recorded body as a JSON object.
func (r fakeRequest) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// A fakeAPI is a small, strict stand-in for the Flowdock REST API, written
// independently of the package under test (it shares no wire types): it
// serves under testPrefix, requires HTTP Basic with the token as the user
// name on every route except the flow-token POST /messages, which must
// carry flow_token in its JSON body and no Authorization, checks the
// Accept and Content-Type headers, rejects GET bodies, and answers unknown
// routes with 404 {"message":"not found"}.
type fakeAPI struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	reqs     []fakeRequest
	routes   map[string]http.HandlerFunc
	prefixes map[string]http.HandlerFunc
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, routes: map[string]http.HandlerFunc{}, prefixes: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// handle registers h for "METHOD /path" (escaped path without the prefix).
func (f *fakeAPI) handle(method, path string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[method+" "+path] = h
}

// handlePrefix registers h for "METHOD /prefix/…": every path below
// prefix that has no exact route.
func (f *fakeAPI) handlePrefix(method, prefix string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prefixes[method+" "+strings.TrimSuffix(prefix, "/")+"/"] = h
}

// reply registers a fixed JSON answer; header holds name/value pairs.
func (f *fakeAPI) reply(method, path string, status int, body string, header ...string) {
	f.handle(method, path, func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
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

// last returns the last recorded request.
func (f *fakeAPI) last(t *testing.T) fakeRequest {
	t.Helper()
	reqs := f.requests()
	require.NotEmpty(t, reqs, "the fake API got no request")
	return reqs[len(reqs)-1]
}

// baseURL is the API root the clients under test use.
func (f *fakeAPI) baseURL() string { return f.srv.URL + testPrefix }

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path, ok := strings.CutPrefix(r.URL.EscapedPath(), testPrefix+"/")
	if !ok {
		f.t.Errorf("request outside the base path: %s %s", r.Method, r.URL.EscapedPath())
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	rec := fakeRequest{Method: r.Method, Path: "/" + path, Query: r.URL.Query(), Body: body, Header: r.Header.Clone()}

	flowTokenRoute := r.Method == http.MethodPost && rec.Path == "/messages"
	var problem string
	if flowTokenRoute {
		rec.FlowToken = true
		problem = checkFlowToken(r.Header, body)
	} else {
		problem = checkBasic(r.Header)
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, rec)
	h := f.routes[r.Method+" "+rec.Path]
	if h == nil {
		best := ""
		for p, ph := range f.prefixes {
			if strings.HasPrefix(r.Method+" "+rec.Path, p) && len(p) > len(best) {
				best, h = p, ph
			}
		}
	}
	f.mu.Unlock()

	if problem != "" {
		f.t.Errorf("%s %s: %s", r.Method, rec.Path, problem)
		writeError(w, http.StatusUnauthorized, problem)
		return
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		f.t.Errorf("%s %s: Accept = %q, want application/json", r.Method, rec.Path, got)
	}
	if r.URL.Query().Has("flow_token") || r.URL.Query().Has("access_token") {
		f.t.Errorf("%s %s: a token in the query string", r.Method, rec.Path)
	}
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodDelete:
		if len(body) != 0 {
			f.t.Errorf("%s %s has a body: %s", r.Method, rec.Path, body)
		}
	default:
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch {
		case err != nil:
			f.t.Errorf("%s %s: bad Content-Type %q", r.Method, rec.Path, r.Header.Get("Content-Type"))
		case mt == "application/json":
			var obj map[string]any
			if err := json.Unmarshal(body, &obj); err != nil {
				f.t.Errorf("%s %s: body is not a JSON object: %s", r.Method, rec.Path, body)
			}
		case mt == "multipart/form-data":
		default:
			f.t.Errorf("%s %s: Content-Type %q", r.Method, rec.Path, mt)
		}
	}
	if h == nil {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	if !flowTokenRoute {
		w.Header().Set("Flowdock-User", testUserID)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h(w, r)
}

// checkBasic verifies HTTP Basic with the token as the user name and any
// password, with code of its own. It returns "" when valid.
func checkBasic(h http.Header) string {
	auth := h.Get("Authorization")
	enc, ok := strings.CutPrefix(auth, "Basic ")
	if !ok {
		return "missing Basic authorization"
	}
	plain, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "Basic credentials are not Base64"
	}
	user, _, _ := strings.Cut(string(plain), ":")
	if user != testToken {
		return "unknown token"
	}
	return ""
}

// checkFlowToken verifies a flow-token post: flow_token in the JSON body,
// no Authorization header.
func checkFlowToken(h http.Header, body []byte) string {
	if h.Get("Authorization") != "" {
		return "flow-token post with an Authorization header"
	}
	var obj struct {
		FlowToken *string `json:"flow_token"`
	}
	if err := json.Unmarshal(body, &obj); err != nil || obj.FlowToken == nil {
		return "missing flow_token in the body"
	}
	if *obj.FlowToken != testFlowToken {
		return "unknown flow_token"
	}
	return ""
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"message":`+strconv.Quote(msg)+`}`)
}

// newClient returns a client of the fake API with both tokens. mod may
// change the config.
func (f *fakeAPI) newClient(t *testing.T, mod ...func(*flowdock.Config)) *flowdock.Client {
	t.Helper()
	cfg := flowdock.Config{
		Token:     testToken,
		FlowToken: testFlowToken,
		BaseURL:   f.baseURL(),
		Logger:    slog.New(slog.DiscardHandler),
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := flowdock.NewClient(cfg)
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

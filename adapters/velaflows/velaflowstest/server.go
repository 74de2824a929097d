package velaflowstest

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// A Server is an in-memory emulator of the VelaFlows public HTTP API and
// of its webhook deliveries. It serves the REST API under [Server.URL],
// control endpoints under "/_sim/" on [Server.RootURL], and POSTs signed
// webhook events to the URLs of the workspace's webhook subscriptions.
//
// All methods are safe for concurrent use by the test goroutine, webhook
// receivers and HTTP clients. Accessors return copies that the caller owns.
// A Server owns its goroutines (HTTP serving, webhook delivery and the
// delivery observer's calls); [Server.Close] stops them and waits for all
// of them. The delivery observer must therefore not call Close on its own
// goroutine, but in a new one.
//
// A Server is also one account of a [Host], which serves several
// workspaces on one listener.
type Server struct {
	cfg      config
	rootURL  string
	handlers map[string]handler
	tokens   []tokenInfo

	hs        *httptest.Server // NewServer
	hsrv      *http.Server     // Start
	stopServe func()           // Start: waits for hsrv.Serve to return

	account string // the workspace's name on a Host; "" for a Server of its own

	closeOnce sync.Once
	done      chan struct{} // closed by Close: aborts slow answers

	hmu      sync.Mutex // guards hclosed and the Add side of inflight
	hclosed  bool
	inflight sync.WaitGroup // HTTP handlers running

	wh *deliverer

	mu       sync.Mutex // guards everything below, then wh.mu (never the reverse)
	st       *state
	requests []Request
	sent     []SentMessage
	sentCh   chan struct{} // closed and replaced when sent grows
	events   []Event
	eventsCh chan struct{} // closed and replaced when events grows
	faults   []fault
	rl       rateLimiter
}

// NewServer starts an emulator on a loopback httptest server and registers
// [Server.Close] with tb.Cleanup. The API is served under "/api/v1" (the
// path of the real base URL) unless [WithPrefix] says otherwise, so
// [Server.URL] looks like "http://127.0.0.1:PORT/api/v1". Invalid options
// fail tb.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := newServer(opts)
	if err != nil {
		tb.Fatal(err)
	}
	// Every field the handlers read is set before the server serves: a
	// request from another process is not ordered after this function
	// by anything else.
	s.hs = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.rootURL = "http://" + s.hs.Listener.Addr().String()
	s.hs.Start()
	tb.Cleanup(s.Close)
	return s
}

// Start starts an emulator on a real listener at addr (such as
// "127.0.0.1:4000", the port of VelaFlows' local gateway, or ":0"), for
// running it as a local server (parley sim velaflows). The API is under
// "/api/v1" as with [NewServer], so VELAFLOWS_BASE_URL=[Server.URL] works.
// The caller must call [Server.Close].
func Start(addr string, opts ...Option) (*Server, error) {
	s, err := newServer(opts)
	if err != nil {
		return nil, err
	}
	ln, root, err := listen(addr)
	if err != nil {
		s.wh.stop()
		return nil, err
	}
	// The root URL is set before the server serves, as in NewServer.
	s.rootURL = root
	s.hsrv, s.stopServe = serve(ln, http.HandlerFunc(s.serveHTTP), s.cfg.logger)
	return s, nil
}

// listen opens a TCP listener at addr and returns it with its root URL,
// which names "localhost" when addr leaves the host unspecified.
func listen(addr string) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("velaflowstest: %w", err)
	}
	host := ln.Addr().String()
	if ta, ok := ln.Addr().(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		_, port, _ := net.SplitHostPort(host)
		host = net.JoinHostPort("localhost", port)
	}
	return ln, "http://" + host, nil
}

// serve serves h on ln in a new goroutine. It returns the http.Server and
// a function that waits for the goroutine to end once the server is
// closed.
func serve(ln net.Listener, h http.Handler, logger *slog.Logger) (*http.Server, func()) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("velaflowstest: serve", "error", err)
		}
	}()
	return srv, func() { <-done }
}

func newServer(opts []Option) (*Server, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return newServerWith(cfg), nil
}

// newConfig applies opts to the defaults and validates the result.
func newConfig(opts []Option) (config, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return config{}, err
	}
	return cfg, nil
}

// newServerWith makes a Server of a validated configuration. It starts
// the delivery observer's goroutine, if there is an observer, so the
// Server must be closed.
func newServerWith(cfg config) *Server {
	s := &Server{
		cfg:      cfg,
		done:     make(chan struct{}),
		st:       newState(),
		sentCh:   make(chan struct{}),
		eventsCh: make(chan struct{}),
		rl:       rateLimiter{windows: map[rateKey]*rateWindow{}},
	}
	s.tokens = append([]tokenInfo{{token: cfg.token, scopes: []string{"*"}}}, cfg.extraTokens...)
	s.handlers = s.handlerTable()
	if cfg.demo {
		s.st.seed(cfg.clock())
	}
	s.wh = newDeliverer(s)
	for _, p := range cfg.subscriptions {
		s.wh.create(p.url, p.secret, p.events, s.now())
	}
	return s
}

// Close stops the server: it stops accepting requests, aborts slow answers,
// abandons webhook events not yet attempted and pending retries, lets
// delivery attempts already in flight finish (for at most 2 seconds, then
// cancels them), and waits for every goroutine the server started, the
// delivery observer's calls included ([WithDeliveryObserver] says what it
// reports meanwhile); no observer call is made after Close returns. The
// observer must not call Close on its own goroutine, as Close would wait
// for the call it runs in: to stop the server from the observer, call
// Close in a new goroutine (go s.Close()). Calling Close more than once is
// safe; a later call waits for the first to finish.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.hmu.Lock()
		s.hclosed = true
		s.hmu.Unlock()
		if s.hs != nil {
			s.hs.Close()
		}
		if s.hsrv != nil {
			_ = s.hsrv.Close()
			s.stopServe()
		}
		s.inflight.Wait()
		s.wh.stop()
	})
}

// URL returns the API base URL, the server root plus the prefix, without a
// trailing slash, such as "http://127.0.0.1:PORT/api/v1". Append
// "/inbox/conversations" and so on.
func (s *Server) URL() string { return s.rootURL + s.cfg.prefix }

// RootURL returns the server root, where the "/_sim/" control endpoints
// live.
func (s *Server) RootURL() string { return s.rootURL }

// Token returns the API token that has every scope (see
// [WithCredentials]).
func (s *Server) Token() string { return s.cfg.token }

// WorkspaceID returns the workspace ID that requests must send in
// x-workspace-id: 24 hex characters, as in REST bodies. Webhook payloads
// carry it too, prefixed with "ws_" under [WithPrefixedIDs].
func (s *Server) WorkspaceID() string { return s.cfg.workspaceID }

func (s *Server) now() time.Time { return s.cfg.clock() }

// serveHTTP serves the control endpoints under "/_sim/" and everything
// else as the API.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.hmu.Lock()
	if s.hclosed {
		s.hmu.Unlock()
		writeAPIError(w, &apiError{status: http.StatusServiceUnavailable, code: codeUnavailable, message: "Server closed"})
		return
	}
	s.inflight.Add(1)
	s.hmu.Unlock()
	defer s.inflight.Done()

	p := r.URL.Path
	if p == "/_sim" || strings.HasPrefix(p, "/_sim/") {
		s.serveSim(w, r)
		return
	}
	prefix := s.cfg.prefix
	switch {
	case prefix == "":
		s.serveAPI(w, r, p, true)
	case p == prefix || strings.HasPrefix(p, prefix+"/"):
		s.serveAPI(w, r, strings.TrimPrefix(p, prefix), true)
	default:
		s.serveAPI(w, r, p, false)
	}
}

// A call is one API request being served.
type call struct {
	s      *Server
	r      *http.Request
	route  routeSpec
	params map[string]string
	query  url.Values
	body   *body
	now    time.Time
	token  *tokenInfo
}

// statusWriter remembers the status and error code written, and calls
// before just before the header goes out, so that a request is recorded
// before the client can see its answer.
type statusWriter struct {
	http.ResponseWriter
	status int
	code   string
	before func()
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
		if w.before != nil {
			w.before()
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) fail(e *apiError) {
	w.code = e.code
	writeAPIError(w, e)
}

// serveAPI runs one API request through the checks, in this order: an
// injected fault; 404 for an unknown path (or one outside the prefix);
// 405 for a known path with another method; 401 UNAUTHORIZED; the
// workspace header (400 when missing, 403 when malformed or wrong); the
// rate limit (429); the scope (403); the body (413, 400); the endpoint.
func (s *Server) serveAPI(raw http.ResponseWriter, r *http.Request, path string, inPrefix bool) {
	now := s.now()
	w := &statusWriter{ResponseWriter: raw}
	rec := Request{
		Method: r.Method, Path: path, RawQuery: r.URL.RawQuery, Query: r.URL.Query(),
		ContentType: r.Header.Get("Content-Type"), UserAgent: r.Header.Get("User-Agent"),
		WorkspaceID: r.Header.Get("X-Workspace-Id"), Time: now,
	}
	tok, authErr := s.authenticate(r)
	if tok != nil {
		rec.TokenPrefix = visiblePrefix(tok.token)
	}
	if authErr != nil {
		rec.AuthError = authErr.message
	}
	// The request is recorded when its answer's header is written (or, for
	// a dropped connection, before the drop), never after: a client that
	// has the answer finds the request in Requests.
	recorded := false
	record := func() {
		if recorded {
			return
		}
		recorded = true
		rec.Status, rec.ErrorCode = w.status, w.code
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
		s.cfg.logger.LogAttrs(r.Context(), slog.LevelInfo, "velaflowstest: api request",
			slog.String("method", r.Method), slog.String("path", path), slog.Int("status", rec.Status),
			slog.String("code", rec.ErrorCode), slog.String("fault", rec.Fault))
	}
	w.before = record
	defer record()

	var spec routeSpec
	var params map[string]string
	var allow []string
	if inPrefix {
		spec, params, allow = matchRoute(r.Method, path)
	}
	if f, ok := s.popFault(); ok {
		rec.Fault = f.name()
		if f.kind == faultReset {
			record() // before the client can see the connection drop
		}
		if s.applyFault(raw, w, r, f, tok, spec) {
			return
		}
	}
	if spec.method == "" {
		if tok != nil && authErr == nil {
			s.setRateHeaders(w.Header(), tok, spec, r.Method, now, false)
		}
		if len(allow) > 0 {
			slices.Sort(allow)
			w.fail(&apiError{
				status: http.StatusMethodNotAllowed, code: codeMethodNotAllowed, allow: strings.Join(allow, ", "),
				message: fmt.Sprintf("Method %s is not allowed on %s", r.Method, path),
			})
			return
		}
		w.fail(&apiError{status: http.StatusNotFound, code: codeNotFound, message: fmt.Sprintf("Route %s %s not found", r.Method, r.URL.Path)})
		return
	}
	rec.Route = spec.key()
	if authErr != nil {
		w.fail(authErr)
		return
	}
	if e := s.checkWorkspace(r); e != nil {
		rec.AuthError = e.message
		s.setRateHeaders(w.Header(), tok, spec, r.Method, now, false)
		w.fail(e)
		return
	}
	rec.Authenticated = true
	if e := s.setRateHeaders(w.Header(), tok, spec, r.Method, now, true); e != nil {
		w.fail(e)
		return
	}
	if scope := s.cfg.scopes[spec.key()]; scope != "" && !hasScope(tok, scope) {
		w.fail(&apiError{
			status: http.StatusForbidden, code: codeForbidden,
			message: "Token lacks required scope " + scope, details: map[string]any{"requiredScope": scope},
		})
		return
	}
	c := &call{s: s, r: r, route: spec, params: params, query: r.URL.Query(), now: now, token: tok}
	if r.Method == http.MethodPost || r.Method == http.MethodPatch || r.Method == http.MethodPut {
		data, e := readBody(w, r)
		if e == nil {
			rec.Body = data
			c.body, e = decodeBody(data)
		}
		if e != nil {
			w.fail(e)
			return
		}
	} else {
		c.body = &body{m: map[string]json.RawMessage{}}
	}
	status, data, e := s.handlers[spec.key()](c)
	if e != nil {
		w.fail(e)
		return
	}
	writeJSON(w, status, wireSuccess{Success: true, Data: data})
}

// readBody reads a JSON request body of at most 1 MiB.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &apiError{status: http.StatusRequestEntityTooLarge, code: codeTooLarge, message: fmt.Sprintf("Request body exceeds %d bytes", maxBody)}
		}
		return nil, badRequest("Cannot read request body: %v", err)
	}
	if len(strings.TrimSpace(string(data))) > 0 {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return nil, badRequest("Content-Type must be application/json")
		}
	}
	return data, nil
}

// authenticate checks "Authorization: Bearer <token>", as documented. It
// returns the token's record, or a 401 error.
func (s *Server) authenticate(r *http.Request) (*tokenInfo, *apiError) {
	h := r.Header.Get("Authorization")
	unauthorized := func(msg string) *apiError {
		return &apiError{status: http.StatusUnauthorized, code: codeUnauthorized, message: msg}
	}
	if h == "" {
		return nil, unauthorized("Missing Authorization header")
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || strings.ContainsAny(tok, " \t") {
		return nil, unauthorized("Malformed Authorization header: want \"Bearer <token>\"")
	}
	for i := range s.tokens {
		if subtle.ConstantTimeCompare([]byte(tok), []byte(s.tokens[i].token)) == 1 {
			return &s.tokens[i], nil
		}
	}
	return nil, unauthorized("Invalid API token")
}

// checkWorkspace checks x-workspace-id (documented); its failure statuses
// are assumed.
func (s *Server) checkWorkspace(r *http.Request) *apiError {
	vs := r.Header.Values("X-Workspace-Id")
	if len(vs) == 0 || strings.TrimSpace(vs[0]) == "" {
		return badRequest("Missing x-workspace-id header")
	}
	ws := strings.TrimSpace(vs[0])
	if len(vs) > 1 || !isObjectID(ws) {
		return &apiError{status: http.StatusForbidden, code: codeForbidden, message: "Invalid workspace id: want 24 hex characters"}
	}
	if !strings.EqualFold(ws, s.cfg.workspaceID) {
		return &apiError{status: http.StatusForbidden, code: codeForbidden, message: "Token does not have access to workspace " + ws}
	}
	return nil
}

func hasScope(t *tokenInfo, scope string) bool {
	return slices.Contains(t.scopes, "*") || slices.Contains(t.scopes, scope)
}

// visiblePrefix is the part of a token the dashboard shows, its first 16
// characters.
func visiblePrefix(token string) string {
	if len(token) <= 16 {
		return ""
	}
	return token[:16]
}

// sleepCtx waits d, until ctx is done, or until the server closes; it
// reports whether the whole wait elapsed.
func (s *Server) sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

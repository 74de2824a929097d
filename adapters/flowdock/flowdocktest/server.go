package flowdocktest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Path prefixes of the two "hosts" on the main emulator listener.
const (
	apiPrefix    = "/api"    // api.flowdock.com
	streamPrefix = "/stream" // stream.flowdock.com
	s3Prefix     = "/_s3/"   // the short-lived file download URLs (S3 on the real service)
)

// A Server is an in-memory emulator of the Flowdock REST API (under
// [Server.URL]) and its streaming API (under [Server.StreamURL]), with
// control endpoints under "/_sim/" on [Server.RootURL]. [NewServer] serves
// both APIs from one address under two path prefixes; [Start] serves them
// on two addresses, as the real service does.
//
// All methods are safe for concurrent use. Accessors return copies that the
// caller owns. The Server owns its goroutines (the HTTP server, one
// handler per open stream and the connection observer's calls);
// [Server.Close] ends every stream and waits for all of them. The
// connection observer must therefore not call Close on its own goroutine,
// but in a new one.
type Server struct {
	cfg  config
	log  *slog.Logger
	hs   *httptest.Server
	root string
	// restPrefix is where REST lives on hs: "/api" for NewServer, "" (the
	// root, with "/api" as an alias) for Start.
	restPrefix string
	hsStream   *httptest.Server // Start: the stream's own address
	streamRoot string           // its URL; "" for NewServer
	s3Key      []byte
	closed     chan struct{}         // closed when Close starts
	once       sync.Once             // runs Close once
	rep        *reporter[connReport] // nil without an observer

	mu         sync.Mutex // guards everything below
	users      map[int]*user
	userList   []*user
	byToken    map[string]*user
	byEmail    map[string]*user
	bot        *user
	orgs       []*org
	flows      []*flow
	flowByID   map[string]*flow
	flowByPath map[string]*flow
	flowTokens map[string]*flow
	chats      map[[2]int]*chat
	files      map[string]*file
	threadSeq  int

	events     []logEntry // the stream event log, ascending seq
	seq        uint64     // last assigned stream event id
	conns      map[*streamConn]struct{}
	connCh     chan struct{} // closed and replaced when conns changes
	dropCh     chan struct{} // closed and replaced by DropConnections
	stallUntil time.Time
	failStream []int
	failREST   []int
	dropWrites []int // faultReset, faultLoseAnswer
	lastIDs    []string

	requests []Request
	sent     []SentMessage
	sentCh   chan struct{} // closed and replaced when sent grows
	// integration are the flow-token posts of the REST API, as posted.
	integration []Message
}

// NewServer starts an emulator on a loopback httptest server and registers
// [Server.Close] with tb.Cleanup. The REST API is served under "/api" and
// the stream under "/stream", so that [Server.URL] is
// "http://127.0.0.1:PORT/api" and [Server.StreamURL] is
// "http://127.0.0.1:PORT/stream". Invalid options fail tb.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := newServer(opts)
	if err != nil {
		tb.Fatal(err)
	}
	// Every field the handlers read is set before the server serves: a
	// request from another process is not ordered after this function
	// by anything else.
	s.restPrefix = apiPrefix
	s.hs = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.root = "http://" + s.hs.Listener.Addr().String()
	s.hs.Start()
	tb.Cleanup(s.Close)
	return s
}

// Start starts an emulator on real listeners, for running it as a local
// server (parley sim flowdock), with the layout of the real service: the
// REST API at the root of addr (such as "127.0.0.1:8703" or ":0"), as on
// api.flowdock.com, and the streaming API at the root of an address of its
// own, as on stream.flowdock.com ([Server.URL] and [Server.StreamURL]).
// The stream's address is [WithStreamAddr], by default the host of addr
// with the next port (8704 for 8703), or a port the system picks when
// addr's port is 0. For clients configured for [NewServer]'s layout, the
// main address also serves REST under "/api" and the stream under
// "/stream". Control endpoints stay under "/_sim/" on [Server.RootURL],
// which is [Server.URL]. The caller must call [Server.Close].
func Start(addr string, opts ...Option) (*Server, error) {
	s, err := newServer(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.rep.stop()
		return nil, fmt.Errorf("flowdocktest: %w", err)
	}
	streamAddr := s.cfg.streamAddr
	if streamAddr == "" {
		streamAddr = nextPortAddr(addr, ln.Addr())
	}
	sln, err := net.Listen("tcp", streamAddr)
	if err != nil {
		_ = ln.Close()
		s.rep.stop()
		return nil, &StreamListenError{Addr: streamAddr, Err: err}
	}
	s.restPrefix = ""
	s.hs, s.root = serveOn(ln, s.serveHTTP)
	s.hsStream, s.streamRoot = serveOn(sln, s.serveStreamHost)
	return s, nil
}

// A StreamListenError is the error of [Start] when it cannot listen on the
// stream's address: the one of [WithStreamAddr], or by default the port
// after addr's.
type StreamListenError struct {
	Addr string // the address Start tried to listen on
	Err  error  // the listener's error
}

func (e *StreamListenError) Error() string {
	return "flowdocktest: stream listener: " + e.Err.Error() + " (choose its address with WithStreamAddr)"
}

func (e *StreamListenError) Unwrap() error { return e.Err }

// serveOn serves h on ln and returns the server and its URL.
func serveOn(ln net.Listener, h http.HandlerFunc) (*httptest.Server, string) {
	hs := httptest.NewUnstartedServer(h)
	_ = hs.Listener.Close()
	hs.Listener = ln
	hs.Config.ReadHeaderTimeout = 10 * time.Second
	hs.Start()
	host := ln.Addr().String()
	if ta, ok := ln.Addr().(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		host = net.JoinHostPort("localhost", strconv.Itoa(ta.Port))
	}
	return hs, "http://" + host
}

// nextPortAddr returns the address of the stream listener when none is
// configured: the host of requested with the port after the one got, or
// port 0 when requested asked for any port.
func nextPortAddr(requested string, got net.Addr) string {
	host, port, err := net.SplitHostPort(requested)
	ta, ok := got.(*net.TCPAddr)
	if err != nil || !ok || port == "" || port == "0" || ta.Port >= 65535 {
		return net.JoinHostPort(host, "0")
	}
	return net.JoinHostPort(host, strconv.Itoa(ta.Port+1))
}

func newServer(opts []Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	users, flows, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	lg := cfg.logger
	if lg == nil {
		lg = slog.Default()
	}
	s := &Server{
		cfg:        cfg,
		log:        lg.With("component", "flowdocktest"),
		s3Key:      []byte(randomHex(16)),
		closed:     make(chan struct{}),
		users:      map[int]*user{},
		byToken:    map[string]*user{},
		byEmail:    map[string]*user{},
		flowByID:   map[string]*flow{},
		flowByPath: map[string]*flow{},
		flowTokens: map[string]*flow{},
		chats:      map[[2]int]*chat{},
		files:      map[string]*file{},
		conns:      map[*streamConn]struct{}{},
		connCh:     make(chan struct{}),
		dropCh:     make(chan struct{}),
		sentCh:     make(chan struct{}),
	}
	now := cfg.clock()
	for _, u := range users {
		x := &user{id: u.ID, nick: u.Nick, name: u.Name, email: u.Email, avatar: u.Avatar, token: u.Token, pw: u.Password}
		s.users[x.id] = x
		s.userList = append(s.userList, x)
		s.byToken[x.token] = x
		s.byEmail[strings.ToLower(x.email)] = x
	}
	s.bot = s.users[cfg.bot.ID]
	for _, f := range flows {
		o := s.orgByParamLocked(f.Org)
		if o == nil {
			name := f.OrgName
			if name == "" {
				name = capitalise(f.Org)
			}
			o = &org{id: len(s.orgs) + 1, name: name, param: f.Org}
			s.orgs = append(s.orgs, o)
		}
		x := &flow{
			id: f.ID, name: f.DisplayName, param: f.Name, org: o, access: f.AccessMode,
			token: f.FlowToken, sourceID: len(s.flows) + 1, sourceName: f.SourceName, created: now,
			members: map[int]bool{}, byID: map[int]*message{}, uuids: map[string]bool{},
			threads: map[string]*thread{}, extThreads: map[string]*thread{},
		}
		for _, id := range f.Members {
			x.members[id] = true
		}
		s.flows = append(s.flows, x)
		s.flowByID[x.id] = x
		s.flowByPath[x.path()] = x
		s.flowTokens[x.token] = x
	}
	if cfg.demo {
		s.seedDemo()
	}
	if cfg.observer != nil {
		s.rep = newConnReporter(cfg.observer)
	}
	return s, nil
}

// Close ends every open stream, stops the server and waits for all its
// handlers and the connection observer's calls to return
// ([WithConnectionObserver] says what it reports meanwhile); no observer
// call is made after Close returns. The observer must not call Close on
// its own goroutine, as Close would wait for the call it runs in: to stop
// the server from the observer, call Close in a new goroutine
// (go s.Close()). Calling Close more than once is safe; a later call
// waits for the first to finish.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closed)
		// Streams return as soon as they see closed; give them a moment,
		// then cut connections whose writes are blocked by a client that
		// stopped reading.
		deadline := time.NewTimer(time.Second)
		defer deadline.Stop()
	wait:
		for {
			s.mu.Lock()
			n, ch := len(s.conns), s.connCh
			s.mu.Unlock()
			if n == 0 {
				break
			}
			select {
			case <-ch:
			case <-deadline.C:
				s.hs.CloseClientConnections()
				if s.hsStream != nil {
					s.hsStream.CloseClientConnections()
				}
				break wait
			}
		}
		if s.hsStream != nil {
			s.hsStream.Close()
		}
		s.hs.Close()
		s.rep.stop()
	})
}

// URL returns the base URL of the REST API (the api.flowdock.com of the
// emulator), without a trailing slash: "http://127.0.0.1:PORT/api" for
// [NewServer], the root of the main address for [Start].
func (s *Server) URL() string { return s.root + s.restPrefix }

// StreamURL returns the base URL of the streaming API (the
// stream.flowdock.com of the emulator), without a trailing slash:
// "http://127.0.0.1:PORT/stream" for [NewServer], the root of the
// stream's own address for [Start]. Append "/flows?filter=acme/main".
func (s *Server) StreamURL() string {
	if s.streamRoot != "" {
		return s.streamRoot
	}
	return s.root + streamPrefix
}

// RootURL returns the root of the main address, where the "/_sim/"
// control endpoints live.
func (s *Server) RootURL() string { return s.root }

// Token returns the bot's personal API token.
func (s *Server) Token() string { return s.bot.token }

// BotID returns the bot's user id.
func (s *Server) BotID() int { return s.bot.id }

// UserToken returns the personal API token of the user with the given id
// or nick, or "" if there is no such user.
func (s *Server) UserToken(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.userRefLocked(user); u != nil {
		return u.token
	}
	return ""
}

// FlowToken returns the integration flow_token of the flow given as
// "org/flow" or flow id, or "" if there is no such flow.
func (s *Server) FlowToken(flowRef string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.flowRefLocked(flowRef); f != nil {
		return f.token
	}
	return ""
}

// FlowID returns the opaque id of the flow given as "org/flow", or "" if
// there is no such flow.
func (s *Server) FlowID(flowRef string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.flowRefLocked(flowRef); f != nil {
		return f.id
	}
	return ""
}

func (s *Server) now() time.Time { return s.cfg.clock() }

// ---- HTTP plumbing ----

// statusWriter records the status code, calls before just before the
// header goes out (so that a request is recorded before the client can see
// its answer), and passes Flush and Unwrap through so that streams can use
// http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	status int
	before func()
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		if w.before != nil {
			w.before()
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// recordOnce sets w to record the request rq as answered when its header is
// written, and returns a function that records it then if it has not been
// (for a handler that writes nothing): a client that has an answer finds
// its request in [Server.Requests].
func (s *Server) recordOnce(w *statusWriter, r *http.Request, rq *Request) func() {
	recorded := false
	rec := func() {
		if !recorded {
			recorded = true
			rq.Status = w.status
			s.record(r, *rq)
		}
	}
	w.before = rec
	return rec
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// apiError is a platform-shaped error: {"message": …, "errors": {field: […]}}.
type apiError struct {
	status  int
	message string
	errors  map[string][]string
}

func errNotFound() *apiError { return &apiError{status: http.StatusNotFound, message: "not found"} }

func errForbidden() *apiError { return &apiError{status: http.StatusForbidden, message: "forbidden"} }

func errBadRequest(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, message: msg}
}

// validation collects field errors for a 400 "Validation error".
type validation map[string][]string

func (v validation) add(field, problem string) { v[field] = append(v[field], problem) }

func (v validation) err() *apiError {
	if len(v) == 0 {
		return nil
	}
	return &apiError{status: http.StatusBadRequest, message: "Validation error", errors: v}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, e *apiError) {
	body := struct {
		Message string              `json:"message"`
		Errors  map[string][]string `json:"errors,omitempty"`
	}{e.message, e.errors}
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="Flowdock"`)
	}
	writeJSON(w, e.status, body)
}

func statusMessage(code int) string {
	if t := http.StatusText(code); t != "" {
		return strings.ToLower(t)
	}
	return "error " + strconv.Itoa(code)
}

// serveHTTP serves the main address: the control endpoints, the file
// downloads, REST under "/api" and the stream under "/stream", and, for
// Start, REST at the root.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.open(w, r) {
		return
	}
	p := r.URL.Path
	atRoot := s.restPrefix == ""
	switch {
	case p == "/_sim" || strings.HasPrefix(p, "/_sim/"):
		s.serveSim(w, r)
	case strings.HasPrefix(p, s3Prefix):
		s.serveS3(w, r)
	case r.Method == http.MethodOptions && (under(p, apiPrefix) || under(p, streamPrefix) || atRoot):
		preflight(w)
	case under(p, apiPrefix):
		s.serveREST(w, r, strings.TrimPrefix(p, apiPrefix))
	case under(p, streamPrefix):
		s.serveStream(w, r, strings.TrimPrefix(p, streamPrefix))
	case atRoot:
		s.serveREST(w, r, p)
	default:
		writeError(w, &apiError{status: http.StatusNotFound, message: "not found: the REST API is under " + apiPrefix + " and the stream under " + streamPrefix})
	}
}

// serveStreamHost serves the stream's own address of Start: the stream at
// the root, nothing else.
func (s *Server) serveStreamHost(w http.ResponseWriter, r *http.Request) {
	if !s.open(w, r) {
		return
	}
	if r.Method == http.MethodOptions {
		preflight(w)
		return
	}
	s.serveStream(w, r, r.URL.Path)
}

// open answers 503 once the server is closing, and sets the CORS headers
// of a request with an Origin; false means r was answered.
func (s *Server) open(w http.ResponseWriter, r *http.Request) bool {
	select {
	case <-s.closed:
		writeError(w, &apiError{status: http.StatusServiceUnavailable, message: "server closed"})
		return false
	default:
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
	}
	return true
}

// preflight answers a CORS preflight request.
func preflight(w http.ResponseWriter) {
	w.Header().Set("Access-Control-Allow-Methods", "POST, PUT, PATCH, DELETE, GET, OPTIONS")
	w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, Last-Event-ID, X-flowdock-wait-for-message")
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

func under(p, prefix string) bool { return p == prefix || strings.HasPrefix(p, prefix+"/") }

// segments splits a path into its non-empty segments, so that the
// double slash of "https://api.flowdock.com/" + "/files/…" still routes.
func segments(p string) []string {
	var out []string
	for seg := range strings.SplitSeq(p, "/") {
		if seg != "" {
			out = append(out, seg)
		}
	}
	return out
}

// ---- authentication ----

// credentials is what a request authenticated as.
type credentials struct {
	user   *user
	method string // "basic", "bearer", "access_token", "email"; "" when none was sent
}

// authenticateLocked resolves the user behind r. It returns (nil, method)
// when credentials were sent but are wrong, and (nil, "") when none were
// sent.
func (s *Server) authenticateLocked(r *http.Request) credentials {
	h := r.Header.Get("Authorization")
	scheme, rest, _ := strings.Cut(h, " ")
	rest = strings.TrimSpace(rest)
	switch {
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return credentials{method: "basic"}
		}
		name, pw, hasColon := strings.Cut(string(raw), ":")
		if u := s.byToken[name]; u != nil {
			return credentials{user: u, method: "basic"}
		}
		if !hasColon {
			return credentials{method: "basic"}
		}
		if u := s.byEmail[strings.ToLower(name)]; u != nil && u.pw != "" && u.pw == pw {
			return credentials{user: u, method: "email"}
		}
		return credentials{method: "basic"}
	case strings.EqualFold(scheme, "Bearer"):
		return credentials{user: s.byToken[rest], method: "bearer"}
	case h != "":
		return credentials{method: "unknown"}
	}
	if t := r.URL.Query().Get("access_token"); t != "" {
		return credentials{user: s.byToken[t], method: "access_token"}
	}
	return credentials{}
}

// ---- request recording ----

func (s *Server) record(r *http.Request, rq Request) {
	rq.Method = r.Method
	rq.RawQuery = redactQuery(r.URL.RawQuery)
	rq.ContentType = r.Header.Get("Content-Type")
	rq.Accept = r.Header.Get("Accept")
	rq.UserAgent = r.Header.Get("User-Agent")
	rq.Authorization = r.Header.Get("Authorization") != ""
	rq.Time = s.now()
	s.mu.Lock()
	s.requests = append(s.requests, rq)
	s.mu.Unlock()
	s.log.LogAttrs(r.Context(), slog.LevelDebug, "request",
		slog.String("method", rq.Method), slog.String("path", rq.Path),
		slog.Int("status", rq.Status), slog.Int("user", rq.User))
}

// redactQuery hides access_token and flow_token values.
func redactQuery(q string) string {
	if q == "" {
		return q
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, _, ok := strings.Cut(p, "=")
		if ok && (k == "access_token" || k == "flow_token") {
			parts[i] = k + "=REDACTED"
		}
	}
	return strings.Join(parts, "&")
}

// readBody reads at most limit bytes of the request body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
}

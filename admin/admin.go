package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
)

// Prefix is the path under which [Handler] serves the API. Mount the
// handler there (or at the root): mux.Handle(admin.Prefix, h).
const Prefix = "/admin/v1/"

// Defaults of the options.
const (
	// DefaultHeartbeat is how often an idle event stream gets a comment
	// line, so that proxies and clients see it alive.
	DefaultHeartbeat = 15 * time.Second
	// DefaultConversationLimit is how many conversations the handler
	// remembers; the least recently active are forgotten first.
	DefaultConversationLimit = 1000
	// MaxBodyBytes caps a request's body.
	MaxBodyBytes = 64 << 10
)

// An Option configures a [Handler].
type Option func(*config)

type config struct {
	token     string
	text      bool
	flows     *flow.Engine
	explain   Explainer
	logger    *slog.Logger
	heartbeat time.Duration
	convLimit int
}

// WithToken makes every request need the header "Authorization: Bearer
// token"; others are answered 401. Spaces around token are ignored.
// Without a token (or with a blank one) the handler answers only requests
// that a browser page of another site cannot make: see "Security" in the
// package documentation.
func WithToken(token string) Option {
	return func(c *config) { c.token = strings.TrimSpace(token) }
}

// WithMessageText makes the API show what customers wrote: the text of
// dead letters and the values a conversation's flow saved. Without it,
// the API shows identifiers, errors and the names of the values only.
func WithMessageText() Option { return func(c *config) { c.text = true } }

// WithFlows gives the flow engine whose state the conversation detail
// shows: the active flow, its step and its values.
func WithFlows(e *flow.Engine) Option { return func(c *config) { c.flows = e } }

// WithExplainer makes POST /admin/v1/explain available, answered by f.
func WithExplainer(f Explainer) Option { return func(c *config) { c.explain = f } }

// WithLogger sets where the handler logs the failures it answers 500.
// Default: the Bot's logger.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithHeartbeat sets how often an idle event stream gets a comment line
// (default [DefaultHeartbeat]; 0 or less keeps the default).
func WithHeartbeat(d time.Duration) Option { return func(c *config) { c.heartbeat = d } }

// WithConversationLimit sets how many conversations the handler remembers
// (default [DefaultConversationLimit]; 0 or less keeps the default).
func WithConversationLimit(n int) Option { return func(c *config) { c.convLimit = n } }

// An Explainer says how the bot's rules decide on m, for POST
// /admin/v1/explain. It runs no action. m is built from the request, its
// Owner set from the request or, when the request names a conversation,
// the Bot's record of it. It is called concurrently.
type Explainer func(ctx context.Context, m *bot.Message) (*Explanation, error)

// An Explanation is what an [Explainer] says of a message: each rule in
// the order the router tries them, and the same as a table for people.
type Explanation struct {
	Rules []ExplainedRule `json:"rules"`
	// Table is the explanation as text, one line per rule, as "parley rules
	// explain" prints it.
	Table string `json:"table"`
}

// An ExplainedRule is what one rule made of the message.
type ExplainedRule struct {
	Rule     string `json:"rule"`
	Priority int    `json:"priority"`
	// Result is "matched", "not matched", "error" or "skipped".
	Result string `json:"result"`
	// Runs reports whether its actions run for the message.
	Runs bool `json:"runs"`
	// DecidedBy is the part of the rule that decided the result.
	DecidedBy string `json:"decided_by,omitempty"`
	Error     string `json:"error,omitempty"`
	// Actions say what its actions would do, when it runs.
	Actions  []ExplainedAction `json:"actions,omitempty"`
	Observer bool              `json:"observer,omitempty"`
	Global   bool              `json:"global,omitempty"`
	// Flow marks the flow waiting in the conversation (Rule is its name,
	// Step the step it waits at); Fallback the rules' fallback.
	Flow     bool   `json:"flow,omitempty"`
	Step     string `json:"step,omitempty"`
	Fallback bool   `json:"fallback,omitempty"`
}

// An ExplainedAction is what an action of a rule would do.
type ExplainedAction struct {
	Kind   string `json:"kind"`   // "reply", "handoff", "set", …
	Detail string `json:"detail"` // what it would do, for people
}

// server is the Handler.
type server struct {
	b      *bot.Bot
	cfg    config
	logger *slog.Logger
	token  [sha256.Size]byte // of cfg.token
	mux    *http.ServeMux
	convs  *tracker
}

// Handler returns the admin API of b, served under [Prefix]; see the
// package documentation for its paths. For its list of conversations it
// follows b's event feed while b runs, from a task of b's (see
// bot.Bot.Background) when built before Run, else from a goroutine that
// ends when Run returns: it starts nothing that outlives b. The handler
// is safe for concurrent use.
func Handler(b *bot.Bot, opts ...Option) http.Handler {
	cfg := config{heartbeat: DefaultHeartbeat, convLimit: DefaultConversationLimit}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.heartbeat <= 0 {
		cfg.heartbeat = DefaultHeartbeat
	}
	if cfg.convLimit <= 0 {
		cfg.convLimit = DefaultConversationLimit
	}
	s := &server{b: b, cfg: cfg, logger: cfg.logger, mux: http.NewServeMux()}
	if s.logger == nil {
		s.logger = b.Logger()
	}
	s.logger = s.logger.With("component", "admin")
	s.token = sha256.Sum256([]byte(cfg.token))
	s.convs = newTracker(cfg.convLimit)
	s.convs.start(b)

	s.route("events", map[string]http.HandlerFunc{http.MethodGet: s.events})
	s.route("dead-letters", map[string]http.HandlerFunc{http.MethodGet: s.deadLetters})
	s.route("dead-letters/{id}", map[string]http.HandlerFunc{http.MethodGet: s.deadLetter, http.MethodDelete: s.discard})
	s.route("dead-letters/{id}/replay", map[string]http.HandlerFunc{http.MethodPost: s.replay})
	s.route("conversations", map[string]http.HandlerFunc{http.MethodGet: s.conversations})
	s.route("conversations/{platform}/{conversation}", map[string]http.HandlerFunc{http.MethodGet: s.conversation})
	s.route("conversations/{platform}/{conversation}/handoff", map[string]http.HandlerFunc{http.MethodPost: s.setOwner(bot.OwnerHuman)})
	s.route("conversations/{platform}/{conversation}/resume", map[string]http.HandlerFunc{http.MethodPost: s.setOwner(bot.OwnerBot)})
	s.route("jobs", map[string]http.HandlerFunc{http.MethodGet: s.jobs})
	s.route("jobs/{name}/run", map[string]http.HandlerFunc{http.MethodPost: s.runJob})
	s.route("rules", map[string]http.HandlerFunc{http.MethodGet: s.rules})
	s.route("explain", map[string]http.HandlerFunc{http.MethodPost: s.explainMessage})
	s.route("stats", map[string]http.HandlerFunc{http.MethodGet: s.stats})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "admin: no such path: "+r.URL.Path)
	})
	return s
}

// route serves path, under Prefix, with a handler per method; other
// methods are answered 405 with Allow.
func (s *server) route(path string, methods map[string]http.HandlerFunc) {
	allow := make([]string, 0, len(methods))
	for m := range methods {
		allow = append(allow, m)
	}
	slices.Sort(allow)
	s.mux.HandleFunc(Prefix+path, func(w http.ResponseWriter, r *http.Request) {
		h := methods[r.Method]
		if h == nil {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("admin: %s %s: allowed: %s", r.Method, r.URL.Path, strings.Join(allow, ", ")))
			return
		}
		h(w, r)
	})
}

// ServeHTTP checks the request (token, or host, origin and content type)
// and serves it.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if s.cfg.token != "" {
		if !s.authorized(r) {
			h.Set("WWW-Authenticate", `Bearer realm="parley admin"`)
			writeError(w, http.StatusUnauthorized, "admin: missing or wrong bearer token")
			return
		}
	} else if status, why := CheckLocal(r); status != 0 {
		why = "admin: without a token (PARLEY_ADMIN_TOKEN), " + why
		writeError(w, status, why)
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	}
	s.mux.ServeHTTP(w, r)
}

// authorized reports whether r carries the token. The comparison takes
// the same time whatever the token given.
func (s *server) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(got[:], s.token[:]) == 1
}

// CheckLocal refuses what a web page of another site could make a
// browser send to a server on this machine: a request to a name that is
// not a loopback one (DNS rebinding), one that came through a proxy
// (which may pass anyone's request with a loopback Host), and a
// state-changing request from another origin or with a body a form can
// send (CSRF). It returns 0 when r may go on, else the status to answer
// and why. The admin API applies it to requests without a token; a local
// tool serving a page that acts on a bot (parley dev) applies it to every
// request.
func CheckLocal(r *http.Request) (int, string) {
	if !IsLoopbackHost(r.Host) {
		return http.StatusForbidden, fmt.Sprintf("Host %q is not a loopback address: only requests to localhost, 127.0.0.1 or [::1] are answered", r.Host)
	}
	for _, h := range proxyHeaders {
		if r.Header.Get(h) != "" {
			// A proxy on this machine may pass anyone's request with a
			// loopback Host.
			return http.StatusForbidden, fmt.Sprintf("a request that came through a proxy (%s) is refused", h)
		}
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
		return 0, ""
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
			return http.StatusForbidden, fmt.Sprintf("Origin %q is not this server's own (%s)", origin, r.Host)
		}
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" && r.ContentLength == 0 {
		return 0, "" // no body: nothing a form could send
	}
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q: want application/json", ct)
	}
	return 0, ""
}

// proxyHeaders are the headers a reverse proxy adds to what it passes on.
var proxyHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "Via"}

// IsLoopbackHost reports whether host, a host or host:port as in a URL or
// a Host header, names the local machine only: "localhost", a name under
// ".localhost", or a loopback IP address (127.0.0.0/8, ::1). Names are not
// resolved.
func IsLoopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "admin: encode the answer: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// An errorBody is the body of every error answer.
type errorBody struct {
	Error string `json:"error"`
}

// writeError answers {"error": msg} with status.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// fail answers err, an error of the Bot or of the handler's helpers, with
// the status its kind calls for; a failure of the server's own is logged.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	var (
		maxErr *http.MaxBytesError
		reqErr *requestError
	)
	switch {
	case errors.Is(err, bot.ErrNotFound), errors.Is(err, bot.ErrUnknownPlatform), errors.Is(err, flow.ErrNoFlow):
		status = http.StatusNotFound
	case errors.Is(err, bot.ErrClosed), errors.Is(err, bot.ErrBusy):
		status = http.StatusServiceUnavailable
	case errors.Is(err, bot.ErrJobRunning):
		status = http.StatusConflict
	case errors.Is(err, context.DeadlineExceeded):
		status = http.StatusGatewayTimeout
	case errors.As(err, &maxErr):
		status = http.StatusRequestEntityTooLarge
	case errors.As(err, &reqErr):
		status = http.StatusBadRequest
	}
	if status == http.StatusInternalServerError && r.Context().Err() == nil { // not the client's going
		s.logger.LogAttrs(r.Context(), slog.LevelWarn, "admin request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	writeError(w, status, err.Error())
}

// A requestError is a malformed request, answered 400.
type requestError struct{ msg string }

func (e *requestError) Error() string { return e.msg }

// badRequest returns a requestError.
func badRequest(format string, args ...any) error {
	return &requestError{msg: "admin: " + fmt.Sprintf(format, args...)}
}

// decodeBody decodes r's JSON body into v, refusing unknown fields and
// trailing data. An empty body leaves v as it is.
func decodeBody(r *http.Request, v any) error {
	if r.Body == nil {
		return nil
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) {
		return nil
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return fmt.Errorf("admin: body over %d bytes: %w", MaxBodyBytes, err)
	}
	if err != nil {
		return badRequest("the body: %v", err)
	}
	if dec.More() {
		return badRequest("the body: more than one JSON value")
	}
	return nil
}

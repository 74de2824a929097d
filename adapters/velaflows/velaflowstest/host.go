package velaflowstest

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// A Host serves several emulated VelaFlows workspaces, its accounts, on
// one listener, so that one bot can be tested against two workspaces at
// once. Each account is a [Server] of its own, made by [Host.Add]: its own
// workspace ID and API tokens, data (conversations, customers, leads,
// tags), rate-limit counters, webhook subscriptions and deliveries, clock,
// faults and records. Every method of Server works on an account as on a
// Server of its own, and the account's [Server.URL] and [Server.RootURL]
// are the host's.
//
// An API request goes to the account that holds its API token (the
// token of "Authorization: Bearer <token>"), and is served there as that
// account's Server would serve it: a request whose x-workspace-id is not
// that account's workspace is 403 FORBIDDEN ("Token does not have access
// to workspace …"), as VelaFlows answers a workspace the token does not
// cover. A request whose token is no account's (or that has none) is
// answered as a Server answers an unknown token: 404 or 405 for a path or
// method that is not the API's, otherwise 401 UNAUTHORIZED; it consumes
// no account's faults or rate limits and is recorded in [Host.Unclaimed].
// A control request (/_sim/) goes to the account named by the query
// parameter account=<name>, which may be left out while the host has one
// account.
//
// All methods are safe for concurrent use. The host owns its accounts
// and the goroutines of its listener: [Host.Close] closes every account
// and the listener, and waits for them.
type Host struct {
	prefix  string
	rootURL string

	hs        *httptest.Server // NewHost
	hsrv      *http.Server     // StartHost
	stopServe func()           // StartHost: waits for hsrv.Serve to return

	refused *Server // answers the requests whose token is no account's

	closeOnce sync.Once

	mu       sync.Mutex // guards accounts and closed
	accounts []*Server  // in the order added
	closed   bool
}

// accountNameRE is what an account name looks like: it goes into a URL
// query and into messages unescaped.
var accountNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// NewHost starts a host with no accounts on a loopback httptest server
// and registers [Host.Close] with tb.Cleanup. The API of every account is
// served under "/api/v1", as by [NewServer].
func NewHost(tb testing.TB) *Host {
	tb.Helper()
	h := newHost("/api/v1")
	// The root URL is set before the host serves, as in NewServer.
	h.hs = httptest.NewUnstartedServer(http.HandlerFunc(h.serveHTTP))
	h.rootURL = "http://" + h.hs.Listener.Addr().String()
	h.refused.rootURL = h.rootURL
	h.hs.Start()
	tb.Cleanup(h.Close)
	return h
}

// StartHost starts a host with no accounts on a real listener at addr
// (such as "127.0.0.1:4000" or ":0"), for running it as a local server.
// The API of every account is served under the path prefix prefix
// ("/api/v1" as on the real base URL, "" for the root); a missing leading
// slash is added and trailing slashes are removed. The caller must call
// [Host.Close].
func StartHost(addr, prefix string) (*Host, error) {
	p, err := cleanPrefix(prefix)
	if err != nil {
		return nil, err
	}
	h := newHost(p)
	ln, root, err := listen(addr)
	if err != nil {
		h.refused.Close()
		return nil, err
	}
	h.rootURL, h.refused.rootURL = root, root
	h.hsrv, h.stopServe = serve(ln, http.HandlerFunc(h.serveHTTP), h.refused.cfg.logger)
	return h, nil
}

func newHost(prefix string) *Host {
	cfg, err := newConfig([]Option{WithoutDemoData()})
	if err != nil {
		panic("velaflowstest: host: " + err.Error()) // the option above is valid
	}
	cfg.prefix = prefix
	h := &Host{prefix: prefix, refused: newServerWith(cfg)}
	h.refused.tokens = nil // it accepts no token
	return h
}

// Add adds an account called name, a workspace configured by opts as
// [NewServer] configures a Server (its token and workspace ID are random
// unless [WithCredentials] sets them), and returns it. Its API is served
// under the host's URL, so [WithPrefix] is refused. name must be 1 to 64
// letters, digits, '.', '_' or '-', starting with a letter or digit; it
// must be new on the host, and so must the account's workspace ID and
// each of its tokens ([WithCredentials], [WithToken]). Closing the account
// ([Server.Close]) stops it alone: requests with its tokens are then
// answered 503, and its name, workspace and tokens stay taken. Add
// returns an error for an invalid name or option, a name, workspace or
// token the host already has, or a closed host.
func (h *Host) Add(name string, opts ...Option) (*Server, error) {
	if !accountNameRE.MatchString(name) {
		return nil, fmt.Errorf("velaflowstest: account name %q: want 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, fmt.Errorf("%w (account %q)", err, name)
	}
	if cfg.prefixSet {
		return nil, fmt.Errorf("velaflowstest: account %q: WithPrefix does not apply to an account: the host serves every account under %s", name, h.URL())
	}
	cfg.prefix = h.prefix
	tokens := append([]tokenInfo{{token: cfg.token}}, cfg.extraTokens...)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, fmt.Errorf("velaflowstest: account %q: the host is closed", name)
	}
	for _, a := range h.accounts {
		switch {
		case a.account == name:
			return nil, fmt.Errorf("velaflowstest: account %q: the host already has an account of that name", name)
		case a.cfg.workspaceID == cfg.workspaceID:
			return nil, fmt.Errorf("velaflowstest: account %q: workspace %s is account %q's", name, cfg.workspaceID, a.account)
		}
		for _, t := range tokens {
			if a.holds(t.token) {
				return nil, fmt.Errorf("velaflowstest: account %q: token %.16s… is account %q's: every account needs tokens of its own", name, t.token, a.account)
			}
		}
	}
	// Made under the lock, after the checks: a Server made here must be
	// closed, and h.Close closes those in h.accounts.
	s := newServerWith(cfg)
	s.rootURL, s.account = h.rootURL, name
	h.accounts = append(h.accounts, s)
	return s, nil
}

// holds reports whether token is one of s's tokens, compared in constant
// time.
func (s *Server) holds(token string) bool {
	found := false
	for i := range s.tokens {
		if subtle.ConstantTimeCompare([]byte(token), []byte(s.tokens[i].token)) == 1 {
			found = true
		}
	}
	return found
}

// Account returns the account called name, or nil if the host has none
// of that name.
func (h *Host) Account(name string) *Server {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range h.accounts {
		if a.account == name {
			return a
		}
	}
	return nil
}

// URL returns the API base URL of every account, the host root plus the
// prefix, without a trailing slash.
func (h *Host) URL() string { return h.rootURL + h.prefix }

// RootURL returns the host root, where the "/_sim/" control endpoints
// live.
func (h *Host) RootURL() string { return h.rootURL }

// Unclaimed returns the API requests that no account took because their
// token was no account's or missing, oldest first, recorded as
// [Server.Requests] records them.
func (h *Host) Unclaimed() []Request { return h.refused.Requests() }

// Close closes every account, as [Server.Close] does, then stops the
// listener and waits for its handlers. Calling Close more than once is
// safe; a later call waits for the first to finish.
func (h *Host) Close() {
	h.closeOnce.Do(func() {
		h.mu.Lock()
		h.closed = true
		accounts := h.accounts
		h.mu.Unlock()
		// The accounts first: closing one aborts its slow answers, which
		// the listener would otherwise wait for.
		for _, s := range accounts {
			s.Close()
		}
		h.refused.Close()
		if h.hs != nil {
			h.hs.Close()
		}
		if h.hsrv != nil {
			_ = h.hsrv.Close()
			h.stopServe()
		}
	})
}

// serveHTTP sends a control request to the account it names and an API
// request to the account that holds its token.
func (h *Host) serveHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/_sim" || strings.HasPrefix(p, "/_sim/") {
		h.serveSim(w, r)
		return
	}
	h.byToken(r).serveHTTP(w, r)
}

// byToken returns the account that holds the bearer token of r, or
// h.refused.
func (h *Host) byToken(r *http.Request) *Server {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return h.refused
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	found := h.refused
	for _, a := range h.accounts {
		if a.holds(tok) {
			found = a
		}
	}
	return found
}

// serveSim serves a control request with the account named by the query
// parameter account.
func (h *Host) serveSim(w http.ResponseWriter, r *http.Request) {
	if why := foreignPage(r); why != "" {
		http.Error(w, "the emulator's controls refuse this request: "+why, http.StatusForbidden)
		return
	}
	name := r.URL.Query().Get("account")
	h.mu.Lock()
	var s *Server
	names := make([]string, len(h.accounts))
	for i, a := range h.accounts {
		names[i] = a.account
		if a.account == name {
			s = a
		}
	}
	if name == "" && len(h.accounts) == 1 {
		s = h.accounts[0]
	}
	h.mu.Unlock()
	switch {
	case s != nil:
		s.serveHTTP(w, r)
	case len(names) == 0:
		writeAPIError(w, &apiError{status: http.StatusNotFound, code: codeNotFound, message: "The host has no accounts yet"})
	case name == "":
		writeAPIError(w, badRequest("The host has %d accounts (%s): name one with the query parameter account=<name>",
			len(names), strings.Join(names, ", ")))
	default:
		writeAPIError(w, &apiError{status: http.StatusNotFound, code: codeNotFound, message: fmt.Sprintf(
			"No account %q on the host (query parameter account); its accounts: %s", name, strings.Join(names, ", "))})
	}
}

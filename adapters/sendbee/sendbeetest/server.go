package sendbeetest

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// A Server is an in-memory emulator of the Sendbee (AI Number) public API v2
// and of its webhooks. It serves the REST API under [Server.URL], control
// endpoints under "/_sim/" on [Server.RootURL], and delivers signed
// webhook events to the configured URL.
//
// All methods are safe for concurrent use, by the test goroutine, by
// handlers of the webhook receiver and by HTTP clients alike. Accessors
// return copies that the caller owns. A Server owns its goroutines (the
// HTTP server, webhook delivery and the delivery observer's calls);
// [Server.Close] stops and waits for all of them. The delivery observer
// must therefore not call Close on its own goroutine, but in a new one.
//
// A Server is also one account of a [Host], which serves several business
// numbers on one listener.
type Server struct {
	cfg     config
	rootURL string
	routes  map[string]route

	hs        *httptest.Server // NewServer
	hsrv      *http.Server     // Start
	stopServe func()           // Start: waits for hsrv.Serve to return

	account string // the account's name on a Host; "" for a Server of its own
	refuse  bool   // accepts no API key: a Host's answer to a key no account has

	closeOnce sync.Once
	done      chan struct{} // closed by Close: aborts delays

	hmu      sync.Mutex // guards hclosed and the Add side of handlers
	hclosed  bool
	handlers sync.WaitGroup // in-flight HTTP handlers

	wh *deliverer

	clockMu sync.Mutex    // guards offset
	offset  time.Duration // business clock minus the configured clock

	mu       sync.Mutex // guards everything below
	st       *state
	requests []Request
	sent     []SentMessage
	sentCh   chan struct{} // closed and replaced when sent grows
	events   []Event
	faults   []fault
	warnNext []string
	msgFails []string
	rl       rateWindow
}

// NewServer starts an emulator on a loopback httptest server and registers
// [Server.Close] with tb.Cleanup. The API is served under the path prefix
// "/api" unless [WithPrefix] says otherwise, so [Server.URL] looks like
// "http://127.0.0.1:PORT/api". Invalid options fail tb.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := newServer("/api", opts)
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
// "127.0.0.1:8089" or ":0"), for running it as a local server (parley sim
// sendbee). The API is served at the root unless [WithPrefix] is given. The
// caller must call [Server.Close].
func Start(addr string, opts ...Option) (*Server, error) {
	s, err := newServer("", opts)
	if err != nil {
		return nil, err
	}
	ln, root, err := listen(addr)
	if err != nil {
		s.Close()
		return nil, err
	}
	// The root URL is set before the server serves, as in NewServer.
	s.rootURL = root
	s.hsrv, s.stopServe = serve(ln, http.HandlerFunc(s.serveHTTP), s.logf)
	return s, nil
}

// listen opens a TCP listener at addr and returns it with its root URL,
// which names "localhost" when addr leaves the host unspecified.
func listen(addr string) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	host := ln.Addr().String()
	if ta, ok := ln.Addr().(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		host = net.JoinHostPort("localhost", strings.TrimPrefix(host[strings.LastIndex(host, ":"):], ":"))
	}
	return ln, "http://" + host, nil
}

// serve serves h on ln in a new goroutine. It returns the http.Server and
// a function that waits for the goroutine to end once the server is
// closed.
func serve(ln net.Listener, h http.Handler, logf func(string, ...any)) (*http.Server, func()) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logf("serve: %v", err)
		}
	}()
	return srv, func() { <-done }
}

func newServer(prefix string, opts []Option) (*Server, error) {
	cfg, err := newConfig(prefix, opts)
	if err != nil {
		return nil, err
	}
	return newServerWith(cfg), nil
}

// newConfig applies opts to the defaults and validates the result.
func newConfig(prefix string, opts []Option) (config, error) {
	cfg := defaultConfig(prefix)
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
		cfg:    cfg,
		done:   make(chan struct{}),
		st:     newState(),
		sentCh: make(chan struct{}),
	}
	s.routes = s.apiRoutes()
	if cfg.demo {
		s.st.seed(cfg.clock())
	}
	s.wh = newDeliverer(&s.cfg)
	return s
}

// Close stops the server: it stops accepting requests, aborts pending
// delays and webhook waits, abandons webhook events not yet delivered, and
// waits for in-flight HTTP handlers, delivery goroutines and the delivery
// observer's calls to return ([WithDeliveryObserver] says what it reports
// meanwhile); no observer call is made after Close returns. The observer
// must not call Close on its own goroutine, as Close would wait for the
// call it runs in: to stop the server from the observer, call Close in a
// new goroutine (go s.Close()). Calling Close more than once is safe; a
// later call waits for the first to finish.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.wh.stop()
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
		s.handlers.Wait()
		s.wh.wait()
	})
}

// URL returns the base URL of the API, the server root plus the prefix,
// without a trailing slash: append "/contacts" and so on.
func (s *Server) URL() string { return s.rootURL + s.cfg.prefix }

// RootURL returns the server root, where the "/_sim/" control endpoints
// live.
func (s *Server) RootURL() string { return s.rootURL }

// APIKey returns the API key the server accepts in X-Api-Key.
func (s *Server) APIKey() string { return s.cfg.apiKey }

// APISecret returns the API secret that X-Auth-Token must be signed with.
func (s *Server) APISecret() string { return s.cfg.apiSecret }

// WebhookSecret returns the secret that signs X-Authorization on webhooks.
func (s *Server) WebhookSecret() string { return s.cfg.webhookSecret }

// BusinessID returns the business ID sent in webhook payloads.
func (s *Server) BusinessID() string { return s.cfg.businessID }

func (s *Server) now() time.Time { return s.cfg.clock() }

func (s *Server) logf(format string, args ...any) {
	if s.cfg.logger != nil {
		s.cfg.logger.Printf("sendbeetest: "+format, args...)
	}
}

// serveHTTP serves the API under the prefix and the control endpoints under
// "/_sim/".
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.hmu.Lock()
	if s.hclosed {
		s.hmu.Unlock()
		http.Error(w, "sendbeetest: server closed", http.StatusServiceUnavailable)
		return
	}
	s.handlers.Add(1)
	s.hmu.Unlock()
	defer s.handlers.Done()

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

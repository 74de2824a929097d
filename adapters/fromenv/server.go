package fromenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parleybot/parley/bot"
)

// Defaults of the HTTP servers Run serves, each overridden by the
// variable named beside it. Webhook requests are small and come from
// platforms that give up after seconds (VelaFlows after 10), so a request
// still being read after DefaultReadTimeout is already lost; the limits
// bound what a request from anyone, before any signature is checked, can
// hold: its headers for DefaultReadHeaderTimeout, its body for
// DefaultReadTimeout, an idle connection for DefaultIdleTimeout, and
// DefaultMaxInFlight webhook bodies (each up to its adapter's cap, 1 MiB
// by default) at once.
const (
	// DefaultAddr is the public address (PARLEY_ADDR).
	DefaultAddr = "127.0.0.1:8080"
	// DefaultReadHeaderTimeout bounds reading a request's headers
	// (PARLEY_READ_HEADER_TIMEOUT; a value above the read timeout is
	// lowered to it).
	DefaultReadHeaderTimeout = 5 * time.Second
	// DefaultReadTimeout bounds reading a whole request, body included
	// (PARLEY_READ_TIMEOUT): a body sent more slowly is cut off.
	DefaultReadTimeout = 10 * time.Second
	// DefaultWriteTimeout bounds a request from the end of its headers to
	// the end of its answer (PARLEY_WRITE_TIMEOUT). It is above the
	// webhook adapters' wait for a full queue (5s) and the readiness
	// checks' timeout (2s).
	DefaultWriteTimeout = 30 * time.Second
	// DefaultIdleTimeout is how long a keep-alive connection may wait for
	// its next request (PARLEY_IDLE_TIMEOUT).
	DefaultIdleTimeout = 30 * time.Second
	// DefaultShutdownTimeout is how long the servers wait, once the Bot
	// has stopped, for the requests they are answering
	// (PARLEY_SHUTDOWN_TIMEOUT); then they close what is left.
	DefaultShutdownTimeout = 5 * time.Second
	// DefaultMaxInFlight is how many webhook requests are served at once
	// (PARLEY_MAX_IN_FLIGHT); more are answered 503 with Retry-After.
	DefaultMaxInFlight = 64
	// MaxHeaderBytes caps a request's headers, on every address.
	MaxHeaderBytes = 64 << 10
)

// busyRetryAfter is the Retry-After of a webhook request refused because
// PARLEY_MAX_IN_FLIGHT are being served.
const busyRetryAfter = "5"

// serverConfig is the configuration of Run's servers.
type serverConfig struct {
	addr, adminAddr   string // "" when unset
	adminToken        string // PARLEY_ADMIN_TOKEN; "" when unset
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
	shutdownTimeout   time.Duration
	maxInFlight       int
}

func defaultServerConfig() serverConfig {
	return serverConfig{
		readHeaderTimeout: DefaultReadHeaderTimeout,
		readTimeout:       DefaultReadTimeout,
		writeTimeout:      DefaultWriteTimeout,
		idleTimeout:       DefaultIdleTimeout,
		shutdownTimeout:   DefaultShutdownTimeout,
		maxInFlight:       DefaultMaxInFlight,
	}
}

// serverConfigFromEnv reads the servers' variables; a malformed one is an
// error naming it.
func serverConfigFromEnv(getenv func(string) string) (serverConfig, error) {
	c := defaultServerConfig()
	c.addr = strings.TrimSpace(getenv("PARLEY_ADDR"))
	c.adminAddr = strings.TrimSpace(getenv("PARLEY_ADMIN_ADDR"))
	c.adminToken = strings.TrimSpace(getenv("PARLEY_ADMIN_TOKEN"))
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{
		{"PARLEY_READ_HEADER_TIMEOUT", &c.readHeaderTimeout},
		{"PARLEY_READ_TIMEOUT", &c.readTimeout},
		{"PARLEY_WRITE_TIMEOUT", &c.writeTimeout},
		{"PARLEY_IDLE_TIMEOUT", &c.idleTimeout},
		{"PARLEY_SHUTDOWN_TIMEOUT", &c.shutdownTimeout},
	} {
		if err := positiveDuration(getenv, d.name, d.dst); err != nil {
			return serverConfig{}, err
		}
	}
	n, err := positiveInt(getenv, "PARLEY_MAX_IN_FLIGHT")
	if err != nil {
		return serverConfig{}, err
	}
	if n > 0 {
		c.maxInFlight = n
	}
	return c, nil
}

// positiveDuration reads the variable name as a positive duration ("10s",
// "1m30s") into dst; unset (or empty) leaves dst as it is.
func positiveDuration(getenv func(string) string, name string, dst *time.Duration) error {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("%s=%q: want a positive duration such as 10s or 1m", name, v)
	}
	*dst = d
	return nil
}

// connStates counts a server's connections that are answering a request,
// as http.Server.ConnState reports them.
type connStates struct {
	mu     sync.Mutex
	states map[net.Conn]http.ConnState
}

// track is an http.Server's ConnState hook.
func (c *connStates) track(conn net.Conn, st http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st == http.StateClosed || st == http.StateHijacked {
		delete(c.states, conn)
		return
	}
	if c.states == nil {
		c.states = map[net.Conn]http.ConnState{}
	}
	c.states[conn] = st
}

// active returns how many connections are answering a request.
func (c *connStates) active() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, st := range c.states {
		if st == http.StateActive {
			n++
		}
	}
	return n
}

// httpServer returns a server of h with c's timeouts.
func (c serverConfig) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(c.readHeaderTimeout, c.readTimeout),
		ReadTimeout:       c.readTimeout,
		WriteTimeout:      c.writeTimeout,
		IdleTimeout:       c.idleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}

// limitInFlight serves at most n requests of h at once and answers the
// others 503 with Retry-After, at once and without reading their bodies.
func limitInFlight(h http.Handler, n int) http.Handler {
	slots := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			h.ServeHTTP(w, r)
		default:
			w.Header().Set("Retry-After", busyRetryAfter)
			w.Header().Set("Connection", "close") // the body is not read
			http.Error(w, "too many requests in progress; retry later", http.StatusServiceUnavailable)
		}
	})
}

// Serve runs b beside an HTTP server for h on addr (default
// [DefaultAddr]) with the default timeouts and header cap
// ([DefaultReadHeaderTimeout], [DefaultReadTimeout],
// [DefaultWriteTimeout], [DefaultIdleTimeout], [MaxHeaderBytes]).
// The server outlives the Bot by its drain (webhooks that arrive then are
// answered 503, and the platform delivers them again), then shuts down.
func Serve(ctx context.Context, b *bot.Bot, h http.Handler, addr string, logger *slog.Logger) error {
	cfg := defaultServerConfig()
	cfg.addr = addr
	return serve(ctx, b, cfg, h, nil, logger, nil)
}

// serve runs b beside a server for public on cfg.addr (default
// DefaultAddr; none when public is nil) and one for admin on
// cfg.adminAddr (none when it is empty). Once they listen, announce, if not
// nil, gets the address of each, by the variable that sets it.
func serve(ctx context.Context, b *bot.Bot, cfg serverConfig, public, admin http.Handler, logger *slog.Logger, announce func(addrs map[string]string)) error {
	type server struct {
		variable, addr string
		h              http.Handler
		ln             net.Listener
		srv            *http.Server
		served         chan error
		busy           connStates
	}
	var servers []*server
	if public != nil {
		addr := cfg.addr
		if addr == "" {
			addr = DefaultAddr
		}
		servers = append(servers, &server{variable: "PARLEY_ADDR", addr: addr, h: public})
	}
	if cfg.adminAddr != "" {
		servers = append(servers, &server{variable: "PARLEY_ADMIN_ADDR", addr: cfg.adminAddr, h: admin})
	}
	for i, s := range servers {
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			for _, prev := range servers[:i] {
				prev.ln.Close()
			}
			return fmt.Errorf("%s=%s: %w", s.variable, s.addr, err)
		}
		s.ln = ln
	}
	for _, s := range servers {
		s.srv = cfg.httpServer(s.h)
		s.srv.ConnState = s.busy.track
		s.served = make(chan error, 1)
		go func() { s.served <- s.srv.Serve(s.ln) }()
		logger.Info("serving HTTP", "variable", s.variable, "addr", s.ln.Addr().String())
	}
	if announce != nil {
		addrs := make(map[string]string, len(servers))
		for _, s := range servers {
			addrs[s.variable] = s.ln.Addr().String()
		}
		announce(addrs)
	}

	errs := []error{b.Run(ctx)}
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	for _, s := range servers {
		if err := s.srv.Shutdown(shutCtx); err != nil {
			// net/http waits up to five seconds for a connection that has
			// sent no request yet; such a connection has nothing to lose.
			if n := s.busy.active(); n > 0 {
				errs = append(errs, fmt.Errorf("shut down the server on %s: %w (%d requests cut off)", s.variable, err, n))
			}
			s.srv.Close()
		}
		if err := <-s.served; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

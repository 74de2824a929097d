package jetstream

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/parleybot/parley/internal/redact"
)

// defaultReadyTimeout bounds how long StartEmbedded waits for the server to
// accept connections.
const defaultReadyTimeout = 10 * time.Second

// A Server is an embedded nats-server with JetStream enabled and file
// storage, running inside this process. It listens on the loopback
// interface on a port chosen by the operating system.
//
// Start one with [StartEmbedded] and stop it with [Server.Shutdown].
type Server struct {
	ns   *server.Server
	lock *dirLock // nil when the options left no data directory
}

// An EmbeddedOption adjusts the server started by [StartEmbedded].
type EmbeddedOption func(*embeddedOptions)

type embeddedOptions struct {
	readyTimeout time.Duration
	tweaks       []func(*server.Options)
}

// WithReadyTimeout sets how long [StartEmbedded] waits for the server to
// accept client connections before giving up (default 10s).
func WithReadyTimeout(d time.Duration) EmbeddedOption {
	return func(o *embeddedOptions) { o.readyTimeout = d }
}

// WithServerOptions lets the caller adjust the nats-server options after
// StartEmbedded has filled them in (for example ServerName, or NoLog=false
// to have the server log to stderr). The data directory, JetStream and the
// loopback listener are set before fn runs; fn may change them, at its own
// risk.
func WithServerOptions(fn func(*server.Options)) EmbeddedOption {
	return func(o *embeddedOptions) { o.tweaks = append(o.tweaks, fn) }
}

// StartEmbedded starts a nats-server in this process with JetStream and
// file storage in dataDir (created if missing), listening on 127.0.0.1 on a
// random free port, and waits until it accepts connections. The server's
// own logging is off and it installs no signal handlers.
//
// Restarting with the same dataDir recovers every stream and KV bucket
// written before [Server.Shutdown].
//
// Two servers must not share a dataDir at the same time: the server holds
// an exclusive lock on the file "parley.lock" in it until Shutdown (the
// operating system releases it when the process dies, however it dies),
// and StartEmbedded refuses a directory another server holds, in this
// process or another, with a [*DataDirInUseError]. The lock is flock(2) on
// Linux, macOS, the BSDs and illumos, and a file no one else may open for
// writing on Windows; on other systems there is none.
func StartEmbedded(dataDir string, opts ...EmbeddedOption) (*Server, error) {
	if dataDir == "" {
		return nil, errors.New("jetstream: StartEmbedded: empty data directory")
	}
	eo := embeddedOptions{readyTimeout: defaultReadyTimeout}
	for _, opt := range opts {
		opt(&eo)
	}
	so := &server.Options{
		Host:      "127.0.0.1",
		Port:      server.RANDOM_PORT,
		JetStream: true,
		StoreDir:  dataDir,
		NoSigs:    true,
		NoLog:     true,
		// No HTTP monitoring, no cluster, no leafnodes: a single durable
		// node for one machine.
	}
	for _, fn := range eo.tweaks {
		fn(so)
	}
	var lock *dirLock
	if so.StoreDir != "" {
		var err error
		if lock, err = lockDataDir(so.StoreDir); err != nil {
			return nil, err
		}
	}
	srv, err := startServer(so, eo.readyTimeout)
	if err != nil {
		lock.release()
		return nil, err
	}
	srv.lock = lock
	return srv, nil
}

// startServer starts and waits for the server of StartEmbedded.
func startServer(so *server.Options, readyTimeout time.Duration) (*Server, error) {
	ns, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("jetstream: StartEmbedded: %w", err)
	}
	if !so.NoLog {
		ns.ConfigureLogger()
	}
	ns.Start()
	if !ns.ReadyForConnections(readyTimeout) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("jetstream: StartEmbedded: server not ready within %v", readyTimeout)
	}
	if !ns.JetStreamEnabled() {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, errors.New("jetstream: StartEmbedded: JetStream did not start")
	}
	return &Server{ns: ns}, nil
}

// ClientURL returns the URL clients use to connect, such as
// "nats://127.0.0.1:41235".
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// Connect returns a client connection to the server over its loopback
// listener. The caller closes it (before [Server.Shutdown], or it will see
// the server go away and, by default, try to reconnect until closed).
func (s *Server) Connect(opts ...nats.Option) (*nats.Conn, error) {
	return Connect(s.ClientURL(), opts...)
}

// NATSServer returns the underlying nats-server, for tests and advanced
// use (monitoring, in-process connections with nats.InProcessServer).
func (s *Server) NATSServer() *server.Server { return s.ns }

// Shutdown stops the server, flushing JetStream state to the data
// directory, and returns once it has stopped and its goroutines have ended;
// then it releases the data directory for another server. It is safe to
// call more than once.
//
// Client connections are not closed by Shutdown: close them first, or they
// keep their own reconnect goroutines running until closed.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
	s.lock.release()
}

// Connect connects to the NATS server or cluster at url (a comma-separated
// list of URLs is accepted, as by nats.Connect), naming the connection
// "parley" unless opts set another name. It is a thin wrapper over
// nats.Connect; the caller closes the connection with Close or Drain. Its
// error names the servers without their user information or query.
func Connect(url string, opts ...nats.Option) (*nats.Conn, error) {
	all := append([]nats.Option{nats.Name("parley")}, opts...)
	nc, err := nats.Connect(url, all...)
	if err != nil {
		return nil, fmt.Errorf("jetstream: connect %s: %w", redact.URLList(url), err)
	}
	return nc, nil
}

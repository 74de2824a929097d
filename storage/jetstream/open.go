package jetstream

import (
	"errors"
	"os"

	"github.com/nats-io/nats.go"
)

// Environment variables read by [Open].
const (
	// EnvURL names the NATS system to connect to (nats.Connect syntax; a
	// comma-separated list of URLs for a cluster).
	EnvURL = "NATS_URL"
	// EnvDataDir is the data directory of the embedded server started when
	// EnvURL is unset.
	EnvDataDir = "PARLEY_DATA_DIR"
)

// A Conn is a client connection opened by [Open], together with the
// embedded server it is connected to, if any.
type Conn struct {
	*nats.Conn
	// Server is the embedded server Open started, or nil when Open
	// connected to NATS_URL.
	Server *Server
}

// Close closes the connection and then shuts the embedded server down, if
// Open started one, waiting for it to stop.
func (c *Conn) Close() {
	c.Conn.Close()
	if c.Server != nil {
		c.Server.Shutdown()
	}
}

// Open connects to NATS as the environment says: to the system at
// $NATS_URL when it is set, and otherwise to an embedded server that it
// starts with its data in $PARLEY_DATA_DIR (see [StartEmbedded]). With
// neither set it fails. opts are passed to nats.Connect.
func Open(opts ...nats.Option) (*Conn, error) { return open(os.Getenv, opts...) }

func open(getenv func(string) string, opts ...nats.Option) (*Conn, error) {
	if url := getenv(EnvURL); url != "" {
		nc, err := Connect(url, opts...)
		if err != nil {
			return nil, err
		}
		return &Conn{Conn: nc}, nil
	}
	dir := getenv(EnvDataDir)
	if dir == "" {
		return nil, errors.New("jetstream: Open: set " + EnvURL + " to use a NATS system, or " +
			EnvDataDir + " to run an embedded server")
	}
	srv, err := StartEmbedded(dir)
	if err != nil {
		return nil, err
	}
	nc, err := srv.Connect(opts...)
	if err != nil {
		srv.Shutdown()
		return nil, err
	}
	return &Conn{Conn: nc, Server: srv}, nil
}

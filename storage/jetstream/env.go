package jetstream

import (
	"context"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/metrics"
)

// EnvName is the environment variable read by [FromEnv] for the name of
// the bot's streams and buckets (default "PARLEY"); replicas of one bot
// share it.
const EnvName = "PARLEY_NAME"

// Durable is what [FromEnv] opened: the bot options that make a Bot
// durable, and the metrics and readiness check of its NATS connection. The
// zero Durable (nothing configured) has no options, metrics or checks, and
// its Close does nothing.
type Durable struct {
	// Options are bot.WithBroker and bot.WithStore, for bot.New.
	Options []bot.Option
	// Collectors report the NATS connection and the Broker's backlog
	// ([NewCollector]); Checks fail readiness while NATS is unreachable
	// ([ConnectedCheck]).
	Collectors []prometheus.Collector
	Checks     []metrics.Check
	// Conn is the connection (and embedded server), nil when nothing was
	// configured.
	Conn *Conn
}

// Close closes the connection and the embedded server, if any. Call it
// after the Bot's Run has returned.
func (d *Durable) Close() {
	if d.Conn != nil {
		d.Conn.Close()
	}
}

// nameOf returns the name $PARLEY_NAME gives the bot's streams and
// buckets, DefaultBrokerName when it is unset.
func nameOf(getenv func(string) string) string {
	if name := getenv(EnvName); name != "" {
		return name
	}
	return DefaultBrokerName
}

// StateFromEnv opens the Store a bot built with [FromEnv] keeps its state
// in (the bucket "<name>_STATE" of $PARLEY_NAME), on the NATS the
// environment names as FromEnv does, without a Broker: for a tool that
// shares the bot's state, such as a broadcast's progress. With neither
// $NATS_URL nor $PARLEY_DATA_DIR set it returns a nil Store and Conn.
// The caller closes the Conn.
func StateFromEnv(ctx context.Context, getenv func(string) string) (*Store, *Conn, error) {
	if getenv(EnvURL) == "" && getenv(EnvDataDir) == "" {
		return nil, nil, nil
	}
	c, err := open(getenv)
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(c.Conn)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	st, err := NewStore(ctx, js, nameOf(getenv)+"_STATE")
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return st, c, nil
}

// FromEnv makes a bot durable when its environment asks for it: with
// $NATS_URL or $PARLEY_DATA_DIR set it opens NATS as [Open] does (a cluster,
// or an embedded server with its data in the directory), reconnecting
// without limit, and creates a [Broker] and a [Store] (bucket
// "<name>_STATE") named by $PARLEY_NAME. The returned Durable holds the bot
// options that use them, and the connection's metrics and readiness check.
// With neither variable set it returns the zero Durable, and the Bot keeps
// everything in memory.
//
// getenv is os.Getenv in a program; tests pass their own. logger is the
// Broker's logger, and FromEnv logs where the queues are to it; with a nil
// logger the Broker logs to the Bot's logger and FromEnv to slog.Default().
func FromEnv(ctx context.Context, getenv func(string) string, logger *slog.Logger, opts ...BrokerOption) (*Durable, error) {
	if getenv(EnvURL) == "" && getenv(EnvDataDir) == "" {
		return &Durable{}, nil
	}
	c, err := open(getenv, nats.MaxReconnects(-1))
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(c.Conn)
	if err != nil {
		c.Close()
		return nil, err
	}
	name := nameOf(getenv)
	all := append([]BrokerOption{WithBrokerName(name), WithBrokerLogger(logger)}, opts...)
	br, err := NewBroker(ctx, js, all...)
	if err != nil {
		c.Close()
		return nil, err
	}
	store, err := NewStore(ctx, js, name+"_STATE")
	if err != nil {
		c.Close()
		return nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	where := "embedded server in " + getenv(EnvDataDir)
	if c.Server == nil {
		where = "NATS at " + c.ConnectedUrlRedacted()
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "durable queues and state on JetStream", slog.String("where", where), slog.String("name", name))
	return &Durable{
		Options:    []bot.Option{bot.WithBroker(br), bot.WithStore(store)},
		Collectors: []prometheus.Collector{NewCollector(c.Conn, br)},
		Checks:     []metrics.Check{ConnectedCheck(c.Conn)},
		Conn:       c,
	}, nil
}

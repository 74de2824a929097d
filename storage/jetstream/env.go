package jetstream

import (
	"context"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/parleybot/parley/bot"
)

// EnvName is the environment variable read by [FromEnv] for the name of
// the bot's streams and buckets (default "PARLEY"); replicas of one bot
// share it.
const EnvName = "PARLEY_NAME"

// FromEnv makes a bot durable when its environment asks for it: with
// $NATS_URL or $PARLEY_DATA_DIR set it opens NATS as [Open] does (a cluster,
// or an embedded server with its data in the directory), creates a [Broker]
// and a [Store] (bucket "<name>_STATE") named by $PARLEY_NAME, and returns
// the bot options that use them — bot.WithBroker and bot.WithStore — and a
// function that closes the connection and the embedded server, to call
// after the Bot's Run has returned. With neither variable set it returns no
// options, so the Bot keeps everything in memory, and a close that does
// nothing.
//
// getenv is os.Getenv in a program; tests pass their own.
func FromEnv(ctx context.Context, getenv func(string) string, logger *slog.Logger, opts ...BrokerOption) ([]bot.Option, func(), error) {
	if getenv(EnvURL) == "" && getenv(EnvDataDir) == "" {
		return nil, func() {}, nil
	}
	if logger == nil {
		logger = slog.Default()
	}
	c, err := open(getenv, nats.MaxReconnects(-1))
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(c.Conn)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	name := getenv(EnvName)
	if name == "" {
		name = DefaultBrokerName
	}
	all := append([]BrokerOption{WithBrokerName(name), WithBrokerLogger(logger)}, opts...)
	br, err := NewBroker(ctx, js, all...)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	store, err := NewStore(ctx, js, name+"_STATE")
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	where := "embedded server in " + getenv(EnvDataDir)
	if c.Server == nil {
		where = "NATS at " + c.ConnectedUrlRedacted()
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "durable queues and state on JetStream", slog.String("where", where), slog.String("name", name))
	return []bot.Option{bot.WithBroker(br), bot.WithStore(store)}, c.Close, nil
}

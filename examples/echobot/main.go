// Echobot is the smallest Parley bot: it repeats what it is told.
//
// With no configuration it chats on the terminal:
//
//	go run ./examples/echobot
//
// Type a line and the bot echoes it; "help" lists the commands; Ctrl-D (end
// of input) or Ctrl-C stops it.
//
// With a platform configured in the environment (SENDBEE_API_KEY,
// VELAFLOWS_API_TOKEN, FLOWDOCK_API_TOKEN, …; see package
// github.com/parleybot/parley/adapters/fromenv for the list) it serves that
// platform instead, receiving webhooks on $PARLEY_ADDR (default
// 127.0.0.1:8080). With NATS_URL (a NATS system) or PARLEY_DATA_DIR (an
// embedded NATS server's data directory) set, its queues and state are
// durable on JetStream (package storage/jetstream). PARLEY_LOG_LEVEL is debug, info, warn (the default) or
// error; logs go to standard error.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/parleybot/parley/adapters/console"
	"github.com/parleybot/parley/adapters/fromenv"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/handlers/echo"
	"github.com/parleybot/parley/handlers/help"
	"github.com/parleybot/parley/storage/jetstream"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // after the first signal, a second one kills at once
	err := run(ctx, os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "echobot:", err)
		os.Exit(1)
	}
}

// run builds the bot from the environment and runs it until ctx is done or
// every adapter's input has ended.
func run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	logger, err := fromenv.Logger(stderr, getenv("PARLEY_LOG_LEVEL"))
	if err != nil {
		return err
	}

	platforms, err := fromenv.Build(ctx, getenv, logger)
	if err != nil {
		return err
	}
	platforms.Out = stderr // the start-up summary
	adapters := platforms.Adapters
	if len(adapters) == 0 { // nothing configured: chat on the terminal
		c, err := console.New(console.Config{In: stdin, Out: stdout, Logger: logger})
		if err != nil {
			return err
		}
		adapters = append(adapters, c)
	}

	// With NATS_URL or PARLEY_DATA_DIR set, the queues and state are
	// durable on JetStream; otherwise they are in memory.
	durable, err := jetstream.FromEnv(ctx, getenv, logger)
	if err != nil {
		return err
	}
	defer durable.Close()
	platforms.Collectors = append(platforms.Collectors, durable.Collectors...)
	platforms.Checks = append(platforms.Checks, durable.Checks...)

	b, err := bot.New(append(durable.Options, bot.WithAdapters(adapters...), bot.WithLogger(logger),
		bot.WithHooks(platforms.Metrics.Hooks()), bot.WithTracerProvider(platforms.Tracer))...)
	if err != nil {
		return err
	}
	b.Handle(bot.Command("help"), help.Handler{Routes: b}, bot.Help("help", "list the commands"))
	b.Handle(bot.Command("echo"), echo.Handler{}, bot.Help("echo <text>", "repeat <text>"))
	b.NotFound(echo.Handler{}) // anything else is echoed whole

	return fromenv.Run(ctx, b, platforms, getenv, logger)
}

// Echobot is the smallest Parley bot: it repeats what it is told.
//
// With no configuration it chats on the terminal:
//
//	go run ./examples/echobot
//
// Type a line and the bot echoes it; "help" lists the commands; Ctrl-D (end
// of input) or Ctrl-C stops it.
//
// Environment:
//
//	PARLEY_LOG_LEVEL  debug, info, warn (the default) or error; logs go to stderr
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/parleybot/parley/adapters/console"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/handlers/echo"
	"github.com/parleybot/parley/handlers/help"
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
	logger, err := newLogger(stderr, getenv("PARLEY_LOG_LEVEL"))
	if err != nil {
		return err
	}

	adapters, err := platforms(getenv, logger)
	if err != nil {
		return err
	}
	if len(adapters) == 0 { // nothing configured: chat on the terminal
		c, err := console.New(console.Config{In: stdin, Out: stdout, Logger: logger})
		if err != nil {
			return err
		}
		adapters = append(adapters, c)
	}

	b, err := bot.New(bot.WithAdapters(adapters...), bot.WithLogger(logger))
	if err != nil {
		return err
	}
	b.Handle(bot.Command("help"), help.Handler{Routes: b}, bot.Help("help", "list the commands"))
	b.Handle(bot.Command("echo"), echo.Handler{}, bot.Help("echo <text>", "repeat <text>"))
	b.NotFound(echo.Handler{}) // anything else is echoed whole

	return b.Run(ctx)
}

// platforms returns the adapters of the chat platforms configured in the
// environment. There are none yet. As the platform adapters arrive, each is
// built here from its own variables, and the webhook adapters are mounted on
// an http.ServeMux that an http.Server serves on $PARLEY_ADDR beside b.Run.
func platforms(getenv func(string) string, logger *slog.Logger) ([]bot.Adapter, error) {
	return nil, nil
}

// newLogger returns a text logger to w at the level named by level
// (PARLEY_LOG_LEVEL): warnings and errors only by default, so that the
// logs do not drown a chat on the terminal.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	levels := map[string]slog.Level{
		"": slog.LevelWarn, "debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
	}
	l, ok := levels[strings.ToLower(strings.TrimSpace(level))]
	if !ok {
		return nil, fmt.Errorf("PARLEY_LOG_LEVEL=%q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

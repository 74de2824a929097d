// Echobot is the smallest Parley bot: it repeats what it is told.
//
// With no configuration it chats on the terminal:
//
//	go run ./examples/echobot
//
// Type a line and the bot echoes it; "help" lists the commands; Ctrl-D (end
// of input) or Ctrl-C stops it.
//
// With a platform configured in the environment it serves that platform
// instead, receiving webhooks on $PARLEY_ADDR:
//
//	PARLEY_LOG_LEVEL    debug, info, warn (the default) or error; logs go to stderr
//	PARLEY_ADDR         where webhooks are served (default 127.0.0.1:8080)
//	SENDBEE_API_KEY     Sendbee: the API key and secret; with both set, the
//	SENDBEE_API_SECRET  bot answers Sendbee webhooks at /webhooks/sendbee
//	SENDBEE_BASE_URL    Sendbee: the API root (default: the real API; the
//	                    emulator of "parley sim sendbee" prints its own)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/parleybot/parley/adapters/console"
	"github.com/parleybot/parley/adapters/sendbee"
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

	adapters, webhooks, err := platforms(getenv, logger)
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

	if webhooks == nil {
		return b.Run(ctx)
	}
	return serve(ctx, b, webhooks, getenv("PARLEY_ADDR"), logger)
}

// serve runs b beside an HTTP server for the platforms' webhooks on addr.
// The server outlives the Bot by its drain (webhooks that arrive then are
// answered 503, and the platform delivers them again), then shuts down.
func serve(ctx context.Context, b *bot.Bot, webhooks http.Handler, addr string, logger *slog.Logger) error {
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("PARLEY_ADDR=%s: %w", addr, err)
	}
	srv := &http.Server{Handler: webhooks, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("serving webhooks", "addr", ln.Addr().String())

	runErr := b.Run(ctx)
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return errors.Join(runErr, fmt.Errorf("shut down the webhook server: %w", err))
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return errors.Join(runErr, err)
	}
	return runErr
}

// platforms returns the adapters of the chat platforms configured in the
// environment, and the handler for their webhooks (nil when none has any).
// A platform whose variables are only partly set is an error naming the
// missing variable.
func platforms(getenv func(string) string, logger *slog.Logger) ([]bot.Adapter, http.Handler, error) {
	var (
		adapters []bot.Adapter
		mux      = http.NewServeMux()
		routes   int
	)
	if key, secret := getenv("SENDBEE_API_KEY"), getenv("SENDBEE_API_SECRET"); key != "" || secret != "" {
		switch {
		case key == "":
			return nil, nil, errors.New("SENDBEE_API_SECRET is set but SENDBEE_API_KEY is not")
		case secret == "":
			return nil, nil, errors.New("SENDBEE_API_KEY is set but SENDBEE_API_SECRET is not")
		}
		sb, err := sendbee.New(sendbee.AdapterConfig{Config: sendbee.Config{
			APIKey: key, APISecret: secret, BaseURL: getenv("SENDBEE_BASE_URL"), Logger: logger,
		}})
		if err != nil {
			return nil, nil, err
		}
		adapters = append(adapters, sb)
		mux.Handle("/webhooks/sendbee", sb)
		routes++
	}
	if routes == 0 {
		return adapters, nil, nil
	}
	return adapters, mux, nil
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

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
//	VELAFLOWS_API_TOKEN       VelaFlows: the API token and workspace; with both
//	VELAFLOWS_WORKSPACE_ID    set, the bot answers deliveries at /webhooks/velaflows
//	VELAFLOWS_BASE_URL        VelaFlows: the API root (default: the real API)
//	VELAFLOWS_WEBHOOK_SECRET  VelaFlows: the secret of a subscription you registered
//	PARLEY_PUBLIC_URL         the bot's public URL; with it, the bot registers its
//	                          VelaFlows webhook subscription itself
//	FLOWDOCK_API_TOKEN   Flowdock: the bot user's personal API token; with it set,
//	                     the bot follows its flows through the streaming API
//	FLOWDOCK_FLOWS       Flowdock: the flows to follow, "org/flow,…" (default all)
//	FLOWDOCK_API_URL     Flowdock: the REST root (default: the real API)
//	FLOWDOCK_STREAM_URL  Flowdock: the streaming root (default: the real one)
//	FLOWDOCK_FLOW_TOKEN  Flowdock: an integration's flow token (optional)
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
	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/velaflows"
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

	adapters, webhooks, err := platforms(ctx, getenv, logger)
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
func platforms(ctx context.Context, getenv func(string) string, logger *slog.Logger) ([]bot.Adapter, http.Handler, error) {
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
	if token, ws := getenv("VELAFLOWS_API_TOKEN"), getenv("VELAFLOWS_WORKSPACE_ID"); token != "" || ws != "" {
		cfg := velaflows.ConfigFromEnv(getenv)
		cfg.Logger = logger
		vf, err := velaflows.New(velaflows.AdapterConfig{Config: cfg, WebhookSecret: getenv(velaflows.EnvWebhookSecret)})
		if err != nil {
			return nil, nil, err
		}
		switch public := getenv("PARLEY_PUBLIC_URL"); {
		case public != "":
			if _, err := vf.EnsureWebhook(ctx, public); err != nil {
				return nil, nil, fmt.Errorf("PARLEY_PUBLIC_URL=%s: %w", public, err)
			}
		case vf.WebhookSecret() == "":
			return nil, nil, fmt.Errorf("VelaFlows needs PARLEY_PUBLIC_URL (to register its webhook) or %s (the secret of one you registered)", velaflows.EnvWebhookSecret)
		}
		adapters = append(adapters, vf)
		mux.Handle(velaflows.WebhookPath, vf)
		routes++
	}
	if getenv(flowdock.EnvToken) != "" {
		cfg := flowdock.AdapterConfig{Config: flowdock.ConfigFromEnv(getenv)}
		cfg.Logger = logger
		cfg.Stream.URL = getenv(flowdock.EnvStreamURL)
		for f := range strings.SplitSeq(getenv(flowdock.EnvFlows), ",") {
			if f = strings.TrimSpace(f); f != "" {
				cfg.Flows = append(cfg.Flows, f)
			}
		}
		fd, err := flowdock.New(cfg)
		if err != nil {
			return nil, nil, err
		}
		adapters = append(adapters, fd) // a streaming adapter: no webhook route
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

// Package fromenv builds the platform adapters a bot is configured for in
// its environment, and runs a bot with the HTTP server its webhook adapters
// need. The example bots and the parley command use it; a bot of your own
// may, or may build its adapters from their Config types directly.
//
// Variables (an adapter is built when its first variables are set; a
// platform whose variables are only partly set is an error naming the
// missing one):
//
//	PARLEY_LOG_LEVEL          debug, info, warn (the default) or error
//	PARLEY_ADDR               where webhooks, /metrics, /healthz and /readyz are
//	                          served (default 127.0.0.1:8080 when there are webhooks)
//	SENDBEE_API_KEY           Sendbee: the API key and secret; webhooks at
//	SENDBEE_API_SECRET        /webhooks/sendbee
//	SENDBEE_BASE_URL          Sendbee: the API root (default: the real API)
//	VELAFLOWS_API_TOKEN       VelaFlows: the API token and workspace;
//	VELAFLOWS_WORKSPACE_ID    deliveries at /webhooks/velaflows
//	VELAFLOWS_BASE_URL        VelaFlows: the API root (default: the real API)
//	VELAFLOWS_WEBHOOK_SECRET  VelaFlows: the secret of a subscription you registered
//	PARLEY_PUBLIC_URL         the bot's public URL; with it, the VelaFlows
//	                          webhook subscription is registered automatically
//	FLOWDOCK_API_TOKEN        Flowdock: the bot user's personal API token
//	FLOWDOCK_FLOWS            Flowdock: the flows to follow, "org/flow,…"
//	FLOWDOCK_API_URL          Flowdock: the REST root (default: the real API)
//	FLOWDOCK_STREAM_URL       Flowdock: the streaming root (default: the real one)
//	FLOWDOCK_FLOW_TOKEN       Flowdock: an integration's flow token (optional)
package fromenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/metrics"
)

// Platforms are the adapters built from the environment.
type Platforms struct {
	// Adapters are the platform adapters, in the order Sendbee, VelaFlows,
	// Flowdock; empty when none is configured.
	Adapters []bot.Adapter
	// Webhooks serves the webhook adapters' routes; nil when no adapter
	// receives webhooks.
	Webhooks http.Handler
}

// Run runs b until ctx is done. When there are webhook routes, or when
// PARLEY_ADDR is set, it serves beside the Bot, on PARLEY_ADDR (default
// 127.0.0.1:8080): the webhooks under /webhooks/, Prometheus metrics of the
// Bot on its own registry at /metrics, /healthz (the process is alive) and
// /readyz (the store answers and every streaming adapter is connected).
func Run(ctx context.Context, b *bot.Bot, p *Platforms, getenv func(string) string, logger *slog.Logger) error {
	addr := getenv("PARLEY_ADDR")
	if p.Webhooks == nil && addr == "" {
		return b.Run(ctx)
	}
	mux := http.NewServeMux()
	if p.Webhooks != nil {
		mux.Handle("/webhooks/", p.Webhooks)
	}
	reg := prometheus.NewRegistry()
	if err := metrics.Register(reg, b); err != nil {
		return err
	}
	mux.Handle("/metrics", metrics.Handler(reg))
	mux.Handle("/healthz", metrics.Healthz())
	checks := []metrics.Check{metrics.StoreCheck(b.Store())}
	for _, a := range p.Adapters {
		if fd, ok := a.(*flowdock.Adapter); ok {
			checks = append(checks, metrics.ConnectedCheck("flowdock", func() bool { return fd.Health().Connected }))
		}
	}
	mux.Handle("/readyz", metrics.Readyz(b, checks...))
	return Serve(ctx, b, mux, addr, logger)
}

// Serve runs b beside an HTTP server for h on addr (default
// 127.0.0.1:8080).
// The server outlives the Bot by its drain (webhooks that arrive then are
// answered 503, and the platform delivers them again), then shuts down.
func Serve(ctx context.Context, b *bot.Bot, h http.Handler, addr string, logger *slog.Logger) error {
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("PARLEY_ADDR=%s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("serving HTTP", "addr", ln.Addr().String())

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

// Build returns the adapters of the chat platforms configured in the
// environment. A platform whose variables are only partly set is an error
// naming the missing variable. With PARLEY_PUBLIC_URL set, it registers the
// VelaFlows webhook subscription (a network call bound to ctx).
func Build(ctx context.Context, getenv func(string) string, logger *slog.Logger) (*Platforms, error) {
	var (
		adapters []bot.Adapter
		mux      = http.NewServeMux()
		routes   int
	)
	if key, secret := getenv("SENDBEE_API_KEY"), getenv("SENDBEE_API_SECRET"); key != "" || secret != "" {
		switch {
		case key == "":
			return nil, errors.New("SENDBEE_API_SECRET is set but SENDBEE_API_KEY is not")
		case secret == "":
			return nil, errors.New("SENDBEE_API_KEY is set but SENDBEE_API_SECRET is not")
		}
		sb, err := sendbee.New(sendbee.AdapterConfig{Config: sendbee.Config{
			APIKey: key, APISecret: secret, BaseURL: getenv("SENDBEE_BASE_URL"), Logger: logger,
		}})
		if err != nil {
			return nil, err
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
			return nil, err
		}
		switch public := getenv("PARLEY_PUBLIC_URL"); {
		case public != "":
			if _, err := vf.EnsureWebhook(ctx, public); err != nil {
				return nil, fmt.Errorf("PARLEY_PUBLIC_URL=%s: %w", public, err)
			}
		case vf.WebhookSecret() == "":
			return nil, fmt.Errorf("VelaFlows needs PARLEY_PUBLIC_URL (to register its webhook) or %s (the secret of one you registered)", velaflows.EnvWebhookSecret)
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
			return nil, err
		}
		adapters = append(adapters, fd) // a streaming adapter: no webhook route
	}
	p := &Platforms{Adapters: adapters}
	if routes > 0 {
		p.Webhooks = mux
	}
	return p, nil
}

// Logger returns a text logger to w at the level named by level
// (PARLEY_LOG_LEVEL): warnings and errors only by default, so that the
// logs do not drown a chat on the terminal.
func Logger(w io.Writer, level string) (*slog.Logger, error) {
	levels := map[string]slog.Level{
		"": slog.LevelWarn, "debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
	}
	l, ok := levels[strings.ToLower(strings.TrimSpace(level))]
	if !ok {
		return nil, fmt.Errorf("PARLEY_LOG_LEVEL=%q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

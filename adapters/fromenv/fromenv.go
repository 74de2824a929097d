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
//	PARLEY_ADDR               where webhooks are served, and /metrics, /healthz,
//	                          /readyz and, on a loopback address only, the admin
//	                          API /admin/v1/, unless PARLEY_ADMIN_ADDR is set
//	                          (default 127.0.0.1:8080 when there are webhooks)
//	PARLEY_ADMIN_ADDR         where /metrics, /healthz, /readyz and the admin API
//	                          /admin/v1/ are served instead, apart from the
//	                          webhooks (default: unset)
//	PARLEY_ADMIN_TOKEN        the bearer token every admin API request needs;
//	                          required for the admin API to listen beyond loopback
//	                          (PARLEY_ADMIN_ADDR=0.0.0.0:9090, say)
//	PARLEY_READ_HEADER_TIMEOUT  a request's headers are read within (default 5s)
//	PARLEY_READ_TIMEOUT       a whole request, body included, is read within
//	                          (default 10s); a body sent more slowly is cut off
//	PARLEY_WRITE_TIMEOUT      a request is answered within, from the end of its
//	                          headers (default 30s)
//	PARLEY_IDLE_TIMEOUT       an idle keep-alive connection is closed after
//	                          (default 30s)
//	PARLEY_SHUTDOWN_TIMEOUT   once the Bot stopped, the requests being answered
//	                          are waited for (default 5s)
//	PARLEY_MAX_IN_FLIGHT      webhook requests served at once (default 64); more
//	                          are answered 503 with Retry-After
//	SENDBEE_API_KEY           Sendbee: the API key and secret; webhooks at
//	SENDBEE_API_SECRET        /webhooks/sendbee
//	SENDBEE_BASE_URL          Sendbee: the API root (default: the real API)
//	SENDBEE_RATE_LIMIT        Sendbee: sends a minute the bot paces itself to
//	                          (default 60, the documented limit per business number)
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
//	SENDBEE_INSTANCES         Sendbee: more business numbers, as named instances,
//	                          "acme,globex" (see below); each is configured by
//	                          SENDBEE_<NAME>_API_KEY and SENDBEE_<NAME>_API_SECRET
//	                          (both required), SENDBEE_<NAME>_BASE_URL and
//	                          SENDBEE_<NAME>_RATE_LIMIT; webhooks at
//	                          /webhooks/sendbee/<name>
//	VELAFLOWS_INSTANCES       VelaFlows: more workspaces, likewise, by
//	                          VELAFLOWS_<NAME>_API_TOKEN and
//	                          VELAFLOWS_<NAME>_WORKSPACE_ID (both required),
//	                          VELAFLOWS_<NAME>_BASE_URL and
//	                          VELAFLOWS_<NAME>_WEBHOOK_SECRET; deliveries at
//	                          /webhooks/velaflows/<name>, registered for
//	                          PARLEY_PUBLIC_URL per workspace
//	FLOWDOCK_INSTANCES        Flowdock: more bot users, likewise, by
//	                          FLOWDOCK_<NAME>_API_TOKEN (required),
//	                          FLOWDOCK_<NAME>_FLOWS, FLOWDOCK_<NAME>_API_URL,
//	                          FLOWDOCK_<NAME>_STREAM_URL and
//	                          FLOWDOCK_<NAME>_FLOW_TOKEN
//	OTEL_EXPORTER_OTLP_ENDPOINT  traces are exported over OTLP/HTTP to this root
//	                          (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); unset, the
//	                          bot does not trace. OTEL_SERVICE_NAME and the other
//	                          standard OTEL_* variables apply; see [Tracing]
//
// # Several accounts
//
// One bot may serve several accounts of a platform: the variables above
// without an instance configure the default instance, whose adapter is
// named by the platform ("sendbee"), and each name listed in
// SENDBEE_INSTANCES (likewise VELAFLOWS_INSTANCES, FLOWDOCK_INSTANCES)
// one more, whose adapter is named "sendbee/<name>" (see
// bot.InstanceName): the Platform of its messages, its label in the
// metrics and its name in the admin API. A name is 1 to 32 of a-z, 0-9,
// '-' and '_' (not first); its variables carry it in upper case with '-'
// as '_' as <NAME>, so "eu-shop" is configured by
// SENDBEE_EU_SHOP_API_KEY. The default instance is optional beside named
// ones. A listed instance without its credentials, one of a pair of
// credentials without the other, an invalid name, and a name listed twice
// (or two names with the same <NAME>, "a-b" and "a_b") are errors naming
// the variable. The start-up summary has a line for each instance.
//
// A configuration error names the variable that points at its cause. A
// platform is on as soon as its first variable is set, so variables left
// from an earlier session turn it on too: such errors say which variable
// did. [Run] prints a start-up summary on standard error whatever the log
// level.
//
// Build the Bot with the hooks of [Platforms.Metrics] for per-platform
// metrics and latency histograms at /metrics; without them Run exports
// the Bot's totals.
//
// The admin API (package admin: the event feed, dead letters,
// conversations, jobs, explain) is served on PARLEY_ADMIN_ADDR, or, when
// that is unset, on PARLEY_ADDR if it is a loopback address (the default
// one is), never on a public address that also takes webhooks from the
// internet. With PARLEY_ADMIN_TOKEN set, every request needs it
// ("Authorization: Bearer <token>"); without it, the API answers only
// requests to a loopback name from the same origin, and Run refuses to
// start when PARLEY_ADMIN_ADDR is not a loopback address. The start-up
// summary says where the API is and whether it needs the token.
package fromenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/admin"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/internal/apiclient"
	"github.com/parleybot/parley/internal/redact"
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
	// Metrics are the Bot's per-platform Prometheus metrics, made by
	// Build. Pass their hooks to bot.New,
	//
	//	bot.New(bot.WithAdapters(p.Adapters...), bot.WithHooks(p.Metrics.Hooks()), …)
	//
	// and Run serves them; a Bot built without them (or a nil Metrics) is
	// served with its process-wide totals only.
	Metrics *metrics.Metrics
	// Collectors and Checks are added by the application to what Run
	// serves: more metrics on the Bot's registry, and more readiness
	// checks for /readyz (a durable store's connection, for example).
	Collectors []prometheus.Collector
	Checks     []metrics.Check
	// Out is where Run prints its start-up summary, whatever the log
	// level. Default: os.Stderr.
	Out io.Writer
	// Admin are options of the admin API Run serves (admin.WithExplainer,
	// admin.WithFlows, …); Run adds the token of PARLEY_ADMIN_TOKEN and
	// its logger.
	Admin []admin.Option
	// Tracer is the TracerProvider of the OTEL_* variables (see Tracing),
	// which the platform clients Build made already use; pass it to
	// bot.New,
	//
	//	bot.WithTracerProvider(p.Tracer)
	//
	// for the Bot's traces. It is a no-op provider while tracing is off.
	// Run shuts it down when it returns; a program that builds Platforms
	// and does not call Run calls Shutdown.
	Tracer trace.TracerProvider

	shutdownTracing func(context.Context) error
	tracing         string // the summary's line about traces; "" when off

	// about describes each adapter Build made, by name, for the summary.
	about map[string]string
	// teamFlows are the Flowdock flows of FLOWDOCK_FLOWS, "org/flow".
	teamFlows []string
}

// Run runs b until ctx is done, beside the HTTP servers its configuration
// asks for (see [Serve] for the server and the package documentation for
// the variables).
//
// Once the servers listen, Run prints a start-up summary to p.Out
// (standard error by default), whatever the log level: the platforms it
// serves and where each talks to, the addresses it listens on, and where
// the state and queues are kept. A bot with no platform adapter (on the
// console) gets none. The summary holds no token or secret.
//
// The public address PARLEY_ADDR (default 127.0.0.1:8080) is served when
// there are webhook routes or when it is set: the webhooks under
// /webhooks/, at most PARLEY_MAX_IN_FLIGHT requests at once (more are
// answered 503 with Retry-After, and the platforms deliver them again).
// The admin routes are Prometheus metrics of the Bot on its own registry
// at /metrics, /healthz (the process is alive) and /readyz (the store
// answers and every streaming adapter is connected), and the admin API
// under /admin/v1/ (package admin, built with p.Admin and the token of
// PARLEY_ADMIN_TOKEN). They are served on PARLEY_ADMIN_ADDR when it is
// set, and else on the public address beside the webhooks, which suits a
// local run: the admin API only when that address is a loopback one and,
// beside webhooks, only with PARLEY_ADMIN_TOKEN (a reverse proxy in front
// of the webhooks would pass anyone's requests to it). Keep
// the admin address off the internet. Run refuses to start when
// PARLEY_ADMIN_ADDR is not a loopback address and PARLEY_ADMIN_TOKEN is
// unset. Set with PARLEY_ADMIN_ADDR and without webhook routes (only
// streaming platforms), the public address serves nothing; the summary
// says so.
//
// The metrics are p.Metrics when b was built with their hooks, else the
// Bot's totals (metrics.Register), plus the stream state of a Flowdock
// adapter (parley_stream_connected, parley_stream_reconnects_total,
// parley_stream_discarded_total, parley_stream_id_outliers_total) and the
// Go runtime's and the process's (go_…, process_…).
func Run(ctx context.Context, b *bot.Bot, p *Platforms, getenv func(string) string, logger *slog.Logger) error {
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			logger.LogAttrs(ctx, slog.LevelWarn, "traces not all exported at shutdown", slog.Any("error", err))
		}
	}()
	cfg, err := serverConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	summary := p.summary(b, getenv)
	if p.Webhooks == nil && cfg.addr == "" && cfg.adminAddr == "" {
		if summary != nil {
			p.printSummary(summary)
		}
		return b.Run(ctx)
	}
	if err := cfg.checkAdminAPI(); err != nil {
		return err
	}
	adminMux, err := p.adminHandler(b, logger, cfg)
	if err != nil {
		return err
	}
	var public http.Handler
	if p.Webhooks != nil || cfg.addr != "" {
		public = p.publicHandler(cfg, adminMux)
	}
	adminRoutes := strings.Join(adminPaths, ", ") + ", " + cfg.apiSummary()
	serves := map[string]string{"PARLEY_ADMIN_ADDR": adminRoutes}
	publicAdmin := adminRoutes
	if !cfg.apiOnPublic(p.Webhooks != nil) {
		why := "PARLEY_ADDR is not a loopback address; set PARLEY_ADMIN_ADDR"
		if cfg.publicLoopback() {
			why = "beside webhooks only with PARLEY_ADMIN_TOKEN; or set PARLEY_ADMIN_ADDR"
		}
		publicAdmin = strings.Join(adminPaths, ", ") + " (not the admin API " + adminAPI + ": " + why + ")"
	}
	switch {
	case p.Webhooks != nil && cfg.adminAddr != "":
		serves["PARLEY_ADDR"] = "webhooks"
	case p.Webhooks != nil:
		serves["PARLEY_ADDR"] = "webhooks, " + publicAdmin
	case cfg.adminAddr != "":
		serves["PARLEY_ADDR"] = "nothing, no platform here takes webhooks"
	default:
		serves["PARLEY_ADDR"] = publicAdmin
	}
	return serve(ctx, b, cfg, public, adminMux, logger, func(addrs map[string]string) {
		for _, v := range []string{"PARLEY_ADDR", "PARLEY_ADMIN_ADDR"} {
			if addr, ok := addrs[v]; ok {
				summary = append(summary, listening(v, addr, serves[v]))
			}
		}
		p.printSummary(summary)
	})
}

// handler returns the mux Run serves for b on a single address, the
// default one.
func (p *Platforms) handler(b *bot.Bot, logger *slog.Logger) (http.Handler, error) {
	cfg := defaultServerConfig()
	adminMux, err := p.adminHandler(b, logger, cfg)
	if err != nil {
		return nil, err
	}
	return p.publicHandler(cfg, adminMux), nil
}

// publicHandler returns the mux of the public address: the webhooks, at
// most cfg.maxInFlight at once, and admin's routes unless it has an
// address of its own: the admin API only when the public address is a
// loopback one.
func (p *Platforms) publicHandler(cfg serverConfig, adminMux http.Handler) http.Handler {
	mux := http.NewServeMux()
	if p.Webhooks != nil {
		mux.Handle("/webhooks/", limitInFlight(p.Webhooks, cfg.maxInFlight))
	}
	if cfg.adminAddr == "" {
		for _, path := range adminPaths {
			mux.Handle(path, adminMux)
		}
		if cfg.apiOnPublic(p.Webhooks != nil) {
			mux.Handle(adminAPI, adminMux)
		}
	}
	return mux
}

// adminPaths are the routes of the admin handler that the public address
// also serves when there is no admin address. A route added to
// adminHandler is served on the public address only if it is listed here
// (the admin API is, on a loopback address: see publicHandler).
var adminPaths = []string{"/metrics", "/healthz", "/readyz"}

// adminAPI is the path of the admin API.
const adminAPI = admin.Prefix

// apiOnPublic reports whether the public address serves the admin API:
// when there is no admin address and it is a loopback one, and beside
// webhooks only with a token. A reverse proxy in front of the webhooks,
// on the same machine, passes requests from anywhere to the loopback
// address, most often with the loopback Host the API's local check
// accepts.
func (c serverConfig) apiOnPublic(webhooks bool) bool {
	return c.adminAddr == "" && c.publicLoopback() && (!webhooks || c.adminToken != "")
}

// publicLoopback reports whether the public address is a loopback one.
func (c serverConfig) publicLoopback() bool {
	addr := c.addr
	if addr == "" {
		addr = DefaultAddr
	}
	return admin.IsLoopbackHost(addr)
}

// checkAdminAPI refuses an admin API that would listen beyond loopback
// without a token.
func (c serverConfig) checkAdminAPI() error {
	if c.adminAddr == "" || c.adminToken != "" || admin.IsLoopbackHost(c.adminAddr) {
		return nil
	}
	return fmt.Errorf("PARLEY_ADMIN_ADDR=%s is not a loopback address: set PARLEY_ADMIN_TOKEN, which every request to the admin API "+
		"(%s) then needs, or listen on 127.0.0.1", c.adminAddr, adminAPI)
}

// apiSummary says, for the start-up summary, how the admin API is served.
func (c serverConfig) apiSummary() string {
	if c.adminToken != "" {
		return adminAPI + " (PARLEY_ADMIN_TOKEN required)"
	}
	return adminAPI + " (no PARLEY_ADMIN_TOKEN: local requests only)"
}

// adminHandler returns the mux of the admin routes for b: metrics, probes
// and, where cfg serves it, the admin API.
func (p *Platforms) adminHandler(b *bot.Bot, logger *slog.Logger, cfg serverConfig) (http.Handler, error) {
	mux := http.NewServeMux()
	if cfg.adminAddr != "" || cfg.apiOnPublic(p.Webhooks != nil) {
		// Built only when served: it follows the Bot's event feed.
		opts := append(slices.Clone(p.Admin), admin.WithToken(cfg.adminToken), admin.WithLogger(logger))
		mux.Handle(adminAPI, admin.Handler(b, opts...))
	}
	reg := prometheus.NewRegistry()
	if err := p.registerMetrics(reg, b, logger); err != nil {
		return nil, err
	}
	mux.Handle("/metrics", metrics.Handler(reg))
	mux.Handle("/healthz", metrics.Healthz())
	checks := []metrics.Check{metrics.StoreCheck(b.Store())}
	for _, a := range p.Adapters {
		if fd, ok := a.(*flowdock.Adapter); ok {
			checks = append(checks, metrics.ConnectedCheck(fd.Name(), func() bool { return fd.Health().Connected }))
		}
	}
	checks = append(checks, p.Checks...)
	mux.Handle("/readyz", metrics.Readyz(b, checks...))
	return mux, nil
}

// registerMetrics registers p.Metrics, or the Bot's totals when b was
// built without their hooks, the streaming adapters' state, and the Go
// runtime's and the process's metrics on reg.
func (p *Platforms) registerMetrics(reg *prometheus.Registry, b *bot.Bot, logger *slog.Logger) error {
	err := metrics.ErrHooksNotInstalled
	if p.Metrics != nil {
		err = p.Metrics.Register(reg, b)
	}
	if errors.Is(err, metrics.ErrHooksNotInstalled) {
		logger.Info("per-platform metrics off: the Bot was built without bot.WithHooks(platforms.Metrics.Hooks())")
		err = metrics.Register(reg, b)
	}
	if err != nil {
		return err
	}
	for _, c := range p.Collectors {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	for _, a := range p.Adapters {
		if fd, ok := a.(*flowdock.Adapter); ok {
			err := reg.Register(metrics.NewStreamCollector(fd.Name(), func() metrics.StreamState {
				h := fd.Health()
				return metrics.StreamState{Connected: h.Connected, Reconnects: h.Reconnects, LastEvent: h.LastEvent,
					Discarded: h.Discarded, IDOutliers: h.IDOutliers}
			}))
			if err != nil {
				return err
			}
		}
	}
	// After the application's collectors, which may include these already.
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			if _, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); !ok {
				return err
			}
		}
	}
	return nil
}

// Build returns the adapters of the chat platforms configured in the
// environment, and the Metrics whose hooks the Bot built on them should
// get. A platform whose variables are only partly set is an error naming
// the missing variable. With PARLEY_PUBLIC_URL set, it registers the
// VelaFlows webhook subscription (a network call bound to ctx).
func Build(ctx context.Context, getenv func(string) string, logger *slog.Logger) (_ *Platforms, err error) {
	tp, shutdownTracing, err := Tracing(ctx, getenv)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = shutdownTracing(context.WithoutCancel(ctx))
		}
	}()
	b := &built{about: map[string]string{}, mux: http.NewServeMux()}
	if err := b.buildAll(ctx, getenv, logger, tp); err != nil {
		return nil, err
	}
	p := &Platforms{Adapters: b.adapters, Metrics: metrics.New(), about: b.about, teamFlows: b.teamFlows,
		Tracer: tp, shutdownTracing: shutdownTracing}
	if _, off := tp.(noop.TracerProvider); !off {
		p.tracing = "traces exported over OTLP/HTTP to " + redact.URL(endpointOf(getenv))
	}
	if b.routes > 0 {
		p.Webhooks = b.mux
		if p.tracing != "" {
			// A webhook's request span is the parent of its event's trace.
			p.Webhooks = otelhttp.NewHandler(b.mux, "parley webhook", otelhttp.WithTracerProvider(tp))
		}
	}
	return p, nil
}

// velaflowsError returns err, the failure to register the VelaFlows
// webhook subscription, with the variable that points at its cause in
// front: VELAFLOWS_BASE_URL when the API did not answer (an emulator left
// over from an earlier session), the credentials when the API refused
// them, PARLEY_PUBLIC_URL when it refused the subscription's URL; else the
// API that failed. It says which variable turned VelaFlows on, as a
// platform's variables left in the environment turn it on whatever else is
// set. The URLs it names have no user information or query.
func velaflowsError(ctx context.Context, getenv func(string) string, vars velaflowsVars, vf *velaflows.Adapter, err error) error {
	if ctx.Err() != nil {
		return err
	}
	on := fmt.Sprintf("VelaFlows is on because %s is set", vars.token)
	if _, instance := bot.SplitPlatform(vf.Name()); instance != "" {
		on = fmt.Sprintf("VELAFLOWS_INSTANCES lists %q", instance)
	}
	base := redact.URL(vf.Client().BaseURL().String())
	public := "PARLEY_PUBLIC_URL=" + redact.URL(getenv("PARLEY_PUBLIC_URL"))
	_, unanswered := errors.AsType[*apiclient.TransportError](err)
	apiErr, answered := errors.AsType[*velaflows.APIError](err)
	switch {
	case unanswered:
		where := vars.baseURL + "=" + redact.URL(getenv(vars.baseURL))
		if getenv(vars.baseURL) == "" {
			where = fmt.Sprintf("%s (unset, the real API %s)", vars.baseURL, base)
		}
		return fmt.Errorf("%s: no answer from the VelaFlows API (%s): %w", where, on, err)
	case !answered: // refused before any request: the public URL
		return fmt.Errorf("%s: %w", public, err)
	case apiErr.Code == velaflows.CodeUnauthorized || apiErr.Code == velaflows.CodeForbidden:
		return fmt.Errorf("%s, %s: refused by the VelaFlows API at %s (%s): %w",
			vars.token, vars.workspace, base, on, err)
	case apiErr.Code == velaflows.CodeValidation:
		return fmt.Errorf("%s: the VelaFlows API refused the webhook subscription: %w", public, err)
	}
	// err says what it was doing ("velaflows: register webhook <URL>: …").
	return fmt.Errorf("the VelaFlows API at %s: %w", base, err)
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

// positiveInt reads the variable name as a positive integer; unset (or
// empty) gives 0, which means the default.
func positiveInt(getenv func(string) string, name string) (int, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive whole number", name, v)
	}
	return n, nil
}

// Shutdown stops the export of traces, sending those not sent yet, within
// ctx. Run calls it when it returns. It does nothing while tracing is off,
// and when called again.
func (p *Platforms) Shutdown(ctx context.Context) error {
	f := p.shutdownTracing
	p.shutdownTracing = nil
	if f == nil {
		return nil
	}
	return f(ctx)
}

// endpointOf returns the URL traces go to, for the summary ("" when none).
func endpointOf(getenv func(string) string) string {
	u, _ := tracesEndpoint(getenv)
	return u
}

// Package metrics exports a Parley [bot.Bot]'s counters to Prometheus and
// serves liveness and readiness probes.
//
// The dependency direction is metrics → bot: this package imports no
// adapter. Adapter state such as the Flowdock stream's connection is wired
// in by the application with [ConnectedCheck].
//
// # Metrics
//
// [NewCollector] (or [Register]) exports the Bot's [bot.Stats] as counters
// named parley_*_total, plus the gauge parley_dead_letter_list_size. The
// collector reads the counters only when scraped, so it costs nothing on the
// message path. Register it on the application's own registry, made with
// prometheus.NewRegistry(), never on the global default one, and serve that
// registry with [Handler].
//
// Only process-wide totals are exported: the core counts totals, so there
// are no per-platform or per-kind breakdowns and no latency histograms yet.
//
// # Health
//
// [Healthz] is a liveness probe: 200 while the process serves HTTP. [Readyz]
// is a readiness probe: 200 when every [Check] passes within a timeout
// (2s by default), else 503 with the names of the failing checks and no
// error text. [StoreCheck] and [ConnectedCheck] are ready-made checks.
//
// # Mounting
//
// The application owns its mux and server; this package only provides
// handlers:
//
//	reg := prometheus.NewRegistry()
//	if err := metrics.Register(reg, b); err != nil {
//		return err
//	}
//	mux := http.NewServeMux()
//	mux.Handle("GET /metrics", metrics.Handler(reg))
//	mux.Handle("GET /healthz", metrics.Healthz())
//	mux.Handle("GET /readyz", metrics.Readyz(b,
//		metrics.StoreCheck(b.Store()),
//		metrics.ConnectedCheck("flowdock", func() bool { return fd.Health().Connected }),
//	))
//
// Serve these on an internal port or behind authentication if the
// counters should not be public.
package metrics

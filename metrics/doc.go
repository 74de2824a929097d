// Package metrics exports a Parley [bot.Bot]'s metrics to Prometheus and
// serves liveness and readiness probes.
//
// The dependency direction is metrics → bot: this package imports no
// adapter and no storage backend. Adapter state such as the Flowdock
// stream's connection is wired in by the application with
// [NewStreamCollector] and [ConnectedCheck].
//
// # Metrics
//
// [New] makes the per-platform [Metrics]: counters of inbound messages by
// platform and kind, dedup hits, handled messages, handler errors and
// panics, deliveries, retries, dead letters, suppressed bot messages,
// rate-limit waits and ownership changes, and histograms of handler and
// delivery latency. They are fed by the [bot.Hooks] that [Metrics.Hooks]
// returns, which must be passed to bot.New; the Bot calls them on its
// message path, and each call costs an atomic load, a map lookup and the
// metric's atomic adds (see BenchmarkHooks_ReceivedHandled). No label
// carries message text, IDs or conversation names.
//
// [Metrics.Register] registers them with the Bot's scrape-time metrics:
// the totals that have no hook (parley_outbound_queued_total,
// parley_outbound_skipped_total, parley_outbound_confirmed_total,
// parley_job_runs_total), the dead-letter
// list size and the queue depths (parley_queue_depth{queue}), all read
// from the Bot only when scraped.
//
// A Bot built without the hooks is exported by [NewCollector] (or
// [Register]): the same counters as process-wide totals under the same
// names, without labels or histograms, plus parley_handler_panics_total,
// parley_handoffs_total and parley_resumes_total, which the hooked metrics
// express as parley_handler_errors_total{panic="true"} and
// parley_ownership_changes_total{owner="human"|"bot"}. A query such as
// sum(rate(parley_handled_total[5m])) works with either. Register one or
// the other on a registry, never both: their names collide.
//
// Register on the application's own registry, made with
// prometheus.NewRegistry(), never on the global default one, and serve that
// registry with [Handler]. Other collectors share it: a streaming adapter's
// [NewStreamCollector], or a storage backend's collector of its own state
// (storage/jetstream's NATS connection). Such collectors name their metrics
// parley_<subsystem>_… (parley_stream_…, parley_nats_…) so that they do
// not collide with this package's. To export several Bots on one registry,
// wrap it per Bot with prometheus.WrapRegistererWith and a constant label.
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
//	m := metrics.New()
//	b, err := bot.New(bot.WithAdapters(sb, fd), bot.WithHooks(m.Hooks()))
//	if err != nil {
//		return err
//	}
//	reg := prometheus.NewRegistry()
//	if err := m.Register(reg, b); err != nil {
//		return err
//	}
//	reg.MustRegister(metrics.NewStreamCollector("flowdock", func() metrics.StreamState {
//		h := fd.Health()
//		return metrics.StreamState{Connected: h.Connected, Reconnects: h.Reconnects, LastEvent: h.LastEvent,
//			Discarded: h.Discarded, IDOutliers: h.IDOutliers}
//	}))
//	// The Go runtime's and the process's metrics (client_golang's collectors package).
//	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
//	mux := http.NewServeMux()
//	mux.Handle("GET /metrics", metrics.Handler(reg))
//	mux.Handle("GET /healthz", metrics.Healthz())
//	mux.Handle("GET /readyz", metrics.Readyz(b,
//		metrics.StoreCheck(b.Store()),
//		metrics.ConnectedCheck("flowdock", func() bool { return fd.Health().Connected }),
//	))
//
// Serve these on an internal address, apart from the webhooks, or behind
// authentication if the counters should not be public; package
// adapters/fromenv serves them on PARLEY_ADMIN_ADDR when it is set.
package metrics

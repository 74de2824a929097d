package metrics_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/metrics"
)

// get serves one GET request on h and returns the status and body.
func get(h http.Handler, path string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

// Example installs the metrics' hooks on a Bot and mounts /metrics,
// /healthz and /readyz on the application's mux. The readiness probe
// follows a connection state, here a flag standing in for an adapter's
// Health().Connected.
func Example() {
	m := metrics.New()
	fa := bottest.NewFakeAdapter("")
	b, err := bot.New(bot.WithAdapters(fa), bot.WithLogger(slog.New(slog.DiscardHandler)), bot.WithHooks(m.Hooks()))
	if err != nil {
		fmt.Println(err)
		return
	}
	b.HandleFunc(bot.Command("ping"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("pong"))
	})

	reg := prometheus.NewRegistry()
	if err := m.Register(reg, b); err != nil {
		fmt.Println(err)
		return
	}
	var connected atomic.Bool
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler(reg))
	mux.Handle("GET /healthz", metrics.Healthz())
	mux.Handle("GET /readyz", metrics.Readyz(b,
		metrics.StoreCheck(b.Store()),
		metrics.ConnectedCheck("chat", connected.Load),
	))

	code, body := get(mux, "/readyz")
	fmt.Print(code, " ", body)
	connected.Store(true)
	code, body = get(mux, "/readyz")
	fmt.Print(code, " ", body)
	code, body = get(mux, "/healthz")
	fmt.Print(code, " ", body)

	// Run the Bot over two messages, then scrape.
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	for _, text := range []string{"/ping", "/ping"} {
		if err := fa.Inject(ctx, bottest.NewMessage(text)); err != nil {
			fmt.Println(err)
		}
	}
	fa.End()
	if err := <-done; err != nil {
		fmt.Println(err)
	}
	_, body = get(mux, "/metrics")
	printSamples(body, "parley_handled_total", "parley_handler_duration_seconds_count",
		"parley_inbound_received_total", "parley_outbound_sent_total", "parley_queue_depth")
	// Output:
	// 503 not ready
	// chat: failed
	// 200 ok
	// 200 ok
	// parley_handled_total{platform="fake"} 2
	// parley_handler_duration_seconds_count{platform="fake"} 2
	// parley_inbound_received_total{kind="message",platform="fake"} 2
	// parley_outbound_sent_total{platform="fake"} 2
	// parley_queue_depth{queue="inbound"} 0
	// parley_queue_depth{queue="outbound"} 0
}

// printSamples prints the sample lines of the exposition body whose metric
// is one of names.
func printSamples(body string, names ...string) {
	for line := range strings.Lines(body) {
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		if slices.Contains(names, name) {
			fmt.Print(line)
		}
	}
}

// ExampleNewCollector exports the totals of a Bot built without the hooks
// of a Metrics: the same names, without labels or histograms.
func ExampleNewCollector() {
	fa := bottest.NewFakeAdapter("")
	b, err := bot.New(bot.WithAdapters(fa), bot.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(b))

	ctx := context.Background()
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	if err := fa.Inject(ctx, bottest.NewMessage("hello")); err != nil {
		fmt.Println(err)
	}
	fa.End()
	if err := <-done; err != nil {
		fmt.Println(err)
	}
	_, body := get(metrics.Handler(reg), "/metrics")
	printSamples(body, "parley_inbound_received_total", "parley_handled_total")
	// Output:
	// parley_handled_total 1
	// parley_inbound_received_total 1
}

// ExampleNewStreamCollector reports a streaming adapter's connection. An
// application maps the adapter's own health report, such as
// flowdock.Adapter.Health, to a StreamState.
func ExampleNewStreamCollector() {
	health := func() metrics.StreamState { // stands in for fd.Health()
		return metrics.StreamState{Connected: true, Reconnects: 3}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewStreamCollector("flowdock", health))
	_, body := get(metrics.Handler(reg), "/metrics")
	printSamples(body, "parley_stream_connected", "parley_stream_reconnects_total")
	// Output:
	// parley_stream_connected{platform="flowdock"} 1
	// parley_stream_reconnects_total{platform="flowdock"} 3
}

// ExampleStoreCheck shows that an absent probe key counts as reachable.
func ExampleStoreCheck() {
	check := metrics.StoreCheck(bot.NewMemoryStore())
	fmt.Println(check(context.Background()))
	// Output:
	// <nil>
}

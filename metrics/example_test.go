package metrics_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// Example mounts /metrics, /healthz and /readyz on the application's mux.
// The readiness probe follows a connection state, here a flag standing in
// for an adapter's Health().Connected.
func Example() {
	fa := bottest.NewFakeAdapter("")
	b, err := bot.New(bot.WithAdapters(fa), bot.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	b.HandleFunc(bot.Command("ping"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("pong"))
	})

	reg := prometheus.NewRegistry()
	if err := metrics.Register(reg, b); err != nil {
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
	for line := range strings.Lines(body) {
		if strings.HasPrefix(line, "parley_handled_total ") || strings.HasPrefix(line, "parley_outbound_sent_total ") {
			fmt.Print(line)
		}
	}
	// Output:
	// 503 not ready
	// chat: failed
	// 200 ok
	// 200 ok
	// parley_handled_total 2
	// parley_outbound_sent_total 2
}

// ExampleStoreCheck shows that an absent probe key counts as reachable.
func ExampleStoreCheck() {
	check := metrics.StoreCheck(bot.NewMemoryStore())
	fmt.Println(check(context.Background()))
	// Output:
	// <nil>
}

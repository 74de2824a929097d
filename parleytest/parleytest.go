package parleytest

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// The test pace. A Bot turns an adapter's declared limit into a token
// bucket; at these rates it spaces requests 10µs apart (about 100,000 a
// second), so no test waits for a platform's real budget.
const (
	// SendbeeRequestsPerMinute is the sendbee.AdapterConfig.RequestsPerMinute
	// [Sendbee] sets, in place of Sendbee's 60 (one request a second).
	SendbeeRequestsPerMinute = 6_000_000
	// VelaFlowsWritesPer15Min is the velaflows.AdapterConfig.WritesPer15Min
	// [VelaFlows] sets, in place of VelaFlows' 100 (a burst of 5, then one
	// write every 9.5 seconds).
	VelaFlowsWritesPer15Min = 90_000_000
)

// readyTimeout bounds [Run]'s wait for the adapters to receive; it matches
// bottest.Run's bound for a Bot to stop.
const readyTimeout = 10 * time.Second

// receive starts a loopback HTTP server that serves h at path, the
// application's server a webhook adapter is mounted on, and closes it when
// the test ends. It returns the server's root URL.
func receive(t testing.TB, path string, h http.Handler) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(path, h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/metrics"
)

func serve(t *testing.T, h http.Handler) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil))
	assert.Equal(t, "text/plain; charset=utf-8", rec.Header().Get("Content-Type"))
	return rec.Code, rec.Body.String()
}

func TestHealthz(t *testing.T) {
	code, body := serve(t, metrics.Healthz())
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok\n", body)
}

// failingStore is a Store whose Get fails with a message that must not
// reach the response.
type failingStore struct{ bot.Store }

func (failingStore) Get(context.Context, string) ([]byte, error) {
	return nil, errors.New("dial redis://user:secret@db:6379: refused")
}

func TestReadyz(t *testing.T) {
	b, err := bot.New(bot.WithAdapters(bottest.NewFakeAdapter("")), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	filled := bot.NewMemoryStore()
	require.NoError(t, filled.Set(t.Context(), "metrics:readyz-probe", []byte("x"), 0))
	ok := func(context.Context) error { return nil }
	down := func() bool { return false }
	up := func() bool { return true }

	tests := []struct {
		name   string
		checks []metrics.Check
		code   int
		body   string
	}{
		{"no checks", nil, http.StatusOK, "ok\n"},
		{"all pass", []metrics.Check{ok, metrics.ConnectedCheck("flowdock", up)}, http.StatusOK, "ok\n"},
		{"empty memory store", []metrics.Check{metrics.StoreCheck(bot.NewMemoryStore())}, http.StatusOK, "ok\n"},
		{"memory store with probe key", []metrics.Check{metrics.StoreCheck(filled)}, http.StatusOK, "ok\n"},
		{"bot store", []metrics.Check{metrics.StoreCheck(b.Store())}, http.StatusOK, "ok\n"},
		{
			"should fail: disconnected",
			[]metrics.Check{ok, metrics.ConnectedCheck("flowdock", down)},
			http.StatusServiceUnavailable, "not ready\nflowdock: failed\n",
		},
		{
			"should fail: unreachable store, no secret in body",
			[]metrics.Check{metrics.StoreCheck(failingStore{})},
			http.StatusServiceUnavailable, "not ready\nstore: failed\n",
		},
		{
			"should fail: unnamed checks by position",
			[]metrics.Check{ok, func(context.Context) error { return errors.New("x") }},
			http.StatusServiceUnavailable, "not ready\ncheck 2: failed\n",
		},
		{
			"should fail: several",
			[]metrics.Check{
				metrics.ConnectedCheck("a", down), ok, metrics.Named("b", func(context.Context) error { return errors.New("x") }),
			},
			http.StatusServiceUnavailable, "not ready\na: failed\nb: failed\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := serve(t, metrics.Readyz(b, tt.checks...))
			assert.Equal(t, tt.code, code)
			assert.Equal(t, tt.body, body)
		})
	}
}

func TestReadiness_timeout(t *testing.T) {
	var calls atomic.Int32
	slow := metrics.Named("slow", func(ctx context.Context) error {
		calls.Add(1)
		<-ctx.Done()
		return ctx.Err()
	})
	// A check that ignores its context still gets a verdict in time.
	release := make(chan struct{})
	defer close(release)
	stuck := metrics.Named("stuck", func(context.Context) error {
		<-release
		return nil
	})
	r := &metrics.Readiness{Checks: []metrics.Check{slow, stuck}, Timeout: 20 * time.Millisecond, Logger: bottest.Logger(t)}
	start := time.Now()
	code, body := serve(t, r)
	assert.Less(t, time.Since(start), time.Second)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "not ready\nslow: timeout\nstuck: timeout\n", body)
	assert.Equal(t, int32(1), calls.Load())
}

// A failing check's error names each layer once.
func TestCheckError(t *testing.T) {
	err := metrics.ConnectedCheck("flowdock", func() bool { return false })(t.Context())
	var ce *metrics.CheckError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "flowdock", ce.Name)
	assert.ErrorIs(t, err, metrics.ErrNotConnected)
	assert.EqualError(t, err, "metrics: check flowdock: not connected")
	err = metrics.Named("nats", func(context.Context) error { return errors.New("nats: connection closed") })(t.Context())
	assert.EqualError(t, err, "metrics: check nats: connection closed")
}

package fromenv_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/fromenv"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

func TestNewLogger(t *testing.T) {
	tests := []struct {
		level   string
		want    slog.Level // the lowest level enabled
		wantErr bool
	}{
		{level: "", want: slog.LevelWarn},
		{level: "debug", want: slog.LevelDebug},
		{level: "INFO", want: slog.LevelInfo},
		{level: "warn", want: slog.LevelWarn},
		{level: "error", want: slog.LevelError},
		{level: "warning", wantErr: true},
		{level: "-4", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			t.Parallel()
			l, err := fromenv.Logger(io.Discard, tt.level)
			if tt.wantErr {
				assert.ErrorContains(t, err, "PARLEY_LOG_LEVEL=")
				return
			}
			require.NoError(t, err)
			assert.True(t, l.Enabled(t.Context(), tt.want), "%v enabled", tt.want)
			assert.False(t, l.Enabled(t.Context(), tt.want-1), "%v disabled", tt.want-1)
		})
	}
}

// serveGet serves one GET of path on h and returns the status and body.
func serveGet(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestPlatforms_Handler_metrics(t *testing.T) {
	tests := []struct {
		name  string
		hooks bool
		want  []string // lines of /metrics
		not   []string
	}{
		{
			name:  "per platform with the hooks",
			hooks: true,
			want: []string{
				`parley_handled_total{platform="fake"} 1`,
				`parley_inbound_received_total{kind="message",platform="fake"} 1`,
				`parley_handler_duration_seconds_count{platform="fake"} 1`,
				`parley_queue_depth{queue="inbound"} 0`,
			},
			not: []string{"parley_handled_total 1"},
		},
		{
			name: "totals without the hooks",
			want: []string{
				"parley_handled_total 1",
				"parley_inbound_received_total 1",
				`parley_queue_depth{queue="inbound"} 0`,
			},
			not: []string{"parley_handler_duration_seconds"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := fromenv.Build(t.Context(), func(string) string { return "" }, bottest.Logger(t))
			require.NoError(t, err)
			require.NotNil(t, p.Metrics)
			fa := bottest.NewFakeAdapter("")
			opts := []bot.Option{bot.WithAdapters(fa), bot.WithLogger(bottest.Logger(t))}
			if tt.hooks {
				opts = append(opts, bot.WithHooks(p.Metrics.Hooks()))
			}
			b, err := bot.New(opts...)
			require.NoError(t, err)
			h, err := p.Handler(b, bottest.Logger(t))
			require.NoError(t, err)

			stop := bottest.Run(t, b)
			require.NoError(t, fa.Inject(t.Context(), bottest.NewMessage("hi")))
			fa.End()
			require.NoError(t, stop()) // Run returns once the message is handled

			code, body := serveGet(t, h, "/metrics")
			require.Equal(t, http.StatusOK, code)
			for _, line := range tt.want {
				assert.Contains(t, body, line+"\n")
			}
			for _, s := range tt.not {
				assert.NotContains(t, body, s)
			}
			code, _ = serveGet(t, h, "/readyz")
			assert.Equal(t, http.StatusOK, code)
		})
	}
}

func TestPlatforms_Handler_flowdockStream(t *testing.T) {
	env := map[string]string{"FLOWDOCK_API_TOKEN": "token", "FLOWDOCK_FLOWS": "org/flow"}
	p, err := fromenv.Build(t.Context(), func(k string) string { return env[k] }, bottest.Logger(t))
	require.NoError(t, err)
	require.Len(t, p.Adapters, 1)
	b, err := bot.New(bot.WithAdapters(p.Adapters...), bot.WithLogger(bottest.Logger(t)), bot.WithHooks(p.Metrics.Hooks()))
	require.NoError(t, err)
	h, err := p.Handler(b, bottest.Logger(t))
	require.NoError(t, err)

	// Not running: the stream is down, and readiness says so.
	_, body := serveGet(t, h, "/metrics")
	assert.Contains(t, body, "parley_stream_connected{platform=\"flowdock\"} 0\n")
	assert.Contains(t, body, "parley_stream_reconnects_total{platform=\"flowdock\"} 0\n")
	code, body := serveGet(t, h, "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "flowdock: failed")
}

// SENDBEE_RATE_LIMIT sets the sends a minute the Sendbee adapter declares;
// unset, it is the documented 60.
func TestBuild_sendbeeRateLimit(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  int
	}{{"", 60}, {"600", 600}, {" 6000 ", 6000}} {
		t.Run(tt.value, func(t *testing.T) {
			env := map[string]string{"SENDBEE_API_KEY": "k", "SENDBEE_API_SECRET": "s", "SENDBEE_RATE_LIMIT": tt.value}
			p, err := fromenv.Build(t.Context(), func(k string) string { return env[k] }, slog.New(slog.DiscardHandler))
			require.NoError(t, err)
			require.Len(t, p.Adapters, 1)
			lim := p.Adapters[0].(bot.Limiter).Limits()
			assert.Equal(t, tt.want, lim.Requests)
			assert.Equal(t, time.Minute, lim.Per)
		})
	}
}

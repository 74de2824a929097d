package fromenv_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/goleak"

	"github.com/parleybot/parley/adapters/fromenv"
)

// collector is an OTLP/HTTP endpoint that records the requests posted to
// it.
type collector struct {
	*httptest.Server
	got chan collected
}

type collected struct {
	path, contentType string
	body              []byte
}

func newCollector(t *testing.T) *collector {
	t.Helper()
	c := &collector{got: make(chan collected, 16)}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, _ := io.ReadAll(r.Body)
		c.got <- collected{path: r.URL.Path, contentType: r.Header.Get("Content-Type"), body: body}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(c.Close)
	return c
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestTracing_exports(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	c := newCollector(t)
	// The exporter's connections end with the collector's, before the
	// check for goroutines left behind.
	defer c.Close()
	tests := []struct {
		name     string
		vars     map[string]string
		wantPath string
	}{
		{name: "OTLP root", vars: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": c.URL + "/otlp/"}, wantPath: "/otlp/v1/traces"},
		{name: "traces endpoint", vars: map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT":        "http://127.0.0.1:1",
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": c.URL + "/collect",
			"OTEL_TRACES_SAMPLER":                "parentbased_traceidratio",
			"OTEL_TRACES_SAMPLER_ARG":            "1",
			"OTEL_SDK_DISABLED":                  "false",
			"OTEL_SERVICE_NAME":                  "leadbot",
		}, wantPath: "/collect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, shutdown, err := fromenv.Tracing(t.Context(), env(tt.vars))
			require.NoError(t, err)
			_, span := tp.Tracer("test").Start(t.Context(), "exported-span")
			span.End()
			require.NoError(t, shutdown(context.Background())) // flushes
			got := <-c.got
			assert.Equal(t, tt.wantPath, got.path)
			assert.Equal(t, "application/x-protobuf", got.contentType)
			assert.True(t, bytes.Contains(got.body, []byte("exported-span")), "the span is in the export")
			service := tt.vars["OTEL_SERVICE_NAME"]
			if service == "" {
				service = fromenv.DefaultServiceName
			}
			assert.True(t, bytes.Contains(got.body, []byte(service)), "service.name %q", service)
		})
	}
}

func TestTracing_off(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	tests := []struct {
		name string
		vars map[string]string
	}{
		{name: "no endpoint", vars: map[string]string{"OTEL_SERVICE_NAME": "x", "OTEL_TRACES_SAMPLER": "always_on"}},
		{name: "SDK disabled", vars: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "TRUE"}},
		{name: "exporter none", vars: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces", "OTEL_TRACES_EXPORTER": "none"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, shutdown, err := fromenv.Tracing(t.Context(), env(tt.vars))
			require.NoError(t, err)
			assert.IsType(t, noop.TracerProvider{}, tp)
			assert.NoError(t, shutdown(t.Context()))
		})
	}
}

func TestTracing_badVariables(t *testing.T) {
	const endpoint = "http://127.0.0.1:4318"
	tests := []struct {
		name, variable, value string
		wantErr               string
	}{
		{name: "relative endpoint", variable: "OTEL_EXPORTER_OTLP_ENDPOINT", value: "collector:4318", wantErr: "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{name: "grpc scheme", variable: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", value: "grpc://c:4317", wantErr: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"},
		{name: "endpoint with secret query", variable: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", value: "http://c/v1/traces?key=s3cret", wantErr: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"},
		{name: "disabled", variable: "OTEL_SDK_DISABLED", value: "yes", wantErr: "OTEL_SDK_DISABLED"},
		{name: "exporter", variable: "OTEL_TRACES_EXPORTER", value: "zipkin", wantErr: "OTEL_TRACES_EXPORTER"},
		{name: "protocol", variable: "OTEL_EXPORTER_OTLP_PROTOCOL", value: "grpc", wantErr: "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{name: "traces protocol", variable: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", value: "http/json", wantErr: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},
		{name: "sampler", variable: "OTEL_TRACES_SAMPLER", value: "sometimes", wantErr: "OTEL_TRACES_SAMPLER"},
		{name: "timeout", variable: "OTEL_EXPORTER_OTLP_TIMEOUT", value: "10s", wantErr: "OTEL_EXPORTER_OTLP_TIMEOUT"},
		{name: "compression", variable: "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", value: "zstd", wantErr: "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, tt.variable: tt.value}
			_, _, err := fromenv.Tracing(t.Context(), env(vars))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}
	t.Run("sampler ratio", func(t *testing.T) {
		for _, sampler := range []string{"traceidratio", "parentbased_traceidratio"} {
			vars := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_TRACES_SAMPLER": sampler,
				"OTEL_TRACES_SAMPLER_ARG": "1.5"}
			_, _, err := fromenv.Tracing(t.Context(), env(vars))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "OTEL_TRACES_SAMPLER_ARG")
		}
	})
}

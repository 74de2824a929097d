package apiclient

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

func TestTraced(t *testing.T) {
	headers := make(chan http.Header, 2)
	closed := make(chan struct{}, 4)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headers <- r.Header.Clone()
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			closed <- struct{}{}
		}
	}
	srv.Start()
	defer srv.Close()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	defer func() { require.NoError(t, tp.Shutdown(context.Background())) }()

	hc := HTTPClient(5 * time.Second)
	base := hc.Transport
	traced := Traced(hc, tp, "sendbee")
	require.NotSame(t, hc, traced)
	assert.Same(t, base, hc.Transport, "hc is not modified")
	assert.Equal(t, hc.Timeout, traced.Timeout)

	ctx, parent := tp.Tracer("test").Start(t.Context(), "attempt")
	for _, path := range []string{"/contacts?phone=%2B385911234567", "/fail"} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		require.NoError(t, err)
		resp, err := traced.Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		h := <-headers
		assert.Empty(t, h.Get("traceparent"), "no trace context goes to the platform")
	}
	parent.End()

	// The keep-alive connection is closed through the traced client.
	traced.CloseIdleConnections()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the idle connection was not closed")
	}

	spans := exp.GetSpans()
	require.Len(t, spans, 3)
	for _, s := range spans[:2] {
		assert.Equal(t, "sendbee GET", s.Name)
		assert.Equal(t, trace.SpanKindClient, s.SpanKind)
		assert.Equal(t, parent.SpanContext().SpanID(), s.Parent.SpanID())
		assert.Equal(t, parent.SpanContext().TraceID(), s.SpanContext.TraceID())
	}
	attrs := func(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
		m := map[attribute.Key]attribute.Value{}
		for _, kv := range s.Attributes {
			m[kv.Key] = kv.Value
		}
		return m
	}
	first, second := attrs(spans[0]), attrs(spans[1])
	assert.Equal(t, srv.URL+"/contacts", first["url.full"].AsString(), "the query is left out")
	assert.Equal(t, int64(200), first["http.response.status_code"].AsInt64())
	assert.Equal(t, int64(503), second["http.response.status_code"].AsInt64())
	assert.Equal(t, codes.Error, spans[1].Status.Code)
}

func TestTraced_off(t *testing.T) {
	hc := HTTPClient(time.Second)
	assert.Same(t, hc, Traced(hc, nil, "sendbee"))
	assert.Same(t, hc, Traced(hc, noop.NewTracerProvider(), "sendbee"))
}

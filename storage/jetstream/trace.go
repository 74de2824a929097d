package jetstream

import (
	"context"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
)

// traceContext is the propagation of the Broker's stored messages: W3C
// trace context, in the headers traceparent and tracestate.
var traceContext propagation.TraceContext

// headerCarrier is a propagation.TextMapCarrier on NATS headers, whose
// keys are case-sensitive: the W3C header names are written and read
// lowercase, as propagation.TraceContext gives them.
type headerCarrier nats.Header

func (c headerCarrier) Get(key string) string { return nats.Header(c).Get(key) }

func (c headerCarrier) Set(key, value string) { nats.Header(c).Set(key, value) }

func (c headerCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// injectTrace stores the trace context of ctx, if it has one (the Bot
// traces), in h.
func injectTrace(ctx context.Context, h nats.Header) {
	traceContext.Inject(ctx, headerCarrier(h))
}

// extractTrace returns ctx with the trace context stored in h, if any, as
// its remote parent span.
func extractTrace(ctx context.Context, h nats.Header) context.Context {
	if h.Get("traceparent") == "" {
		return ctx
	}
	return traceContext.Extract(ctx, headerCarrier(h))
}

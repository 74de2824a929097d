package fromenv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/parleybot/parley/internal/redact"
)

// DefaultServiceName is the service name of the traces when
// OTEL_SERVICE_NAME is not set.
const DefaultServiceName = "parley"

// Tracing returns a TracerProvider exporting traces over OTLP/HTTP as the
// standard OpenTelemetry variables say, and the function that shuts it
// down (flushing the spans not exported yet), for bot.WithTracerProvider
// and the platform clients' Config.TracerProvider. Tracing is off — the
// provider is a noop.TracerProvider, which the Bot and the clients treat
// as none, and shutdown does nothing — when no endpoint is set, when
// OTEL_SDK_DISABLED is true, or when OTEL_TRACES_EXPORTER is none.
//
// Variables read through getenv:
//
//	OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  the URL spans are posted to, as is
//	OTEL_EXPORTER_OTLP_ENDPOINT         the OTLP root URL: spans go to its
//	                                    path /v1/traces (when the former is unset)
//	OTEL_SDK_DISABLED                   true turns tracing off (default false)
//	OTEL_TRACES_EXPORTER                otlp (the default) or none
//	OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL
//	                                    http/protobuf, the only one supported
//	OTEL_TRACES_SAMPLER                 always_on, always_off, traceidratio,
//	                                    parentbased_always_on (the default),
//	                                    parentbased_always_off or
//	                                    parentbased_traceidratio
//	OTEL_TRACES_SAMPLER_ARG             the ratio of the traceidratio samplers,
//	                                    0 to 1 (default 1)
//	OTEL_SERVICE_NAME                   the service.name of the spans (default
//	                                    "parley")
//	OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
//	OTEL_EXPORTER_OTLP_COMPRESSION, OTEL_EXPORTER_OTLP_TRACES_COMPRESSION
//	                                    checked: milliseconds; gzip or none
//
// The OpenTelemetry SDK reads the other settings itself, from the
// process's environment: the exporter's headers (OTEL_EXPORTER_OTLP_HEADERS,
// for an API key), timeout, compression and certificates, the batching
// (OTEL_BSP_*) and OTEL_RESOURCE_ATTRIBUTES. A value that is not valid is
// an error naming its variable. The spans carry identifiers, never what a
// message says (see bot.WithTracerProvider).
func Tracing(ctx context.Context, getenv func(string) string) (trace.TracerProvider, func(context.Context) error, error) {
	off := func() (trace.TracerProvider, func(context.Context) error, error) {
		return noop.NewTracerProvider(), func(context.Context) error { return nil }, nil
	}
	disabled, err := envBool(getenv, "OTEL_SDK_DISABLED")
	if err != nil {
		return nil, nil, err
	}
	switch v := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); strings.ToLower(v) {
	case "", "otlp":
	case "none":
		disabled = true
	default:
		return nil, nil, fmt.Errorf("fromenv: OTEL_TRACES_EXPORTER=%q: want otlp or none (traces are exported over OTLP/HTTP only)", v)
	}
	endpoint, err := tracesEndpoint(getenv)
	if err != nil {
		return nil, nil, err
	}
	if disabled || endpoint == "" {
		return off()
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if v := strings.TrimSpace(getenv(name)); v != "" && v != "http/protobuf" {
			return nil, nil, fmt.Errorf("fromenv: %s=%q: only http/protobuf is supported", name, v)
		}
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"} {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			if ms, err := strconv.Atoi(v); err != nil || ms <= 0 {
				return nil, nil, fmt.Errorf("fromenv: %s=%q: want a positive number of milliseconds", name, v)
			}
		}
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"} {
		if v := strings.TrimSpace(getenv(name)); v != "" && v != "gzip" && v != "none" {
			return nil, nil, fmt.Errorf("fromenv: %s=%q: want gzip or none", name, v)
		}
	}
	sampler, err := tracesSampler(getenv)
	if err != nil {
		return nil, nil, err
	}
	service := strings.TrimSpace(getenv("OTEL_SERVICE_NAME"))
	if service == "" {
		service = DefaultServiceName
	}
	res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK(),
		resource.WithAttributes(semconv.ServiceName(service)))
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, nil, fmt.Errorf("fromenv: OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, nil, fmt.Errorf("fromenv: OTLP trace exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res), sdktrace.WithSampler(sampler))
	return tp, tp.Shutdown, nil
}

// envBool reads the boolean variable name: true or false, in any case;
// unset is false.
func envBool(getenv func(string) string, name string) (bool, error) {
	switch v := strings.TrimSpace(getenv(name)); strings.ToLower(v) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, fmt.Errorf("fromenv: %s=%q: want true or false", name, v)
	}
}

// tracesEndpoint returns the URL spans are posted to, "" when none is set.
func tracesEndpoint(getenv func(string) string) (string, error) {
	name, raw := "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
	signal := raw != ""
	if !signal {
		name, raw = "OTEL_EXPORTER_OTLP_ENDPOINT", strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
	}
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("fromenv: %s=%q: want an absolute http or https URL", name, redact.URL(raw))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("fromenv: %s=%q: must not have a query or fragment", name, redact.URL(raw))
	}
	if !signal {
		// The root of the OTLP endpoints: the traces' is below it.
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
		u.RawPath = ""
	}
	return u.String(), nil
}

// tracesSampler returns the sampler OTEL_TRACES_SAMPLER and
// OTEL_TRACES_SAMPLER_ARG name.
func tracesSampler(getenv func(string) string) (sdktrace.Sampler, error) {
	ratio := func() (float64, error) {
		v := strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER_ARG"))
		if v == "" {
			return 1, nil
		}
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 || r > 1 {
			return 0, fmt.Errorf("fromenv: OTEL_TRACES_SAMPLER_ARG=%q: want a ratio from 0 to 1", v)
		}
		return r, nil
	}
	switch v := strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER")); v {
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		r, err := ratio()
		return sdktrace.TraceIDRatioBased(r), err
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		r, err := ratio()
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(r)), err
	default:
		return nil, fmt.Errorf("fromenv: OTEL_TRACES_SAMPLER=%q: want always_on, always_off, traceidratio, "+
			"parentbased_always_on, parentbased_always_off or parentbased_traceidratio", v)
	}
}

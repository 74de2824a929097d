// Package apiclient holds what the platform API clients of Parley share:
// checking a configured base URL, the default User-Agent, reading a
// Retry-After header, the text of an API error, the error of a request
// that got no answer, and the tracing of requests.
package apiclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/parleybot/parley/internal/redact"
)

// modulePath is the module whose version goes into the User-Agent.
const modulePath = "github.com/parleybot/parley"

// BaseURL checks that raw is an absolute http(s) URL without user
// information (a credential there would be logged and shown in errors),
// query or fragment, and returns it with exactly one trailing slash on its
// path, so that relative references resolve below it. Errors start with
// pkg, the client's package name ("sendbee: invalid Config.BaseURL …"),
// and quote raw without its user information and query.
func BaseURL(pkg, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: invalid Config.BaseURL: cannot parse it as a URL", pkg)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s: invalid Config.BaseURL: must not contain user information", pkg)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%s: invalid Config.BaseURL %q: must be an absolute http or https URL", pkg, redact.URL(raw))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%s: invalid Config.BaseURL %q: missing host", pkg, redact.URL(raw))
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("%s: invalid Config.BaseURL %q: must not have a query or fragment", pkg, redact.URL(raw))
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/"
	if u.RawPath != "" {
		u.RawPath = strings.TrimRight(u.RawPath, "/") + "/"
	}
	return u, nil
}

var version = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	v := ""
	if bi.Main.Path == modulePath {
		v = bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath {
			v = d.Version
		}
	}
	if v == "" || v == "(devel)" {
		return "dev"
	}
	return v
})

// UserAgent returns "parley-<product>/<version>", the version being the
// parley module's as recorded in the build information ("dev" when none).
func UserAgent(product string) string { return "parley-" + product + "/" + version() }

// HTTPClient returns the default HTTP client of an API client: its own
// connection pool (so that closing its idle connections touches nothing
// else in the process), the given overall timeout, and no automatic
// redirects, so that credential headers never follow a redirect to another
// host.
func HTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Transport: http.DefaultTransport.(*http.Transport).Clone(),
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// RetryAfter reads a Retry-After value: delay seconds, or an HTTP date
// (RFC 9110 §10.2.3) taken relative to now. A missing, malformed or past
// value is zero.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs != secs || secs > float64(1<<31) {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// ErrorText renders an API error answer for an error string:
//
//	<pkg>: <method> <path>: <status> <status text> (<code>; fields: <f1>, <f2>)
//
// for example "sendbee: POST /conversations/messages/send: 400 Bad Request
// (validation_error)". It carries nothing a platform wrote for people:
// the message of an error body may quote customer data (Sendbee's
// validation errors quote the phone number), and error strings end up in
// logs. code and the field names are kept only when they look like
// identifiers (see [Identifier]); fields are sorted, and at most eight are
// named.
func ErrorText(pkg, method, path string, status int, code string, fields []string) string {
	var b strings.Builder
	b.WriteString(pkg)
	b.WriteString(": ")
	b.WriteString(method)
	b.WriteByte(' ')
	b.WriteString(path)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(status))
	if t := http.StatusText(status); t != "" {
		b.WriteString(" " + t)
	}
	var names []string
	for _, f := range fields {
		if Identifier(f) {
			names = append(names, f)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if !Identifier(code) {
		code = ""
	}
	if code == "" && len(names) == 0 {
		return b.String()
	}
	b.WriteString(" (")
	b.WriteString(code)
	if len(names) > 0 {
		if code != "" {
			b.WriteString("; ")
		}
		const most = 8
		more := len(names) > most
		names = names[:min(len(names), most)]
		b.WriteString("fields: " + strings.Join(names, ", "))
		if more {
			b.WriteString(", …")
		}
	}
	b.WriteByte(')')
	return b.String()
}

// Identifier reports whether s looks like a machine identifier — an error
// code or a field name such as "validation_error", "VALIDATION_ERROR" or
// "contacts[0].email" — rather than text for people: 1 to 64 ASCII
// letters, digits and "_", "-", ".", "[", "]", with at least one letter.
// A phone number ("+385…", "385…") or an e-mail address ("@") is not one.
func Identifier(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	letter := false
	for i := range len(s) {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			letter = true
		case '0' <= c && c <= '9', c == '_', c == '-', c == '.', c == '[', c == ']':
		default:
			return false
		}
	}
	return letter
}

// A TransportError is a request that got no answer: the connection could
// not be made, broke, or timed out. It stands for net/http's *url.Error
// without the URL, whose query values must not reach errors and logs, and
// keeps the cause's chain (a *net.OpError, a timeout). It is a net.Error,
// which is how the Bot's outbox tells a request without an answer, whose
// outcome may be unknown, from a platform's answer.
type TransportError struct{ Err error }

func (e *TransportError) Error() string { return e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }

// Timeout reports whether the cause was a timeout.
func (e *TransportError) Timeout() bool {
	var ne net.Error
	return errors.As(e.Err, &ne) && ne.Timeout()
}

// Temporary reports true, as net.Error requires: a request without an
// answer may succeed later.
func (e *TransportError) Temporary() bool { return true }

// Transport returns err, the error of an http.Client's Do, without its
// *url.Error: as a *TransportError, or, when ctx ended, as ctx's error
// (which the caller caused) with the cause's text.
func Transport(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if ce := ctx.Err(); ce != nil {
		if errors.Is(err, ce) {
			return err
		}
		return fmt.Errorf("%w (%v)", ce, err)
	}
	return &TransportError{Err: err}
}

// Traced returns an HTTP client that sends its requests through hc and
// makes each one a client span of tp (OpenTelemetry's HTTP client
// conventions, through otelhttp), named "<product> <method>", a child of
// the span in the request's context. The span's url.full leaves out the
// query, which may carry personal data (a phone-number filter) or a
// search text, and no trace context is sent to the platform, which takes
// no part in the traces. Traced returns hc itself when tp is nil or a
// noop.TracerProvider; otherwise hc is not modified: the client returned
// is a copy whose Transport wraps hc's (http.DefaultTransport when nil),
// and its CloseIdleConnections reaches hc's transport.
func Traced(hc *http.Client, tp trace.TracerProvider, product string) *http.Client {
	switch tp.(type) {
	case nil, noop.TracerProvider, *noop.TracerProvider:
		return hc
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c := *hc
	c.Transport = &tracedTransport{
		RoundTripper: otelhttp.NewTransport(queryless{base},
			otelhttp.WithTracerProvider(tp),
			otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
				return product + " " + r.Method
			})),
		base: base,
	}
	return &c
}

// tracedTransport is otelhttp's transport, with CloseIdleConnections
// passed on to the transport below it, which otelhttp's does not do.
type tracedTransport struct {
	http.RoundTripper
	base http.RoundTripper
}

func (t *tracedTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// queryless is the transport below otelhttp's: it sets the url.full of
// the request's span, which otelhttp gave the whole URL, to the URL
// without its query.
type queryless struct{ http.RoundTripper }

func (q queryless) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.RawQuery != "" || r.URL.ForceQuery {
		trace.SpanFromContext(r.Context()).SetAttributes(attribute.String("url.full", redact.URL(r.URL.String())))
	}
	return q.RoundTripper.RoundTrip(r)
}

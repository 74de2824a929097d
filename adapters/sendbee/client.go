package sendbee

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/parleybot/parley/internal/apiclient"
	"github.com/parleybot/parley/internal/logs"
)

// Defaults of [Config].
const (
	// DefaultBaseURL is the production Sendbee (AI Number) API. It has no
	// version segment: resource paths hang directly off the host.
	DefaultBaseURL = "https://api-v2.sendbee.io"
	// DefaultTimeout is the Timeout of the default HTTP client.
	DefaultTimeout = 30 * time.Second
)

// Response body caps. A successful body larger than maxBodyBytes is an
// error; error bodies are read up to maxErrorBodyBytes and the rest is
// discarded, as go-github does.
const (
	maxBodyBytes      = 16 << 20
	maxErrorBodyBytes = 64 << 10
	maxDrainBytes     = 256 << 10
)

// Config configures a [Client]. It is passed by value; the zero value of an
// optional field selects its default.
type Config struct {
	// APIKey is the API key from the Sendbee dashboard, sent verbatim in
	// the X-Api-Key header. Required (a bot reads it from SENDBEE_API_KEY).
	APIKey string
	// APISecret is the API secret from the Sendbee dashboard. It signs the
	// X-Auth-Token header of every request and is never sent or logged.
	// Required (a bot reads it from SENDBEE_API_SECRET).
	APISecret string
	// BaseURL is the API root. It must be an absolute http or https URL
	// and may have a path: resource paths are resolved relative to it, so
	// "http://127.0.0.1:8080/api" sends GET /contacts to
	// "http://127.0.0.1:8080/api/contacts". Default: DefaultBaseURL.
	BaseURL string
	// HTTPClient sends the requests. Default: a client with its own
	// connection pool (a clone of http.DefaultTransport), a DefaultTimeout
	// (30s) timeout, and no following of redirects, so the credential
	// headers never reach another host. A client given here is used as is.
	HTTPClient *http.Client
	// TracerProvider, when set, makes each request a client span
	// (OpenTelemetry's HTTP client conventions), a child of the span in
	// the call's context — for a bot's reply, the Bot's delivery attempt
	// (see bot.WithTracerProvider). A span's URL leaves out the query, and
	// no trace context is sent to Sendbee. The HTTP client is then a copy
	// of HTTPClient whose transport wraps HTTPClient's. Default: nil, no
	// spans.
	TracerProvider trace.TracerProvider
	// Logger receives API warnings (at Warn) and, with Debug, one record
	// per request (at Debug). Default: the Bot's logger for a bot
	// adapter's client (see bot.LoggerSetter), else slog.Default().
	Logger *slog.Logger
	// Debug logs each request at Debug level once its response (or error)
	// is in: method, path without the query values, status, duration and
	// rate-limit headers. Credentials, tokens and bodies are never logged.
	// The Logger's handler must enable Debug for the records to appear.
	Debug bool
	// UserAgent is sent in the User-Agent header.
	// Default: "parley-sendbee/<version of the parley module>".
	UserAgent string
}

// A Client calls the Sendbee (AI Number) public API v2. Create it with
// [NewClient]. It is safe for concurrent use and holds no per-call state.
//
// Every method takes a context first and returns the decoded result, a
// [*Response] and an error. The Response is non-nil whenever the API
// answered, including on API errors, and carries the raw body, the
// warning, pagination metadata and rate-limit headers. Methods validate
// their input before any request: invalid input returns a
// [*ValidationError] and sends nothing. An API error is an [*APIError],
// except HTTP 429, which is a [*bot.RateLimitError] wrapping the
// *APIError. The client never retries.
type Client struct {
	platform  string // the adapter name in a *bot.RateLimitError: Name, or an instance's
	apiKey    string
	apiSecret string
	base      *url.URL
	http      *http.Client
	logger    *slog.Logger
	logs      *logs.Slot // where logger writes; shared with the adapter
	debug     bool
	userAgent string
	now       func() time.Time
}

// A Response is the HTTP side of an API call: status, headers, the raw
// body and the envelope fields that are not the payload. It is not
// modified after the call returns; the caller owns it.
type Response struct {
	// StatusCode is the HTTP status code.
	StatusCode int
	// Header holds the response headers.
	Header http.Header
	// Raw is the response body exactly as received (error bodies are
	// capped at 64 KiB). Decode it yourself for fields this package does
	// not model.
	Raw []byte
	// Meta is the envelope's pagination metadata; zero when absent.
	Meta Meta
	// Links is the envelope's page links; zero when absent.
	Links Links
	// Warning is the envelope's non-fatal notice, empty when none. The
	// client also logs it once at Warn.
	Warning string
	// Rate holds the X-RateLimit-* headers.
	Rate Rate
}

// NewClient validates cfg, fills in its defaults and returns a Client.
// It returns an error naming the missing or invalid field.
func NewClient(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, errors.New("sendbee: missing API key (Config.APIKey, env SENDBEE_API_KEY)")
	}
	if strings.TrimSpace(cfg.APISecret) == "" {
		return nil, errors.New("sendbee: missing API secret (Config.APISecret, env SENDBEE_API_SECRET)")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := apiclient.BaseURL("sendbee", cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = apiclient.HTTPClient(DefaultTimeout)
	}
	hc = apiclient.Traced(hc, cfg.TracerProvider, "sendbee")
	slot := logs.New(cfg.Logger)
	ua := cfg.UserAgent
	if ua == "" {
		ua = apiclient.UserAgent("sendbee")
	}
	return &Client{
		platform:  Name,
		apiKey:    cfg.APIKey,
		apiSecret: cfg.APISecret,
		base:      base,
		http:      hc,
		logger:    slot.Logger(),
		logs:      slot,
		debug:     cfg.Debug,
		userAgent: ua,
		now:       time.Now,
	}, nil
}

// setAdapter makes the client the one of the adapter named name (an
// instance's, "sendbee/acme"): its rate-limit errors name that adapter, so
// that the Bot paces that number alone, and its records carry it as the
// "adapter" attribute. New calls it before the client is shared.
func (c *Client) setAdapter(name string) {
	c.platform = name
	c.logger = c.logger.With("adapter", name)
}

// BaseURL returns a copy of the API root the client sends requests to,
// with its trailing slash.
func (c *Client) BaseURL() *url.URL {
	u := *c.base
	return &u
}

// CloseIdleConnections closes the idle keep-alive connections of the
// client's HTTP client (see [http.Client.CloseIdleConnections]). Call it
// when the client will not be used for a while, for example when an
// adapter's Run returns; the client stays usable.
func (c *Client) CloseIdleConnections() {
	c.http.CloseIdleConnections()
}

// CheckToken reports whether token, taken from the X-Authorization header
// of a webhook request, was signed with the client's API secret within the
// last [DefaultTokenWindow]. It is [CheckToken] with the client's secret
// and the current time; use the function directly for another secret or
// window.
func (c *Client) CheckToken(token string) error {
	return CheckToken(c.apiSecret, token, c.now(), DefaultTokenWindow)
}

// call sends one request and returns the response with the decoded
// envelope. apiPath is the API path with a leading slash, as used in error
// messages and logs ("/contacts"); it is resolved relative to the base URL.
// body, if non-nil, is sent as JSON. On a non-2xx answer the error is an
// *APIError or a *bot.RateLimitError, and the Response is still returned.
func (c *Client) call(ctx context.Context, method, apiPath string, query url.Values, body any) (*Response, *envelope, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("sendbee: %s %s: %w", method, apiPath, err)
	}
	req, err := c.newRequest(ctx, method, apiPath, query, body)
	if err != nil {
		return nil, nil, err
	}
	start := time.Now()
	hr, err := c.http.Do(req)
	if err != nil {
		if c.debug {
			c.logger.LogAttrs(ctx, slog.LevelDebug, "sendbee: request failed",
				slog.String("method", method), slog.String("path", apiPath),
				slog.String("query", queryNames(query)), slog.Duration("duration", time.Since(start)))
		}
		// Not the *url.Error: it would repeat the full URL, query values
		// included.
		return nil, nil, fmt.Errorf("sendbee: %s %s: %w", method, apiPath, apiclient.Transport(ctx, err))
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(hr.Body, maxDrainBytes))
		_ = hr.Body.Close()
	}()

	resp := &Response{
		StatusCode: hr.StatusCode,
		Header:     hr.Header,
		Rate:       parseRate(hr.Header),
	}
	success := hr.StatusCode >= 200 && hr.StatusCode < 300
	limit := int64(maxBodyBytes)
	if !success {
		limit = maxErrorBodyBytes
	}
	raw, readErr := io.ReadAll(io.LimitReader(hr.Body, limit+1))
	if c.debug {
		c.logger.LogAttrs(ctx, slog.LevelDebug, "sendbee: request",
			slog.String("method", method), slog.String("path", apiPath),
			slog.String("query", queryNames(query)), slog.Int("status", hr.StatusCode),
			slog.Duration("duration", time.Since(start)), slog.Int("bytes", len(raw)),
			slog.Int("rate_limit", resp.Rate.Limit), slog.Int("rate_remaining", resp.Rate.Remaining))
	}
	if readErr != nil {
		return resp, nil, fmt.Errorf("sendbee: %s %s: read response: %w", method, apiPath, readErr)
	}
	if int64(len(raw)) > limit {
		raw = raw[:limit]
		if success {
			resp.Raw = raw
			return resp, nil, fmt.Errorf("sendbee: %s %s: response body exceeds %d bytes", method, apiPath, limit)
		}
	}
	resp.Raw = raw

	if !success {
		env, _ := decodeEnvelope(raw) // an unparseable error body is reported as is
		if env != nil {
			c.fillEnvelope(ctx, method, apiPath, resp, env)
		}
		return resp, env, checkResponse(c.platform, method, apiPath, hr, raw, c.now())
	}

	env, err := decodeEnvelope(raw)
	if err != nil {
		return resp, nil, fmt.Errorf("sendbee: %s %s: decode response: %w", method, apiPath, err)
	}
	c.fillEnvelope(ctx, method, apiPath, resp, env)
	return resp, env, nil
}

// fillEnvelope copies the envelope's metadata into resp and logs its
// warning, once per response.
func (c *Client) fillEnvelope(ctx context.Context, method, apiPath string, resp *Response, env *envelope) {
	if env.Meta != nil {
		resp.Meta = *env.Meta
	}
	if env.Links != nil {
		resp.Links = *env.Links
	}
	resp.Warning = env.warning()
	if resp.Warning != "" {
		c.logger.LogAttrs(ctx, slog.LevelWarn, "sendbee: API warning",
			slog.String("method", method), slog.String("path", apiPath),
			slog.String("warning", resp.Warning))
	}
}

// newRequest builds a request for apiPath (with a leading slash) resolved
// relative to the base URL, with the authentication, content and agent
// headers and a fresh token.
func (c *Client) newRequest(ctx context.Context, method, apiPath string, query url.Values, body any) (*http.Request, error) {
	if !strings.HasPrefix(apiPath, "/") || strings.HasPrefix(apiPath, "//") {
		return nil, fmt.Errorf("sendbee: %s %s: internal error: API path must start with one slash", method, apiPath)
	}
	// The reference is relative ("contacts/tags"), so the base URL's own
	// path (a reverse proxy prefix, an emulator's "/api") is kept.
	u := c.base.ResolveReference(&url.URL{Path: strings.TrimPrefix(apiPath, "/")})
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("sendbee: %s %s: encode request: %w", method, apiPath, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("sendbee: %s %s: %w", method, apiPath, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("X-Api-Key", c.apiKey)
	req.Header.Set("X-Auth-Token", Token(c.apiSecret, c.now()))
	return req, nil
}

// queryNames lists the names of the query parameters, never their values.
func queryNames(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// getOne calls a single-item endpoint and decodes data into a T.
func getOne[T any](ctx context.Context, c *Client, method, apiPath string, query url.Values, body any) (*T, *Response, error) {
	resp, env, err := c.call(ctx, method, apiPath, query, body)
	if err != nil {
		return nil, resp, err
	}
	v, err := decodeOne[T](env.Data)
	if err != nil {
		return nil, resp, fmt.Errorf("sendbee: %s %s: decode data: %w", method, apiPath, err)
	}
	return v, resp, nil
}

// getPage calls a list endpoint and decodes data into a page of T. A
// successful answer with no items for a page after the first is the end of
// the list: a *PaginationError, like the Python client's
// PaginationException.
func getPage[T any](ctx context.Context, c *Client, apiPath string, query url.Values) (*Page[T], *Response, error) {
	resp, env, err := c.call(ctx, http.MethodGet, apiPath, query, nil)
	if err != nil {
		return nil, resp, err
	}
	items, err := decodeList[T](env.Data)
	if err != nil {
		return nil, resp, fmt.Errorf("sendbee: GET %s: decode data: %w", apiPath, err)
	}
	p := &Page[T]{Items: items, Meta: resp.Meta, Links: resp.Links}
	if len(items) == 0 && p.Meta.CurrentPage > 1 {
		return nil, resp, &PaginationError{Method: http.MethodGet, Path: apiPath, Page: p.Meta.CurrentPage, Meta: p.Meta}
	}
	return p, resp, nil
}

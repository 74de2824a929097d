package velaflows

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
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/parleybot/parley/internal/apiclient"
	"github.com/parleybot/parley/internal/logs"
)

// Defaults of [Config].
const (
	// DefaultBaseURL is the production VelaFlows API gateway. Resource
	// paths such as "/inbox/conversations" hang below its "/api/v1".
	DefaultBaseURL = "https://api.velaflows.com/api/v1"
	// DefaultTimeout is the Timeout of the default HTTP client.
	DefaultTimeout = 30 * time.Second
)

// Environment variables read by [NewClient] (token and workspace only) and
// [ConfigFromEnv] (all three). The names are those of the VelaFlows Python
// examples.
const (
	EnvToken       = "VELAFLOWS_API_TOKEN"
	EnvWorkspaceID = "VELAFLOWS_WORKSPACE_ID"
	EnvBaseURL     = "VELAFLOWS_BASE_URL"
)

// Response body caps. A successful body larger than maxBodyBytes is an
// error; error bodies are read up to maxErrorBodyBytes and the rest is
// discarded.
const (
	maxBodyBytes      = 16 << 20
	maxErrorBodyBytes = 64 << 10
	maxDrainBytes     = 256 << 10
)

// Config configures a [Client]. It is passed by value; the zero value of an
// optional field selects its default.
type Config struct {
	// Token is the API token ("sk_live_…" or "sk_test_…", from Settings →
	// Developer → API Tokens) or a JWT from the Auth API. It is sent as
	// "Authorization: Bearer <Token>" and never logged. Default: the
	// VELAFLOWS_API_TOKEN environment variable; one of the two is required.
	Token string
	// WorkspaceID is the 24-hex-digit workspace ID (Settings → General),
	// sent in the x-workspace-id header. Default: the
	// VELAFLOWS_WORKSPACE_ID environment variable; one of the two is
	// required.
	WorkspaceID string
	// BaseURL is the API root. It must be an absolute http or https URL
	// and usually has a path: resource paths are resolved relative to it,
	// so "http://127.0.0.1:4000/api/v1" sends GET /crm/leads to
	// "http://127.0.0.1:4000/api/v1/crm/leads". Default: DefaultBaseURL.
	// NewClient does not read VELAFLOWS_BASE_URL; [ConfigFromEnv] does.
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
	// no trace context is sent to VelaFlows. The HTTP client is then a copy
	// of HTTPClient whose transport wraps HTTPClient's. Default: nil, no
	// spans.
	TracerProvider trace.TracerProvider
	// Logger receives, with Debug, one record per request attempt and one
	// per retry wait (at Debug level). Default: the Bot's logger for a bot
	// adapter's client (see bot.LoggerSetter), else slog.Default().
	Logger *slog.Logger
	// Debug logs each request attempt at Debug level once its answer (or
	// error) is in: method, path, the names (never the values) of the
	// query parameters, status, duration, attempt and rate-limit headers.
	// The token, the workspace ID and the bodies are never logged. The
	// Logger's handler must enable Debug for the records to appear.
	Debug bool
	// UserAgent is sent in the User-Agent header.
	// Default: "parley-velaflows/<version of the parley module>".
	UserAgent string
	// Retry makes the client retry idempotent calls (GET, HEAD, PUT,
	// DELETE) that fail with 5xx, 429 or a transport error; see
	// [RetryPolicy] for the rules. POST and PATCH calls are never retried
	// automatically. Default (nil): no retries, every call is sent once.
	Retry *RetryPolicy
	// SubscriptionsPath selects the webhook subscriptions API:
	// SubscriptionsPathSeed ("/webhooks/subscriptions", the path of
	// VelaFlows' Python examples) or SubscriptionsPathIntegrations
	// ("/integrations/webhooks", the path of the docs pages). Default
	// (""): the examples' path, falling back to the integrations path when the
	// gateway answers 404 for the route; see [Client.CreateWebhookSubscription].
	SubscriptionsPath string
}

// ConfigFromEnv returns a Config whose Token, WorkspaceID and BaseURL are
// read with getenv from VELAFLOWS_API_TOKEN, VELAFLOWS_WORKSPACE_ID and
// VELAFLOWS_BASE_URL (pass [os.Getenv]). Values are trimmed of surrounding
// space. The other fields are zero; set them before calling [NewClient].
func ConfigFromEnv(getenv func(string) string) Config {
	return Config{
		Token:       strings.TrimSpace(getenv(EnvToken)),
		WorkspaceID: strings.TrimSpace(getenv(EnvWorkspaceID)),
		BaseURL:     strings.TrimSpace(getenv(EnvBaseURL)),
	}
}

// A Client calls the VelaFlows public HTTP API. Create it with
// [NewClient]. It is safe for concurrent use and holds no per-call state.
//
// Every method takes a context first and returns the decoded result, a
// [*Response] and an error (the go-github shape). The Response is non-nil
// whenever the API answered, including on API errors, and carries the raw
// body, the pagination metadata and the rate-limit headers. Methods
// validate their input before any request: invalid input returns a
// [*ValidationError] and sends nothing. An API error is an [*APIError],
// except HTTP 429, which is a [*bot.RateLimitError] wrapping the
// *APIError. Without [Config.Retry] the client never retries.
type Client struct {
	platform    string // the adapter name in a *bot.RateLimitError: Name, or an instance's
	token       string
	workspaceID string
	base        *url.URL
	http        *http.Client
	logger      *slog.Logger
	logs        *logs.Slot // where logger writes; shared with the adapter
	debug       bool
	userAgent   string
	retry       *RetryPolicy // normalised copy; nil means no retries
	now         func() time.Time

	subsPath  string                 // configured subscriptions path; "" = auto
	subsFound atomic.Pointer[string] // auto mode: the path that answered
}

// A Response is the HTTP side of an API call: status, headers, the raw
// body and the envelope's pagination metadata. It is not modified after
// the call returns; the caller owns it.
type Response struct {
	// StatusCode is the HTTP status code of the last attempt.
	StatusCode int
	// Header holds the response headers.
	Header http.Header
	// Raw is the response body exactly as received (error bodies are
	// capped at 64 KiB). Decode it yourself for fields this package does
	// not model.
	Raw []byte
	// Rate holds the X-RateLimit-* headers.
	Rate Rate
	// Pagination is data.pagination of a list answer; zero otherwise.
	Pagination Pagination
	// Attempts is the number of requests sent for the call: 1, or more
	// when [Config.Retry] retried it.
	Attempts int
}

// NewClient fills in cfg's defaults, validates it and returns a Client.
// An empty Token or WorkspaceID is read from the VELAFLOWS_API_TOKEN or
// VELAFLOWS_WORKSPACE_ID environment variable; if it is still empty, or
// malformed, the error is a [*ConfigError] naming the variable, such as
// "velaflows: missing API token: set VELAFLOWS_API_TOKEN (or Config.Token)".
//
// The token must start with "sk_live_" or "sk_test_", or look like a JWT
// ("eyJ…" with three dot-separated parts); its length is not checked. The
// workspace ID must be 24 hexadecimal digits (a MongoDB ObjectId).
func NewClient(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.Token) == "" {
		cfg.Token = os.Getenv(EnvToken)
	}
	if strings.TrimSpace(cfg.WorkspaceID) == "" {
		cfg.WorkspaceID = os.Getenv(EnvWorkspaceID)
	}
	token := strings.TrimSpace(cfg.Token)
	workspace := strings.TrimSpace(cfg.WorkspaceID)
	if token == "" {
		return nil, &ConfigError{Field: "Token", Env: EnvToken, Problem: "missing API token"}
	}
	if err := checkToken(token); err != nil {
		return nil, err
	}
	if workspace == "" {
		return nil, &ConfigError{Field: "WorkspaceID", Env: EnvWorkspaceID, Problem: "missing workspace ID"}
	}
	if err := checkWorkspaceID(workspace); err != nil {
		return nil, err
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := apiclient.BaseURL("velaflows", cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	switch cfg.SubscriptionsPath {
	case "", SubscriptionsPathSeed, SubscriptionsPathIntegrations:
	default:
		return nil, fmt.Errorf("velaflows: invalid Config.SubscriptionsPath %q: want %q, %q or empty",
			cfg.SubscriptionsPath, SubscriptionsPathSeed, SubscriptionsPathIntegrations)
	}
	var retry *RetryPolicy
	if cfg.Retry != nil {
		p, err := cfg.Retry.normalize()
		if err != nil {
			return nil, err
		}
		retry = &p
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = apiclient.HTTPClient(DefaultTimeout)
	}
	hc = apiclient.Traced(hc, cfg.TracerProvider, "velaflows")
	slot := logs.New(cfg.Logger)
	ua := cfg.UserAgent
	if ua == "" {
		ua = apiclient.UserAgent("velaflows")
	}
	return &Client{
		platform:    Name,
		token:       token,
		workspaceID: workspace,
		base:        base,
		http:        hc,
		logger:      slot.Logger(),
		logs:        slot,
		debug:       cfg.Debug,
		userAgent:   ua,
		retry:       retry,
		now:         time.Now,
		subsPath:    cfg.SubscriptionsPath,
	}, nil
}

// setAdapter makes the client the one of the adapter named name (an
// instance's, "velaflows/acme"): its rate-limit errors name that adapter,
// so that the Bot paces that workspace alone, and its records carry it as
// the "adapter" attribute. New calls it before the client is shared.
func (c *Client) setAdapter(name string) {
	c.platform = name
	c.logger = c.logger.With("adapter", name)
}

// checkToken accepts API tokens by their prefix and JWTs by their shape
// (sk_live_ or sk_test_, or a JWT's eyJ). The length is not checked:
// VelaFlows documents 48 or more characters. The error never contains the
// token.
func checkToken(token string) error {
	if strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return &ConfigError{Field: "Token", Env: EnvToken, Problem: "invalid API token (contains spaces or control characters)"}
	}
	if strings.HasPrefix(token, "sk_live_") || strings.HasPrefix(token, "sk_test_") {
		return nil
	}
	if strings.HasPrefix(token, "eyJ") && strings.Count(token, ".") == 2 {
		return nil
	}
	return &ConfigError{Field: "Token", Env: EnvToken,
		Problem: `invalid API token (want an API token starting with "sk_live_" or "sk_test_", or a JWT)`}
}

// checkWorkspaceID requires a 24-hex-digit ObjectId, the documented form
// of a workspace ID.
func checkWorkspaceID(id string) error {
	if isObjectID(id) {
		return nil
	}
	problem := fmt.Sprintf("invalid workspace ID %q (want 24 hexadecimal digits, such as 64f1a2b3c4d5e6f7a8b9c0d1)", id)
	if rest, ok := strings.CutPrefix(id, "ws_"); ok && isObjectID(rest) {
		problem = fmt.Sprintf("invalid workspace ID %q (the ws_ prefix of webhook payloads is not part of it: use %s)", id, rest)
	}
	return &ConfigError{Field: "WorkspaceID", Env: EnvWorkspaceID, Problem: problem}
}

// isObjectID reports whether s is 24 hexadecimal digits.
func isObjectID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// BaseURL returns a copy of the API root the client sends requests to,
// with its trailing slash.
func (c *Client) BaseURL() *url.URL {
	u := *c.base
	return &u
}

// WorkspaceID returns the workspace ID the client sends in x-workspace-id.
// The bot adapter compares it with the workspaceId of webhook payloads.
func (c *Client) WorkspaceID() string { return c.workspaceID }

// TokenPrefix returns the token's first 16 characters (fewer for a shorter
// token): the "visible prefix" the VelaFlows dashboard shows, which is safe
// to log. The rest of the token is secret.
func (c *Client) TokenPrefix() string {
	if len(c.token) <= 16 {
		return c.token[:min(len(c.token), 8)]
	}
	return c.token[:16]
}

// CloseIdleConnections closes the idle keep-alive connections of the
// client's HTTP client (see [http.Client.CloseIdleConnections]); the client
// stays usable.
func (c *Client) CloseIdleConnections() {
	c.http.CloseIdleConnections()
}

// Do sends one API call and decodes the envelope's data member into data
// (a pointer, or nil to skip decoding). It is the Go form of the Python
// helper's get/post/patch/delete, for endpoints this package does not
// model. path is the API path with a leading slash, such as
// "/inbox/conversations"; it is resolved relative to the base URL, so the
// base URL's own path ("/api/v1") is kept. query may be nil; body, if
// non-nil, is sent as JSON. Retries follow [Config.Retry].
//
// A non-2xx status, or a body whose success is not true, is an error: an
// [*APIError], or a [*bot.RateLimitError] for 429. An empty 2xx body (204
// No Content) is a success with nothing to decode. The Response is
// returned whenever the API answered.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body, data any) (*Response, error) {
	method = strings.ToUpper(method)
	resp, raw, err := c.call(ctx, method, path, query, body)
	if err != nil {
		return resp, err
	}
	if data != nil && !isNull(raw) {
		if err := json.Unmarshal(raw, data); err != nil {
			return resp, fmt.Errorf("velaflows: %s %s: decode data: %w", method, path, err)
		}
	}
	return resp, nil
}

// apiEnvelope is the response envelope: {"success", "data"} or
// {"success": false, "error"}.
type apiEnvelope struct {
	Success *bool           `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   *apiErrorBody   `json:"error"`
}

// apiErrorBody is the error member of a failed answer.
type apiErrorBody struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Details json.RawMessage `json:"details"`
}

// call sends a call, retrying it as the policy allows, and returns the
// response with the envelope's data member.
func (c *Client) call(ctx context.Context, method, apiPath string, query url.Values, body any) (*Response, json.RawMessage, error) {
	if !strings.HasPrefix(apiPath, "/") || strings.HasPrefix(apiPath, "//") {
		return nil, nil, fmt.Errorf("velaflows: %s %s: API path must start with one slash", method, apiPath)
	}
	var payload []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, nil, fmt.Errorf("velaflows: %s %s: encode request: %w", method, apiPath, err)
		}
		payload = b
	}
	var policy *RetryPolicy
	if c.retry != nil && idempotent(method) {
		policy = c.retry
	}
	for attempt := 1; ; attempt++ {
		resp, data, err := c.once(ctx, method, apiPath, query, payload, attempt)
		if resp != nil {
			resp.Attempts = attempt
		}
		if err == nil || policy == nil || attempt >= policy.MaxAttempts || ctx.Err() != nil {
			return resp, data, err
		}
		delay, ok := policy.delay(attempt, err)
		if !ok {
			return resp, data, err
		}
		if c.debug {
			attrs := []slog.Attr{
				slog.String("method", method), slog.String("path", apiPath),
				slog.Int("attempt", attempt), slog.Duration("delay", delay),
			}
			if resp != nil {
				attrs = append(attrs, slog.Int("status", resp.StatusCode))
			}
			c.logger.LogAttrs(ctx, slog.LevelDebug, "velaflows: retrying request", attrs...)
		}
		if policy.OnRetry != nil {
			policy.OnRetry(attempt, delay, err)
		}
		if werr := sleep(ctx, delay); werr != nil {
			return resp, data, fmt.Errorf("velaflows: %s %s: retry wait: %w (after %d attempt(s); last error: %w)", method, apiPath, werr, attempt, err)
		}
	}
}

// idempotent reports whether method is idempotent (RFC 9110 §9.2.2) and
// so may be sent again automatically.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// once sends one request and interprets the answer.
func (c *Client) once(ctx context.Context, method, apiPath string, query url.Values, payload []byte, attempt int) (*Response, json.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("velaflows: %s %s: %w", method, apiPath, err)
	}
	req, err := c.newRequest(ctx, method, apiPath, query, payload)
	if err != nil {
		return nil, nil, err
	}
	start := time.Now()
	hr, err := c.http.Do(req)
	if err != nil {
		if c.debug {
			c.logger.LogAttrs(ctx, slog.LevelDebug, "velaflows: request failed",
				slog.String("method", method), slog.String("path", apiPath),
				slog.String("query", queryNames(query)), slog.Int("attempt", attempt),
				slog.Duration("duration", time.Since(start)))
		}
		// Not the *url.Error: it would repeat the full URL, query values
		// included.
		return nil, nil, fmt.Errorf("velaflows: %s %s: %w", method, apiPath, apiclient.Transport(ctx, err))
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(hr.Body, maxDrainBytes))
		_ = hr.Body.Close()
	}()

	resp := &Response{StatusCode: hr.StatusCode, Header: hr.Header, Rate: parseRate(hr.Header)}
	ok2xx := hr.StatusCode >= 200 && hr.StatusCode < 300
	limit := int64(maxBodyBytes)
	if !ok2xx {
		limit = maxErrorBodyBytes
	}
	raw, readErr := io.ReadAll(io.LimitReader(hr.Body, limit+1))
	if c.debug {
		attrs := []slog.Attr{
			slog.String("method", method), slog.String("path", apiPath),
			slog.String("query", queryNames(query)), slog.Int("status", hr.StatusCode),
			slog.Int("attempt", attempt), slog.Duration("duration", time.Since(start)),
			slog.Int("bytes", len(raw)),
		}
		if resp.Rate.Limit > 0 || resp.Rate.Remaining > 0 {
			attrs = append(attrs, slog.Int("rate_limit", resp.Rate.Limit), slog.Int("rate_remaining", resp.Rate.Remaining))
			if !resp.Rate.Reset.IsZero() {
				attrs = append(attrs, slog.Time("rate_reset", resp.Rate.Reset))
			}
		}
		c.logger.LogAttrs(ctx, slog.LevelDebug, "velaflows: request", attrs...)
	}
	if readErr != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(readErr, ctxErr) {
			readErr = fmt.Errorf("%w (%v)", ctxErr, readErr)
		}
		return resp, nil, fmt.Errorf("velaflows: %s %s: read response: %w", method, apiPath, readErr)
	}
	if int64(len(raw)) > limit {
		raw = raw[:limit]
		if ok2xx {
			resp.Raw = raw
			return resp, nil, fmt.Errorf("velaflows: %s %s: response body exceeds %d bytes", method, apiPath, limit)
		}
	}
	resp.Raw = raw

	if !ok2xx {
		return resp, nil, c.checkResponse(method, apiPath, hr, raw)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		// 204 No Content, or an empty 2xx answer to a delete.
		return resp, nil, nil
	}
	var env apiEnvelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return resp, nil, fmt.Errorf("velaflows: %s %s: decode response: %w", method, apiPath, err)
	}
	if env.Success == nil || !*env.Success {
		// The helpers of the docs treat success != true as an error
		// whatever the status.
		return resp, nil, c.checkResponse(method, apiPath, hr, raw)
	}
	var meta struct {
		Pagination *Pagination `json:"pagination"`
	}
	if isObject(env.Data) && json.Unmarshal(env.Data, &meta) == nil && meta.Pagination != nil {
		resp.Pagination = *meta.Pagination
	}
	return resp, env.Data, nil
}

// newRequest builds a request for apiPath (with a leading slash, path
// segments already escaped) resolved relative to the base URL, with the
// authentication, content and agent headers.
func (c *Client) newRequest(ctx context.Context, method, apiPath string, query url.Values, payload []byte) (*http.Request, error) {
	// The reference is relative ("inbox/conversations"), so the base
	// URL's own path ("/api/v1", an emulator's prefix) is kept.
	ref, err := url.Parse(strings.TrimPrefix(apiPath, "/"))
	if err != nil || ref.Scheme != "" || ref.Host != "" || ref.RawQuery != "" {
		return nil, fmt.Errorf("velaflows: %s %s: invalid API path", method, apiPath)
	}
	u := c.base.ResolveReference(ref)
	if !strings.HasPrefix(u.EscapedPath(), c.base.EscapedPath()) {
		return nil, fmt.Errorf("velaflows: %s %s: API path leaves the base URL", method, apiPath)
	}
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("velaflows: %s %s: %w", method, apiPath, err)
	}
	req.Header.Set("Accept", "application/json")
	// The docs' helpers send the JSON content type on every request.
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("X-Workspace-Id", c.workspaceID)
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

// isNull reports whether raw is empty or the JSON null.
func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// isObject reports whether raw is a JSON object.
func isObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}

// escapeID returns id escaped as one path segment, or a *ValidationError
// for an empty ID or a dot segment (which would change the path).
func escapeID(op, field, id string) (string, error) {
	switch strings.TrimSpace(id) {
	case "":
		return "", invalid(op, field, "is required")
	case ".", "..":
		return "", invalid(op, field, "is not a valid ID")
	}
	return url.PathEscape(id), nil
}

// getOne calls an endpoint whose data holds one resource under one of
// keys (the first present wins) and decodes it into a T.
func getOne[T any](ctx context.Context, c *Client, method, apiPath string, query url.Values, body any, keys ...string) (*T, *Response, error) {
	resp, data, err := c.call(ctx, method, apiPath, query, body)
	if err != nil {
		return nil, resp, err
	}
	v, err := decodeMember[T](data, keys...)
	if err != nil {
		return nil, resp, fmt.Errorf("velaflows: %s %s: decode data: %w", method, apiPath, err)
	}
	return v, resp, nil
}

// decodeMember decodes the first of keys present (and not null) in the
// data object.
func decodeMember[T any](data json.RawMessage, keys ...string) (*T, error) {
	if !isObject(data) {
		return nil, errors.New("data is not an object")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return nil, err
	}
	for _, k := range keys {
		if raw, ok := members[k]; ok && !isNull(raw) {
			v := new(T)
			if err := json.Unmarshal(raw, v); err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			return v, nil
		}
	}
	return nil, fmt.Errorf("no %q member", strings.Join(keys, `" or "`))
}

// deleteCall sends a DELETE and ignores the data it may return.
func (c *Client) deleteCall(ctx context.Context, apiPath string) (*Response, error) {
	resp, _, err := c.call(ctx, http.MethodDelete, apiPath, nil, nil)
	return resp, err
}

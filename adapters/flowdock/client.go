package flowdock

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
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/parleybot/parley/internal/apiclient"
	"github.com/parleybot/parley/internal/logs"
)

// Defaults of [Config].
const (
	// DefaultBaseURL is the Flowdock REST API root. Resource paths hang
	// directly off the host; the Ruby gem's "/v1" prefix is not used.
	DefaultBaseURL = "https://api.flowdock.com"
	// DefaultTimeout is the Timeout of the default HTTP client.
	DefaultTimeout = 30 * time.Second
)

// Names of the environment variables read by [ConfigFromEnv]. Error
// messages about missing tokens name them too.
const (
	EnvToken     = "FLOWDOCK_API_TOKEN"  // personal API token
	EnvFlowToken = "FLOWDOCK_FLOW_TOKEN" // flow token of an integration (source)
	EnvBaseURL   = "FLOWDOCK_API_URL"    // REST API root, for an emulator or a proxy
)

// Response body caps. A successful JSON body larger than maxBodyBytes is
// an error; error bodies are read up to maxErrorBodyBytes and the rest is
// discarded, as go-github does. File downloads are streamed, not capped.
const (
	maxBodyBytes      = 16 << 20
	maxErrorBodyBytes = 64 << 10
	maxDrainBytes     = 256 << 10
)

// Config configures a [Client]. It is passed by value; the zero value of an
// optional field selects its default. At least one of Token and FlowToken
// is required.
type Config struct {
	// Token is a personal API token (the account's "API tokens" page). It
	// is sent with HTTP Basic authentication as the user name with an
	// empty password, and is needed by every call except the flow-token
	// posts ([Client.PostActivity], [Client.PostDiscussion],
	// [Client.PostMessage]). A bot reads it from FLOWDOCK_API_TOKEN.
	Token string
	// FlowToken is the flow token of an integration (a "source"). It is
	// sent as the flow_token body field, without Basic authentication, and
	// only by the flow-token posts. It is bound to one flow. Read from
	// FLOWDOCK_FLOW_TOKEN.
	FlowToken string
	// BaseURL is the REST API root. It must be an absolute http or https
	// URL and may have a path: resource paths are resolved relative to
	// it, so "http://127.0.0.1:8080/api" sends GET /user to
	// "http://127.0.0.1:8080/api/user". Default: DefaultBaseURL.
	BaseURL string
	// HTTPClient sends the requests. Default: a client with its own
	// connection pool (a clone of http.DefaultTransport), a DefaultTimeout
	// (30s) timeout, and no automatic redirects, so the Authorization
	// header never follows a redirect to another host ([Client.DownloadFile]
	// follows the file redirect itself, without credentials). A client
	// given here is used as is; its Timeout also bounds file downloads.
	HTTPClient *http.Client
	// TracerProvider, when set, makes each request a client span
	// (OpenTelemetry's HTTP client conventions), a child of the span in
	// the call's context — for a bot's reply, the Bot's delivery attempt
	// (see bot.WithTracerProvider). A span's URL leaves out the query, and
	// no trace context is sent to Flowdock. The HTTP client is then a copy
	// of HTTPClient whose transport wraps HTTPClient's. Default: nil, no
	// spans.
	TracerProvider trace.TracerProvider
	// Logger receives the Debug records. Default: the Bot's logger for a bot
	// adapter's client (see bot.LoggerSetter), else slog.Default().
	Logger *slog.Logger
	// Debug logs each request at Debug level once its response (or
	// error) is in: method, API path, the names (not values) of the query
	// parameters, status, duration and size. Tokens, message contents and
	// bodies are never logged. The Logger's handler must enable Debug for
	// the records to appear.
	Debug bool
	// UserAgent is sent in the User-Agent header.
	// Default: "parley-flowdock/<version of the parley module>".
	UserAgent string
}

// ConfigFromEnv returns a Config whose Token, FlowToken and BaseURL are
// read with getenv from FLOWDOCK_API_TOKEN, FLOWDOCK_FLOW_TOKEN and
// FLOWDOCK_API_URL (pass [os.Getenv]). Values are trimmed of surrounding
// space. The other fields are zero; set them before calling [NewClient].
func ConfigFromEnv(getenv func(string) string) Config {
	return Config{
		Token:     strings.TrimSpace(getenv(EnvToken)),
		FlowToken: strings.TrimSpace(getenv(EnvFlowToken)),
		BaseURL:   strings.TrimSpace(getenv(EnvBaseURL)),
	}
}

// A Client calls the Flowdock REST API. Create it with [NewClient]. It is
// safe for concurrent use and holds no per-call state.
//
// Every method takes a context first and returns the decoded result, a
// [*Response] and an error (the go-github shape). The Response is non-nil
// whenever the API answered, including on API errors. Methods validate
// their input before any request: invalid input returns a
// [*ValidationError], and a call whose token is not configured returns a
// [*TokenError]; neither sends anything. An API error is an [*APIError],
// except HTTP 429, which is a [*bot.RateLimitError] wrapping the
// *APIError. The client never retries: retries belong to the caller (the
// Bot's outbox), which can check a send whose answer was lost with
// [Client.MessageByUUID].
type Client struct {
	platform  string // the adapter name in a *bot.RateLimitError: Name, or an instance's
	token     string
	flowToken string
	base      *url.URL
	http      *http.Client
	logger    *slog.Logger
	logs      *logs.Slot // where logger writes; shared with the adapter
	debug     bool
	userAgent string
}

// A Response is the HTTP side of an API call. It is not modified after the
// call returns; the caller owns it.
type Response struct {
	// StatusCode is the HTTP status code.
	StatusCode int
	// Header holds the response headers.
	Header http.Header
	// Raw is the response body exactly as received (error bodies are
	// capped at 64 KiB). It is nil for file downloads, whose body is
	// streamed to the caller. Decode it yourself for fields this package
	// does not model.
	Raw []byte
	// UserID is the id of the authenticated user from the Flowdock-User
	// header, zero when the header is absent (flow-token posts).
	UserID int64
	// NextURL is the rel="next" target of the Link header (thread lists),
	// empty when there is none.
	NextURL string
}

// NewClient validates cfg, fills in its defaults and returns a Client. It
// returns an error naming what is missing or invalid; with neither token
// set the error names FLOWDOCK_API_TOKEN and FLOWDOCK_FLOW_TOKEN.
func NewClient(cfg Config) (*Client, error) {
	cfg.Token = strings.TrimSpace(cfg.Token)
	cfg.FlowToken = strings.TrimSpace(cfg.FlowToken)
	if cfg.Token == "" && cfg.FlowToken == "" {
		return nil, errors.New("flowdock: missing token: set Config.Token (env " + EnvToken +
			", personal API token) or Config.FlowToken (env " + EnvFlowToken + ", flow token)")
	}
	if strings.ContainsAny(cfg.Token, ":\r\n") {
		return nil, errors.New("flowdock: invalid Config.Token: must not contain a colon or a line break")
	}
	if strings.ContainsAny(cfg.FlowToken, "\r\n") {
		return nil, errors.New("flowdock: invalid Config.FlowToken: must not contain a line break")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := apiclient.BaseURL("flowdock", cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = apiclient.HTTPClient(DefaultTimeout)
	}
	hc = apiclient.Traced(hc, cfg.TracerProvider, "flowdock")
	slot := logs.New(cfg.Logger)
	ua := cfg.UserAgent
	if ua == "" {
		ua = apiclient.UserAgent("flowdock")
	}
	return &Client{
		platform:  Name,
		token:     cfg.Token,
		flowToken: cfg.FlowToken,
		base:      base,
		http:      hc,
		logger:    slot.Logger(),
		logs:      slot,
		debug:     cfg.Debug,
		userAgent: ua,
	}, nil
}

// BaseURL returns a copy of the API root the client sends requests to,
// with its trailing slash.
func (c *Client) BaseURL() *url.URL {
	u := *c.base
	return &u
}

// HasToken reports whether the client has a personal API token, needed by
// every call except the flow-token posts.
func (c *Client) HasToken() bool { return c.token != "" }

// HasFlowToken reports whether the client has a flow token, needed by
// [Client.PostActivity], [Client.PostDiscussion] and [Client.PostMessage].
func (c *Client) HasFlowToken() bool { return c.flowToken != "" }

// CloseIdleConnections closes the idle keep-alive connections of the
// client's HTTP client (see [http.Client.CloseIdleConnections]). The
// client stays usable.
func (c *Client) CloseIdleConnections() {
	c.http.CloseIdleConnections()
}

// setAdapter makes the client the one of the adapter named name (an
// instance's, "flowdock/acme"): its rate-limit errors name that adapter,
// and its records carry it as the "adapter" attribute. New calls it before
// the client is shared.
func (c *Client) setAdapter(name string) {
	c.platform = name
	c.logger = c.logger.With("adapter", name)
}

// withoutKeepAlive returns a copy of c whose connections are not kept for
// reuse, when its transport is an *http.Transport (a custom RoundTripper
// is kept as it is). net/http finishes a dial whose request was cancelled
// and pools the new connection, which then outlives its caller: the
// adapter's Run makes its few REST calls (identity, flows, backfills)
// through such a copy, so that none of its connections outlives Run.
func (c *Client) withoutKeepAlive() *Client {
	var t *http.Transport
	switch rt := c.http.Transport.(type) {
	case nil:
		t = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		t = rt.Clone()
	default:
		return c
	}
	t.DisableKeepAlives = true
	hc := *c.http
	hc.Transport = t
	cc := *c
	cc.http = &hc
	return &cc
}

// Do sends a request with the personal token to an API path that this
// package does not wrap (sources, organizations, invitations…) and decodes
// the JSON answer into v when v is non-nil and the body is not empty. path
// is relative to the base URL, with a leading slash ("/sources"); body,
// when non-nil, is sent as JSON. Errors are as for the typed methods.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body, v any) (*Response, error) {
	method = strings.ToUpper(strings.TrimSpace(method))
	if method == "" {
		return nil, invalid("do", "method", "is required")
	}
	if err := checkAPIPath("do", path); err != nil {
		return nil, err
	}
	return c.call(ctx, "do", request{method: method, path: path, query: query, json: body, auth: authUser}, v)
}

// authKind says how a request authenticates.
type authKind int

const (
	authUser authKind = iota // Basic with the personal token
	authFlow                 // flow_token in the JSON body, no Authorization
	authNone                 // nothing (redirect targets of downloads)
)

func (a authKind) String() string {
	switch a {
	case authUser:
		return "token"
	case authFlow:
		return "flow_token"
	default:
		return "none"
	}
}

// A request is one API call before it is sent.
type request struct {
	method string
	// path is the API path with a leading slash, segments already escaped
	// ("/flows/acme/ops/messages"). It appears in errors and logs.
	path  string
	query url.Values
	// json, when non-nil, is encoded as the JSON body.
	json any
	// body, when non-nil, is sent as is with contentType and, when
	// known (>= 0), contentLength. It takes precedence over json.
	body          io.Reader
	contentType   string
	contentLength int64
	auth          authKind
	// redirects makes a redirect answer a success, for the caller to
	// follow (downloads); otherwise it is an *APIError.
	redirects bool
}

// need returns a *TokenError when the client lacks the token kind a needs.
func (c *Client) need(op string, a authKind) error {
	switch {
	case a == authUser && c.token == "":
		return &TokenError{Op: op, FlowToken: false}
	case a == authFlow && c.flowToken == "":
		return &TokenError{Op: op, FlowToken: true}
	}
	return nil
}

// call sends r and decodes a successful JSON answer into v (when v is
// non-nil and the body is not empty). A non-2xx answer is an *APIError or a
// *bot.RateLimitError, returned with the Response.
func (c *Client) call(ctx context.Context, op string, r request, v any) (*Response, error) {
	hr, resp, err := c.send(ctx, op, r)
	if err != nil {
		return resp, err
	}
	defer drainClose(hr.Body)
	raw, readErr := io.ReadAll(io.LimitReader(hr.Body, maxBodyBytes+1))
	resp.Raw = raw
	if readErr != nil {
		return resp, fmt.Errorf("flowdock: %s %s: read response: %w", r.method, r.path, ctxErr(ctx, readErr))
	}
	if len(raw) > maxBodyBytes {
		resp.Raw = raw[:maxBodyBytes]
		return resp, fmt.Errorf("flowdock: %s %s: response body exceeds %d bytes", r.method, r.path, maxBodyBytes)
	}
	if v != nil && len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, v); err != nil {
			return resp, fmt.Errorf("flowdock: %s %s: decode response: %w", r.method, r.path, err)
		}
	}
	return resp, nil
}

// send checks the token, sends r and returns the live response for a 2xx
// answer; the caller reads and closes its body. For a non-2xx answer it
// reads the (capped) body, closes it and returns the API error.
func (c *Client) send(ctx context.Context, op string, r request) (*http.Response, *Response, error) {
	if err := c.need(op, r.auth); err != nil {
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("flowdock: %s %s: %w", r.method, r.path, err)
	}
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	return c.roundTrip(ctx, req, r)
}

// roundTrip sends req (built from r) and turns the answer into a Response
// or an error, as [Client.send] describes.
func (c *Client) roundTrip(ctx context.Context, req *http.Request, r request) (*http.Response, *Response, error) {
	start := time.Now()
	hr, err := c.http.Do(req)
	if err != nil {
		c.logRequest(ctx, r, 0, start, -1)
		// Not the *url.Error: it would repeat the full URL, query values
		// included.
		return nil, nil, fmt.Errorf("flowdock: %s %s: %w", r.method, r.path, apiclient.Transport(ctx, err))
	}
	resp := newResponse(hr)
	if hr.StatusCode >= 200 && hr.StatusCode < 300 {
		c.logRequest(ctx, r, hr.StatusCode, start, hr.ContentLength)
		return hr, resp, nil
	}
	if r.redirects && isRedirect(hr.StatusCode) && hr.Header.Get("Location") != "" {
		// Only downloads follow redirects; they look at the Location
		// themselves.
		c.logRequest(ctx, r, hr.StatusCode, start, hr.ContentLength)
		return hr, resp, nil
	}
	defer drainClose(hr.Body)
	raw, _ := io.ReadAll(io.LimitReader(hr.Body, maxErrorBodyBytes))
	resp.Raw = raw
	c.logRequest(ctx, r, hr.StatusCode, start, int64(len(raw)))
	return nil, resp, checkResponse(c.platform, r.method, r.path, hr, raw, time.Now())
}

// newResponse copies the HTTP-level facts of hr.
func newResponse(hr *http.Response) *Response {
	resp := &Response{StatusCode: hr.StatusCode, Header: hr.Header}
	if id, err := strconv.ParseInt(strings.TrimSpace(hr.Header.Get("Flowdock-User")), 10, 64); err == nil {
		resp.UserID = id
	}
	resp.NextURL = nextLink(hr.Header.Values("Link"))
	return resp
}

// nextLink returns the target of the rel="next" entry of Link headers.
func nextLink(values []string) string {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
			if !ok {
				continue
			}
			target = strings.TrimSpace(target)
			if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			for p := range strings.SplitSeq(params, ";") {
				name, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(strings.TrimSpace(name), "rel") {
					for rel := range strings.FieldsSeq(strings.Trim(strings.TrimSpace(val), `"`)) {
						if strings.EqualFold(rel, "next") {
							return target[1 : len(target)-1]
						}
					}
				}
			}
		}
	}
	return ""
}

// logRequest writes the Debug record of one request: never a token, a
// query value or a body.
func (c *Client) logRequest(ctx context.Context, r request, status int, start time.Time, size int64) {
	if !c.debug {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.method),
		slog.String("path", r.path),
		slog.String("auth", r.auth.String()),
		slog.Duration("duration", time.Since(start)),
	}
	if names := queryNames(r.query); names != "" {
		attrs = append(attrs, slog.String("query", names))
	}
	if status == 0 {
		c.logger.LogAttrs(ctx, slog.LevelDebug, "flowdock: request failed", attrs...)
		return
	}
	attrs = append(attrs, slog.Int("status", status))
	if size >= 0 {
		attrs = append(attrs, slog.Int64("bytes", size))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "flowdock: request", attrs...)
}

// newRequest builds the HTTP request of r: the path resolved relative to
// the base URL, the body, and the content, agent and auth headers.
func (c *Client) newRequest(ctx context.Context, r request) (*http.Request, error) {
	u, err := c.resolve(r.path)
	if err != nil {
		return nil, fmt.Errorf("flowdock: %s %s: %w", r.method, r.path, err)
	}
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	var (
		body          io.Reader
		contentType   string
		contentLength int64 = -1
	)
	switch {
	case r.body != nil:
		body, contentType, contentLength = r.body, r.contentType, r.contentLength
	case r.json != nil || r.auth == authFlow:
		payload := r.json
		if r.auth == authFlow {
			// The flow token travels in the body, next to the payload's
			// own fields, never in the URL.
			payload, err = withFlowToken(r.json, c.flowToken)
			if err != nil {
				return nil, fmt.Errorf("flowdock: %s %s: encode request: %w", r.method, r.path, err)
			}
		}
		b, err := json.Marshal(payload)
		if err != nil {
			return nil, fmt.Errorf("flowdock: %s %s: encode request: %w", r.method, r.path, err)
		}
		body, contentType, contentLength = bytes.NewReader(b), "application/json", int64(len(b))
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("flowdock: %s %s: %w", r.method, r.path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
		if contentLength >= 0 {
			req.ContentLength = contentLength
		}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if r.auth == authUser {
		// The token is the user name; Flowdock ignores the password.
		req.SetBasicAuth(c.token, "")
	}
	return req, nil
}

// resolve returns the URL of an API path (with a leading slash) below the
// base URL. The reference is made relative ("./flows/…"), so the base
// URL's own path (a proxy prefix, an emulator's "/api") is kept and a
// first segment with a colon is not read as a scheme.
func (c *Client) resolve(path string) (*url.URL, error) {
	ref, err := url.Parse("." + path)
	if err != nil {
		return nil, err
	}
	return c.base.ResolveReference(ref), nil
}

// withFlowToken returns payload's JSON object with the flow_token member
// added.
func withFlowToken(payload any, token string) (any, error) {
	obj := map[string]json.RawMessage{}
	if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return nil, fmt.Errorf("flow-token payload is not a JSON object: %w", err)
		}
	}
	tok, _ := json.Marshal(token)
	obj["flow_token"] = tok
	return obj, nil
}

// checkAPIPath checks a caller-given API path.
func checkAPIPath(op, path string) error {
	switch {
	case !strings.HasPrefix(path, "/"):
		return invalid(op, "path", "must start with a slash")
	case strings.HasPrefix(path, "//"):
		return invalid(op, "path", "must be a path, not a URL")
	case strings.ContainsAny(path, "?#"):
		return invalid(op, "path", "must not have a query or fragment")
	}
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "." || seg == ".." {
			return invalid(op, "path", "must not contain dot segments")
		}
	}
	return nil
}

// ctxErr prefers ctx's error over a transport error it caused, so that
// errors.Is(err, context.Canceled) holds after a cancellation.
func ctxErr(ctx context.Context, err error) error {
	if ce := ctx.Err(); ce != nil && !errors.Is(err, ce) {
		return fmt.Errorf("%w (%v)", ce, err)
	}
	return err
}

// drainClose reads a little of what is left of body, so that the
// connection can be reused, and closes it.
func drainClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxDrainBytes))
	_ = body.Close()
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

// pathOf joins escaped segments into an API path with a leading slash.
func pathOf(segs ...string) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// segment checks one caller-given path segment (an organization or flow
// name, a thread id).
func segment(op, field, v string) error {
	switch strings.TrimSpace(v) {
	case "":
		return invalid(op, field, "is required")
	case ".", "..":
		return invalid(op, field, "must not be a dot segment")
	}
	if v != strings.TrimSpace(v) {
		return invalid(op, field, "must not have surrounding space")
	}
	return nil
}

package sendbee

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultRateLimit is the documented API limit: 60 requests per minute,
// counted per business number whatever the number of API keys.
const DefaultRateLimit = 60

// Rate is the rate-limit state reported by a response's X-RateLimit-*
// headers, which Sendbee may send on any response. Each field is zero
// when its header is absent or malformed; Limit > 0 tells that the
// headers were sent.
type Rate struct {
	// Limit is X-RateLimit-Limit: requests allowed per minute.
	Limit int
	// Remaining is X-RateLimit-Remaining: requests left in the window.
	Remaining int
	// Reset is X-RateLimit-Reset: when the window resets.
	Reset time.Time
}

// parseRate reads the X-RateLimit-* headers.
func parseRate(h http.Header) Rate {
	var r Rate
	r.Limit, _ = strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Limit")))
	r.Remaining, _ = strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Remaining")))
	if reset, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 10, 64); err == nil && reset > 0 {
		r.Reset = time.Unix(reset, 0)
	}
	return r
}

// RateLimitTestResult is the body of the rate-limit test endpoints (the
// SDKs' RateLimitError model): {detail, error, type}.
type RateLimitTestResult struct {
	Detail string `json:"detail"`
	Error  bool   `json:"error"`
	Type   string `json:"type"`
}

// RateLimitErrorTest calls GET /rate-limit/error-test, which answers like
// a throttled request, so that 429 handling can be tried against the real
// API: the error is a [*bot.RateLimitError] with RetryAfter from the
// Retry-After header. Should the API answer 2xx instead, the body is
// returned as a result.
func (c *Client) RateLimitErrorTest(ctx context.Context) (*RateLimitTestResult, *Response, error) {
	return c.rateLimitTest(ctx, "/rate-limit/error-test")
}

// RateLimitRequestTest calls GET /rate-limit/request-test, an ordinary
// request that counts toward the rate limit. Call it repeatedly to reach
// the limit; see [Response.Rate] for the remaining budget.
func (c *Client) RateLimitRequestTest(ctx context.Context) (*RateLimitTestResult, *Response, error) {
	return c.rateLimitTest(ctx, "/rate-limit/request-test")
}

// rateLimitTest decodes the model from data, or from the top level when
// the answer has no data (the flat form the SDKs model).
func (c *Client) rateLimitTest(ctx context.Context, apiPath string) (*RateLimitTestResult, *Response, error) {
	resp, env, err := c.call(ctx, http.MethodGet, apiPath, nil, nil)
	if err != nil {
		return nil, resp, err
	}
	if !isJSONNull(env.Data) {
		v, err := decodeOne[RateLimitTestResult](env.Data)
		if err != nil {
			return nil, resp, fmt.Errorf("sendbee: GET %s: decode data: %w", apiPath, err)
		}
		return v, resp, nil
	}
	v := &RateLimitTestResult{Detail: jsonText(env.Detail), Type: jsonText(env.Type)}
	var flag bool
	if json.Unmarshal(env.Error, &flag) == nil {
		v.Error = flag
	}
	return v, resp, nil
}

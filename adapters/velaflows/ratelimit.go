package velaflows

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Rate limits documented by VelaFlows: requests per token, per endpoint, per
// RateLimitWindow. A bot's replies are writes: about 6.7 per minute.
const (
	RateLimitWindow = 15 * time.Minute
	ReadRateLimit   = 300 // GET
	WriteRateLimit  = 100 // POST, PATCH, PUT
	DeleteRateLimit = 50  // DELETE
)

// Rate is the rate-limit state reported by a response's X-RateLimit-*
// headers, which VelaFlows documents on every response. Each field is
// zero when its header is absent or malformed.
type Rate struct {
	// Limit is X-RateLimit-Limit: requests allowed in the window.
	Limit int
	// Remaining is X-RateLimit-Remaining: requests left in the window.
	Remaining int
	// Reset is X-RateLimit-Reset (Unix seconds): when the window resets.
	Reset time.Time
}

// parseRate reads the X-RateLimit-* headers.
func parseRate(h http.Header) Rate {
	var r Rate
	if v, err := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Limit"))); err == nil && v > 0 {
		r.Limit = v
	}
	if v, err := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Remaining"))); err == nil && v > 0 {
		r.Remaining = v
	}
	if reset, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 10, 64); err == nil && reset > 0 {
		r.Reset = time.Unix(reset, 0)
	}
	return r
}

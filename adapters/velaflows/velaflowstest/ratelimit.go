package velaflowstest

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Rate limiting as VelaFlows documents it: fixed windows per token and category (read,
// write, delete), or per token and route with WithPerEndpointRateLimits.
// A window starts with its first counted request and X-RateLimit-Reset is
// its end. Only requests that pass authentication and the workspace check
// are counted; a request refused with 429 is not counted.

type rateKey struct{ token, bucket string }

type rateWindow struct {
	start time.Time
	count int
}

// rateLimiter is guarded by Server.mu.
type rateLimiter struct {
	windows map[rateKey]*rateWindow
}

// category returns the rate-limit category of an HTTP method.
func category(method string) string {
	switch method {
	case http.MethodPost, http.MethodPatch, http.MethodPut:
		return "write"
	case http.MethodDelete:
		return "delete"
	default:
		return "read"
	}
}

func (s *Server) categoryLimit(cat string) int {
	switch cat {
	case "write":
		return s.cfg.writeLimit
	case "delete":
		return s.cfg.deleteLimit
	default:
		return s.cfg.readLimit
	}
}

// rateBucket names the counter a request uses and its limit.
func (s *Server) rateBucket(method string, spec routeSpec) (string, int) {
	cat := category(method)
	if s.cfg.perEndpoint && spec.method != "" {
		return spec.key(), s.categoryLimit(cat)
	}
	return cat, s.categoryLimit(cat)
}

// setRateHeaders sets X-RateLimit-Limit, -Remaining and -Reset for the
// token's counter. With count it also takes one request from the counter
// and returns a TOO_MANY_REQUESTS error (with Retry-After) when none is
// left. It does nothing without a token or with the limit off.
func (s *Server) setRateHeaders(h http.Header, tok *tokenInfo, spec routeSpec, method string, now time.Time, count bool) *apiError {
	if tok == nil {
		return nil
	}
	bucket, limit := s.rateBucket(method, spec)
	if limit <= 0 {
		return nil
	}
	s.mu.Lock()
	key := rateKey{tok.token, bucket}
	win := s.rl.windows[key]
	if win != nil && !now.Before(win.start.Add(s.cfg.rateWindow)) {
		win = nil
	}
	used, reset := 0, now.Add(s.cfg.rateWindow)
	if win != nil {
		used, reset = win.count, win.start.Add(s.cfg.rateWindow)
	}
	exceeded := false
	if count {
		if used >= limit {
			exceeded = true
		} else {
			if win == nil {
				win = &rateWindow{start: now}
				s.rl.windows[key] = win
			}
			win.count++
			used++
		}
	}
	s.mu.Unlock()

	setLimitHeaders(h, limit, limit-used, reset)
	if !exceeded {
		return nil
	}
	wait := ceilSeconds(reset.Sub(now))
	return &apiError{
		status: http.StatusTooManyRequests, code: codeTooManyRequests, retryAfter: wait,
		message: fmt.Sprintf("Rate limit exceeded. Try again in %d seconds.", wait),
	}
}

func setLimitHeaders(h http.Header, limit, remaining int, reset time.Time) {
	resetUnix := reset.Unix()
	if reset.Nanosecond() > 0 {
		resetUnix++
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(resetUnix, 10))
}

// ceilSeconds rounds d up to whole seconds, at least 1.
func ceilSeconds(d time.Duration) int {
	n := int((d + time.Second - 1) / time.Second)
	return max(n, 1)
}

// ResetRateLimits forgets every rate-limit counter, as if all windows had
// just ended. It is safe for concurrent use.
func (s *Server) ResetRateLimits() {
	s.mu.Lock()
	s.rl.windows = map[rateKey]*rateWindow{}
	s.mu.Unlock()
}

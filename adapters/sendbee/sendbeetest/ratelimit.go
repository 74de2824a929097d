package sendbeetest

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// rateWindow is a fixed-window counter for the whole business (Sendbee
// documents the limit as per business number, whatever the API key).
// Guarded by Server.mu.
type rateWindow struct {
	start time.Time // zero until the first counted request
	count int
}

// takeRate counts one request. It reports whether the request must be
// throttled and, if so, how long until the window resets.
func (s *Server) takeRate() (time.Duration, bool) {
	if s.cfg.rateN <= 0 {
		return 0, false
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rl.start.IsZero() || !now.Before(s.rl.start.Add(s.cfg.ratePer)) {
		s.rl = rateWindow{start: now}
	}
	if s.rl.count >= s.cfg.rateN {
		return max(s.rl.start.Add(s.cfg.ratePer).Sub(now), time.Second), true
	}
	s.rl.count++
	return 0, false
}

// setRateHeaders sets X-RateLimit-Limit, -Remaining and -Reset (a Unix
// timestamp) from the current window, without counting anything.
func (s *Server) setRateHeaders(h http.Header) {
	if s.cfg.rateN <= 0 {
		return
	}
	now := s.now()
	s.mu.Lock()
	remaining, reset := s.cfg.rateN, now.Add(s.cfg.ratePer)
	if !s.rl.start.IsZero() && now.Before(s.rl.start.Add(s.cfg.ratePer)) {
		remaining, reset = s.cfg.rateN-s.rl.count, s.rl.start.Add(s.cfg.ratePer)
	}
	s.mu.Unlock()
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.cfg.rateN))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(ceilUnix(reset), 10))
}

func ceilUnix(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}

// throttled is the 429 answer, with the Django REST framework wording
// (Sendbee's backend is Django; the wording is assumed) and the flat body
// {"detail","error":true,"type"} of the SDKs' RateLimitError model.
func throttled(wait time.Duration) *apiError {
	return &apiError{
		status: http.StatusTooManyRequests, typ: "throttled", retryAfter: wait,
		detail: fmt.Sprintf("Request was throttled. Expected available in %d seconds.", ceilSeconds(wait)),
	}
}

// rateLimitErrorTest serves GET /rate-limit/error-test: always a sample 429
// with Retry-After (the time left in the current window, or 60 seconds when
// rate limiting is disabled).
func (s *Server) rateLimitErrorTest(c *call) (*result, error) {
	c.allowQuery()
	wait := 60 * time.Second
	if s.cfg.rateN > 0 {
		now := s.now()
		s.mu.Lock()
		if !s.rl.start.IsZero() {
			wait = max(s.rl.start.Add(s.cfg.ratePer).Sub(now), time.Second)
		}
		s.mu.Unlock()
	}
	return nil, throttled(wait)
}

// rateLimitRequestTest serves GET /rate-limit/request-test: a normal request
// that counts toward the limit. The body uses the RateLimitError model
// fields (detail, error, type) with error false; the wording is invented.
func (s *Server) rateLimitRequestTest(c *call) (*result, error) {
	c.allowQuery()
	return one(wireThrottle{Detail: "Request was not throttled.", Error: false, Type: "not_throttled"})
}

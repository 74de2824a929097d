package sendbeetest

import (
	"errors"
	"fmt"
	"time"
)

// The business clock is the configured clock ([WithClock]) plus an offset
// that [Server.Advance] and [Server.SetTime] move. It dates messages,
// contacts, conversations and events and decides the customer-service
// window. Authentication, rate limiting, request records and the tokens
// that sign webhooks keep the configured clock, so that a client and a
// webhook receiver on real time keep working after the clock is moved.

// bizNow is the business clock.
func (s *Server) bizNow() time.Time {
	s.clockMu.Lock()
	off := s.offset
	s.clockMu.Unlock()
	return s.cfg.clock().Add(off)
}

// Now returns the server's business time: the clock set by [WithClock]
// (time.Now by default) moved by every [Server.Advance] and
// [Server.SetTime]. It dates messages, contacts, conversations and
// webhook events, and decides whether a conversation's 24-hour
// customer-service window is open.
func (s *Server) Now() time.Time { return s.bizNow() }

// Advance moves the business time forward by d (backward if d is
// negative), so that a test can cross the 24-hour customer-service window
// without waiting. The configured clock keeps running underneath.
// Authentication, rate limiting and webhook signatures keep using the
// configured clock.
func (s *Server) Advance(d time.Duration) {
	s.clockMu.Lock()
	s.offset += d
	s.clockMu.Unlock()
}

// SetTime moves the business time to t; it then runs on from t with the
// configured clock. Like [Server.Advance], it does not affect
// authentication, rate limiting or webhook signatures.
func (s *Server) SetTime(t time.Time) {
	s.clockMu.Lock()
	s.offset = t.Sub(s.cfg.clock())
	s.clockMu.Unlock()
}

// wireClock is the answer of /_sim/clock.
type wireClock struct {
	Now time.Time `json:"now"`
}

func (s *Server) simClockGet() any { return wireClock{Now: s.Now()} }

// simClockPost serves POST /_sim/clock: {"advance": "<Go duration>"} or
// {"set": "<RFC 3339 time>"}, exactly one of them.
func (s *Server) simClockPost(body []byte) (any, error) {
	var in struct {
		Advance *string `json:"advance"`
		Set     *string `json:"set"`
	}
	if err := decodeSim(body, &in); err != nil {
		return nil, err
	}
	switch {
	case (in.Advance == nil) == (in.Set == nil):
		return nil, errors.New(`give exactly one of "advance" (a duration such as "25h") and "set" (an RFC 3339 time)`)
	case in.Advance != nil:
		d, err := time.ParseDuration(*in.Advance)
		if err != nil {
			return nil, fmt.Errorf("advance must be a duration such as \"25h\" or \"90m\", got %q", *in.Advance)
		}
		s.Advance(d)
	default:
		t, err := time.Parse(time.RFC3339Nano, *in.Set)
		if err != nil {
			return nil, fmt.Errorf("set must be an RFC 3339 time such as \"2026-04-01T12:00:00Z\", got %q", *in.Set)
		}
		s.SetTime(t)
	}
	return s.simClockGet(), nil
}

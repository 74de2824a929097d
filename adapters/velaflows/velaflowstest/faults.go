package velaflowstest

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

type faultKind int

const (
	faultFail faultKind = iota
	faultRateLimit
	faultDelay
	faultReset
)

// A fault is injected into one API request.
type fault struct {
	kind          faultKind
	status        int
	code, message string
	d             time.Duration
}

func (f fault) name() string {
	switch f.kind {
	case faultFail:
		return "fail " + strconv.Itoa(f.status)
	case faultRateLimit:
		return "rate-limit"
	case faultDelay:
		return "delay " + f.d.String()
	default:
		return "reset"
	}
}

// Faults are queued first in, first out; each is used up by exactly one
// API request (any path, authenticated or not), before routing and
// authentication. Requests to "/_sim/" never consume a fault. Faulted
// requests are not counted toward the rate limit, except that a delayed
// request continues normally afterwards.

func (s *Server) pushFault(f fault) {
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
}

func (s *Server) popFault() (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return fault{}, false
	}
	f := s.faults[0]
	s.faults = s.faults[1:]
	return f, true
}

// defaultCodes maps statuses to the error codes VelaFlows documents for
// them.
var defaultCodes = map[int]string{
	http.StatusBadRequest:            codeBadRequest,
	http.StatusUnauthorized:          codeUnauthorized,
	http.StatusForbidden:             codeForbidden,
	http.StatusNotFound:              codeNotFound,
	http.StatusConflict:              codeConflict,
	http.StatusUnprocessableEntity:   codeValidation,
	http.StatusTooManyRequests:       codeTooManyRequests,
	http.StatusInternalServerError:   codeInternal,
	http.StatusServiceUnavailable:    codeUnavailable,
	http.StatusMethodNotAllowed:      codeMethodNotAllowed,
	http.StatusRequestEntityTooLarge: codeTooLarge,
}

// FailNext makes the next API request fail with status and the error
// envelope {"success":false,"error":{"code","message"}}. An empty code is
// derived from the status (500 INTERNAL_ERROR, 409 CONFLICT, …) and an
// empty message is the status text. Exception: 502, 503 and 504 with an
// empty code answer with an HTML body and no envelope, as a gateway might
// (the documented code for the status). It is safe for concurrent use.
func (s *Server) FailNext(status int, code, message string) {
	s.pushFault(fault{kind: faultFail, status: status, code: code, message: message})
}

// RateLimitNext makes the next API request fail with 429
// TOO_MANY_REQUESTS, Retry-After set to retryAfter rounded up to whole
// seconds (at least 1), and X-RateLimit-Remaining 0. It is safe for
// concurrent use.
func (s *Server) RateLimitNext(retryAfter time.Duration) {
	s.pushFault(fault{kind: faultRateLimit, d: retryAfter})
}

// DelayNext makes the next API request wait d before it is served
// normally: a slow answer. The wait ends early if the client goes away or
// the server closes. It is safe for concurrent use.
func (s *Server) DelayNext(d time.Duration) {
	s.pushFault(fault{kind: faultDelay, d: d})
}

// ResetNext makes the server drop the connection of the next API request
// without answering (a TCP reset where possible). It is safe for
// concurrent use.
func (s *Server) ResetNext() {
	s.pushFault(fault{kind: faultReset})
}

// PendingFaults returns how many injected faults are still waiting for a
// request.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults)
}

// ClearFaults drops every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// applyFault acts out f. It reports whether the request has been answered
// (or dropped); false means serve it normally.
func (s *Server) applyFault(raw http.ResponseWriter, w *statusWriter, r *http.Request, f fault, tok *tokenInfo, spec routeSpec) bool {
	now := s.now()
	switch f.kind {
	case faultDelay:
		if s.sleepCtx(r.Context(), f.d) {
			return false
		}
		if r.Context().Err() == nil {
			w.fail(&apiError{status: http.StatusServiceUnavailable, code: codeUnavailable, message: "Server closed"})
		}
		return true
	case faultRateLimit:
		_, limit := s.rateBucket(r.Method, spec)
		secs := ceilSeconds(f.d)
		setLimitHeaders(w.Header(), limit, 0, now.Add(time.Duration(secs)*time.Second))
		w.fail(&apiError{
			status: http.StatusTooManyRequests, code: codeTooManyRequests, retryAfter: secs,
			message: fmt.Sprintf("Rate limit exceeded. Try again in %d seconds.", secs),
		})
		return true
	case faultReset:
		hj, ok := raw.(http.Hijacker)
		if !ok {
			panic(http.ErrAbortHandler)
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = conn.Close()
		return true
	default:
		if tok != nil {
			s.setRateHeaders(w.Header(), tok, spec, r.Method, now, false)
		}
		if f.code == "" && (f.status == http.StatusBadGateway || f.status == http.StatusServiceUnavailable || f.status == http.StatusGatewayTimeout) {
			w.code = ""
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(f.status)
			fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><h1>%d %s</h1></body></html>\n",
				f.status, http.StatusText(f.status), f.status, http.StatusText(f.status))
			return true
		}
		code, msg := f.code, f.message
		if code == "" {
			code = defaultCodes[f.status]
			if code == "" {
				code = codeInternal
			}
		}
		if msg == "" {
			msg = http.StatusText(f.status)
		}
		w.fail(&apiError{status: f.status, code: code, message: msg})
		return true
	}
}

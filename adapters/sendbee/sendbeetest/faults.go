package sendbeetest

import (
	"encoding/json"
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
	faultLoseAnswer
)

// A fault is injected into one API request.
type fault struct {
	kind   faultKind
	status int
	body   string
	d      time.Duration
}

func (f fault) name() string {
	switch f.kind {
	case faultFail:
		return "fail " + strconv.Itoa(f.status)
	case faultRateLimit:
		return "rate-limit"
	case faultDelay:
		return "delay " + f.d.String()
	case faultLoseAnswer:
		return "lose-answer"
	default:
		return "reset"
	}
}

// Faults are queued first in, first out; each one is used up by exactly one
// API request (any path under the prefix, authenticated or not, applied
// before routing and authentication). Requests to "/_sim/" never consume a
// fault. Faulted requests do not count toward the rate limit, except that a
// delayed request continues normally afterwards.

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

// FailNext makes the next API request fail with status and body. An empty
// body becomes the standard error envelope with type "server_error"; a body
// is otherwise sent verbatim, as application/json when it is valid JSON
// (so "<html>…" bodies exercise a client's unparseable-error path). It is
// safe for concurrent use.
func (s *Server) FailNext(status int, body string) {
	s.pushFault(fault{kind: faultFail, status: status, body: body})
}

// RateLimitNext makes the next API request fail with 429, the flat throttle
// body and Retry-After set to retryAfter rounded up to whole seconds. A
// negative retryAfter omits the Retry-After header. It is safe for
// concurrent use.
func (s *Server) RateLimitNext(retryAfter time.Duration) {
	s.pushFault(fault{kind: faultRateLimit, d: retryAfter})
}

// DelayNext makes the next API request wait d before it is served normally:
// a slow answer. The wait ends early if the client goes away or the server
// closes. It is safe for concurrent use.
func (s *Server) DelayNext(d time.Duration) {
	s.pushFault(fault{kind: faultDelay, d: d})
}

// ResetNext makes the server close the connection of the next API request
// without answering (with a TCP reset where possible). It is safe for
// concurrent use.
func (s *Server) ResetNext() {
	s.pushFault(fault{kind: faultReset})
}

// LoseAnswerNext makes the server serve the next API request in full — a
// message is sent, a contact created — and then close its connection
// without answering (with a TCP reset where possible): the request reached
// the platform, but the client cannot know. It is safe for concurrent use.
func (s *Server) LoseAnswerNext() {
	s.pushFault(fault{kind: faultLoseAnswer})
}

// WarnNext adds text as the "warning" of the next successful API response
// (joined with "; " to any warning the server adds itself). It is safe for
// concurrent use.
func (s *Server) WarnNext(text string) {
	s.mu.Lock()
	s.warnNext = append(s.warnNext, text)
	s.mu.Unlock()
}

// FailNextMessage makes the next message accepted by a send endpoint fail
// after acceptance: the API still answers 200 with status "queued", then
// the stored message gets status "failed" with fail_reason reason, and a
// message.status webhook reports it. It is safe for concurrent use.
func (s *Server) FailNextMessage(reason string) {
	s.mu.Lock()
	s.msgFails = append(s.msgFails, reason)
	s.mu.Unlock()
}

// PendingFaults returns how many injected API faults are still waiting for
// a request.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults)
}

// ClearFaults drops every pending API fault, forced warning and message
// failure.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults, s.warnNext, s.msgFails = nil, nil, nil
	s.mu.Unlock()
}

// applyFault acts out f. It reports whether the request has been answered
// (or dropped); false means serve it normally.
func (s *Server) applyFault(raw http.ResponseWriter, w http.ResponseWriter, r *http.Request, f fault) bool {
	switch f.kind {
	case faultDelay:
		t := time.NewTimer(f.d)
		defer t.Stop()
		select {
		case <-t.C:
			return false
		case <-r.Context().Done():
			return true
		case <-s.done:
			s.writeError(w, &apiError{status: http.StatusServiceUnavailable, typ: "server_error", detail: "server closed"})
			return true
		}
	case faultRateLimit:
		s.writeError(w, throttled(f.d))
		return true
	case faultLoseAnswer:
		return false // served normally; the answer is dropped at the end
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
		if f.body == "" {
			s.writeError(w, &apiError{status: f.status, typ: "server_error", detail: http.StatusText(f.status)})
			return true
		}
		ct := http.DetectContentType([]byte(f.body))
		if json.Valid([]byte(f.body)) {
			ct = "application/json"
		}
		s.setRateHeaders(w.Header())
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(f.body))
		return true
	}
}

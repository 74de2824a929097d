package flowdocktest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// DropConnections ends every open stream now. Each response ends cleanly
// (the client reads EOF), as when Flowdock drops a stream for maintenance.
// Events posted afterwards stay in the log, so a client that reconnects
// with Last-Event-ID gets them without loss or duplicates.
func (s *Server) DropConnections() {
	s.mu.Lock()
	close(s.dropCh)
	s.dropCh = make(chan struct{})
	s.mu.Unlock()
}

// SendMalformed writes one event whose data is not valid JSON to every
// stream open now, with its own event id (on text/event-stream), before any
// later event. It is not replayed on reconnect. With no open stream it has
// no effect; use [Server.WaitConnections] first.
func (s *Server) SendMalformed() {
	s.mu.Lock()
	s.appendEventLocked(logEntry{malformed: true})
	s.mu.Unlock()
}

// InjectEvent writes one event, exactly as given, to every stream open now,
// as a broken or hostile server would. On text/event-stream its "id:" line
// is id byte for byte (any bytes but CR and LF, control characters and NUL
// included; no "id:" line when id is empty) and its "data:" lines are the
// lines of data; on the JSON stream it is data followed by "\r\n". The
// event changes no state, takes no message id and, like
// [Server.SendMalformed], is not replayed on reconnect; with no open stream
// it has no effect (use [Server.WaitConnections] first). It fails, sending
// nothing, for an id with CR or LF or data with CR, which would end the
// event early.
func (s *Server) InjectEvent(id string, data []byte) error {
	if strings.ContainsAny(id, "\r\n") {
		return fmt.Errorf("flowdocktest: inject event: id %q has CR or LF", id)
	}
	if bytes.IndexByte(data, '\r') >= 0 {
		return errors.New("flowdocktest: inject event: data has CR")
	}
	s.mu.Lock()
	s.appendEventLocked(logEntry{raw: &rawEvent{id: id}, data: bytes.Clone(data)})
	s.mu.Unlock()
	return nil
}

// InjectMessage puts on the streams of the flow ("org/flow" or flow id) a
// chat message by asUser (nick or id, a member of the flow) whose message
// id is id, whatever it is: huge, zero, negative, or one the flow has
// already used, as a corrupt or hostile server would send it. The message
// is not stored: the REST API never lists it, and the flow's own ids go on
// from where they were. Streams receive it, and replay it after
// Last-Event-ID, like any event of the flow. It returns the message as
// sent; it fails for an unknown flow or user, or a user who is not a
// member.
func (s *Server) InjectMessage(flowRef, asUser string, id int64, text string) (Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, u, err := s.actorLocked(flowRef, asUser)
	if err != nil {
		return Message{}, err
	}
	m := &message{id: int(id), event: "message", flow: f, user: u.id, text: text, app: "chat", sent: s.now(),
		tags: dedupTags(s.contentTagsLocked(text, f, u.id))}
	v := s.messageViewLocked(m)
	s.appendEventLocked(logEntry{flow: f, data: v.JSON})
	return v, nil
}

// Stall makes every stream stop writing, keep-alives included, for d, as a
// hung server would; new connections get their response headers and then
// stall too. Events posted meanwhile are delivered when the stall ends.
// Stall(0) ends a stall early.
func (s *Server) Stall(d time.Duration) {
	s.mu.Lock()
	if d <= 0 {
		s.stallUntil = time.Time{}
	} else {
		s.stallUntil = time.Now().Add(d)
	}
	for c := range s.conns {
		select {
		case c.notify <- struct{}{}:
		default:
		}
	}
	s.mu.Unlock()
}

// FailStreams makes the next n stream connection attempts fail with status
// and a {"message": …} body (with Retry-After: 1 on 429 and 503), before
// authentication. Calls add up.
func (s *Server) FailStreams(status, n int) {
	s.mu.Lock()
	for range n {
		s.failStream = append(s.failStream, status)
	}
	s.mu.Unlock()
}

// FailRequests makes the next n REST requests (any path under [Server.URL])
// fail with status and a {"message": …} body, before routing and
// authentication. Calls add up.
func (s *Server) FailRequests(status, n int) {
	s.mu.Lock()
	for range n {
		s.failREST = append(s.failREST, status)
	}
	s.mu.Unlock()
}

// Connection faults, queued in dropWrites, apply to requests that change
// something (any method but GET and HEAD), so that reads the client makes
// meanwhile (a stream's backfill) do not use them up.
const (
	faultReset      = 1 // drop the connection before serving the request
	faultLoseAnswer = 2 // serve the request, then drop the connection
)

// ResetRequests makes the server close the connection of each of the next
// n REST requests that would change something (POST, PUT, DELETE) without
// serving or answering it (with a TCP reset where possible): the client
// cannot tell whether Flowdock acted. Calls add up, in turn with
// LoseAnswers.
func (s *Server) ResetRequests(n int) { s.pushDrop(faultReset, n) }

// LoseAnswers makes the server serve each of the next n REST requests that
// change something (POST, PUT, DELETE) in full — a message is posted, an
// edit applied — and then close its connection without answering: the
// request reached Flowdock, but the client cannot know. Calls add up, in
// turn with ResetRequests.
func (s *Server) LoseAnswers(n int) { s.pushDrop(faultLoseAnswer, n) }

func (s *Server) pushDrop(kind, n int) {
	s.mu.Lock()
	for range n {
		s.dropWrites = append(s.dropWrites, kind)
	}
	s.mu.Unlock()
}

// dropConnection closes the connection of a request without an answer,
// with a TCP reset where possible.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
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
}

// discardWriter keeps nothing: the answer of a request whose answer is to
// be lost.
type discardWriter struct{ header http.Header }

func (d discardWriter) Header() http.Header         { return d.header }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

func (s *Server) popFail(q *[]int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(*q) == 0 {
		return 0
	}
	st := (*q)[0]
	*q = (*q)[1:]
	return st
}

// RevokeFlowToken removes the integration source of the flow ("org/flow" or
// flow id): later posts with its flow_token get 410 Gone, as Flowdock
// documents for a removed source. It reports whether the flow exists.
func (s *Server) RevokeFlowToken(flowRef string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flowRefLocked(flowRef)
	if f == nil {
		return false
	}
	f.revoked = true
	return true
}

// Connections returns the number of open streams.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// WaitConnections waits until exactly n streams are open, or fails tb
// after the wait timeout ([WithWaitTimeout]). It returns at once if n are
// open already.
func (s *Server) WaitConnections(tb testing.TB, n int) {
	tb.Helper()
	timer := time.NewTimer(s.cfg.waitTimeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		have, ch := len(s.conns), s.connCh
		s.mu.Unlock()
		if have == n {
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			tb.Fatalf("flowdocktest: waited %v for %d open streams, have %d", s.cfg.waitTimeout, n, have)
			return
		}
	}
}

// LastEventIDs returns the Last-Event-ID header of every stream connection
// attempt so far, in order ("" when the header was absent).
func (s *Server) LastEventIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lastIDs)
}

// LastEventID returns the id of the newest stream event, as a client that
// has seen everything would send in Last-Event-ID.
func (s *Server) LastEventID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return itoa(int(s.seq))
}

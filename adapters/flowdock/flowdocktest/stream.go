package flowdocktest

import (
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxLog is how many stream events the server keeps for Last-Event-ID
// replay; older ones are dropped in chunks.
const maxLog = 100_000

// malformedData is what [Server.SendMalformed] sends as an event's data.
const malformedData = `{"event":"message","content":"this event is broken`

// A logEntry is one event in the global stream log. Exactly one of flow,
// chat, toUser, malformed and raw says who receives it.
type logEntry struct {
	seq       uint64
	flow      *flow // flow events: streams whose filter has the flow, while the user is a member
	chat      *chat // private messages: user=1 streams of either participant
	toUser    int   // user-level events (flow-add, flow-remove): every stream of that user
	malformed bool  // SendMalformed: every stream open at the time
	raw       *rawEvent
	data      []byte
}

// A rawEvent is an event of [Server.InjectEvent], written as given to every
// stream open at the time.
type rawEvent struct {
	id string // the SSE id: line, byte for byte; none when empty
}

// appendEventLocked gives e the next global event id, stores it and wakes
// every open stream.
func (s *Server) appendEventLocked(e logEntry) {
	s.seq++
	e.seq = s.seq
	if len(s.events) >= maxLog {
		s.events = append(s.events[:0:0], s.events[maxLog/10:]...)
	}
	s.events = append(s.events, e)
	for c := range s.conns {
		select {
		case c.notify <- struct{}{}:
		default:
		}
	}
}

// A streamConn is one open stream.
type streamConn struct {
	uid      int
	flows    map[*flow]bool
	private  bool // user=1
	liveFrom uint64
	notify   chan struct{}
}

func (s *Server) matchLocked(c *streamConn, e *logEntry) bool {
	switch {
	case e.malformed || e.raw != nil:
		return e.seq > c.liveFrom
	case e.flow != nil:
		return c.flows[e.flow] && e.flow.members[c.uid]
	case e.chat != nil:
		return c.private && (e.chat.a == c.uid || e.chat.b == c.uid)
	default:
		return e.toUser == c.uid
	}
}

// pendingLocked returns the events after cursor that c receives, and the
// new cursor (the head of the log).
func (s *Server) pendingLocked(c *streamConn, cursor uint64) ([]logEntry, uint64) {
	if len(s.events) == 0 || cursor >= s.seq {
		return nil, cursor
	}
	first := s.events[0].seq
	i := 0
	if cursor >= first {
		i = int(cursor - first + 1)
	}
	var out []logEntry
	for ; i < len(s.events); i++ {
		if s.matchLocked(c, &s.events[i]) {
			out = append(out, s.events[i])
		}
	}
	return out, s.seq
}

// serveStream serves the streaming API: GET /flows?filter=…, GET
// /flows/:org/:flow, as text/event-stream or as the \r\n-delimited JSON
// stream.
func (s *Server) serveStream(w0 http.ResponseWriter, r *http.Request, p string) {
	w := &statusWriter{ResponseWriter: w0}
	rq := Request{Host: "stream", Path: p, Stream: true, LastEventID: r.Header.Get("Last-Event-ID")}
	defer s.recordOnce(w, r, &rq)()
	// refused describes a refusal to the observer: who asked, for what.
	refused := ConnectionEvent{State: ConnRefused}
	fail := func(e *apiError, reason string) {
		refused.Status, refused.Reason = e.status, reason
		s.mu.Lock()
		refused.Open, refused.BotOpen = s.openCountsLocked()
		s.mu.Unlock()
		s.report(refused)
		writeError(w, e)
	}

	s.mu.Lock()
	s.lastIDs = append(s.lastIDs, rq.LastEventID)
	var st int
	if len(s.failStream) > 0 {
		st, s.failStream = s.failStream[0], s.failStream[1:]
	}
	s.mu.Unlock()
	if st != 0 {
		rq.Fault = "fail " + strconv.Itoa(st)
		if st == http.StatusServiceUnavailable || st == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		fail(&apiError{status: st, message: statusMessage(st)}, "injected failure")
		return
	}
	segs := segments(p)
	if len(segs) == 0 || segs[0] != "flows" || (len(segs) != 1 && len(segs) != 3) {
		fail(&apiError{status: http.StatusNotFound, message: "not found: stream from /flows?filter=org/flow,… or /flows/:org/:flow"}, "not a stream path")
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		fail(&apiError{status: http.StatusMethodNotAllowed, message: "method not allowed"}, "method not allowed")
		return
	}
	q := r.URL.Query()
	sse := wantsSSE(r)
	conn := &streamConn{flows: map[*flow]bool{}, notify: make(chan struct{}, 1)}

	s.mu.Lock()
	cr := s.authenticateLocked(r)
	rq.Auth = cr.method
	if cr.user == nil {
		s.mu.Unlock()
		msg, reason := "unauthorized: bad credentials", "bad credentials"
		if cr.method == "" {
			msg, reason = "unauthorized: authentication required", "no credentials"
		}
		fail(&apiError{status: http.StatusUnauthorized, message: msg}, reason)
		return
	}
	rq.Authenticated, rq.User = true, cr.user.id
	conn.uid = cr.user.id
	refused.User, refused.Nick, refused.Bot = cr.user.id, cr.user.nick, cr.user == s.bot
	w.Header().Set("Flowdock-User", itoa(conn.uid))
	var refs []string
	if len(segs) == 3 {
		refs = []string{segs[1] + "/" + segs[2]}
	} else {
		for ref := range strings.SplitSeq(q.Get("filter"), ",") {
			if ref = strings.TrimSpace(ref); ref != "" {
				refs = append(refs, ref)
			}
		}
	}
	conn.private = q.Get("user") == "1" || strings.EqualFold(q.Get("user"), "true")
	refused.Flows, refused.Private = refs, conn.private
	if len(refs) == 0 && !conn.private {
		s.mu.Unlock()
		fail(validation{"filter": {"filter or user=1 is required"}}.err(), "no filter and no user=1")
		return
	}
	var paths []string
	for _, ref := range refs {
		f := s.flowRefLocked(ref)
		if f == nil || !f.members[conn.uid] {
			s.mu.Unlock()
			fail(&apiError{status: http.StatusNotFound, message: "not found"}, "no such flow, or not a member: "+ref)
			return
		}
		conn.flows[f] = true
		paths = append(paths, f.path())
	}
	cursor := s.seq
	conn.liveFrom = cursor
	if sse && rq.LastEventID != "" {
		if id, err := strconv.ParseUint(strings.TrimSpace(rq.LastEventID), 10, 64); err == nil && id <= s.seq {
			cursor = id
		}
	}
	s.conns[conn] = struct{}{}
	s.connChangedLocked()
	dropCh := s.dropCh
	s.mu.Unlock()
	// ended is why the stream ended, for the observer; "" until it was
	// reported connected.
	change := ConnectionEvent{User: refused.User, Nick: refused.Nick, Bot: refused.Bot, Flows: paths, Private: conn.private}
	var opened time.Time
	ended := ""
	defer func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.connChangedLocked()
		change.Open, change.BotOpen = s.openCountsLocked()
		s.mu.Unlock()
		if ended != "" {
			change.State, change.Reason, change.Duration = ConnDisconnected, ended, time.Since(opened)
			s.report(change)
		}
	}()

	rc := http.NewResponseController(w)
	h := w.Header()
	if sse {
		h.Set("Content-Type", "text/event-stream")
	} else {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write(nil) {
		return
	}
	opened, ended = time.Now(), "a write failed (the client stopped reading or went away)"
	s.mu.Lock()
	change.Open, change.BotOpen = s.openCountsLocked()
	s.mu.Unlock()
	change.State = ConnConnected
	s.report(change)
	change.Flows = append([]string(nil), paths...) // the observer owns what it got

	var tick <-chan time.Time
	if s.cfg.keepAlive > 0 {
		t := time.NewTicker(s.cfg.keepAlive)
		defer t.Stop()
		tick = t.C
	}
	keepAlive := []byte("\n")
	if sse {
		keepAlive = []byte(": keep-alive\n\n")
	}
	ctx := r.Context()
	for {
		s.mu.Lock()
		stall := time.Until(s.stallUntil)
		var batch []logEntry
		if stall <= 0 {
			batch, cursor = s.pendingLocked(conn, cursor)
		}
		s.mu.Unlock()
		if stall > 0 {
			t := time.NewTimer(stall)
			select {
			case <-t.C:
			case <-conn.notify: // events wait; Stall(0) ends the stall early
			case <-dropCh:
				t.Stop()
				ended = reasonDropped
				return
			case <-s.closed:
				t.Stop()
				ended = reasonClosed
				return
			case <-ctx.Done():
				t.Stop()
				ended = reasonClient
				return
			}
			t.Stop()
			continue
		}
		if len(batch) > 0 {
			var buf []byte
			for _, e := range batch {
				buf = appendEvent(buf, e, sse)
			}
			if !write(buf) {
				return
			}
		}
		select {
		case <-conn.notify:
		case <-tick:
			s.mu.Lock()
			stalled := time.Now().Before(s.stallUntil)
			s.mu.Unlock()
			if !stalled && !write(keepAlive) {
				return
			}
		case <-dropCh:
			ended = reasonDropped
			return
		case <-s.closed:
			ended = reasonClosed
			return
		case <-ctx.Done():
			ended = reasonClient
			return
		}
	}
}

// Why an open stream ended, as [ConnectionEvent.Reason] says it.
const (
	reasonDropped = "dropped by the emulator"
	reasonClosed  = "the emulator closed"
	reasonClient  = "the client closed it"
)

// appendEvent writes one event in the wire format:
//
//	text/event-stream:  "id: <seq>\ndata: <json>\n\n"
//	application/json:   "<json>\r\n"
//
// An injected raw event has its own id (or none) and one data: line per
// line of its data.
func appendEvent(buf []byte, e logEntry, sse bool) []byte {
	data := e.data
	if e.malformed {
		data = []byte(malformedData)
	}
	if !sse {
		buf = append(buf, data...)
		return append(buf, '\r', '\n')
	}
	if e.raw != nil {
		if e.raw.id != "" {
			buf = append(buf, "id: "...)
			buf = append(buf, e.raw.id...)
			buf = append(buf, '\n')
		}
		for line := range strings.SplitSeq(string(data), "\n") {
			buf = append(buf, "data: "...)
			buf = append(buf, line...)
			buf = append(buf, '\n')
		}
		return append(buf, '\n')
	}
	buf = append(buf, "id: "...)
	buf = strconv.AppendUint(buf, e.seq, 10)
	buf = append(buf, "\ndata: "...)
	buf = append(buf, data...)
	return append(buf, '\n', '\n')
}

// wantsSSE picks the format: the accept query parameter overrides the
// Accept header; the default is the JSON stream, as Flowdock documents.
func wantsSSE(r *http.Request) bool {
	accept := r.URL.Query().Get("accept")
	if accept == "" {
		accept = r.Header.Get("Accept")
	}
	for part := range strings.SplitSeq(accept, ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/event-stream" {
			return true
		}
	}
	return false
}

func (s *Server) connChangedLocked() {
	close(s.connCh)
	s.connCh = make(chan struct{})
}

// emitUserLevelLocked sends a user-level event (no message id) to every
// stream of uid.
func (s *Server) emitUserLevelLocked(uid int, v any) {
	data, _ := json.Marshal(v)
	s.appendEventLocked(logEntry{toUser: uid, data: data})
}

// emitUserEditLocked sends user-edit once per flow the user is in.
func (s *Server) emitUserEditLocked(u *user) {
	now := s.now()
	for _, f := range s.flows {
		if !f.members[u.id] {
			continue
		}
		data, _ := json.Marshal(map[string]any{
			"event": "user-edit", "flow": f.id, "user": itoa(u.id), "sent": millis(now),
			"content": map[string]any{"user": map[string]any{"id": u.id, "nick": u.nick, "name": u.name, "avatar": u.avatar}},
		})
		s.appendEventLocked(logEntry{flow: f, data: data})
	}
}

package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley/bot"
)

// eventFilter selects the events of a stream; an empty field selects all.
type eventFilter struct {
	platform, conversation string
	types                  map[bot.EventType]bool
}

func (f *eventFilter) match(e *bot.Event) bool {
	return (f.platform == "" || e.Platform == f.platform) &&
		(f.conversation == "" || e.Conversation == f.conversation) &&
		(len(f.types) == 0 || f.types[e.Type])
}

// streamStarted, if set, is called once a stream has subscribed and
// before it reads its first event (a test's hook).
var streamStarted func()

// events serves GET /admin/v1/events: the feed as Server-Sent Events.
func (s *server) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := eventFilter{platform: q.Get("platform"), conversation: q.Get("conversation")}
	for _, v := range q["type"] {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				if f.types == nil {
					f.types = map[bot.EventType]bool{}
				}
				f.types[bot.EventType(t)] = true
			}
		}
	}
	rc := http.NewResponseController(w)
	// The stream lasts longer than the server's write timeout.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.fail(w, r, err)
		return
	}
	// Only the types asked for: the Bot builds no other event for this
	// stream.
	types := make([]bot.EventType, 0, len(f.types))
	for t := range f.types {
		types = append(types, t)
	}
	sub := s.b.Subscribe(0, types...)
	defer sub.Close()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no") // proxies: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	var buf bytes.Buffer
	// A comment first, so that the client sees the stream open at once.
	buf.WriteString(": parley events\n\n")
	if !s.flush(w, rc, &buf) {
		return
	}
	if streamStarted != nil {
		streamStarted()
	}

	heartbeat := time.NewTicker(s.cfg.heartbeat)
	defer heartbeat.Stop()
	var told uint64 // the drops already told
	for {
		select {
		case <-r.Context().Done():
			return
		case e, ok := <-sub.Events():
			if !ok {
				told = writeDropped(&buf, sub.Dropped(), told)
				s.flush(w, rc, &buf)
				return // the Bot stopped
			}
			told = writeDropped(&buf, sub.Dropped(), told)
			if f.match(&e) {
				writeEvent(&buf, &e)
			}
			// Events that came meanwhile go in the same write.
			if len(sub.Events()) > 0 && buf.Len() < 64<<10 {
				continue
			}
			if buf.Len() > 0 && !s.flush(w, rc, &buf) {
				return
			}
		case <-heartbeat.C:
			told = writeDropped(&buf, sub.Dropped(), told)
			buf.WriteString(": heartbeat\n\n")
			if !s.flush(w, rc, &buf) {
				return
			}
		}
	}
}

// writeEvent writes e to buf as an event of the stream.
func writeEvent(buf *bytes.Buffer, e *bot.Event) {
	data, err := json.Marshal(e)
	if err != nil {
		return // an Event always encodes
	}
	buf.WriteString("id: " + strconv.FormatUint(e.Seq, 10) + "\nevent: " + string(e.Type) + "\ndata: ")
	buf.Write(data)
	buf.WriteString("\n\n")
}

// writeDropped writes to buf a "dropped" event when the subscription lost
// events since the last one told, and returns the count told.
func writeDropped(buf *bytes.Buffer, dropped, reported uint64) uint64 {
	if dropped <= reported {
		return reported
	}
	buf.WriteString(`event: dropped` + "\n" + `data: {"dropped":` + strconv.FormatUint(dropped-reported, 10) +
		`,"total":` + strconv.FormatUint(dropped, 10) + "}\n\n")
	return dropped
}

// flush writes buf to the client and empties it; it reports false when
// the client is gone, or has not taken the write within two heartbeats
// (a client that stopped reading would hold the stream forever).
func (s *server) flush(w http.ResponseWriter, rc *http.ResponseController, buf *bytes.Buffer) bool {
	_ = rc.SetWriteDeadline(time.Now().Add(2 * s.cfg.heartbeat)) // not supported: no bound
	_, err := w.Write(buf.Bytes())
	buf.Reset()
	if err == nil {
		err = rc.Flush()
	}
	return err == nil
}

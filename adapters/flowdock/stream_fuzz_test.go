package flowdock

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/parleybot/parley/bot"
)

// The fuzzed stream follows one flow whose newest message, when the stream
// starts, is fuzzStart; its legitimate messages are fuzzStart+1 …
// fuzzStart+fuzzLegit, by dana (1305). The bot is 1201.
const (
	fuzzFlow  = "f1"
	fuzzStart = 7_000_000
	fuzzLegit = 7
)

func fuzzMessage(id int64, text string) []byte {
	return fmt.Appendf(nil, `{"event":"message","id":%d,"flow":%q,"user":"1305","content":%q,"tags":[]}`, id, fuzzFlow, text)
}

// fuzzEvent is one SSE event.
func fuzzEvent(id string, data []byte) []byte {
	return fmt.Appendf(nil, "id: %s\ndata: %s\n\n", id, data)
}

// fuzzAPI is the REST API of the fuzzed flow: its first posted legitimate
// messages. Other conversations are empty.
type fuzzAPI struct{ posted int }

func (a *fuzzAPI) whoami(context.Context) (string, error) { return "1201", nil }

func (a *fuzzAPI) joinedFlows(context.Context) ([]string, map[string]string, error) {
	return []string{fuzzFlow}, map[string]string{"1305": "dana"}, nil
}

func (a *fuzzAPI) latestID(_ context.Context, conversation string) (int64, error) {
	if conversation != fuzzFlow {
		return 0, nil
	}
	return fuzzStart + int64(a.posted), nil
}

func (a *fuzzAPI) since(_ context.Context, conversation string, afterID int64, limit int) ([]json.RawMessage, error) {
	var out []json.RawMessage
	for i := 1; conversation == fuzzFlow && i <= a.posted && len(out) < limit; i++ {
		if id := int64(fuzzStart + i); id > afterID {
			out = append(out, fuzzMessage(id, "legit "+strconv.Itoa(i)))
		}
	}
	return out, nil
}

// fuzzServer serves one scripted stream response per connect and records
// the Last-Event-ID of each.
type fuzzServer struct {
	mu        sync.Mutex
	responses [][]byte
	lastIDs   []string
}

func (f *fuzzServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.lastIDs = append(f.lastIDs, r.Header.Get("Last-Event-ID"))
	var body []byte
	if len(f.responses) > 0 {
		body, f.responses = f.responses[0], f.responses[1:]
	}
	f.mu.Unlock()
	if body == nil {
		http.Error(w, "no more responses", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	_, _ = w.Write(body)
}

func (f *fuzzServer) script(responses ...[]byte) {
	f.mu.Lock()
	f.responses, f.lastIDs = responses, nil
	f.mu.Unlock()
}

// multiEvent reports whether body holds more than one event: a boundary
// (r3labs/sse splits events on any of these) between two of its lines.
func multiEvent(body []byte) bool {
	body = bytes.Trim(body, "\r\n")
	for _, sep := range []string{"\n\n", "\r\r", "\n\r\n", "\r\n\n"} {
		if bytes.Contains(body, []byte(sep)) {
			return true
		}
	}
	return false
}

// FuzzStreamEvents runs the stream supervisor over real SSE on loopback:
// the first response is three legitimate events, the fuzzed bytes as one
// more event, and three more legitimate events without an id (so that the
// last id read is the fuzzed event's, if it has one); the stream then ends, the
// supervisor reconnects (with the Last-Event-ID it kept), the REST
// backfill runs, and the second response is the seventh legitimate event.
// Whatever the bytes:
//
//   - nothing panics and both connects end cleanly: the reconnect is not
//     refused, and the kept Last-Event-ID is a valid header value;
//   - no message is published twice;
//   - when the bytes hold a single event, every legitimate message is
//     published (unless the event claims its id, which then takes its
//     place): one event cannot silence the flow.
func FuzzStreamEvents(f *testing.F) {
	const huge = 1<<53 + 1
	seeds := [][]byte{
		fuzzEvent("4\x005", fuzzMessage(fuzzStart+100, "NUL in the id")),
		fuzzEvent("\x01", fuzzMessage(fuzzStart+100, "control character in the id")),
		fuzzEvent("9\x7f", nil),
		fuzzEvent(strings.Repeat("9", 1025), fuzzMessage(fuzzStart+100, "long id")),
		fuzzEvent("x", fuzzMessage(huge, "huge id")),
		fuzzEvent("x", fuzzMessage(math.MaxInt64, "max id")),
		fuzzEvent("x", fuzzMessage(-7, "negative id")),
		fuzzEvent("x", fuzzMessage(0, "zero id")),
		fuzzEvent("x", fuzzMessage(1, "old id")),
		fuzzEvent("x", fuzzMessage(fuzzStart+2, "a reused id")),
		fuzzEvent("x", fuzzMessage(fuzzStart+1000, "a little ahead")),
		fuzzEvent("x", fuzzMessage(fuzzStart+idSpan+1, "just beyond the window")),
		fuzzEvent("x", []byte(`{"event":"message","id":"abc","flow":"f1","user":"1305","content":"id not a number"}`)),
		fuzzEvent("x", []byte(`{"event":"message","id":1e3,"flow":"f1","user":"1305","content":"id in exponent form"}`)),
		fuzzEvent("x", []byte(`{"event":"message","id":99999999999999999999,"flow":"f1","user":"1305","content":"overflow"}`)),
		fuzzEvent("x", fmt.Appendf(nil, `{"event":"message","id":%d,"to":"1201","user":"1310","content":"a private chat's first id"}`, huge)),
		fuzzEvent("x", fmt.Appendf(nil, `{"event":"message","id":%d,"flow":"f1","user":"1201","content":"own echo"}`, huge)),
		fuzzEvent("x", fmt.Appendf(nil, `{"event":"status","id":%d,"flow":"f1","user":"1305","content":"status"}`, huge)),
		fuzzEvent("x", fmt.Appendf(nil, `{"event":"message-edit","id":%d,"flow":"f1","user":"1305","content":{"message":%d,"updated_content":"e"}}`, huge, fuzzStart+1)),
		fuzzEvent("x", []byte(`{"event":"flow-add","user":"1201","content":{}}`)),
		[]byte("retry: 10\nevent: message\n: a comment\nid: 77\ndata: " + string(fuzzMessage(fuzzStart+3, "fields")) + "\n"),
		[]byte("data: {\"event\":\"message\""),
		[]byte("id: 5\r\ndata: {}\r"),
		{},
	}
	for _, s := range seeds {
		f.Add(s)
	}

	fs := &fuzzServer{}
	srv := httptest.NewServer(fs)
	f.Cleanup(srv.Close)
	logger := slog.New(slog.DiscardHandler)

	f.Fuzz(func(t *testing.T, body []byte) {
		var first bytes.Buffer
		for i := 1; i <= 3; i++ {
			first.Write(fuzzEvent(strconv.Itoa(i), fuzzMessage(fuzzStart+int64(i), "legit "+strconv.Itoa(i))))
		}
		first.Write(body)
		first.WriteString("\n\n")
		for i := 4; i <= 6; i++ {
			// Without an id: the last id read stays the fuzzed event's.
			first.WriteString("data: ")
			first.Write(fuzzMessage(fuzzStart+int64(i), "legit "+strconv.Itoa(i)))
			first.WriteString("\n\n")
		}
		fs.script(first.Bytes(), fuzzEvent("20", fuzzMessage(fuzzStart+7, "legit 7")))

		api := &fuzzAPI{}
		published := map[string]int{}
		s := &stream{
			cfg: StreamConfig{URL: srv.URL}, api: api, auth: "Basic eDo=", logger: logger,
			ec: eventContext{self: "1201"},
			pub: bot.PublisherFunc(func(_ context.Context, m *bot.Message) error {
				published[m.ID]++
				return nil
			}),
			ownUUID: func(string) bool { return false },
			windows: map[string]*idWindow{},
		}
		s.cfg.setDefaults()
		ctx := t.Context()
		if err := s.loadFlows(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.connectOnce(ctx); err != nil {
			t.Fatalf("first connect: %v", err)
		}
		s.resubscribe = false
		api.posted = fuzzLegit
		if err := s.connectOnce(ctx); err != nil {
			t.Fatalf("reconnect: %v", err)
		}

		fs.mu.Lock()
		lastIDs := fs.lastIDs
		fs.mu.Unlock()
		if len(lastIDs) != 2 {
			t.Fatalf("the server saw %d connects, want 2", len(lastIDs))
		}
		if id := lastIDs[1]; id != "" && !validEventID([]byte(id)) {
			t.Fatalf("reconnected with Last-Event-ID %q", id)
		}
		if s.lastEventID != "" && !validEventID([]byte(s.lastEventID)) {
			t.Fatalf("kept Last-Event-ID %q", s.lastEventID)
		}
		for id, n := range published {
			if n > 1 {
				t.Fatalf("%s published %d times", id, n)
			}
		}
		if multiEvent(body) {
			return
		}
		for i := int64(1); i <= fuzzLegit; i++ {
			id := fuzzStart + i
			if published[fuzzFlow+"/"+strconv.FormatInt(id, 10)] != 1 && !bytes.Contains(body, []byte(strconv.FormatInt(id, 10))) {
				t.Fatalf("legitimate message %d not published (published: %v)", id, published)
			}
		}
	})
}

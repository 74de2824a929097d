package admin_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/admin"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// newBot returns a Bot on a fake adapter "fake" that echoes /echo.
func newBot(t *testing.T, opts ...bot.Option) (*bot.Bot, *bottest.FakeAdapter) {
	t.Helper()
	fa := bottest.NewFakeAdapter("fake")
	b, err := bot.New(append([]bot.Option{bot.WithAdapters(fa), bot.WithLogger(bottest.Logger(t))}, opts...)...)
	require.NoError(t, err)
	b.HandleFunc(bot.Command("echo"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply(bot.CommandArgs(m)))
	}, bot.Help("/echo <text>", "say it back"))
	return b, fa
}

// serve serves the admin API of b on a loopback server and returns its
// URL. Build it before the Bot runs, and run the Bot after (so that the
// Bot stops, ending the streams, before the server closes).
func serve(t *testing.T, b *bot.Bot, opts ...admin.Option) string {
	t.Helper()
	srv := httptest.NewServer(admin.Handler(b, opts...))
	t.Cleanup(srv.Close)
	return srv.URL
}

// start builds a Bot, serves its admin API and runs it.
func start(t *testing.T, opts ...admin.Option) (b *bot.Bot, fa *bottest.FakeAdapter, url string) {
	t.Helper()
	b, fa = newBot(t)
	url = serve(t, b, opts...)
	bottest.Run(t, b)
	following(t, url)
	return b, fa, url
}

// following waits until the handler at url follows the event feed, which
// it starts to a moment after the Bot's Run.
func following(t *testing.T, url string) {
	t.Helper()
	require.Eventually(t, func() bool {
		return call(t, http.MethodGet, url+"/admin/v1/conversations", "").object(t)["since"] != nil
	}, 5*time.Second, time.Millisecond)
}

// An answer is an HTTP answer, read.
type answer struct {
	status int
	header http.Header
	body   string
}

// object decodes the answer's JSON object.
func (a answer) object(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(a.body), &v), "body %q", a.body)
	return v
}

// call makes a request and reads its answer. A body is sent as JSON;
// headers are name, value pairs (a Host pair sets the request's Host).
func call(t *testing.T, method, url, body string, headers ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if strings.EqualFold(headers[i], "Host") {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

// requireError checks an error answer: its status and that its JSON error
// contains want.
func requireError(t *testing.T, a answer, status int, want string) {
	t.Helper()
	require.Equal(t, status, a.status, "body %s", a.body)
	assert.Equal(t, "application/json", a.header.Get("Content-Type"))
	msg, _ := a.object(t)["error"].(string)
	assert.Contains(t, msg, want)
}

// runnable waits until the Bot's jobs can be run: the scheduler starts a
// moment after Run.
func runnable(t *testing.T, b *bot.Bot, job string) {
	t.Helper()
	require.Eventually(t, func() bool { return !errors.Is(b.RunJob(t.Context(), job), bot.ErrClosed) },
		5*time.Second, time.Millisecond)
}

// An sse is one message of an event stream.
type sse struct {
	id, event, data string
	comment         string
}

// A stream reads an event stream.
type stream struct {
	msgs   chan sse
	cancel context.CancelFunc
}

// openStream opens GET url as an event stream and reads its messages on a
// goroutine that ends with the stream. The test's end cancels it.
func openStream(t *testing.T, url string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	s := &stream{msgs: make(chan sse, 4096), cancel: cancel}
	go func() {
		defer close(s.msgs)
		defer resp.Body.Close()
		r := bufio.NewReader(resp.Body)
		var m sse
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				s.msgs <- m
				m = sse{}
			case strings.HasPrefix(line, ":"):
				m.comment = strings.TrimSpace(line[1:])
			default:
				k, v, _ := strings.Cut(line, ": ")
				switch k {
				case "id":
					m.id = v
				case "event":
					m.event = v
				case "data":
					m.data = v
				}
			}
		}
	}()
	first := s.next(t)
	require.Equal(t, "parley events", first.comment)
	return s
}

// next returns the stream's next message, failing after 5 seconds.
func (s *stream) next(t *testing.T) sse {
	t.Helper()
	select {
	case m, ok := <-s.msgs:
		require.True(t, ok, "the stream ended")
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message on the stream within 5s")
		return sse{}
	}
}

// event returns the stream's next event (not a comment), decoded.
func (s *stream) event(t *testing.T) (sse, bot.Event) {
	t.Helper()
	for {
		m := s.next(t)
		if m.event == "" {
			continue
		}
		var e bot.Event
		if m.event != "dropped" {
			require.NoError(t, json.Unmarshal([]byte(m.data), &e), "data %q", m.data)
		}
		return m, e
	}
}

// requireEnd waits for the stream to end, reading what is left.
func (s *stream) requireEnd(t *testing.T) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-s.msgs:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("the stream did not end within 5s")
		}
	}
}

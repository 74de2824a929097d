package flowdocktest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// client makes raw REST requests.
type client struct {
	t     *testing.T
	base  string
	auth  string // full Authorization header value; "" for none
	hc    *http.Client
	extra http.Header
}

func newHTTPClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// botClient authenticates as the bot with "token:" (the Ruby/Python form).
func botClient(t *testing.T, s *flowdocktest.Server) *client {
	return &client{t: t, base: s.URL(), auth: basic(s.Token(), ""), hc: newHTTPClient(t)}
}

func userClient(t *testing.T, s *flowdocktest.Server, user string) *client {
	tok := s.UserToken(user)
	require.NotEmpty(t, tok, "user %s", user)
	return &client{t: t, base: s.URL(), auth: basic(tok, ""), hc: newHTTPClient(t)}
}

func anonClient(t *testing.T, s *flowdocktest.Server) *client {
	return &client{t: t, base: s.URL(), hc: newHTTPClient(t)}
}

type response struct {
	Status int
	Header http.Header
	Raw    []byte
}

func (r *response) json(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Raw, v), "body: %s", r.Raw)
}

func (r *response) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.json(t, &m)
	return m
}

func (r *response) list(t *testing.T) []map[string]any {
	t.Helper()
	var m []map[string]any
	r.json(t, &m)
	return m
}

// errorBody is the platform error shape.
type errorBody struct {
	Message string              `json:"message"`
	Errors  map[string][]string `json:"errors"`
}

func (r *response) err(t *testing.T) errorBody {
	t.Helper()
	var e errorBody
	r.json(t, &e)
	return e
}

// do sends body as JSON (nil: no body).
func (c *client) do(method, path string, body any) *response {
	c.t.Helper()
	var rd io.Reader
	ct := ""
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(c.t, err)
		rd, ct = bytes.NewReader(b), "application/json"
	}
	return c.send(method, path, ct, rd)
}

func (c *client) form(method, path string, vals url.Values) *response {
	c.t.Helper()
	return c.send(method, path, "application/x-www-form-urlencoded", strings.NewReader(vals.Encode()))
}

// upload posts a multipart form the way the Python wrapper does: form
// field event=file and the file part "content".
func (c *client) upload(path, fileName string, data []byte, fields map[string]string) *response {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(c.t, mw.WriteField(k, v))
	}
	fw, err := mw.CreateFormFile("content", fileName)
	require.NoError(c.t, err)
	_, _ = fw.Write(data)
	require.NoError(c.t, mw.Close())
	return c.send(http.MethodPost, path, mw.FormDataContentType(), &buf)
}

func (c *client) send(method, path, ct string, body io.Reader) *response {
	c.t.Helper()
	u := path
	if !strings.HasPrefix(path, "http") {
		u = c.base + path
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, u, body)
	require.NoError(c.t, err)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Accept", "application/json")
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	for k, vs := range c.extra {
		req.Header[k] = vs
	}
	resp, err := c.hc.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return &response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
}

// ---- stream readers written from the wire format, independently of the package ----

// A streamEvent is one parsed stream item: an SSE event (ID, Data), an SSE
// comment (Comment), or on the JSON stream an object (Data) or a
// keep-alive (KeepAlive).
type streamEvent struct {
	ID, Event, Data string
	HasID           bool
	Comment         string
	KeepAlive       bool
}

type stream struct {
	resp   *http.Response
	items  chan streamEvent
	done   chan struct{}
	err    error // set before done closes
	cancel context.CancelFunc
}

// openStream connects to the stream. accept "" sends no Accept header.
func openStream(t *testing.T, s *flowdocktest.Server, path, auth, accept, lastID string) (*stream, *http.Response) {
	t.Helper()
	return openStreamAt(t, s.StreamURL()+path, auth, accept, lastID)
}

// openStreamAt connects to the stream at the absolute URL target.
func openStreamAt(t *testing.T, target, auth, accept, lastID string) (*stream, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	tr := &http.Transport{}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		cancel()
		tr.CloseIdleConnections()
		require.NoError(t, err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		tr.CloseIdleConnections()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		return nil, resp
	}
	st := &stream{resp: resp, items: make(chan streamEvent, 1024), done: make(chan struct{}), cancel: cancel}
	sse := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
	go func() {
		defer close(st.done)
		br := bufio.NewReader(resp.Body)
		if sse {
			st.err = readSSE(br, st.items)
		} else {
			st.err = readJSONStream(br, st.items)
		}
	}()
	t.Cleanup(func() {
		st.close()
		tr.CloseIdleConnections()
	})
	return st, resp
}

func (st *stream) close() {
	st.cancel()
	st.resp.Body.Close()
	<-st.done
}

// readSSE parses text/event-stream: lines end in "\n"; "" dispatches;
// ":" starts a comment; "field: value" with one optional space.
func readSSE(br *bufio.Reader, out chan<- streamEvent) error {
	var ev streamEvent
	var data []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		switch {
		case line == "":
			if len(data) > 0 {
				ev.Data = strings.Join(data, "\n")
				out <- ev
			}
			ev, data = streamEvent{}, nil
		case strings.HasPrefix(line, ":"):
			out <- streamEvent{Comment: strings.TrimPrefix(strings.TrimPrefix(line, ":"), " ")}
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				ev.ID, ev.HasID = value, true
			case "event":
				ev.Event = value
			case "data":
				data = append(data, value)
			default:
				return errors.New("unexpected SSE field " + field)
			}
		}
	}
}

// readJSONStream parses the JSON stream: objects end in "\r\n"; a bare
// "\n" is a keep-alive.
func readJSONStream(br *bufio.Reader, out chan<- streamEvent) error {
	for {
		piece, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		switch {
		case piece == "\n":
			out <- streamEvent{KeepAlive: true}
		case strings.HasSuffix(piece, "\r\n"):
			out <- streamEvent{Data: strings.TrimSuffix(piece, "\r\n")}
		default:
			return errors.New("object not terminated by \\r\\n: " + piece)
		}
	}
}

// next returns the next item that is not a keep-alive or comment.
func (st *stream) next(t *testing.T) streamEvent {
	t.Helper()
	return st.nextItem(t, true)
}

func (st *stream) nextItem(t *testing.T, skipKeepAlive bool) streamEvent {
	t.Helper()
	timer := time.NewTimer(3 * time.Second)
	defer timer.Stop()
	for {
		select {
		case ev := <-st.items:
			if skipKeepAlive && (ev.KeepAlive || ev.Comment != "") {
				continue
			}
			return ev
		case <-st.done:
			select {
			case ev := <-st.items:
				if skipKeepAlive && (ev.KeepAlive || ev.Comment != "") {
					continue
				}
				return ev
			default:
			}
			t.Fatalf("stream ended: %v", st.err)
		case <-timer.C:
			t.Fatal("no stream event within 3s")
		}
	}
}

// nothingFor asserts that no item at all arrives within d.
func (st *stream) nothingFor(t *testing.T, d time.Duration) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case ev := <-st.items:
		t.Fatalf("unexpected stream item %+v", ev)
	case <-timer.C:
	}
}

// ended waits for the server to end the stream (EOF).
func (st *stream) ended(t *testing.T) {
	t.Helper()
	select {
	case <-st.done:
		require.ErrorIs(t, st.err, io.EOF)
	case <-time.After(3 * time.Second):
		t.Fatal("stream did not end")
	}
}

func decode(t *testing.T, data string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(data), &m), "data: %s", data)
	return m
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := []string{}
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

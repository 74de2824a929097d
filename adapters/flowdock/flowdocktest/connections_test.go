package flowdocktest_test

import (
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
)

// next returns the next report of the observer, failing t after 2s.
func next(t *testing.T, ch <-chan flowdocktest.ConnectionEvent) flowdocktest.ConnectionEvent {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(2 * time.Second):
		t.Fatal("no connection report within 2s")
		return flowdocktest.ConnectionEvent{}
	}
}

func TestServer_ConnectionObserver(t *testing.T) {
	t.Parallel()
	reports := make(chan flowdocktest.ConnectionEvent, 16)
	s := flowdocktest.NewServer(t, flowdocktest.WithConnectionObserver(func(e flowdocktest.ConnectionEvent) { reports <- e }))
	auth := basic(s.Token(), "")

	_, resp := openStream(t, s, "/flows?filter=acme/main", basic("not-the-token", ""), "text/event-stream", "")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	e := next(t, reports)
	assert.Equal(t, flowdocktest.ConnRefused, e.State)
	assert.Equal(t, http.StatusUnauthorized, e.Status)
	assert.Equal(t, 0, e.User)
	assert.Equal(t, "bad credentials", e.Reason)
	assert.Equal(t, `stream connection refused 401 (bad credentials) — the bot's FLOWDOCK_API_TOKEN is not the emulator's; run: eval "$(parley sim env)" and restart the bot`, e.Explain())

	_, resp = openStream(t, s, "/flows?filter=acme/nope", auth, "text/event-stream", "")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	e = next(t, reports)
	assert.Equal(t, flowdocktest.ConnRefused, e.State)
	assert.Equal(t, http.StatusNotFound, e.Status)
	assert.Equal(t, s.BotID(), e.User)
	assert.True(t, e.Bot)
	assert.Equal(t, []string{"acme/nope"}, e.Flows)
	assert.Equal(t, "stream connection of parley refused 404 (no such flow, or not a member: acme/nope) — check FLOWDOCK_FLOWS", e.Explain())

	st, _ := openStream(t, s, "/flows?filter=acme/main,acme/ops&user=1", auth, "text/event-stream", "")
	require.NotNil(t, st)
	e = next(t, reports)
	assert.Equal(t, flowdocktest.ConnConnected, e.State)
	assert.Equal(t, s.BotID(), e.User)
	assert.Equal(t, "parley", e.Nick)
	assert.True(t, e.Bot)
	assert.Equal(t, []string{"acme/main", "acme/ops"}, e.Flows)
	assert.True(t, e.Private)
	assert.Equal(t, 1, e.Open)
	assert.Equal(t, "stream: parley connected to acme/main, acme/ops and private messages; 1 stream open", e.Explain())

	s.DropConnections()
	e = next(t, reports)
	assert.Equal(t, flowdocktest.ConnDisconnected, e.State)
	assert.Equal(t, "dropped by the emulator", e.Reason)
	assert.Equal(t, 0, e.Open)
	assert.Positive(t, e.Duration)
	assert.Contains(t, e.Explain(), "stream: parley disconnected after ")
	assert.Contains(t, e.Explain(), ": dropped by the emulator; no bot stream is open")

	dana, _ := openStream(t, s, "/flows/acme/main", basic(s.UserToken("dana"), ""), "", "")
	require.NotNil(t, dana)
	e = next(t, reports)
	assert.Equal(t, flowdocktest.ConnConnected, e.State)
	assert.False(t, e.Bot)
	assert.Equal(t, "stream: dana connected to acme/main; 1 stream open", e.Explain())
	dana.close()
	e = next(t, reports)
	assert.Equal(t, flowdocktest.ConnDisconnected, e.State)
	assert.Equal(t, "the client closed it", e.Reason)

	s.Close()
	assert.Empty(t, reports, "one report per connection and per end, no more")
}

// within fails t unless ch is closed within 5 seconds.
func within(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: not within 5s", what)
	}
}

// An observer that stops the server at the first refused stream calls
// Close in a new goroutine, as it must (Close waits for the observer's
// calls). Close returns, the refused request ends, and no call is made
// after Close returned.
func TestServer_ConnectionObserverCallsClose(t *testing.T) {
	var (
		s        *flowdocktest.Server
		calls    atomic.Int32
		returned atomic.Bool  // the observer's Close has returned
		late     atomic.Int32 // calls made after that
		closed   = make(chan struct{})
	)
	s, err := flowdocktest.Start("127.0.0.1:0", flowdocktest.WithConnectionObserver(func(e flowdocktest.ConnectionEvent) {
		if returned.Load() {
			late.Add(1)
		}
		if calls.Add(1) > 1 || e.State != flowdocktest.ConnRefused {
			return
		}
		go func() {
			defer close(closed)
			s.Close()
			returned.Store(true)
		}()
	}))
	require.NoError(t, err)

	answered := make(chan struct{})
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	go func() {
		defer close(answered)
		req, _ := http.NewRequest(http.MethodGet, s.StreamURL()+"/flows?filter=acme/main", nil)
		req.Header.Set("Authorization", basic("not-the-token", ""))
		if resp, err := (&http.Client{Transport: tr}).Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	within(t, closed, "Close, called by the observer in a new goroutine, returns")
	within(t, answered, "the refused request ends")
	s.Close() // from the test too: returns at once
	assert.Equal(t, int32(1), calls.Load(), "one report: the refusal")
	assert.Zero(t, late.Load(), "no call after Close returned")
}

// Close ends the streams, and the observer hears of their ends; an
// observer that calls Close then, in a new goroutine, starts a second
// Close while the first waits for the observer: both return.
func TestServer_ConnectionObserverCallsCloseOnDisconnect(t *testing.T) {
	var (
		s        *flowdocktest.Server
		returned atomic.Bool  // the test's Close has returned
		late     atomic.Int32 // calls made after that
		second   = make(chan struct{})
	)
	reports := make(chan flowdocktest.ConnectionEvent, 16)
	s, err := flowdocktest.Start("127.0.0.1:0", flowdocktest.WithConnectionObserver(func(e flowdocktest.ConnectionEvent) {
		if returned.Load() {
			late.Add(1)
		}
		reports <- e
		if e.State == flowdocktest.ConnDisconnected {
			go func() {
				defer close(second)
				s.Close()
			}()
		}
	}))
	require.NoError(t, err)
	st, _ := openStream(t, s, "/flows?filter=acme/main", basic(s.Token(), ""), "text/event-stream", "")
	require.NotNil(t, st)
	assert.Equal(t, flowdocktest.ConnConnected, next(t, reports).State)

	closeReturned := make(chan struct{})
	go func() {
		defer close(closeReturned)
		s.Close()
		returned.Store(true)
	}()
	within(t, closeReturned, "Close returns")
	within(t, second, "the observer's Close returns")
	e := next(t, reports)
	assert.Equal(t, flowdocktest.ConnDisconnected, e.State)
	assert.Equal(t, "the emulator closed", e.Reason)
	assert.Empty(t, reports)
	assert.Zero(t, late.Load(), "no call after Close returned")
}

// An observer that blocks holds up only its stream request: Close ends
// the streams while it blocks, and returns once it is released, with the
// ends reported.
func TestServer_ConnectionObserverBlocks(t *testing.T) {
	reports := make(chan flowdocktest.ConnectionEvent, 16)
	entered, release := make(chan struct{}), make(chan struct{})
	s, err := flowdocktest.Start("127.0.0.1:0", flowdocktest.WithConnectionObserver(func(e flowdocktest.ConnectionEvent) {
		reports <- e
		if e.State == flowdocktest.ConnConnected {
			close(entered)
			<-release
		}
	}))
	require.NoError(t, err)
	st, _ := openStream(t, s, "/flows?filter=acme/main", basic(s.Token(), ""), "text/event-stream", "")
	require.NotNil(t, st)
	within(t, entered, "the connection is reported")

	closeReturned := make(chan struct{})
	go func() {
		s.Close()
		close(closeReturned)
	}()
	st.ended(t) // Close ended the stream while the observer blocks
	select {
	case <-closeReturned:
		t.Fatal("Close returned while an observer call was running")
	default:
	}
	close(release)
	within(t, closeReturned, "Close returns once the observer is released")
	assert.Equal(t, flowdocktest.ConnConnected, next(t, reports).State)
	e := next(t, reports)
	assert.Equal(t, flowdocktest.ConnDisconnected, e.State, "Close reports the ends of the streams")
	assert.Equal(t, "the emulator closed", e.Reason)
	assert.Empty(t, reports)
}

package admin_test

import (
	"fmt"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/admin"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// The stream carries the events of a message injected into the Bot, as
// id, event and data lines, filtered by conversation, without the text.
func TestEvents_stream(t *testing.T) {
	_, fa, url := start(t)
	s := openStream(t, url+"/admin/v1/events?conversation=c1")

	require.NoError(t, fa.Inject(t.Context(), bottest.NewMessage("/echo other", bottest.In("fake", "c2"), bottest.WithID("m0"))))
	require.NoError(t, fa.Inject(t.Context(), bottest.NewMessage("/echo secret", bottest.In("fake", "c1"), bottest.WithID("m1"))))
	m, e := s.event(t)
	assert.Equal(t, "received", m.event)
	assert.Equal(t, strconv.FormatUint(e.Seq, 10), m.id)
	assert.Equal(t, bot.EventReceived, e.Type)
	assert.Equal(t, "c1", e.Conversation, "c2's events are filtered out")
	assert.Equal(t, "m1", e.Message)
	var seen []bot.EventType
	for e.Type != bot.EventSent {
		m, e = s.event(t)
		seen = append(seen, e.Type)
		assert.Equal(t, "c1", e.Conversation)
		assert.NotContains(t, m.data, "secret", "no text")
	}
	assert.Contains(t, seen, bot.EventRouted)
	assert.Equal(t, "fake:m1:0", e.Key)
}

// The type filter takes several types; other events are left out.
func TestEvents_typeFilter(t *testing.T) {
	_, fa, url := start(t)
	s := openStream(t, url+"/admin/v1/events?type=routed,sent&type=handled")
	require.NoError(t, fa.Inject(t.Context(), bottest.NewMessage("/echo hi", bottest.In("fake", "c1"), bottest.WithID("m1"))))
	got := map[string]bool{}
	for len(got) < 3 {
		m, _ := s.event(t)
		require.Contains(t, []string{"routed", "sent", "handled"}, m.event)
		got[m.event] = true
	}
}

// The stream ends when the client goes: the server's handler returns
// (the server closes, which waits for it).
func TestEvents_endsWhenTheClientGoes(t *testing.T) {
	b, fa := newBot(t)
	srv := httptest.NewServer(admin.Handler(b))
	bottest.Run(t, b)
	s := openStream(t, srv.URL+"/admin/v1/events")
	require.NoError(t, fa.Inject(t.Context(), bottest.NewMessage("hi", bottest.In("fake", "c1"), bottest.WithID("m1"))))
	s.event(t)
	s.cancel()
	s.requireEnd(t)
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream's handler still runs 5s after the client went")
	}
}

// The stream ends when the Bot stops.
func TestEvents_endsWhenTheBotStops(t *testing.T) {
	b, _ := newBot(t)
	url := serve(t, b)
	stop := bottest.Run(t, b)
	s := openStream(t, url+"/admin/v1/events")
	require.NoError(t, stop())
	s.requireEnd(t)
}

// An idle stream gets a heartbeat comment.
func TestEvents_heartbeat(t *testing.T) {
	_, _, url := start(t, admin.WithHeartbeat(10*time.Millisecond))
	s := openStream(t, url+"/admin/v1/events")
	m := s.next(t)
	assert.Equal(t, "heartbeat", m.comment)
}

// A stream that fell behind says how many events it lost, then goes on.
func TestEvents_dropped(t *testing.T) {
	b, _, url := start(t)
	subscribed, release := make(chan struct{}), make(chan struct{})
	admin.SetStreamStarted(func() { close(subscribed); <-release })
	t.Cleanup(func() { admin.SetStreamStarted(nil) })
	// The handler writes the opening comment, which openStream reads,
	// before the hook holds it.
	s := openStream(t, url+"/admin/v1/events?type=flow_step")
	<-subscribed
	const n = bot.DefaultEventBuffer + 10
	for i := range n {
		b.Emit(bot.Event{Type: bot.EventFlowStep, Platform: "fake", Conversation: "c1", Step: fmt.Sprint(i)})
	}
	close(release)
	m := s.next(t)
	require.Equal(t, "dropped", m.event)
	assert.JSONEq(t, `{"dropped":10,"total":10}`, m.data)
	_, e := s.event(t)
	assert.Equal(t, "0", e.Step, "the events kept follow, the oldest first")
}

// The stream outlives the server's write timeout.
func TestEvents_outlivesWriteTimeout(t *testing.T) {
	b, fa := newBot(t)
	srv := httptest.NewUnstartedServer(admin.Handler(b))
	srv.Config.WriteTimeout = 50 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	bottest.Run(t, b)
	s := openStream(t, srv.URL+"/admin/v1/events")
	// Wait past the write timeout.
	opened := time.Now()
	require.Eventually(t, func() bool { return time.Since(opened) > 100*time.Millisecond }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, fa.Inject(t.Context(), bottest.NewMessage("hi", bottest.In("fake", "c1"), bottest.WithID("m1"))))
	_, e := s.event(t)
	assert.Equal(t, bot.EventReceived, e.Type)
	s.cancel()
	s.requireEnd(t)
}

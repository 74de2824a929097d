package flowdock_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// newAdapter returns an adapter on emu with short stream timings.
func newAdapter(t *testing.T, emu *flowdocktest.Server, tune ...func(*flowdock.AdapterConfig)) *flowdock.Adapter {
	t.Helper()
	cfg := flowdock.AdapterConfig{
		Config: flowdock.Config{Token: emu.Token(), BaseURL: emu.URL(), Logger: bottest.Logger(t)},
		Stream: flowdock.StreamConfig{URL: emu.StreamURL(), IdleTimeout: 2 * time.Second, MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond},
	}
	for _, f := range tune {
		f(&cfg)
	}
	a, err := flowdock.New(cfg)
	require.NoError(t, err)
	return a
}

// recorder collects what an adapter publishes, per conversation.
type recorder struct {
	mu   sync.Mutex
	msgs []*bot.Message
	ch   chan struct{}
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{}, 1)} }

func (r *recorder) Publish(ctx context.Context, m *bot.Message) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
	select {
	case r.ch <- struct{}{}:
	default:
	}
	return nil
}

func (r *recorder) all() []*bot.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*bot.Message(nil), r.msgs...)
}

func (r *recorder) wait(t *testing.T, n int) []*bot.Message {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if got := r.all(); len(got) >= n {
			return got
		}
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("published %d, want %d", len(r.all()), n)
		}
	}
}

// runAdapter runs a's Run until the test ends and checks it returned nil.
func runAdapter(t *testing.T, a *flowdock.Adapter, p bot.Publisher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, p) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Error("Run did not return")
		}
	})
}

func waitConnected(t *testing.T, a *flowdock.Adapter) {
	t.Helper()
	require.Eventually(t, func() bool { return a.Health().Connected }, 5*time.Second, time.Millisecond)
}

func TestAdapter_EchoInThreadAndPrivately(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	a := newAdapter(t, emu)
	b, err := bot.New(bot.WithAdapters(a), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		if m.Kind.Or() != bot.KindMessage {
			return nil
		}
		return w.Send(ctx, m.Reply("echo: "+m.Text))
	}))
	bottest.Run(t, b)
	waitConnected(t, a)

	in, err := emu.Post("acme/main", "dana", "hello")
	require.NoError(t, err)
	sent := emu.WaitSent(t, 1)
	assert.Equal(t, "echo: hello", sent[0].Content)
	assert.Equal(t, "acme/main", sent[0].Flow)
	assert.Equal(t, in.ThreadID, sent[0].ThreadID, "the reply goes to the message's thread")
	assert.NotEmpty(t, sent[0].UUID)

	_, err = emu.PrivateMessage("mike", "psst")
	require.NoError(t, err)
	sent = emu.WaitSent(t, 2)
	assert.Equal(t, "echo: psst", sent[1].Content)
	assert.Equal(t, 1310, sent[1].PrivateTo)

	// The bot's own messages come back on the stream and are not handled.
	require.Eventually(t, func() bool { return b.Stats().Handled >= 2 }, 5*time.Second, time.Millisecond)
	assert.Len(t, emu.Sent(), 2)
	assert.Equal(t, int64(2), b.Stats().Handled)
}

func TestAdapter_DirectOnMention(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	a := newAdapter(t, emu)
	rec := newRecorder()
	runAdapter(t, a, rec)
	waitConnected(t, a)
	_, err := emu.Post("acme/main", "dana", "just chatting")
	require.NoError(t, err)
	_, err = emu.Post("acme/main", "dana", "@parley are you there?")
	require.NoError(t, err)
	got := rec.wait(t, 2)
	assert.False(t, got[0].Direct)
	assert.True(t, got[1].Direct, "a mention of the bot is direct")
	assert.Equal(t, "dana", got[1].Author.Name)
}

// Messages posted while the stream is dropped at random moments, across
// several flows and private chats, are each published exactly once and in
// order per conversation.
func TestAdapter_LosslessAcrossDrops(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	a := newAdapter(t, emu)
	rec := newRecorder()
	runAdapter(t, a, rec)
	waitConnected(t, a)

	const total = 1000
	sources := []struct{ flow, user string }{
		{"acme/main", "dana"}, {"acme/main", "mike"}, {"acme/ops", "dana"}, {"acme/random", "Ray_"}, {"", "dana"}, {"", "mike"},
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	want := map[string][]string{}
	for i := range total {
		src := sources[rnd.IntN(len(sources))]
		text := "m" + strconv.Itoa(i)
		var (
			m   flowdocktest.Message
			err error
		)
		if src.flow == "" {
			m, err = emu.PrivateMessage(src.user, text)
		} else {
			m, err = emu.Post(src.flow, src.user, text)
		}
		require.NoError(t, err)
		conv := m.FlowID
		if conv == "" {
			conv = "private:" + strconv.Itoa(m.User)
		}
		want[conv] = append(want[conv], text)
		if rnd.IntN(40) == 0 {
			emu.DropConnections()
		}
	}
	rec.wait(t, total)
	assert.Never(t, func() bool { return len(rec.all()) > total }, 200*time.Millisecond, 10*time.Millisecond, "a duplicate was published")
	got := rec.all()
	require.Len(t, got, total, "each message exactly once")
	per := map[string][]string{}
	for _, m := range got {
		per[m.Conversation] = append(per[m.Conversation], m.Text)
	}
	assert.Equal(t, want, per, "in order per conversation")
	assert.Positive(t, a.Health().Reconnects)
}

func TestAdapter_MalformedEventSkipped(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	a := newAdapter(t, emu)
	rec := newRecorder()
	runAdapter(t, a, rec)
	waitConnected(t, a)
	emu.SendMalformed()
	_, err := emu.Post("acme/main", "dana", "first")
	require.NoError(t, err)
	_, err = emu.Post("acme/main", "dana", "second")
	require.NoError(t, err)
	got := rec.wait(t, 2)
	texts := []string{}
	for _, m := range got {
		texts = append(texts, m.Text)
	}
	assert.Contains(t, texts, "second", "the stream survives a malformed event")
}

func TestAdapter_IdleStreamReconnects(t *testing.T) {
	emu := flowdocktest.NewServer(t, flowdocktest.WithKeepAlive(20*time.Millisecond))
	a := newAdapter(t, emu, func(c *flowdock.AdapterConfig) { c.Stream.IdleTimeout = 300 * time.Millisecond })
	rec := newRecorder()
	runAdapter(t, a, rec)
	waitConnected(t, a)
	emu.Stall(time.Hour)
	require.Eventually(t, func() bool { return a.Health().Reconnects >= 1 }, 5*time.Second, 5*time.Millisecond)
	emu.Stall(0)
	_, err := emu.Post("acme/main", "dana", "after the stall")
	require.NoError(t, err)
	assert.Equal(t, "after the stall", rec.wait(t, 1)[0].Text)
}

func TestAdapter_FlowAddedResubscribes(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	a := newAdapter(t, emu)
	rec := newRecorder()
	runAdapter(t, a, rec)
	waitConnected(t, a)
	require.NoError(t, emu.AddToFlow("acme/hr"))
	require.Eventually(t, func() bool {
		return strings.Contains(fmt.Sprint(a.Health().Flows), emu.FlowID("acme/hr"))
	}, 5*time.Second, time.Millisecond)
	waitConnected(t, a)
	_, err := emu.Post("acme/hr", "dana", "welcome to HR")
	require.NoError(t, err)
	assert.Equal(t, "welcome to HR", rec.wait(t, 1)[0].Text)
}

func TestAdapter_BadCredentialsEndRun(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	a, err := flowdock.New(flowdock.AdapterConfig{Config: flowdock.Config{Token: "not-a-token", BaseURL: emu.URL()},
		Stream: flowdock.StreamConfig{URL: emu.StreamURL()}})
	require.NoError(t, err)
	err = a.Run(t.Context(), newRecorder())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")
}

func TestAdapter_StreamRefusedEndsRun(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	emu.FailStreams(401, 1)
	a := newAdapter(t, emu)
	err := a.Run(t.Context(), newRecorder())
	var se *flowdock.StreamError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 401, se.StatusCode)
}

func TestAdapter_CancelReturnsQuickly(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	emu := flowdocktest.NewServer(t)
	a := newAdapter(t, emu)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, newRecorder()) }()
	waitConnected(t, a)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
		assert.Less(t, time.Since(start), time.Second)
	case <-time.After(time.Second):
		t.Fatal("Run did not return within a second of cancellation")
	}
	a.Client().CloseIdleConnections()
	emu.Close()
}

func TestAdapter_Conformance(t *testing.T) {
	bottest.TestAdapter(t, bottest.Features{Threads: true}, func(t *testing.T) bottest.Harness {
		emu := flowdocktest.NewServer(t)
		a := newAdapter(t, emu)
		flowID := emu.FlowID("acme/ops")
		base := len(emu.Sent())
		return bottest.Harness{
			Adapter:      a,
			Conversation: flowID,
			Inject: func(ctx context.Context, conversation, text string) error {
				if !a.Health().Connected {
					require.Eventually(t, func() bool { return a.Health().Connected }, 5*time.Second, time.Millisecond)
				}
				_, err := emu.Post("acme/ops", "dana", text)
				return err
			},
			Sent: func() []bottest.SentMessage {
				var out []bottest.SentMessage
				for _, m := range emu.Sent()[base:] {
					out = append(out, bottest.SentMessage{Conversation: m.FlowID, Thread: m.ThreadID, Text: m.Content})
				}
				return out
			},
		}
	})
}

// A stream server that ignores Last-Event-ID (here a proxy that strips
// it) loses the events of a gap; the REST backfill restores them, in order
// and once.
func TestAdapter_BackfillWithoutReplay(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	target, err := url.Parse(emu.StreamURL())
	require.NoError(t, err)
	proxy := &httputil.ReverseProxy{
		FlushInterval: -1,
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Header.Del("Last-Event-ID")
		},
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	// The proxy's path joins the emulator's stream prefix: point the
	// adapter at the proxy root with the same prefix.
	a := newAdapter(t, emu, func(c *flowdock.AdapterConfig) { c.Stream.URL = front.URL })
	rec := newRecorder()
	runAdapter(t, a, rec)
	waitConnected(t, a)

	var want []string
	for i := range 60 {
		text := "b" + strconv.Itoa(i)
		_, err := emu.Post("acme/main", "dana", text)
		require.NoError(t, err)
		want = append(want, text)
		if i%10 == 5 {
			emu.DropConnections()
		}
	}
	rec.wait(t, len(want))
	assert.Never(t, func() bool { return len(rec.all()) > len(want) }, 200*time.Millisecond, 10*time.Millisecond)
	var got []string
	for _, m := range rec.all() {
		got = append(got, m.Text)
	}
	assert.Equal(t, want, got)
	for _, id := range emu.LastEventIDs() {
		assert.Empty(t, id, "the emulator never saw a Last-Event-ID: the backfill did the work")
	}
}

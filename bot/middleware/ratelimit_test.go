package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/middleware"
)

// replyN is a handler that sends n numbered replies to the message.
func replyN(n int) bot.HandlerFunc {
	return func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		for i := range n {
			if err := w.Send(ctx, m.Replyf("%s-%d", m.Conversation, i+1)); err != nil {
				return err
			}
		}
		return nil
	}
}

// drops records what a RateLimit dropped; safe for concurrent use.
type drops struct {
	mu    sync.Mutex
	texts []string
}

func (d *drops) onLimit(_ context.Context, m *bot.Message) {
	d.mu.Lock()
	d.texts = append(d.texts, m.Text)
	d.mu.Unlock()
}

func (d *drops) get() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.texts...)
}

func TestRateLimitWithOpts_burst(t *testing.T) {
	tests := []struct {
		name      string
		opts      middleware.RateLimitOptions
		replies   int
		wantSent  []string
		wantDrops []string
	}{
		{
			name:     "within the burst",
			opts:     middleware.RateLimitOptions{Requests: 1, Per: time.Minute, Burst: 3},
			replies:  3,
			wantSent: []string{"c-1", "c-2", "c-3"},
		},
		{
			name:      "beyond the burst is dropped",
			opts:      middleware.RateLimitOptions{Requests: 1, Per: time.Minute, Burst: 3},
			replies:   5,
			wantSent:  []string{"c-1", "c-2", "c-3"},
			wantDrops: []string{"c-4", "c-5"},
		},
		{
			name:      "burst defaults to Requests",
			opts:      middleware.RateLimitOptions{Requests: 2, Per: time.Minute},
			replies:   4,
			wantSent:  []string{"c-1", "c-2"},
			wantDrops: []string{"c-3", "c-4"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var d drops
			tt.opts.OnLimit = d.onLimit
			var rec bottest.Recorder
			h := middleware.RateLimitWithOpts(tt.opts)(replyN(tt.replies))

			err := h.HandleMessage(t.Context(), &rec, bottest.NewMessage("hi", bottest.In("fake", "c")))

			require.NoError(t, err, "a dropped reply is not a handler error")
			assert.Equal(t, tt.wantSent, rec.Texts())
			assert.Equal(t, tt.wantDrops, d.get())
		})
	}
}

func TestRateLimit_refill(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var d drops
		var rec bottest.Recorder
		// 2 per second, bursts of 2.
		h := middleware.RateLimitWithOpts(middleware.RateLimitOptions{Requests: 2, Per: time.Second, OnLimit: d.onLimit})(replyN(3))
		m := bottest.NewMessage("hi", bottest.In("fake", "c"))

		send := func() {
			t.Helper()
			rec.Reset()
			d = drops{}
			require.NoError(t, h.HandleMessage(t.Context(), &rec, m))
		}

		send()
		assert.Equal(t, []string{"c-1", "c-2"}, rec.Texts(), "a full bucket")
		assert.Equal(t, []string{"c-3"}, d.get())

		send()
		assert.Empty(t, rec.Texts(), "no time has passed")

		time.Sleep(500 * time.Millisecond) // one token
		send()
		assert.Equal(t, []string{"c-1"}, rec.Texts(), "one token after half a second")
		assert.Equal(t, []string{"c-2", "c-3"}, d.get())

		time.Sleep(time.Hour) // refills to the burst, no more
		send()
		assert.Equal(t, []string{"c-1", "c-2"}, rec.Texts(), "the bucket holds at most the burst")
	})
}

func TestRateLimit_keys(t *testing.T) {
	perPlatform := func(m *bot.Message) string { return m.Platform }
	tests := []struct {
		name string
		key  func(*bot.Message) string
		msgs []*bot.Message
		want []string // sent, as platform/conversation
	}{
		{
			name: "conversations are limited separately",
			msgs: []*bot.Message{
				bottest.NewMessage("a", bottest.In("p", "a")),
				bottest.NewMessage("a", bottest.In("p", "a")),
				bottest.NewMessage("b", bottest.In("p", "b")),
			},
			want: []string{"p/a", "p/b"},
		},
		{
			name: "the same conversation on two platforms is two keys",
			msgs: []*bot.Message{
				bottest.NewMessage("a", bottest.In("p", "a")),
				bottest.NewMessage("a", bottest.In("q", "a")),
			},
			want: []string{"p/a", "q/a"},
		},
		{
			name: "platform and conversation do not run together",
			msgs: []*bot.Message{
				bottest.NewMessage("a", bottest.In("ab", "c")),
				bottest.NewMessage("a", bottest.In("a", "bc")),
			},
			want: []string{"ab/c", "a/bc"},
		},
		{
			name: "a custom key shares a bucket",
			key:  perPlatform,
			msgs: []*bot.Message{
				bottest.NewMessage("a", bottest.In("p", "a")),
				bottest.NewMessage("b", bottest.In("p", "b")),
				bottest.NewMessage("c", bottest.In("q", "c")),
			},
			want: []string{"p/a", "q/c"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var rec bottest.Recorder
			h := middleware.RateLimitWithOpts(middleware.RateLimitOptions{
				Requests: 1, Per: time.Hour, Key: tt.key, OnLimit: func(context.Context, *bot.Message) {},
			})(replyN(1))
			for _, m := range tt.msgs {
				require.NoError(t, h.HandleMessage(t.Context(), &rec, m))
			}
			var got []string
			for _, m := range rec.Sent() {
				got = append(got, m.Platform+"/"+m.Conversation)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestRateLimit_keyedByOutboundMessage checks that a message a handler posts
// to another conversation counts against that conversation.
func TestRateLimit_keyedByOutboundMessage(t *testing.T) {
	t.Parallel()
	var d drops
	var rec bottest.Recorder
	h := middleware.RateLimitWithOpts(middleware.RateLimitOptions{Requests: 1, Per: time.Hour, OnLimit: d.onLimit})(
		bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			if err := w.Send(ctx, m.Reply("ack")); err != nil {
				return err
			}
			return w.Send(ctx, &bot.Message{Platform: m.Platform, Conversation: "ops", Text: "escalated " + m.Conversation})
		}))
	for _, conv := range []string{"a", "b"} {
		require.NoError(t, h.HandleMessage(t.Context(), &rec, bottest.NewMessage("help", bottest.In("p", conv))))
	}
	assert.Equal(t, []string{"ack", "escalated a", "ack"}, rec.Texts())
	assert.Equal(t, []string{"escalated b"}, d.get())
}

func TestRateLimit_sharedByHandlers(t *testing.T) {
	t.Parallel()
	var rec bottest.Recorder
	noop := func(context.Context, *bot.Message) {}
	shared := middleware.RateLimitWithOpts(middleware.RateLimitOptions{Requests: 1, Per: time.Hour, OnLimit: noop})
	other := middleware.RateLimitWithOpts(middleware.RateLimitOptions{Requests: 1, Per: time.Hour, OnLimit: noop})
	m := bottest.NewMessage("hi", bottest.In("p", "c"))

	for _, h := range []bot.Handler{shared(replyN(1)), shared(replyN(1)), other(replyN(1))} {
		require.NoError(t, h.HandleMessage(t.Context(), &rec, m))
	}
	assert.Len(t, rec.Texts(), 2, "one middleware value is one set of buckets; another call makes another")
}

func TestRateLimit_sendErrors(t *testing.T) {
	t.Parallel()
	errSend := errors.New("outbox full")
	rec := &bottest.Recorder{Err: errSend}
	h := middleware.RateLimit(5, time.Second)(replyN(1))
	err := h.HandleMessage(t.Context(), rec, bottest.NewMessage("hi"))
	assert.ErrorIs(t, err, errSend, "the wrapped Sender's error reaches the handler")
}

func TestRateLimit_onLimitGetsHandlerContext(t *testing.T) {
	t.Parallel()
	type key struct{}
	var got any
	h := middleware.RateLimitWithOpts(middleware.RateLimitOptions{Requests: 1, Per: time.Hour,
		OnLimit: func(ctx context.Context, _ *bot.Message) { got = ctx.Value(key{}) },
	})(replyN(2))
	ctx := context.WithValue(t.Context(), key{}, "trace-7")
	require.NoError(t, h.HandleMessage(ctx, &bottest.Recorder{}, bottest.NewMessage("hi")))
	assert.Equal(t, "trace-7", got)
}

// Outside a Bot, dropped replies are reported on slog.Default().
// TestRateLimit_defaultOnLimit changes slog.Default, so it does not run in
// parallel.
func TestRateLimit_defaultOnLimit(t *testing.T) {
	l, buf := textLogger(slog.LevelDebug)
	old := slog.Default()
	slog.SetDefault(l)
	t.Cleanup(func() { slog.SetDefault(old) })

	var rec bottest.Recorder
	h := middleware.RateLimit(1, time.Hour)(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		for range 2 {
			if err := w.Send(ctx, m.Reply(secret)); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, h.HandleMessage(t.Context(), &rec, bottest.NewMessage("hi", bottest.In("fake", "c-9"))))

	assert.Len(t, rec.Texts(), 1)
	out := buf.String()
	assert.Contains(t, out, "level=WARN")
	assert.Contains(t, out, `msg="reply dropped by rate limit"`)
	assert.Contains(t, out, "msg.conversation=c-9")
	assert.NotContains(t, out, "4111", "message text must never be logged")
}

func TestRateLimitWithOpts_maxKeys(t *testing.T) {
	t.Parallel()
	const maxKeys = 8
	var d drops
	var rec bottest.Recorder
	h := middleware.RateLimitWithOpts(middleware.RateLimitOptions{
		Requests: 1, Per: time.Hour, MaxKeys: maxKeys, OnLimit: d.onLimit,
	})(replyN(1))
	send := func(conv string) (sent bool) {
		t.Helper()
		before := len(d.get())
		require.NoError(t, h.HandleMessage(t.Context(), &rec, bottest.NewMessage("hi", bottest.In("p", conv))))
		return len(d.get()) == before
	}

	// Many conversations, each sending once: every first reply is sent.
	const convs = 100 * maxKeys
	for i := range convs {
		require.True(t, send(strconv.Itoa(i)), "conversation %d", i)
	}
	require.Len(t, rec.Texts(), convs)

	// The maxKeys most recent conversations are remembered: their buckets
	// are still empty. Asking, oldest first, keeps this order.
	for i := convs - maxKeys; i < convs; i++ {
		assert.False(t, send(strconv.Itoa(i)), "conversation %d is remembered", i)
	}
	// The one before them was forgotten: its next reply finds a new bucket.
	// Had more than maxKeys buckets been kept, it would have been dropped.
	assert.True(t, send(strconv.Itoa(convs-maxKeys-1)), "conversation %d is forgotten", convs-maxKeys-1)
	// Making room for it forgot the least recently used remaining one.
	assert.True(t, send(strconv.Itoa(convs-maxKeys)), "conversation %d is forgotten", convs-maxKeys)
}

func TestRateLimitWithOpts_recentlyUsedKeysStay(t *testing.T) {
	t.Parallel()
	var rec bottest.Recorder
	h := middleware.RateLimitWithOpts(middleware.RateLimitOptions{
		Requests: 1, Per: time.Hour, MaxKeys: 2, OnLimit: func(context.Context, *bot.Message) {},
	})(replyN(1))
	for _, conv := range []string{"a", "b", "a", "c", "a", "b"} {
		require.NoError(t, h.HandleMessage(t.Context(), &rec, bottest.NewMessage("hi", bottest.In("p", conv))))
	}
	// a: sent, then remembered (used again before c evicted b); b: sent,
	// forgotten when c came, sent again.
	var got []string
	for _, m := range rec.Sent() {
		got = append(got, m.Conversation)
	}
	assert.Equal(t, []string{"a", "b", "c", "b"}, got)
}

func TestRateLimit_concurrent(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const (
			convs   = 16
			senders = 4 // goroutines per conversation
			each    = 5 // replies per goroutine
			burst   = 3
		)
		var d drops
		var rec bottest.Recorder
		// Fake time stands still while the goroutines run, so no bucket refills.
		h := middleware.RateLimitWithOpts(middleware.RateLimitOptions{
			Requests: 1, Per: time.Second, Burst: burst, MaxKeys: convs, OnLimit: d.onLimit,
		})(replyN(each))
		var wg sync.WaitGroup
		for c := range convs {
			for range senders {
				wg.Go(func() {
					assert.NoError(t, h.HandleMessage(t.Context(), &rec, bottest.NewMessage("hi", bottest.In("p", fmt.Sprint(c)))))
				})
			}
		}
		wg.Wait()

		perConv := map[string]int{}
		for _, m := range rec.Sent() {
			perConv[m.Conversation]++
		}
		require.Len(t, perConv, convs)
		for c, n := range perConv {
			assert.Equal(t, burst, n, "conversation %s", c)
		}
		assert.Len(t, d.get(), convs*(senders*each-burst))
	})
}

func TestRateLimit_badOptions(t *testing.T) {
	tests := []struct {
		name string
		make func() bot.Middleware
		want string
	}{
		{"zero requests", func() bot.Middleware { return middleware.RateLimit(0, time.Second) }, "middleware: RateLimit needs a positive number of requests"},
		{"negative requests", func() bot.Middleware { return middleware.RateLimit(-1, time.Second) }, "middleware: RateLimit needs a positive number of requests"},
		{"zero period", func() bot.Middleware { return middleware.RateLimit(1, 0) }, "middleware: RateLimit needs a positive period"},
		{"negative period", func() bot.Middleware { return middleware.RateLimit(1, -time.Second) }, "middleware: RateLimit needs a positive period"},
		{"empty options", func() bot.Middleware { return middleware.RateLimitWithOpts(middleware.RateLimitOptions{}) }, "middleware: RateLimit needs a positive number of requests"},
		{"negative burst", func() bot.Middleware {
			return middleware.RateLimitWithOpts(middleware.RateLimitOptions{Requests: 1, Per: time.Second, Burst: -1})
		}, "middleware: RateLimit burst must not be negative"},
		{"negative MaxKeys", func() bot.Middleware {
			return middleware.RateLimitWithOpts(middleware.RateLimitOptions{Requests: 1, Per: time.Second, MaxKeys: -1})
		}, "middleware: RateLimit MaxKeys must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.PanicsWithValue(t, tt.want, func() { tt.make() })
		})
	}
}

// In a Bot, dropped replies are reported on the Bot's logger
// (bot.WithLogger).
func TestRateLimit_defaultOnLimitInABot(t *testing.T) {
	t.Parallel()
	l, buf := textLogger(slog.LevelDebug)
	fa := bottest.NewFakeAdapter("fake")
	b, err := bot.New(bot.WithAdapters(fa), bot.WithLogger(l))
	require.NoError(t, err)
	b.Use(middleware.RateLimit(1, time.Hour))
	b.NotFound(replyN(2))
	stop := bottest.Run(t, b)
	require.NoError(t, fa.Inject(t.Context(), bottest.NewMessage(secret, bottest.In("fake", "c-8"), bottest.WithID("m-8"))))
	fa.WaitSent(t, 1)
	require.NoError(t, stop())

	assert.Len(t, fa.Sent(), 1)
	out := buf.String()
	assert.Contains(t, out, `level=WARN msg="reply dropped by rate limit" msg.platform=fake msg.conversation=c-8`)
	assert.NotContains(t, out, "4111", "message text must never be logged")
}

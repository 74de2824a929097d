package welcome_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/handlers/welcome"
)

func TestHandler_HandleMessage(t *testing.T) {
	ann := bottest.From(bot.User{ID: "u-1", Name: "Ann"})
	type msg struct {
		text string
		opts []bottest.MessageOption
	}
	tests := []struct {
		name string
		h    welcome.Handler
		msgs []msg
		want []string // everything sent, in order: greetings and the "echo" route's replies
	}{
		{
			name: "first message greeted and still handled",
			msgs: []msg{{"hi", []bottest.MessageOption{ann}}, {"again", []bottest.MessageOption{ann}}},
			want: []string{"Hello Ann! I'm an automated assistant. How can I help?", "echo: hi", "echo: again"},
		},
		{
			name: "default text without a name",
			msgs: []msg{{"hi", []bottest.MessageOption{bottest.From(bot.User{ID: "u-2"})}}},
			want: []string{"Hello! I'm an automated assistant. How can I help?", "echo: hi"},
		},
		{
			name: "custom template",
			h:    welcome.Handler{Text: "Welcome to {{.Platform}}, {{.Author.Name}}."},
			msgs: []msg{{"hi", []bottest.MessageOption{ann, bottest.In("sendbee", "c-9")}}},
			want: []string{"Welcome to sendbee, Ann.", "echo: hi"},
		},
		{
			name: "each conversation is greeted once",
			h:    welcome.Handler{Text: "welcome {{.Conversation}}"},
			msgs: []msg{
				{"a1", []bottest.MessageOption{bottest.In("sendbee", "a")}},
				{"b1", []bottest.MessageOption{bottest.In("sendbee", "b")}},
				{"a2", []bottest.MessageOption{bottest.In("sendbee", "a")}},
				{"a3", []bottest.MessageOption{bottest.In("velaflows", "a")}},
			},
			want: []string{"welcome a", "echo: a1", "welcome b", "echo: b1", "echo: a2", "welcome a", "echo: a3"},
		},
		{
			name: "events, bots and agents neither greet nor count",
			h:    welcome.Handler{Text: "welcome"},
			msgs: []msg{
				{"read", []bottest.MessageOption{bottest.WithKind(bot.KindStatus)}},
				{"beep", []bottest.MessageOption{bottest.From(bot.User{ID: "b", Bot: true})}},
				{"agent here", []bottest.MessageOption{bottest.From(bot.User{ID: "a", Agent: true})}},
				{"customer", nil},
			},
			want: []string{"echo: read", "echo: beep", "echo: agent here", "welcome", "echo: customer"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.h.Store = bot.NewMemoryStore()
			r := bot.NewRouter()
			r.Handle(welcome.DefaultRule(), tt.h, bot.Priority(welcome.Priority))
			r.HandleFunc(bot.Always(), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
				return w.Send(ctx, m.Reply("echo: "+m.Text))
			})
			var rec bottest.Recorder
			for _, m := range tt.msgs {
				require.NoError(t, r.HandleMessage(t.Context(), &rec, bottest.NewMessage(m.text, m.opts...)))
			}
			assert.Equal(t, tt.want, rec.Texts())
		})
	}
}

func TestHandler_HandleMessage_TTL(t *testing.T) {
	tests := []struct {
		name  string
		ttl   time.Duration
		after time.Duration
		again bool // greeted again after the wait
	}{
		{name: "default: remembered for 180 days", after: 180*24*time.Hour - time.Second},
		{name: "default: forgotten after 180 days", after: 180 * 24 * time.Hour, again: true},
		{name: "custom TTL", ttl: time.Hour, after: time.Hour, again: true},
		{name: "negative TTL: never forgotten", ttl: -1, after: 10 * 365 * 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := welcome.Handler{Text: "welcome", TTL: tt.ttl, Store: bot.NewMemoryStore()}
				var rec bottest.Recorder
				require.ErrorIs(t, h.HandleMessage(t.Context(), &rec, bottest.NewMessage("hi")), bot.ErrContinue)
				time.Sleep(tt.after)
				require.ErrorIs(t, h.HandleMessage(t.Context(), &rec, bottest.NewMessage("hi")), bot.ErrContinue)
				want := []string{"welcome"}
				if tt.again {
					want = append(want, "welcome")
				}
				assert.Equal(t, want, rec.Texts())
			})
		})
	}
}

// TestHandler_HandleMessage_concurrent sends the first messages of one
// conversation from many goroutines, as two replicas sharing a Store
// would: exactly one greets.
func TestHandler_HandleMessage_concurrent(t *testing.T) {
	h := welcome.Handler{Text: "welcome", Store: bot.NewMemoryStore()}
	var rec bottest.Recorder
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			assert.ErrorIs(t, h.HandleMessage(t.Context(), &rec, bottest.NewMessage("hi")), bot.ErrContinue)
		})
	}
	wg.Wait()
	assert.Equal(t, []string{"welcome"}, rec.Texts())
}

// failingStore fails every SetIfAbsent, or every Delete.
type failingStore struct {
	bot.Store
	setErr, delErr error
}

func (s failingStore) SetIfAbsent(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error) {
	if s.setErr != nil {
		return false, s.setErr
	}
	return s.Store.SetIfAbsent(ctx, key, v, ttl)
}

func (s failingStore) Delete(ctx context.Context, key string) error {
	if s.delErr != nil {
		return s.delErr
	}
	return s.Store.Delete(ctx, key)
}

func TestHandler_HandleMessage_errors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name      string
		h         welcome.Handler
		w         *bottest.Recorder
		wantIs    error
		wantMsg   string
		retryable bool // the next message is greeted
	}{
		{name: "no Store", h: welcome.Handler{}, wantMsg: "welcome: Handler.Store is nil"},
		{name: "bad template", h: welcome.Handler{Text: "{{.Author", Store: bot.NewMemoryStore()},
			wantMsg: "welcome: parse Text: template: welcome:1: unclosed action", retryable: true},
		{name: "template fails", h: welcome.Handler{Text: "{{.Nope}}", Store: bot.NewMemoryStore()},
			wantMsg: `welcome: execute Text: template: welcome:1:2: executing "welcome" at <.Nope>: can't evaluate field Nope in type *bot.Message`, retryable: true},
		{name: "store fails", h: welcome.Handler{Store: failingStore{Store: bot.NewMemoryStore(), setErr: boom}},
			wantIs: boom, wantMsg: "welcome: remember conversation: boom"},
		{name: "send fails", h: welcome.Handler{Store: bot.NewMemoryStore()}, w: &bottest.Recorder{Err: boom}, wantIs: boom, retryable: true},
		{name: "send and forget fail", h: welcome.Handler{Store: failingStore{Store: bot.NewMemoryStore(), delErr: errors.New("down")}},
			w: &bottest.Recorder{Err: boom}, wantIs: boom, wantMsg: "boom\nwelcome: forget conversation: down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := tt.w
			if w == nil {
				w = &bottest.Recorder{}
			}
			err := tt.h.HandleMessage(t.Context(), w, bottest.NewMessage("hi"))
			require.Error(t, err)
			assert.NotErrorIs(t, err, bot.ErrContinue)
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			}
			if tt.wantMsg != "" {
				assert.EqualError(t, err, tt.wantMsg)
			}
			assert.Empty(t, w.Sent())
			if tt.retryable {
				var rec bottest.Recorder
				h := tt.h
				h.Text = "welcome"
				require.ErrorIs(t, h.HandleMessage(t.Context(), &rec, bottest.NewMessage("hi")), bot.ErrContinue)
				assert.Equal(t, []string{"welcome"}, rec.Texts(), "the failed greeting is not remembered")
			}
		})
	}
}

func TestHandler_Install(t *testing.T) {
	newBot := func(t *testing.T) *bot.Bot {
		b, err := bot.New(bot.WithAdapters(bottest.NewFakeAdapter("")), bot.WithLogger(slog.New(slog.DiscardHandler)))
		require.NoError(t, err)
		return b
	}

	t.Run("registers with the Bot's store", func(t *testing.T) {
		b := newBot(t)
		require.NoError(t, welcome.Handler{Text: "welcome"}.Install(b))
		assert.Equal(t, []bot.RouteInfo{{Priority: welcome.Priority, Rule: "Always()"}}, b.Routes())
		var rec bottest.Recorder
		require.NoError(t, b.HandleMessage(t.Context(), &rec, bottest.NewMessage("hi")))
		require.NoError(t, b.HandleMessage(t.Context(), &rec, bottest.NewMessage("hi")))
		assert.Equal(t, []string{"welcome"}, rec.Texts())
		_, err := b.Store().Get(t.Context(), "welcome:seen:fake:conversation-1")
		assert.NoError(t, err)
	})

	t.Run("an invalid template registers nothing", func(t *testing.T) {
		b := newBot(t)
		assert.EqualError(t, welcome.Handler{Text: "{{"}.Install(b), "welcome: parse Text: template: welcome:1: unclosed action")
		assert.Empty(t, b.Routes())
	})
}

package handoff_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/handlers/handoff"
)

var team = handoff.Flow{Platform: "flowdock", Conversation: "support"}

func TestDefaultRule(t *testing.T) {
	tests := []struct {
		text   string
		direct bool
		want   bool
	}{
		{text: "/agent", want: true},
		{text: "!human please", want: true},
		{text: "agent", direct: true, want: true},
		{text: "Can I talk to a person?", want: true},
		{text: "I want to SPEAK WITH a real human", want: true},
		{text: "chat with an agent", want: true},
		{text: "let me talk to someone", want: true},
		{text: "speak to the operator!", want: true},
		{text: "talk to a live representative", want: true},
		{text: "agent", want: false},
		{text: "I'd like to talk about my order", want: false},
		{text: "talk to a personal trainer", want: false},
		{text: "/agents", want: false},
		{text: "hello", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			var opts []bottest.MessageOption
			if tt.direct {
				opts = append(opts, bottest.Direct())
			}
			ok, err := handoff.DefaultRule().Match(t.Context(), bottest.NewMessage(tt.text, opts...))
			require.NoError(t, err)
			assert.Equal(t, tt.want, ok)
		})
	}
}

// adapters is an AdapterFinder over fixed adapters.
type adapters map[string]bot.Adapter

func (a adapters) Adapter(name string) bot.Adapter { return a[name] }

// plainAdapter is an adapter without the Tagger capability.
type plainAdapter struct{ bot.Adapter }

// failingTagger is a Tagger that fails.
type failingTagger struct {
	bot.Adapter
	err error
}

func (f failingTagger) Tag(context.Context, string, string, []string) error { return f.err }

func TestHandler_HandleMessage(t *testing.T) {
	vip := bottest.WithTags("VIP")
	tests := []struct {
		name string
		h    handoff.Handler
		opts []bottest.MessageOption
		want []*bot.Message // Platform, Conversation, Text, Handoff of what was sent
		tags []string       // the conversation's tags on the fake platform afterwards
	}{
		{
			name: "zero handler: reply and hand off",
			want: []*bot.Message{{Platform: "sendbee", Conversation: "c-1", Text: "Connecting you to a colleague…", Handoff: true}},
		},
		{
			name: "notify the team",
			h:    handoff.Handler{Reply: "One moment.", Team: team},
			opts: []bottest.MessageOption{bottest.From(bot.User{ID: "u-1", Name: "Ann"})},
			want: []*bot.Message{
				{Platform: "sendbee", Conversation: "c-1", Text: "One moment.", Handoff: true},
				{Platform: "flowdock", Conversation: "support", Text: "Ann asks for a person on sendbee (c-1): /agent\n" +
					"Answer them there. To give the conversation back to the bot, type: /resume sendbee c-1"},
			},
		},
		{
			name: "notify without the author's name",
			h:    handoff.Handler{Team: team},
			opts: []bottest.MessageOption{bottest.From(bot.User{ID: "u-1"})},
			want: []*bot.Message{
				{Platform: "sendbee", Conversation: "c-1", Text: "Connecting you to a colleague…", Handoff: true},
				{Platform: "flowdock", Conversation: "support", Text: "A customer asks for a person on sendbee (c-1): /agent\n" +
					"Answer them there. To give the conversation back to the bot, type: /resume sendbee c-1"},
			},
		},
		{
			name: "custom notify template",
			h:    handoff.Handler{Team: team, Notify: "{{.Author.Phone}} → {{.Resume}}"},
			opts: []bottest.MessageOption{bottest.From(bot.User{ID: "u-1", Phone: "+385 1 234"})},
			want: []*bot.Message{
				{Platform: "sendbee", Conversation: "c-1", Text: "Connecting you to a colleague…", Handoff: true},
				{Platform: "flowdock", Conversation: "support", Text: "+385 1 234 → /resume sendbee c-1"},
			},
		},
		{
			name: "tags are added to the conversation's",
			h:    handoff.Handler{Tags: []string{"handoff", "vip"}},
			opts: []bottest.MessageOption{vip},
			want: []*bot.Message{{Platform: "sendbee", Conversation: "c-1", Text: "Connecting you to a colleague…", Handoff: true}},
			tags: []string{"VIP", "handoff"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fa := bottest.NewFakeAdapter("sendbee")
			tt.h.Bot = adapters{"sendbee": fa}
			var rec bottest.Recorder
			m := bottest.NewMessage("/agent", append([]bottest.MessageOption{bottest.In("sendbee", "c-1")}, tt.opts...)...)

			require.NoError(t, tt.h.HandleMessage(t.Context(), &rec, m))

			var got []*bot.Message
			for _, s := range rec.Sent() {
				got = append(got, &bot.Message{Platform: s.Platform, Conversation: s.Conversation, Text: s.Text, Handoff: s.Handoff})
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, m.ID, rec.Sent()[0].ReplyTo, "the handoff is a reply")
			assert.Equal(t, nilIfEmpty(tt.tags), nilIfEmpty(fa.Tags("c-1", "")))
		})
	}
}

func TestHandler_HandleMessage_ignored(t *testing.T) {
	tests := []struct {
		name string
		opts []bottest.MessageOption
	}{
		{name: "bot", opts: []bottest.MessageOption{bottest.From(bot.User{ID: "b", Bot: true})}},
		{name: "agent", opts: []bottest.MessageOption{bottest.From(bot.User{ID: "a", Agent: true})}},
		{name: "event", opts: []bottest.MessageOption{bottest.WithKind(bot.KindEdit)}},
		{name: "in the team flow", opts: []bottest.MessageOption{bottest.In("flowdock", "support")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var rec bottest.Recorder
			err := handoff.Handler{Team: team}.HandleMessage(t.Context(), &rec, bottest.NewMessage("/agent", tt.opts...))
			assert.ErrorIs(t, err, bot.ErrContinue)
			assert.Empty(t, rec.Sent())
		})
	}
}

func TestHandler_HandleMessage_untaggable(t *testing.T) {
	tests := []struct {
		name string
		bot  handoff.AdapterFinder
	}{
		{name: "no Bot", bot: nil},
		{name: "unknown adapter", bot: adapters{}},
		{name: "adapter without Tagger", bot: adapters{"sendbee": plainAdapter{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			h := handoff.Handler{
				Tags:   []string{"handoff"},
				Bot:    tt.bot,
				Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			}
			var rec bottest.Recorder
			require.NoError(t, h.HandleMessage(t.Context(), &rec, bottest.NewMessage("/agent", bottest.In("sendbee", "c-1"))))
			assert.Len(t, rec.Sent(), 1, "the handoff reply is still sent")
			assert.Contains(t, logs.String(), "level=DEBUG")
			assert.Contains(t, logs.String(), "tags skipped")
			assert.Contains(t, logs.String(), "platform=sendbee")
			assert.NotContains(t, logs.String(), "/agent", "message text is never logged")
		})
	}
}

func TestHandler_HandleMessage_errors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name     string
		h        handoff.Handler
		w        bot.Sender
		wantIs   error
		wantMsg  string
		wantSent []string // texts sent despite the error
	}{
		{name: "reply fails: nothing else happens", h: handoff.Handler{Team: team, Tags: []string{"x"}, Bot: adapters{"sendbee": failingTagger{err: errors.New("tag must not be called")}}},
			w: &bottest.Recorder{Err: boom}, wantIs: boom, wantMsg: "handoff: send reply: boom"},
		{name: "tagging fails: the team is still notified", h: handoff.Handler{Team: team, Notify: "help", Tags: []string{"x"}, Bot: adapters{"sendbee": failingTagger{err: boom}}},
			wantIs: boom, wantMsg: "handoff: tag sendbee/c-1: boom", wantSent: []string{handoff.DefaultReply, "help"}},
		{name: "notification fails", h: handoff.Handler{Team: team, Notify: "help"}, w: failOn("flowdock", boom),
			wantIs: boom, wantMsg: "handoff: notify flowdock/support: boom", wantSent: []string{handoff.DefaultReply}},
		{name: "tagging and notification fail", h: handoff.Handler{Team: team, Notify: "help", Tags: []string{"x"}, Bot: adapters{"sendbee": failingTagger{err: boom}}},
			w: failOn("flowdock", boom), wantIs: boom, wantMsg: "handoff: tag sendbee/c-1: boom\nhandoff: notify flowdock/support: boom", wantSent: []string{handoff.DefaultReply}},
		{name: "notify template does not parse", h: handoff.Handler{Team: team, Notify: "{{"},
			wantMsg: "handoff: parse Notify: template: notify:1: unclosed action"},
		{name: "notify template fails", h: handoff.Handler{Team: team, Notify: "{{.Nope}}"},
			wantMsg:  `handoff: execute Notify: template: notify:1:2: executing "notify" at <.Nope>: can't evaluate field Nope in type handoff.NotifyData`,
			wantSent: []string{handoff.DefaultReply}},
		{name: "team without conversation", h: handoff.Handler{Team: handoff.Flow{Platform: "flowdock"}},
			wantMsg: `handoff: Team needs both Platform and Conversation, got "flowdock" and ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := tt.w
			if w == nil {
				w = &bottest.Recorder{}
			}
			err := tt.h.HandleMessage(t.Context(), w, bottest.NewMessage("/agent", bottest.In("sendbee", "c-1")))
			require.Error(t, err)
			assert.NotErrorIs(t, err, bot.ErrContinue)
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			}
			assert.EqualError(t, err, tt.wantMsg)
			assert.Equal(t, tt.wantSent, texts(w))
		})
	}
}

// failOnSender records messages, failing those to one platform.
type failOnSender struct {
	platform string
	err      error
	rec      bottest.Recorder
}

func failOn(platform string, err error) *failOnSender {
	return &failOnSender{platform: platform, err: err}
}

func (s *failOnSender) Send(ctx context.Context, m *bot.Message) error {
	if m.Platform == s.platform {
		return s.err
	}
	return s.rec.Send(ctx, m)
}

func texts(w bot.Sender) []string {
	var out []string
	switch w := w.(type) {
	case *bottest.Recorder:
		out = w.Texts()
	case *failOnSender:
		out = w.rec.Texts()
	}
	return nilIfEmpty(out)
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// resumer records Resume calls and returns err.
type resumer struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (r *resumer) Resume(_ context.Context, platform, conversation string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, platform+"/"+conversation)
	return r.err
}

func (r *resumer) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

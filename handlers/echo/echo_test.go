package echo_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/handlers/echo"
)

func TestHandler_HandleMessage(t *testing.T) {
	tests := []struct {
		name string
		h    echo.Handler
		text string
		opts []bottest.MessageOption
		want []string
	}{
		{name: "command arguments", text: "/echo hi there", want: []string{"hi there"}},
		{name: "bang command", text: "!ECHO loud", want: []string{"loud"}},
		{name: "bare command in a direct conversation", text: "echo hi", opts: []bottest.MessageOption{bottest.Direct()}, want: []string{"hi"}},
		{name: "bare word in a group is no command", text: "echo hi", want: []string{"echo hi"}},
		{name: "fallback echoes the whole text", text: "hello", want: []string{"hello"}},
		{name: "prefix", h: echo.Handler{Prefix: "You said: "}, text: "/echo hi", want: []string{"You said: hi"}},
		{name: "prefix on the fallback", h: echo.Handler{Prefix: "> "}, text: "hello", want: []string{"> hello"}},
		{name: "command without arguments is silent", text: "/echo", want: nil},
		{name: "command without arguments gets Empty", h: echo.Handler{Prefix: "> ", Empty: "Echo what? Try: /echo <text>"},
			text: "/echo   ", want: []string{"Echo what? Try: /echo <text>"}},
		{name: "blank text is silent", text: "  ", want: nil},
		{name: "bots are not echoed", text: "/echo loop", opts: []bottest.MessageOption{bottest.From(bot.User{ID: "b", Bot: true})}, want: nil},
		{name: "events are not echoed", text: "delivered", opts: []bottest.MessageOption{bottest.WithKind(bot.KindStatus)}, want: nil},
		{name: "the empty kind is a message", text: "hi", opts: []bottest.MessageOption{bottest.WithKind("")}, want: []string{"hi"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := bot.NewRouter()
			r.Handle(echo.DefaultRule(), tt.h)
			r.NotFound(tt.h)
			var rec bottest.Recorder
			m := bottest.NewMessage(tt.text, tt.opts...)

			require.NoError(t, r.HandleMessage(t.Context(), &rec, m))

			assert.Equal(t, tt.want, nilIfEmpty(rec.Texts()))
			for _, sent := range rec.Sent() {
				assert.Equal(t, m.Conversation, sent.Conversation, "a reply goes to the same conversation")
				assert.Equal(t, m.ID, sent.ReplyTo)
			}
		})
	}
}

func TestHandler_HandleMessage_withoutRouter(t *testing.T) {
	var rec bottest.Recorder
	// Called directly there are no captures: the whole text is echoed.
	require.NoError(t, echo.Handler{}.HandleMessage(t.Context(), &rec, bottest.NewMessage("/echo hi")))
	assert.Equal(t, []string{"/echo hi"}, rec.Texts())
}

func TestHandler_HandleMessage_sendError(t *testing.T) {
	boom := errors.New("outbox full")
	rec := &bottest.Recorder{Err: boom}
	err := echo.Handler{}.HandleMessage(t.Context(), rec, bottest.NewMessage("hi"))
	assert.ErrorIs(t, err, boom)
}

func TestDefaultRule(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		direct bool
		want   bool
	}{
		{name: "slash command", text: "/echo hi", want: true},
		{name: "other command", text: "/help"},
		{name: "plain text", text: "echo"},
		{name: "bare word, direct", text: "echo", direct: true, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []bottest.MessageOption
			if tt.direct {
				opts = append(opts, bottest.Direct())
			}
			ok, err := echo.DefaultRule().Match(t.Context(), bottest.NewMessage(tt.text, opts...))
			require.NoError(t, err)
			assert.Equal(t, tt.want, ok)
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

package help_test

import (
	"context"
	"errors"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/handlers/help"
)

// routes is a fixed RouteLister.
type routes []bot.RouteInfo

func (r routes) Routes() []bot.RouteInfo { return r }

var nop = bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error { return nil })

func TestHandler_HandleMessage(t *testing.T) {
	tests := []struct {
		name string
		h    help.Handler
		want string
	}{
		{
			name: "usage and description, aligned",
			h: help.Handler{Routes: routes{
				{Usage: "help", Description: "list the commands"},
				{Usage: "echo <text>", Description: "repeat <text>"},
			}},
			want: "Commands:\nhelp         — list the commands\necho <text>  — repeat <text>",
		},
		{
			name: "routes without usage are skipped, observers are listed",
			h: help.Handler{Routes: routes{
				{Rule: `Regexp("^hi")`},
				{Usage: "/ping"},
				{Usage: "log", Description: "log every message", Observer: true},
			}},
			want: "Commands:\n/ping\nlog    — log every message",
		},
		{
			name: "custom header",
			h:    help.Handler{Routes: routes{{Usage: "a", Description: "b"}}, Header: "I understand:"},
			want: "I understand:\na  — b",
		},
		{
			name: "non-ASCII usages align by characters",
			h: help.Handler{Routes: routes{
				{Usage: "café", Description: "coffee"},
				{Usage: "tea", Description: "tea"},
			}},
			want: "Commands:\ncafé  — coffee\ntea   — tea",
		},
		{name: "no usage at all", h: help.Handler{Routes: routes{{Rule: "Always()"}}}, want: "No commands."},
		{name: "no routes", h: help.Handler{Routes: routes{}}, want: "No commands."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var rec bottest.Recorder
			m := bottest.NewMessage("/help")
			require.NoError(t, tt.h.HandleMessage(t.Context(), &rec, m))
			require.Len(t, rec.Sent(), 1)
			assert.Equal(t, tt.want, rec.Sent()[0].Text)
			assert.Equal(t, m.Conversation, rec.Sent()[0].Conversation)
			assert.Equal(t, tt.want, tt.h.Text())
		})
	}
}

func TestHandler_HandleMessage_router(t *testing.T) {
	r := bot.NewRouter()
	r.Handle(help.DefaultRule(), help.Handler{Routes: r}, bot.Help("help", "list the commands"))
	r.Handle(bot.Command("echo"), nop, bot.Help("echo <text>", "repeat <text>"))
	r.Handle(bot.Command("ping"), nop) // no Help: listed by its command
	r.Handle(bot.Regexp(regexp.MustCompile(`(?i)^thanks`)), nop)
	r.Handle(bot.Command("urgent"), nop, bot.Priority(10), bot.Help("urgent <text>", "page the on-call"))
	r.Handle(bot.Always(), nop, bot.Observer(), bot.Help("(any message)", "is logged"), bot.Priority(-1))

	var rec bottest.Recorder
	require.NoError(t, r.HandleMessage(t.Context(), &rec, bottest.NewMessage("/help")))

	assert.Equal(t, []string{"Commands:\n" +
		"urgent <text>  — page the on-call\n" +
		"help           — list the commands\n" +
		"echo <text>    — repeat <text>\n" +
		"/ping\n" +
		"(any message)  — is logged"}, rec.Texts())
}

func TestHandler_HandleMessage_errors(t *testing.T) {
	boom := errors.New("outbox full")
	tests := []struct {
		name    string
		h       help.Handler
		w       *bottest.Recorder
		wantIs  error
		wantMsg string
	}{
		{name: "nil Routes", h: help.Handler{}, w: &bottest.Recorder{}, wantMsg: "help: Handler.Routes is nil"},
		{name: "send fails", h: help.Handler{Routes: routes{}}, w: &bottest.Recorder{Err: boom}, wantIs: boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.h.HandleMessage(t.Context(), tt.w, bottest.NewMessage("/help"))
			require.Error(t, err)
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			}
			if tt.wantMsg != "" {
				assert.EqualError(t, err, tt.wantMsg)
			}
			assert.Empty(t, tt.w.Sent())
		})
	}
}

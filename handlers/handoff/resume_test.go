package handoff_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/handlers/handoff"
)

func TestResumeHandler_HandleMessage(t *testing.T) {
	ana := bot.User{ID: "agent-7", Name: "Ana", Agent: true}
	inTeam := bottest.In("flowdock", "support")
	inCustomer := bottest.In("sendbee", "c-1")
	type sent struct{ Platform, Conversation, Text string }
	tests := []struct {
		name      string
		h         handoff.ResumeHandler
		text      string
		opts      []bottest.MessageOption
		resumeErr error
		wantErr   error
		calls     []string
		want      []sent
	}{
		{
			name:  "named conversation, from the team flow",
			h:     handoff.ResumeHandler{Team: team},
			text:  "/resume sendbee c-1",
			opts:  []bottest.MessageOption{inTeam, bottest.From(bot.User{ID: "u-5", Name: "Bo"})},
			calls: []string{"sendbee/c-1"},
			want:  []sent{{"flowdock", "support", "The bot is answering sendbee c-1 again."}},
		},
		{
			name:  "conversation names may contain spaces and slashes",
			h:     handoff.ResumeHandler{Team: team},
			text:  "/resume  flowdock \t acme/sales team ",
			opts:  []bottest.MessageOption{inTeam},
			calls: []string{"flowdock/acme/sales team"},
			want:  []sent{{"flowdock", "support", "The bot is answering flowdock acme/sales team again."}},
		},
		{
			name:  "Back tells the customer",
			h:     handoff.ResumeHandler{Team: team, Back: "You are chatting with the bot again.", Reply: "{{.Conversation}} resumed by {{.By.Name}}"},
			text:  "/resume sendbee c-1",
			opts:  []bottest.MessageOption{inTeam, bottest.From(bot.User{ID: "u-5", Name: "Bo"})},
			calls: []string{"sendbee/c-1"},
			want: []sent{
				{"sendbee", "c-1", "You are chatting with the bot again."},
				{"flowdock", "support", "c-1 resumed by Bo"},
			},
		},
		{
			name:  "alone, by an agent in the customer's conversation",
			h:     handoff.ResumeHandler{Team: team, Back: "I'm back."},
			text:  "/resume",
			opts:  []bottest.MessageOption{inCustomer, bottest.From(ana)},
			calls: []string{"sendbee/c-1"},
			want: []sent{
				{"sendbee", "c-1", "I'm back."},
				{"flowdock", "support", "The bot is answering sendbee c-1 again."},
			},
		},
		{
			name:  "alone, without a team flow: no confirmation for the customer to read",
			h:     handoff.ResumeHandler{},
			text:  "/resume",
			opts:  []bottest.MessageOption{inCustomer, bottest.From(ana)},
			calls: []string{"sendbee/c-1"},
		},
		{
			name:  "named, by an agent elsewhere, without a team flow",
			h:     handoff.ResumeHandler{},
			text:  "/resume sendbee c-2",
			opts:  []bottest.MessageOption{inCustomer, bottest.From(ana)},
			calls: []string{"sendbee/c-2"},
			want:  []sent{{"sendbee", "c-1", "The bot is answering sendbee c-2 again."}},
		},
		{
			name:    "a customer's command is not obeyed",
			h:       handoff.ResumeHandler{Team: team},
			text:    "/resume",
			opts:    []bottest.MessageOption{inCustomer},
			wantErr: bot.ErrContinue,
		},
		{
			name:    "a customer cannot name a conversation either",
			h:       handoff.ResumeHandler{Team: team},
			text:    "/resume sendbee c-1",
			opts:    []bottest.MessageOption{inCustomer},
			wantErr: bot.ErrContinue,
		},
		{
			name:    "bots are ignored, even in the team flow",
			h:       handoff.ResumeHandler{Team: team},
			text:    "/resume sendbee c-1",
			opts:    []bottest.MessageOption{inTeam, bottest.From(bot.User{ID: "b", Bot: true})},
			wantErr: bot.ErrContinue,
		},
		{
			name:    "events are ignored",
			h:       handoff.ResumeHandler{Team: team},
			text:    "/resume sendbee c-1",
			opts:    []bottest.MessageOption{inTeam, bottest.WithKind(bot.KindEdit)},
			wantErr: bot.ErrContinue,
		},
		{
			name: "alone in the team flow: usage",
			h:    handoff.ResumeHandler{Team: team},
			text: "/resume",
			opts: []bottest.MessageOption{inTeam},
			want: []sent{{"flowdock", "support", `Usage: /resume <platform> <conversation> in the team flow, or "/resume" alone in the customer's conversation.`}},
		},
		{
			name: "platform without conversation: usage",
			h:    handoff.ResumeHandler{Team: team},
			text: "/resume sendbee",
			opts: []bottest.MessageOption{inTeam},
			want: []sent{{"flowdock", "support", `Usage: /resume <platform> <conversation> in the team flow, or "/resume" alone in the customer's conversation.`}},
		},
		{
			name:      "unknown platform",
			h:         handoff.ResumeHandler{Team: team},
			text:      "/resume whatsapp c-1",
			opts:      []bottest.MessageOption{inTeam},
			resumeErr: fmt.Errorf("bot: set owner: %w %q", bot.ErrUnknownPlatform, "whatsapp"),
			calls:     []string{"whatsapp/c-1"},
			want:      []sent{{"flowdock", "support", `There is no platform "whatsapp".`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &resumer{err: tt.resumeErr}
			tt.h.Bot = r
			tt.h.Logger = slog.New(slog.DiscardHandler)
			var rec bottest.Recorder
			m := bottest.NewMessage(tt.text, tt.opts...)

			err := tt.h.HandleMessage(t.Context(), &rec, m)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}

			assert.Equal(t, tt.calls, r.Calls())
			var got []sent
			for _, s := range rec.Sent() {
				got = append(got, sent{s.Platform, s.Conversation, s.Text})
				if s.Platform == m.Platform && s.Conversation == m.Conversation {
					assert.Equal(t, m.ID, s.ReplyTo, "a message to the command's conversation is a reply")
				}
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestResumeHandler_HandleMessage_router checks that the handler reads the
// arguments the route's command captured.
func TestResumeHandler_HandleMessage_router(t *testing.T) {
	r := &resumer{}
	router := bot.NewRouter()
	router.Handle(bot.CommandSyntax{Prefixes: []string{"."}}.Command("bot"), handoff.ResumeHandler{Bot: r, Team: team}, bot.Observer())
	var rec bottest.Recorder
	require.NoError(t, router.HandleMessage(t.Context(), &rec, bottest.NewMessage(".bot sendbee c-9", bottest.In("flowdock", "support"))))
	assert.Equal(t, []string{"sendbee/c-9"}, r.Calls())
	assert.Equal(t, []string{"The bot is answering sendbee c-9 again."}, rec.Texts())
}

func TestResumeHandler_HandleMessage_logsIgnored(t *testing.T) {
	var logs bytes.Buffer
	h := handoff.ResumeHandler{Bot: &resumer{}, Team: team, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	err := h.HandleMessage(t.Context(), &bottest.Recorder{}, bottest.NewMessage("/resume secret text", bottest.In("sendbee", "c-1")))
	require.ErrorIs(t, err, bot.ErrContinue)
	assert.Contains(t, logs.String(), "level=DEBUG")
	assert.Contains(t, logs.String(), "ignored")
	assert.NotContains(t, logs.String(), "secret", "message text is never logged")
}

func TestResumeHandler_HandleMessage_errors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name     string
		h        handoff.ResumeHandler
		w        bot.Sender
		wantIs   error
		wantMsg  string
		wantSent []string
	}{
		{name: "no Bot", h: handoff.ResumeHandler{Team: team}, wantMsg: "handoff: ResumeHandler.Bot is nil"},
		{name: "resume fails", h: handoff.ResumeHandler{Bot: &resumer{err: boom}, Team: team}, wantIs: boom,
			wantMsg: "handoff: resume sendbee/c-1: boom"},
		{name: "bad Reply template", h: handoff.ResumeHandler{Bot: &resumer{}, Team: team, Reply: "{{"},
			wantMsg: "handoff: parse Reply: template: resume:1: unclosed action"},
		{name: "Reply template fails", h: handoff.ResumeHandler{Bot: &resumer{}, Team: team, Reply: "{{.Nope}}"},
			wantMsg: `handoff: execute Reply: template: resume:1:2: executing "resume" at <.Nope>: can't evaluate field Nope in type handoff.ResumeData`},
		{name: "team half set", h: handoff.ResumeHandler{Bot: &resumer{}, Team: handoff.Flow{Platform: "flowdock"}},
			wantMsg: `handoff: Team needs both Platform and Conversation, got "flowdock" and ""`},
		{name: "Back fails", h: handoff.ResumeHandler{Bot: &resumer{}, Team: team, Back: "back"}, w: failOn("sendbee", boom),
			wantIs: boom, wantMsg: "handoff: send Back to sendbee/c-1: boom"},
		{name: "confirmation fails", h: handoff.ResumeHandler{Bot: &resumer{}, Team: team, Back: "back"}, w: failOn("flowdock", boom),
			wantIs: boom, wantMsg: "handoff: answer resume command: boom", wantSent: []string{"back"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := tt.w
			if w == nil {
				w = &bottest.Recorder{}
			}
			m := bottest.NewMessage("/resume sendbee c-1", bottest.In("flowdock", "support"))
			if tt.h.Team.Conversation == "" {
				m.Author.Agent = true // accepted as an agent's command
			}
			err := tt.h.HandleMessage(t.Context(), w, m)
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

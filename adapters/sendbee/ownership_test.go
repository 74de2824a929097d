package sendbee_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// A forged signal that a human took over (an agent's message, a switched-off
// chatbot) does not silence a conversation whose platform chatbot is on:
// the Bot checks the platform's switch first.
func TestAdapter_ForgedTakeoverDoesNotSilence(t *testing.T) {
	tests := []struct {
		name     string
		body     func(conv string) map[string]any
		answered bool // the forged event is a customer message the bot answers
	}{
		{name: "agent message.sent", body: func(conv string) map[string]any {
			return map[string]any{"id": "forged-1", "type": "message.sent", "created_at": time.Now().Unix(),
				"data": map[string]any{"conversation_id": conv, "message_id": "forged-m-1", "direction": "outbound",
					"body": "Hi, Marko here.", "source": "agent", "agent": map[string]any{"id": "a-1", "name": "Marko"},
					"chatbot_active": false}}
		}},
		{name: "chatbot.status off", body: func(conv string) map[string]any {
			return map[string]any{"id": "forged-2", "type": "chatbot.status", "created_at": time.Now().Unix(),
				"data": map[string]any{"conversation_id": conv, "chatbot_active": false, "cause": "dashboard"}}
		}},
		{name: "message.received with the chatbot off", body: func(conv string) map[string]any {
			return map[string]any{"id": "forged-3", "type": "message.received", "created_at": time.Now().Unix(),
				"data": map[string]any{"conversation_id": conv, "message_id": "forged-m-3", "direction": "inbound",
					"body": "hi", "chatbot_active": false,
					"contact": map[string]any{"id": "k", "name": "Ana", "phone": "+385918888883"}}}
		}, answered: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, []sendbeetest.Option{sendbeetest.WithDocumentedEventsOnly()})
			supportRoutes(s.b)
			bottest.Run(t, s.b)
			const customer = "+385918888883"
			conv, _ := s.emu.CustomerMessage(customer, "Ana", "hello")
			s.emu.WaitSent(t, 1)
			before := s.b.Stats().Handled

			require.Equal(t, http.StatusOK, forge(t, s, captured(s), tt.body(conv)))
			handled(t, s.b, before+1)
			assert.Equal(t, bot.OwnerBot, owner(t, s.b, conv), "the platform's chatbot is on")

			want := 2
			if tt.answered {
				want = 3
				assert.Equal(t, "echo: hi", s.emu.WaitSent(t, 2)[1].Text)
			}
			s.emu.CustomerMessage(customer, "Ana", "still there?")
			sent := s.emu.WaitSent(t, want)
			assert.Equal(t, "echo: still there?", sent[want-1].Text)
			assert.True(t, s.emu.ChatbotActive(conv))
		})
	}
}

// The ownership story with only the documented webhook (message.received):
// an agent's takeover from the dashboard is noticed on the next customer
// message, and once the dashboard switches the chatbot back on the bot
// answers again; the same after a handoff reply.
func TestAdapter_OwnershipStoryDocumentedEvents(t *testing.T) {
	s := newSetup(t, []sendbeetest.Option{sendbeetest.WithDocumentedEventsOnly()})
	supportRoutes(s.b)
	bottest.Run(t, s.b)
	const phone = "+385918888884"

	conv, _ := s.emu.CustomerMessage(phone, "Ana", "hello")
	s.emu.WaitSent(t, 1)

	// An agent takes over from the dashboard: no webhook says so.
	_, err := s.emu.AgentReply(conv, "", "Hi Ana, Marko here.")
	require.NoError(t, err)
	_, id := s.emu.CustomerMessage(phone, "Ana", "thanks Marko")
	s.handledID(t, id)
	assert.Equal(t, bot.OwnerHuman, owner(t, s.b, conv))
	assert.Len(t, s.emu.Sent(), 1, "a human owns the conversation: the bot is silent")

	// The dashboard switches the chatbot back on: no webhook says so either.
	require.NoError(t, s.emu.SetChatbot(conv, true))
	s.emu.CustomerMessage(phone, "Ana", "bot again")
	sent := s.emu.WaitSent(t, 2)
	assert.Equal(t, "echo: bot again", sent[1].Text)
	assert.Equal(t, bot.OwnerBot, owner(t, s.b, conv))

	// A handoff reply, then the dashboard's switch.
	s.emu.CustomerMessage(phone, "Ana", "agent")
	s.emu.WaitSent(t, 3)
	require.Eventually(t, func() bool { return owner(t, s.b, conv) == bot.OwnerHuman }, 5*time.Second, time.Millisecond)
	_, id = s.emu.CustomerMessage(phone, "Ana", "hello? anyone?")
	s.handledID(t, id)
	assert.Len(t, s.emu.Sent(), 3)
	require.NoError(t, s.emu.SetChatbot(conv, true))
	s.emu.CustomerMessage(phone, "Ana", "back to the bot")
	sent = s.emu.WaitSent(t, 4)
	assert.Equal(t, "echo: back to the bot", sent[3].Text)
	assert.True(t, s.emu.ChatbotActive(conv), "the bot's replies keep the chatbot on")
}

// The sweep reads the platform's switch of human-owned conversations: once
// the dashboard switches the chatbot back on, the conversation returns to
// the bot without any inbound message, and a proactive message goes out.
func TestAdapter_OwnerSweep(t *testing.T) {
	s := newSetup(t, []sendbeetest.Option{sendbeetest.WithDocumentedEventsOnly()},
		bot.WithOwnerSweep(10*time.Millisecond), bot.WithOwnerRecheck(10*time.Millisecond))
	supportRoutes(s.b)
	bottest.Run(t, s.b)
	const phone = "+385918888885"

	conv, _ := s.emu.CustomerMessage(phone, "Ana", "agent")
	s.emu.WaitSent(t, 1)
	require.Eventually(t, func() bool { return owner(t, s.b, conv) == bot.OwnerHuman }, 5*time.Second, time.Millisecond)
	require.False(t, s.emu.ChatbotActive(conv))

	require.NoError(t, s.emu.SetChatbot(conv, true))
	require.Eventually(t, func() bool { return owner(t, s.b, conv) == bot.OwnerBot }, 5*time.Second, time.Millisecond,
		"the sweep hands the conversation back to the bot")
	require.NoError(t, s.b.Send(t.Context(), &bot.Message{Platform: sendbee.Name, Conversation: conv, Text: "We are back."}))
	sent := s.emu.WaitSent(t, 2)
	assert.Equal(t, "We are back.", sent[1].Text)
	assert.Equal(t, int64(1), s.b.Stats().Handled, "no inbound message was needed")
}

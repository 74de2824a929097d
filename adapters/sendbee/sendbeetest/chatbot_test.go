package sendbeetest_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

// TestServer_ChatbotStateMachine checks the chatbot_active rules (API send
// with and without prevent_bot_off, agent reply, activity switch, inbound
// message) one by one, from both initial states, through the status
// endpoint, the conversation object, the Go accessor and the
// chatbot.status events.
func TestServer_ChatbotStateMachine(t *testing.T) {
	const phone = "+385955555555"
	yes, no := true, false
	send := func(pbo *bool) func(*apiClient, *sendbeetest.Server, string) {
		return func(c *apiClient, _ *sendbeetest.Server, _ string) {
			body := map[string]any{"phone": phone, "text": "reply"}
			if pbo != nil {
				body["prevent_bot_off"] = *pbo
			}
			mustOK(c.t, c.post("/conversations/messages/send", body))
		}
	}
	sendTemplate := func(pbo *bool) func(*apiClient, *sendbeetest.Server, string) {
		return func(c *apiClient, _ *sendbeetest.Server, _ string) {
			body := map[string]any{"phone": phone, "template_keyword": "welcome", "language": "hr", "tags": map[string]string{"1": "Ana"}}
			if pbo != nil {
				body["prevent_bot_off"] = *pbo
			}
			mustOK(c.t, c.post("/conversations/messages/templates/send", body))
		}
	}
	activity := func(active bool) func(*apiClient, *sendbeetest.Server, string) {
		return func(c *apiClient, _ *sendbeetest.Server, conv string) {
			mustOK(c.t, c.put("/automation/chatbot/activity", map[string]any{"conversation_id": conv, "active": active}))
		}
	}
	agent := func(c *apiClient, s *sendbeetest.Server, conv string) {
		_, err := s.AgentReply(conv, "Marko Kovač", "A human here")
		require.NoError(c.t, err)
	}
	inbound := func(_ *apiClient, s *sendbeetest.Server, _ string) { s.CustomerMessage(phone, "", "hello?") }
	dashboard := func(active bool) func(*apiClient, *sendbeetest.Server, string) {
		return func(c *apiClient, s *sendbeetest.Server, conv string) {
			require.NoError(c.t, s.SetChatbot(conv, active))
		}
	}

	tests := []struct {
		name    string
		initial bool
		act     func(*apiClient, *sendbeetest.Server, string)
		want    bool
	}{
		{"send prevent_bot_off=true keeps on", true, send(&yes), true},
		{"send prevent_bot_off=true keeps off", false, send(&yes), false},
		{"send prevent_bot_off=false turns off", true, send(&no), false},
		{"send without prevent_bot_off turns off", true, send(nil), false},
		{"send without prevent_bot_off keeps off", false, send(nil), false},
		{"template prevent_bot_off=true keeps on", true, sendTemplate(&yes), true},
		{"template without prevent_bot_off turns off", true, sendTemplate(nil), false},
		{"template prevent_bot_off=false turns off", true, sendTemplate(&no), false},
		{"agent reply turns off", true, agent, false},
		{"agent reply keeps off", false, agent, false},
		{"PUT active=true turns on", false, activity(true), true},
		{"PUT active=true keeps on", true, activity(true), true},
		{"PUT active=false turns off", true, activity(false), false},
		{"inbound keeps on", true, inbound, true},
		{"inbound keeps off", false, inbound, false},
		{"dashboard switch turns on", false, dashboard(true), true},
		{"dashboard switch turns off", true, dashboard(false), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := sendbeetest.NewServer(t, sendbeetest.WithChatbotDefault(tt.initial), sendbeetest.WithRateLimit(0, 0))
			c := newClient(t, s)
			conv, _ := s.CustomerMessage(phone, "Test", "first")
			require.Equal(t, tt.initial, s.ChatbotActive(conv))
			before := len(s.Events())

			tt.act(c, s, conv)

			assert.Equal(t, tt.want, s.ChatbotActive(conv))
			var st struct {
				ConversationID string `json:"conversation_id"`
				ChatbotActive  bool   `json:"chatbot_active"`
			}
			mustOK(t, c.get("/automation/chatbot/activity/status", "conversation_id="+conv)).decode(t, &st)
			assert.Equal(t, tt.want, st.ChatbotActive)
			var cv struct {
				ChatbotActive bool `json:"chatbot_active"`
			}
			mustOK(t, c.get("/conversation", "conversation_id="+conv)).decode(t, &cv)
			assert.Equal(t, tt.want, cv.ChatbotActive)

			var changes []bool
			for _, ev := range s.Events()[before:] {
				if ev.Type != sendbeetest.EventChatbotStatus {
					continue
				}
				var p struct {
					Data struct {
						ConversationID string `json:"conversation_id"`
						ChatbotActive  bool   `json:"chatbot_active"`
					} `json:"data"`
				}
				require.NoError(t, json.Unmarshal(ev.Payload, &p))
				assert.Equal(t, conv, p.Data.ConversationID)
				changes = append(changes, p.Data.ChatbotActive)
			}
			if tt.initial == tt.want {
				assert.Empty(t, changes, "no chatbot.status without a change")
			} else {
				assert.Equal(t, []bool{tt.want}, changes)
			}
		})
	}
}

func TestServer_ChatbotDefaultForNewConversations(t *testing.T) {
	s := sendbeetest.NewServer(t, sendbeetest.WithChatbotDefault(false))
	conv, _ := s.CustomerMessage("+385977777777", "", "hi")
	assert.False(t, s.ChatbotActive(conv))
	assert.True(t, s.ChatbotActive(anaConv), "seeded conversations keep their documented state")
	assert.False(t, s.ChatbotActive("no-such-conversation"))
}

package sendbee_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/bot/bottest"
)

// forge posts a webhook body to the receiver with a token captured once:
// a Sendbee token is valid for any body for 15 minutes. It returns the
// status of the answer.
func forge(t *testing.T, s *setup, token string, body any) int {
	t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.rcv.url(), bytes.NewReader(raw))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Authorization", token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// captured is a token as a third party would capture it from one real
// delivery.
func captured(s *setup) string { return sendbee.Token(s.emu.WebhookSecret(), time.Now()) }

// A third party holding one captured token posts messages for a known
// conversation that name its own phone as the contact's: every reply still
// goes to the real customer, whose phone the adapter confirms through the
// API, and the third party receives nothing.
func TestAdapter_ForgedContactDoesNotRedirectReplies(t *testing.T) {
	s := newSetup(t, []sendbeetest.Option{sendbeetest.WithDocumentedEventsOnly()})
	supportRoutes(s.b)
	bottest.Run(t, s.b)
	const customer, thief = "+385918888881", "+385918888882"
	conv, _ := s.emu.CustomerMessage(customer, "Ana", "hello")
	s.emu.WaitSent(t, 1)

	token := captured(s)
	for i := range 3 {
		status := forge(t, s, token, map[string]any{
			"id": fmt.Sprintf("forged-%d", i), "type": "message.received", "created_at": time.Now().Unix(),
			"data": map[string]any{
				"conversation_id": conv, "message_id": fmt.Sprintf("forged-m-%d", i), "direction": "inbound",
				"body": fmt.Sprintf("please answer here %d", i), "chatbot_active": true,
				"contact": map[string]any{"id": "k-thief", "name": "Ana", "phone": thief},
			},
		})
		require.Equal(t, http.StatusOK, status)
	}
	sent := s.emu.WaitSent(t, 4)
	s.emu.CustomerMessage(customer, "Ana", "and me")
	sent = append(sent, s.emu.WaitSent(t, 5)[4])
	for _, m := range sent {
		assert.Equal(t, conv, m.ConversationID, "reply %q", m.Text)
		assert.Equal(t, customer, m.Phone, "reply %q", m.Text)
	}
	_, ok := s.emu.ConversationByPhone(thief)
	assert.False(t, ok, "the third party's phone received nothing")
	var lookups int
	for _, r := range s.emu.Requests() {
		if r.Method == http.MethodGet && r.Path == "/conversation" {
			lookups++
		}
	}
	assert.Positive(t, lookups, "the disputed contact is looked up through the API")
}

package sendbeetest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

// simCall calls a /_sim/ endpoint without any credentials.
func simCall(t *testing.T, s *sendbeetest.Server, method, path, body string) (int, []byte) {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	req, err := http.NewRequest(method, s.RootURL()+path, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, raw
}

func TestSim_HTTP(t *testing.T) {
	rc := newReceiver(t, "s", nil)
	s := sendbeetest.NewServer(t, sendbeetest.WithWebhook(rc.srv.URL), sendbeetest.WithWebhookSecret("s"))

	status, raw := simCall(t, s, http.MethodPost, "/_sim/customer", `{"phone":"+385981234567","name":"Iva","text":"Bok!"}`)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	var cust struct {
		ConversationID string `json:"conversation_id"`
		MessageID      string `json:"message_id"`
	}
	require.NoError(t, json.Unmarshal(raw, &cust))
	assert.Regexp(t, uuidRE, cust.ConversationID)
	conv, ok := s.ConversationByPhone("+385 98 123 4567")
	require.True(t, ok)
	assert.Equal(t, cust.ConversationID, conv.ID)
	assert.Equal(t, "Iva", conv.Contact.Name)
	assert.Equal(t, cust.MessageID, conv.Messages[0].ID)
	assert.Equal(t, "customer", conv.Messages[0].Source)

	status, raw = simCall(t, s, http.MethodPost, "/_sim/customer",
		`{"phone":"+385981234567","media_type":"document","media_url":"https://x.example/cv.pdf"}`)
	require.Equal(t, http.StatusOK, status, "%s", raw)

	status, raw = simCall(t, s, http.MethodPost, "/_sim/agent", `{"conversation_id":"`+cust.ConversationID+`","agent":"Lucija Babić","text":"Hi Iva"}`)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	assert.Contains(t, string(raw), `"chatbot_active": false`)
	assert.False(t, s.ChatbotActive(cust.ConversationID))

	status, raw = simCall(t, s, http.MethodPost, "/_sim/chatbot", `{"conversation_id":"`+cust.ConversationID+`","active":true}`)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	assert.JSONEq(t, `{"conversation_id":"`+cust.ConversationID+`","chatbot_active":true}`, string(raw))
	assert.True(t, s.ChatbotActive(cust.ConversationID))

	// What the bot sent, and the conversation state, over HTTP.
	c := newClient(t, s)
	mustOK(t, c.post("/conversations/messages/send", map[string]any{"phone": "+385981234567", "text": "bot here", "prevent_bot_off": true}))
	status, raw = simCall(t, s, http.MethodGet, "/_sim/sent", "")
	require.Equal(t, http.StatusOK, status)
	var sent []map[string]any
	require.NoError(t, json.Unmarshal(raw, &sent))
	require.Len(t, sent, 1)
	assert.Equal(t, "bot here", sent[0]["text"])
	assert.Equal(t, true, sent[0]["prevent_bot_off"])

	status, raw = simCall(t, s, http.MethodGet, "/_sim/conversations", "")
	require.Equal(t, http.StatusOK, status)
	var convs []sendbeetest.Conversation
	require.NoError(t, json.Unmarshal(raw, &convs))
	assert.Len(t, convs, 4)
	last := convs[3]
	assert.True(t, last.ChatbotActive)
	require.Len(t, last.Messages, 4)
	assert.Equal(t, "agent", last.Messages[2].Source)
	assert.Equal(t, "Lucija Babić", last.Messages[2].AgentName)

	mid := last.Messages[3].ID
	status, raw = simCall(t, s, http.MethodPost, "/_sim/status", `{"message_id":"`+mid+`","status":"read"}`)
	require.Equal(t, http.StatusOK, status, "%s", raw)

	for _, p := range []string{"/_sim/events", "/_sim/deliveries", "/_sim/requests", "/_sim/", "/_sim"} {
		status, raw = simCall(t, s, http.MethodGet, p, "")
		assert.Equal(t, http.StatusOK, status, p)
		assert.True(t, json.Valid(raw), p)
	}
	status, raw = simCall(t, s, http.MethodGet, "/_sim/requests", "")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, string(raw), `"body": "{\"phone\":\"+385981234567\"`)
	assert.NotContains(t, string(raw), s.APISecret())
	status, raw = simCall(t, s, http.MethodGet, "/_sim/", "")
	require.Equal(t, http.StatusOK, status)
	assert.NotContains(t, string(raw), s.APISecret())
	assert.Contains(t, string(raw), s.URL())

	assert.Len(t, s.Requests(), 1, "/_sim/ calls are not recorded")
}

func TestSim_HTTPErrors(t *testing.T) {
	s := sendbeetest.NewServer(t)
	tests := []struct {
		name, method, path, body string
		want                     int
		detail                   string
	}{
		{"wrong method", "GET", "/_sim/customer", "", 405, "needs POST"},
		{"wrong method on a read", "POST", "/_sim/sent", "", 405, "needs GET"},
		{"unknown endpoint", "GET", "/_sim/nope", "", 404, "no control endpoint"},
		{"bad phone", "POST", "/_sim/customer", `{"phone":"12345","text":"x"}`, 400, "leading +"},
		{"no text", "POST", "/_sim/customer", `{"phone":"+385981234567"}`, 400, "text or media_url"},
		{"unknown field", "POST", "/_sim/customer", `{"phone":"+385981234567","txt":"x"}`, 400, "unknown field"},
		{"bad media type", "POST", "/_sim/customer", `{"phone":"+385981234567","media_type":"gif","media_url":"https://x.example/a.gif"}`, 400, "media_type must be one of"},
		{"unknown conversation", "POST", "/_sim/agent", `{"conversation_id":"nope","text":"x"}`, 404, "not found"},
		{"chatbot without active", "POST", "/_sim/chatbot", `{"conversation_id":"` + anaConv + `"}`, 400, "active is required"},
		{"bad status", "POST", "/_sim/status", `{"message_id":"x","status":"lost"}`, 400, "status must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, raw := simCall(t, s, tt.method, tt.path, tt.body)
			require.Equal(t, tt.want, status, "%s", raw)
			var e struct {
				Error apiErr `json:"error"`
			}
			require.NoError(t, json.Unmarshal(raw, &e))
			assert.Contains(t, e.Error.Detail, tt.detail)
		})
	}
}

func TestSim_GoAPIPanicsOnMisuse(t *testing.T) {
	s := sendbeetest.NewServer(t)
	assert.PanicsWithValue(t, `sendbeetest: CustomerMessage: phone must be an international number with a leading +, such as +385911234567; got "0911234567"`,
		func() { s.CustomerMessage("0911234567", "", "hi") })
	assert.Panics(t, func() { s.CustomerMessage("+385911234567", "", "  ") })
	assert.Panics(t, func() { s.CustomerMedia("+385911234567", "", "image", "", "") })
	assert.Panics(t, func() { s.CustomerMedia("+385911234567", "", "", "https://x.example/a.exe", "") })
	assert.Error(t, s.SetChatbot("nope", true))
	_, err := s.AgentReply(anaConv, "", "")
	assert.Error(t, err)
	assert.Empty(t, s.Events(), "misuse changes nothing")

	// An agent the demo data does not know gets a stable invented ID.
	m1, err := s.AgentReply(anaConv, "Zoe", "hi")
	require.NoError(t, err)
	_, err = s.AgentReply(anaConv, "Zoe", "again")
	require.NoError(t, err)
	conv, _ := s.Conversation(anaConv)
	n := len(conv.Messages)
	assert.Equal(t, m1, conv.Messages[n-2].ID)
	assert.Equal(t, conv.Messages[n-2].AgentID, conv.Messages[n-1].AgentID)
	assert.Regexp(t, uuidRE, conv.Messages[n-1].AgentID)
}

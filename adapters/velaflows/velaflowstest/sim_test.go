package velaflowstest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
)

func simCall(t *testing.T, s *velaflowstest.Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.RootURL()+path, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

func TestSimHTTP(t *testing.T) {
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	rc := newReceiver(t, nil)
	s := newServer(t, velaflowstest.WithSubscription(rc.URL, secret,
		"conversation.created", "conversation.message.received", "conversation.assigned", "conversation.unassigned", "conversation.closed", "conversation.reopened"))

	st, out := simCall(t, s, http.MethodPost, "/_sim/customer", `{"channelType":"instagram","name":"Zoe Quinn","contact":"@zoe","text":"Do you ship to Manchester?"}`)
	require.Equal(t, http.StatusOK, st, "%v", out)
	data := out["data"].(map[string]any)
	cid := data["conversationId"].(string)
	assert.Regexp(t, hex24RE, cid)
	assert.Regexp(t, hex24RE, data["messageId"])

	st, out = simCall(t, s, http.MethodPost, "/_sim/assign", `{"conversationId":"`+cid+`","agent":"Tom Becker"}`)
	require.Equal(t, http.StatusOK, st)
	assert.Equal(t, "65f0c0ffee00000000009002", out["data"].(map[string]any)["assignedAgentId"])
	st, _ = simCall(t, s, http.MethodPost, "/_sim/unassign", `{"conversationId":"`+cid+`"}`)
	require.Equal(t, http.StatusOK, st)
	st, out = simCall(t, s, http.MethodPost, "/_sim/close", `{"conversationId":"`+cid+`"}`)
	require.Equal(t, http.StatusOK, st)
	assert.Equal(t, "closed", out["data"].(map[string]any)["status"])
	st, _ = simCall(t, s, http.MethodPost, "/_sim/reopen", `{"conversationId":"`+cid+`"}`)
	require.Equal(t, http.StatusOK, st)
	st, out = simCall(t, s, http.MethodPost, "/_sim/agent", `{"conversationId":"`+cid+`","agent":"Maya Patel","text":"Yes, we do."}`)
	require.Equal(t, http.StatusOK, st, "%v", out)

	got := rc.wait(t, 6)
	var types []string
	for _, r := range got {
		types = append(types, r.eventType())
	}
	assert.Equal(t, []string{"conversation.created", "conversation.message.received", "conversation.assigned",
		"conversation.unassigned", "conversation.closed", "conversation.reopened"}, types)

	// The bot answers through the API; /_sim/sent shows it.
	mustOK(t, newClient(t, s).post("/inbox/conversations/"+cid+"/messages", map[string]any{"type": "text", "content": "Thanks!"}))
	st, out = simCall(t, s, http.MethodGet, "/_sim/sent", "")
	require.Equal(t, http.StatusOK, st)
	sent := out["data"].([]any)
	require.Len(t, sent, 1)
	assert.Equal(t, "Thanks!", sent[0].(map[string]any)["content"])

	st, out = simCall(t, s, http.MethodGet, "/_sim/conversations", "")
	require.Equal(t, http.StatusOK, st)
	assert.Len(t, out["data"].([]any), 8)

	st, out = simCall(t, s, http.MethodPost, "/_sim/leads", `{"count":25}`)
	require.Equal(t, http.StatusOK, st)
	assert.Equal(t, 31.0, out["data"].(map[string]any)["total"])

	for _, p := range []string{"/_sim/events", "/_sim/deliveries", "/_sim/subscriptions", "/_sim/requests", "/_sim/", "/_sim"} {
		st, _ := simCall(t, s, http.MethodGet, p, "")
		assert.Equal(t, http.StatusOK, st, p)
	}

	// Errors.
	st, out = simCall(t, s, http.MethodPost, "/_sim/customer", `{"channelType":"fax","contact":"x","text":"hi"}`)
	assert.Equal(t, http.StatusUnprocessableEntity, st)
	assert.Equal(t, "VALIDATION_ERROR", out["error"].(map[string]any)["code"])
	st, _ = simCall(t, s, http.MethodPost, "/_sim/customer", `{"channelType":"sms","contact":"x","text":"hi","extra":1}`)
	assert.Equal(t, http.StatusUnprocessableEntity, st)
	st, _ = simCall(t, s, http.MethodPost, "/_sim/close", `{"conversationId":"000000000000000000000000"}`)
	assert.Equal(t, http.StatusNotFound, st)
	st, _ = simCall(t, s, http.MethodGet, "/_sim/customer", "")
	assert.Equal(t, http.StatusMethodNotAllowed, st)
	st, _ = simCall(t, s, http.MethodGet, "/_sim/nope", "")
	assert.Equal(t, http.StatusNotFound, st)

	for _, r := range s.Requests() {
		assert.False(t, strings.HasPrefix(r.Path, "/_sim"), "control requests are not recorded")
	}
}

func TestSimGo(t *testing.T) {
	s := newServer(t)
	cid, mid := s.CustomerMessage("email", "Mary Jackson", "mary@example.com", "Where is invoice 7?")
	cv, ok := s.Conversation(cid)
	require.True(t, ok)
	assert.Equal(t, "email", cv.ChannelType)
	assert.Equal(t, "open", cv.Status)
	assert.Equal(t, "Mary Jackson", cv.ContactName)
	assert.Equal(t, "mary@example.com", cv.ContactEmail)
	require.Len(t, cv.Messages, 1)
	assert.Equal(t, mid, cv.Messages[0].ID)
	assert.Equal(t, "inbound", cv.Messages[0].Direction)

	// The same contact on another channel gets a second conversation with
	// the same customer; a known demo contact is recognised.
	cid2, _ := s.CustomerMessage("whatsapp", "", "+442071838750", "Any news?")
	assert.Equal(t, convID, cid2, "Ada's existing WhatsApp conversation")

	require.NoError(t, s.Assign(cid, ""))
	cv, _ = s.Conversation(cid)
	assert.Equal(t, "Maya Patel", cv.AssignedAgentName, "\"\" is the first agent")
	require.NoError(t, s.Assign(cid, "Dana Scully"))
	cv, _ = s.Conversation(cid)
	assert.Equal(t, "Dana Scully", cv.AssignedAgentName)
	assert.Regexp(t, hex24RE, cv.AssignedAgentID)

	require.NoError(t, s.CloseConversation(cid))
	_, err := s.AgentMessage(cid, "", "late")
	assert.Error(t, err, "closed")
	// A new customer message reopens the closed conversation.
	cid3, _ := s.CustomerMessage("email", "", "mary@example.com", "Hello again")
	assert.Equal(t, cid, cid3)
	cv, _ = s.Conversation(cid)
	assert.Equal(t, "open", cv.Status)
	mid2, err := s.AgentMessage(cid, "Dana Scully", "Here it is.")
	require.NoError(t, err)
	cv, _ = s.Conversation(cid)
	assert.Equal(t, mid2, cv.Messages[len(cv.Messages)-1].ID)

	err = s.Unassign("000000000000000000000000")
	assert.True(t, errors.Is(err, velaflowstest.ErrNotFound))
	assert.Error(t, s.SetStatus(cid, "done"))
	assert.Panics(t, func() { s.CustomerMessage("fax", "", "x", "hi") })
	assert.Panics(t, func() { s.CustomerMessage("sms", "", "+15550123456", " ") })

	types := map[string]int{}
	for _, e := range s.Events() {
		types[e.Type]++
	}
	assert.Equal(t, map[string]int{
		"customer.created": 1, "conversation.created": 1, "conversation.message.received": 3,
		"conversation.assigned": 2, "conversation.status_changed": 2, "conversation.closed": 1,
		"conversation.reopened": 1, "conversation.message.sent": 1,
	}, types)
	assert.Len(t, s.Conversations(), 8)
	assert.Len(t, s.Customers(), 8)
}

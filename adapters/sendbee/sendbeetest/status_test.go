package sendbeetest_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

func welcome(phone string) map[string]any {
	return map[string]any{"phone": phone, "template_keyword": "welcome", "language": "en", "tags": map[string]string{"1": "you"}}
}

// TestStatus_TemplateToUnsubscribedRefused: a template send to an
// unsubscribed contact is refused and changes nothing; subscribing the
// contact again (POST /contacts/subscribe) lets it through.
func TestStatus_TemplateToUnsubscribedRefused(t *testing.T) {
	s := sendbeetest.NewServer(t)
	c := newClient(t, s)
	const john = "+14155550123" // unsubscribed in the demo data
	before, _ := s.ConversationByPhone(john)

	r := c.post("/conversations/messages/templates/send", welcome(john))
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Raw)
	e := r.err(t)
	assert.Equal(t, "contact_unsubscribed", e.Type)
	assert.Contains(t, e.Detail, "unsubscribed")
	after, _ := s.ConversationByPhone(john)
	assert.Equal(t, before, after, "the refused send changes nothing")
	assert.Empty(t, s.Sent())

	mustOK(t, c.post("/contacts/subscribe", map[string]any{"phone": john}))
	mustOK(t, c.post("/conversations/messages/templates/send", welcome(john)))
	assert.Len(t, s.Sent(), 1)
}

// TestStatus_SetContactStatus: the Go method and /_sim/contact change the
// status, which the API shows and the template check uses.
func TestStatus_SetContactStatus(t *testing.T) {
	s := sendbeetest.NewServer(t)
	c := newClient(t, s)
	const ana = "+385911234567"

	require.NoError(t, s.SetContactStatus(ana, "unsubscribed"))
	v, _ := s.ConversationByPhone(ana)
	assert.Equal(t, "unsubscribed", v.Contact.Status)
	var list []struct {
		Phone  string `json:"phone"`
		Status string `json:"status"`
	}
	mustOK(t, c.get("/contacts", "status=unsubscribed")).decode(t, &list)
	assert.Contains(t, list, struct {
		Phone  string `json:"phone"`
		Status string `json:"status"`
	}{ana, "unsubscribed"})
	r := c.post("/conversations/messages/templates/send", welcome(ana))
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Raw)
	assert.Equal(t, "contact_unsubscribed", r.err(t).Type)

	// A free-form reply to a customer who writes is still allowed.
	s.CustomerMessage(ana, "", "one more question")
	mustOK(t, c.post("/conversations/messages/send", map[string]any{"phone": ana, "text": "Sure"}))
	v, _ = s.ConversationByPhone(ana)
	assert.Equal(t, "unsubscribed", v.Contact.Status, "an inbound message does not resubscribe")

	status, raw := simCall(t, s, http.MethodPost, "/_sim/contact", `{"phone":"+385 91 123 4567","status":"subscribed"}`)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	var out struct {
		ContactID string `json:"contact_id"`
		Phone     string `json:"phone"`
		Status    string `json:"status"`
	}
	require.NoError(t, json.Unmarshal(raw, &out))
	assert.Equal(t, "5eedc0c7-0000-4000-8000-000000000001", out.ContactID)
	assert.Equal(t, ana, out.Phone)
	assert.Equal(t, "subscribed", out.Status)
	mustOK(t, c.post("/conversations/messages/templates/send", welcome(ana)))

	for _, tc := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"bad status", `{"phone":"` + ana + `","status":"gone"}`, 400, "subscribed or unsubscribed"},
		{"bad phone", `{"phone":"abc","status":"subscribed"}`, 400, "validation_error"},
		{"unknown phone", `{"phone":"+385990000009","status":"subscribed"}`, 404, "not_found"},
		{"unknown field", `{"phone":"` + ana + `","state":"subscribed"}`, 400, "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := simCall(t, s, http.MethodPost, "/_sim/contact", tc.body)
			require.Equal(t, tc.status, status, "%s", raw)
			assert.Contains(t, string(raw), tc.want)
			v, _ := s.ConversationByPhone(ana)
			assert.Equal(t, "subscribed", v.Contact.Status, "a refused change changes nothing")
		})
	}
	assert.Error(t, s.SetContactStatus("+385990000009", "subscribed"))
	assert.Error(t, s.SetContactStatus(ana, "maybe"))
}

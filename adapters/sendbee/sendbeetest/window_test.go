package sendbeetest_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

// TestWindow_FreeFormOnlyWithin24Hours: a free-form send is accepted
// within 24 hours of the customer's last message and refused after, while
// a template send goes through; a new customer message reopens the window.
func TestWindow_FreeFormOnlyWithin24Hours(t *testing.T) {
	clk := newClock(clockStart)
	s := sendbeetest.NewServer(t, sendbeetest.WithClock(clk.Now))
	c := newClient(t, s)
	c.now = clk.Now
	const phone = "+385981112222"
	send := func() *response {
		return c.post("/conversations/messages/send", map[string]any{"phone": phone, "text": "Hi"})
	}

	s.CustomerMessage(phone, "Iva", "hello")
	closes, ok := s.WindowClosesAt(phone)
	require.True(t, ok)
	assert.Equal(t, clockStart.Add(24*time.Hour), closes)
	assert.True(t, s.WindowOpen(phone))

	s.Advance(23*time.Hour + 59*time.Minute)
	mustOK(t, send())

	s.Advance(time.Minute) // exactly 24 hours: closed
	assert.False(t, s.WindowOpen(phone))
	r := send()
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Raw)
	e := r.err(t)
	assert.Equal(t, "re_engagement_required", e.Type)
	assert.Contains(t, e.Detail, "24-hour customer service window")
	assert.Contains(t, e.Detail, "2026-03-02 09:00:00", "names the customer's last message time")
	assert.Len(t, s.Sent(), 1, "the refused send is not recorded")
	conv, _ := s.ConversationByPhone(phone)
	assert.Len(t, conv.Messages, 2, "the refused send stores nothing")

	mustOK(t, c.post("/conversations/messages/templates/send", map[string]any{
		"phone": phone, "template_keyword": "welcome", "language": "en", "tags": map[string]string{"1": "Iva"},
	}))
	assert.False(t, s.WindowOpen(phone), "a template does not open the window")

	// The customer answers (over /_sim/customer): the window is open again.
	status, raw := simCall(t, s, http.MethodPost, "/_sim/customer", `{"phone":"`+phone+`","text":"yes?"}`)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	mustOK(t, send())
	closes, _ = s.WindowClosesAt(phone)
	assert.Equal(t, clockStart.Add(48*time.Hour), closes)
}

// TestWindow_NeverWrote: a contact that never wrote has no window; a
// free-form send to it, or to an unknown phone, is refused and creates
// nothing.
func TestWindow_NeverWrote(t *testing.T) {
	s := sendbeetest.NewServer(t)
	c := newClient(t, s)
	before := len(s.Conversations())

	r := c.post("/conversations/messages/send", map[string]any{"phone": "+385990000001", "text": "Hi"})
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Raw)
	assert.Equal(t, "re_engagement_required", r.err(t).Type)
	assert.Contains(t, r.err(t).Detail, "has not written")
	assert.Len(t, s.Conversations(), before, "a refused send creates no contact")
	_, ok := s.WindowClosesAt("+385990000001")
	assert.False(t, ok)

	// Demo data: Ana wrote 2 hours ago, Marko 25.5 hours ago.
	assert.True(t, s.WindowOpen("+385911234567"))
	assert.False(t, s.WindowOpen("+385921112233"))
	mustOK(t, c.post("/conversations/messages/send", map[string]any{"whatsapp_user_id": "HR.1234567890", "text": "Hi Ana"}))
	r = c.post("/conversations/messages/send", map[string]any{"phone": "+385921112233", "media_url": "https://x.example/a.jpg"})
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Raw)
	assert.Equal(t, "re_engagement_required", r.err(t).Type)

	// A template send opens the conversation with a new number.
	mustOK(t, c.post("/conversations/messages/templates/send", map[string]any{
		"phone": "+385990000001", "template_keyword": "invoice_ready", "language": "en",
		"attachment": "https://x.example/invoice.pdf",
	}))
	assert.False(t, s.WindowOpen("+385990000001"))
}

// TestWindow_ShownInConversation: the conversation shows the customer's
// last message time (last_message.inbound_sent_at) in the API, and the
// window's end in the Go view and /_sim/conversations.
func TestWindow_ShownInConversation(t *testing.T) {
	clk := newClock(clockStart)
	s := sendbeetest.NewServer(t, sendbeetest.WithClock(clk.Now), sendbeetest.WithoutDemoData())
	c := newClient(t, s)
	c.now = clk.Now
	conv, _ := s.CustomerMessage("+385981112222", "Iva", "hello")
	s.Advance(time.Hour)
	mustOK(t, c.post("/conversations/messages/send", map[string]any{"phone": "+385981112222", "text": "Hi"}))

	r := mustOK(t, c.get("/conversation", "conversation_id="+conv))
	var w struct {
		LastMessage struct {
			Direction      string `json:"direction"`
			InboundSentAt  string `json:"inbound_sent_at"`
			OutboundSentAt string `json:"outbound_sent_at"`
		} `json:"last_message"`
	}
	r.decode(t, &w)
	assert.Equal(t, "outbound", w.LastMessage.Direction)
	assert.Equal(t, "2026-03-02 09:00:00", w.LastMessage.InboundSentAt)
	assert.Equal(t, "2026-03-02 10:00:00", w.LastMessage.OutboundSentAt)

	v, _ := s.ConversationByPhone("+385981112222")
	require.NotNil(t, v.WindowClosesAt)
	assert.Equal(t, clockStart.Add(24*time.Hour), *v.WindowClosesAt)

	status, raw := simCall(t, s, http.MethodGet, "/_sim/conversations", "")
	require.Equal(t, http.StatusOK, status)
	var all []struct {
		WindowClosesAt *time.Time `json:"window_closes_at"`
	}
	require.NoError(t, json.Unmarshal(raw, &all))
	require.Len(t, all, 1)
	require.NotNil(t, all[0].WindowClosesAt)
	assert.True(t, clockStart.Add(24*time.Hour).Equal(*all[0].WindowClosesAt))
}

// TestWindow_optOut: with WithoutServiceWindow a free-form send goes
// through outside the window.
func TestWindow_optOut(t *testing.T) {
	s := sendbeetest.NewServer(t, sendbeetest.WithoutServiceWindow())
	c := newClient(t, s)
	mustOK(t, c.post("/conversations/messages/send", map[string]any{"phone": "+385990000001", "text": "Hi"}))
	mustOK(t, c.post("/conversations/messages/send", map[string]any{"phone": "+385921112233", "text": "Hi"}))
}

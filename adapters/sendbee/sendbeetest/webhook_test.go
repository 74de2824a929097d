package sendbeetest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

func TestWebhook_MessageReceivedSigned(t *testing.T) {
	rc := newReceiver(t, "hook-secret", nil)
	s := sendbeetest.NewServer(t, sendbeetest.WithWebhook(rc.srv.URL), sendbeetest.WithWebhookSecret("hook-secret"),
		sendbeetest.WithBusinessID("b1b1b1b1-0000-4000-8000-000000000000"))
	conv, msg := s.CustomerMessage("+385911234567", "Ana", "Hi, is the shop open today?")
	assert.Equal(t, anaConv, conv)

	ds := s.WaitDeliveries(t, 1)
	require.Len(t, ds, 1)
	assert.True(t, ds[0].OK())
	assert.Equal(t, sendbeetest.EventMessageReceived, ds[0].Type)
	assert.Equal(t, 1, ds[0].Attempt)

	got := rc.got()
	require.Len(t, got, 1)
	h := got[0]
	require.NoError(t, h.SigErr, "X-Authorization verifies with the webhook secret")
	assert.Equal(t, "application/json", h.Header.Get("Content-Type"))
	assert.Error(t, verifyToken(s.APISecret(), h.Header.Get("X-Authorization"), time.Now()), "not signed with the API secret")
	assert.Equal(t, ds[0].EventID, h.Envelope.ID)
	assert.Equal(t, "message.received", h.Envelope.Type)
	assert.Equal(t, "b1b1b1b1-0000-4000-8000-000000000000", h.Envelope.BusinessID)
	assert.InDelta(t, time.Now().Unix(), h.Envelope.CreatedAt, 5)

	var data map[string]any
	require.NoError(t, json.Unmarshal(h.Envelope.Data, &data))
	assert.Equal(t, conv, data["conversation_id"])
	assert.Equal(t, msg, data["message_id"])
	assert.Equal(t, "inbound", data["direction"])
	assert.Equal(t, "Hi, is the shop open today?", data["body"])
	assert.Nil(t, data["media_type"])
	assert.Nil(t, data["media_url"])
	assert.Equal(t, true, data["chatbot_active"])
	assert.IsType(t, float64(0), data["sent_at"])
	assert.Equal(t, map[string]any{"id": "5eedc0c7-0000-4000-8000-000000000001", "name": "Ana Horvat",
		"phone": "+385911234567", "whatsapp_user_id": "HR.1234567890"}, data["contact"])

	events := s.Events()
	require.Len(t, events, 1)
	assert.JSONEq(t, string(h.Body), string(events[0].Payload))
}

func TestWebhook_DefaultSecretIsAPISecret(t *testing.T) {
	s := sendbeetest.NewServer(t)
	rc := newReceiver(t, s.APISecret(), nil)
	require.NoError(t, s.SetWebhook(rc.srv.URL))
	assert.Equal(t, s.APISecret(), s.WebhookSecret())
	s.CustomerMedia("+385911234567", "", "", "https://cdn.example.com/photo.jpg", "look")
	s.WaitDeliveries(t, 1)
	h := rc.got()[0]
	require.NoError(t, h.SigErr)
	var data map[string]any
	require.NoError(t, json.Unmarshal(h.Envelope.Data, &data))
	assert.Equal(t, "image", data["media_type"])
	assert.Equal(t, "https://cdn.example.com/photo.jpg", data["media_url"])
	assert.Equal(t, "look", data["body"])
	assert.Error(t, s.SetWebhook("not a url"))
}

func TestWebhook_APISendEvents(t *testing.T) {
	rc := newReceiver(t, "s", nil)
	s := sendbeetest.NewServer(t, sendbeetest.WithWebhook(rc.srv.URL), sendbeetest.WithWebhookSecret("s"))
	c := newClient(t, s)
	var sent sentJSON
	mustOK(t, c.post("/conversations/messages/templates/send", map[string]any{
		"phone": "+385911234567", "template_keyword": "welcome", "language": "en", "tags": map[string]string{"1": "Ana"},
	})).decode(t, &sent)

	ds := s.WaitDeliveries(t, 4)
	var types []string
	for _, d := range ds {
		types = append(types, d.Type)
	}
	assert.Equal(t, []string{"message.sent", "chatbot.status", "message.status", "message.status"}, types, "FIFO per conversation")

	var payloads []map[string]any
	for _, h := range rc.got() {
		require.NoError(t, h.SigErr)
		var d map[string]any
		require.NoError(t, json.Unmarshal(h.Envelope.Data, &d))
		payloads = append(payloads, d)
	}
	assert.Equal(t, "api", payloads[0]["source"])
	assert.Nil(t, payloads[0]["agent"])
	assert.Equal(t, map[string]any{"keyword": "welcome", "language": "en"}, payloads[0]["template"])
	assert.Equal(t, "Welcome Ana! How can we help you?", payloads[0]["body"])
	assert.Equal(t, false, payloads[0]["chatbot_active"])
	assert.Equal(t, sent.MessageID, payloads[0]["message_id"])
	assert.Equal(t, map[string]any{"conversation_id": anaConv, "chatbot_active": false, "cause": "api_send"}, payloads[1])
	assert.Equal(t, map[string]any{"conversation_id": anaConv, "message_id": sent.MessageID,
		"message_reference_id": sent.MessageReferenceID, "status": "sent", "fail_reason": nil}, payloads[2])
	assert.Equal(t, "delivered", payloads[3]["status"])
}

func TestWebhook_AgentReplyAndFailedMessage(t *testing.T) {
	rc := newReceiver(t, "s", nil)
	s := sendbeetest.NewServer(t, sendbeetest.WithWebhook(rc.srv.URL), sendbeetest.WithWebhookSecret("s"))
	mid, err := s.AgentReply(anaConv, "Ivana Horvat", "Hello, Ivana here")
	require.NoError(t, err)
	s.WaitDeliveries(t, 2)
	got := rc.got()
	var sentData map[string]any
	require.NoError(t, json.Unmarshal(got[0].Envelope.Data, &sentData))
	assert.Equal(t, "message.sent", got[0].Envelope.Type)
	assert.Equal(t, mid, sentData["message_id"])
	assert.Equal(t, "agent", sentData["source"])
	assert.Equal(t, map[string]any{"id": ivanaID, "name": "Ivana Horvat"}, sentData["agent"])
	assert.Equal(t, "chatbot.status", got[1].Envelope.Type)

	_, err = s.AgentReply("6a1c2f0e-4b8d-4c1e-9a57-2f1d0c7b9e11", "", "x")
	assert.Error(t, err)

	s.FailNextMessage("Message undeliverable: outside the 24-hour window")
	c := newClient(t, s)
	var sent sentJSON
	mustOK(t, c.post("/conversations/messages/send", map[string]any{"phone": "+385911234567", "text": "late"})).decode(t, &sent)
	assert.Equal(t, "queued", sent.Status)
	ds := s.WaitDeliveries(t, 4)
	var st map[string]any
	require.NoError(t, json.Unmarshal(rc.got()[3].Envelope.Data, &st))
	assert.Equal(t, sendbeetest.EventMessageStatus, ds[3].Type)
	assert.Equal(t, "failed", st["status"])
	assert.Equal(t, "Message undeliverable: outside the 24-hour window", st["fail_reason"])
	conv, _ := s.Conversation(anaConv)
	assert.Equal(t, "failed", conv.Messages[len(conv.Messages)-1].Status)

	require.NoError(t, s.SetMessageStatus(sent.MessageID, "read", ""))
	s.WaitDeliveries(t, 5)
	assert.Error(t, s.SetMessageStatus(sent.MessageID, "seen", ""))
	assert.Error(t, s.SetMessageStatus("5eed0e55-0000-4000-8000-000000000002", "read", ""), "inbound message")
}

func TestWebhook_Redelivery(t *testing.T) {
	rc := newReceiver(t, "s", func(n int, _ hook, _ http.ResponseWriter) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	s := sendbeetest.NewServer(t, sendbeetest.WithWebhook(rc.srv.URL), sendbeetest.WithWebhookSecret("s"),
		sendbeetest.WithRedelivery(3, 10*time.Millisecond))
	s.CustomerMessage("+385911234567", "", "hi")
	ds := s.WaitDeliveries(t, 3)
	require.Len(t, ds, 3)
	for i, d := range ds {
		assert.Equal(t, i+1, d.Attempt)
		assert.Equal(t, ds[0].EventID, d.EventID, "same event id on redelivery")
	}
	assert.Equal(t, 500, ds[0].StatusCode)
	assert.False(t, ds[1].OK())
	assert.True(t, ds[2].OK())
	for _, h := range rc.got() {
		assert.NoError(t, h.SigErr, "every attempt is freshly signed")
		assert.Equal(t, ds[0].EventID, h.Envelope.ID)
	}
}

func TestWebhook_RedeliveryGivesUp(t *testing.T) {
	rc := newReceiver(t, "s", func(int, hook, http.ResponseWriter) int { return http.StatusBadGateway })
	s := sendbeetest.NewServer(t, sendbeetest.WithWebhook(rc.srv.URL), sendbeetest.WithWebhookSecret("s"),
		sendbeetest.WithRedelivery(2, time.Millisecond))
	s.CustomerMessage("+385911234567", "", "one")
	s.CustomerMessage("+385911234567", "", "two")
	ds := s.WaitDeliveries(t, 4)
	assert.Equal(t, []int{1, 2, 1, 2}, []int{ds[0].Attempt, ds[1].Attempt, ds[2].Attempt, ds[3].Attempt})
	assert.NotEqual(t, ds[0].EventID, ds[2].EventID, "the next event follows after giving up")
}

func TestWebhook_ConnectionError(t *testing.T) {
	// Port 1 is never an ephemeral port, so nothing else can take it over.
	s := sendbeetest.NewServer(t, sendbeetest.WithWebhook("http://127.0.0.1:1/hook"), sendbeetest.WithRedelivery(2, time.Millisecond))
	s.CustomerMessage("+385911234567", "", "hi")
	ds := s.WaitDeliveries(t, 2)
	assert.Equal(t, 0, ds[0].StatusCode)
	assert.NotEmpty(t, ds[0].Error)
	assert.False(t, ds[1].OK())
}

func TestWebhook_RetryAfter(t *testing.T) {
	rc := newReceiver(t, "s", func(n int, _ hook, w http.ResponseWriter) int {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	s := sendbeetest.NewServer(t, sendbeetest.WithWebhook(rc.srv.URL), sendbeetest.WithWebhookSecret("s"),
		sendbeetest.WithRedelivery(3, time.Millisecond))
	s.CustomerMessage("+385911234567", "", "hi")
	ds := s.WaitDeliveries(t, 2)
	assert.Equal(t, 503, ds[0].StatusCode)
	assert.True(t, ds[1].OK())
	assert.GreaterOrEqual(t, ds[1].Time.Sub(ds[0].Time), 900*time.Millisecond, "waited Retry-After")

	capped := newReceiver(t, "s", func(n int, _ hook, w http.ResponseWriter) int {
		if n == 1 {
			w.Header().Set("Retry-After", "3600")
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	s2 := sendbeetest.NewServer(t, sendbeetest.WithWebhook(capped.srv.URL), sendbeetest.WithRetryAfterCap(50*time.Millisecond))
	s2.CustomerMessage("+385911234567", "", "hi")
	ds = s2.WaitDeliveries(t, 2)
	assert.GreaterOrEqual(t, ds[1].Time.Sub(ds[0].Time), 50*time.Millisecond)
	assert.Less(t, ds[1].Time.Sub(ds[0].Time), 3*time.Second, "Retry-After capped")
}

func TestWebhook_Duplicates(t *testing.T) {
	rc := newReceiver(t, "s", nil)
	s := sendbeetest.NewServer(t, sendbeetest.WithWebhook(rc.srv.URL), sendbeetest.WithWebhookSecret("s"))
	s.DuplicateDeliveries(2)
	s.CustomerMessage("+385911234567", "", "hi")
	ds := s.WaitDeliveries(t, 3)
	require.Len(t, ds, 3)
	for i, d := range ds {
		assert.Equal(t, i, d.Copy)
		assert.Equal(t, ds[0].EventID, d.EventID)
		assert.True(t, d.OK())
	}
	got := rc.got()
	assert.Equal(t, got[0].Body, got[2].Body, "a duplicate is byte-identical")

	s.DuplicateDeliveries(0)
	s.CustomerMessage("+385911234567", "", "again")
	assert.Len(t, s.WaitDeliveries(t, 4), 4)
}

func TestWebhook_Reorder(t *testing.T) {
	rc := newReceiver(t, "s", nil)
	s := sendbeetest.NewServer(t, sendbeetest.WithWebhook(rc.srv.URL), sendbeetest.WithWebhookSecret("s"),
		sendbeetest.WithReorderHold(50*time.Millisecond))
	s.ReorderDeliveries(true)
	s.CustomerMessage("+385911234567", "", "first")
	s.CustomerMessage("+385911234567", "", "second")
	s.CustomerMessage("+385911234567", "", "third") // alone: released after the hold time
	ds := s.WaitDeliveries(t, 3)
	ev := s.Events()
	assert.Equal(t, []string{ev[1].ID, ev[0].ID, ev[2].ID}, []string{ds[0].EventID, ds[1].EventID, ds[2].EventID})

	s.CustomerMessage("+385911234567", "", "fourth") // held
	s.ReorderDeliveries(false)                       // released at once
	s.CustomerMessage("+385911234567", "", "fifth")
	ds = s.WaitDeliveries(t, 5)
	assert.Equal(t, s.Events()[3].ID, ds[3].EventID)
}

func TestWebhook_Delay(t *testing.T) {
	rc := newReceiver(t, "s", nil)
	s := sendbeetest.NewServer(t, sendbeetest.WithWebhook(rc.srv.URL), sendbeetest.WithWebhookSecret("s"))
	s.DelayDeliveries(100 * time.Millisecond)
	start := time.Now()
	s.CustomerMessage("+385911234567", "", "hi")
	ds := s.WaitDeliveries(t, 1)
	assert.GreaterOrEqual(t, ds[0].Time.Sub(start), 100*time.Millisecond)
}

func TestWebhook_FIFOPerConversation(t *testing.T) {
	rc := newReceiver(t, "s", func(n int, _ hook, _ http.ResponseWriter) int {
		if n == 1 {
			return http.StatusInternalServerError // the first event needs a retry
		}
		return http.StatusOK
	})
	s := sendbeetest.NewServer(t, sendbeetest.WithWebhook(rc.srv.URL), sendbeetest.WithWebhookSecret("s"),
		sendbeetest.WithRedelivery(3, 20*time.Millisecond))
	for i := range 5 {
		s.CustomerMessage("+385911234567", "", fmt.Sprintf("m%d", i))
	}
	s.WaitDeliveries(t, 6)
	var okIDs []string
	for _, h := range rc.got()[1:] {
		okIDs = append(okIDs, h.Envelope.ID)
	}
	var want []string
	for _, ev := range s.Events() {
		want = append(want, ev.ID)
	}
	assert.Equal(t, want, okIDs, "a retried event is not overtaken")
}

func TestWebhook_EventFilterAndNoURL(t *testing.T) {
	s := sendbeetest.NewServer(t)
	s.CustomerMessage("+385911234567", "", "hi")
	assert.Len(t, s.Events(), 1, "events are recorded without a webhook URL")
	assert.Empty(t, s.Deliveries())

	rc := newReceiver(t, "s", nil)
	s2 := sendbeetest.NewServer(t, sendbeetest.WithWebhook(rc.srv.URL), sendbeetest.WithWebhookEvents(sendbeetest.EventChatbotStatus))
	s2.CustomerMessage("+385911234567", "", "hi")
	require.NoError(t, s2.SetChatbot(anaConv, false))
	ds := s2.WaitDeliveries(t, 1)
	assert.Equal(t, sendbeetest.EventChatbotStatus, ds[0].Type)
	assert.Len(t, s2.Events(), 2)
}

func TestWebhook_Deliver(t *testing.T) {
	rc := newReceiver(t, "s", nil)
	s := sendbeetest.NewServer(t, sendbeetest.WithWebhookSecret("s"))
	status := s.Deliver(t, rc.srv.URL, []byte(`{"id":"x","type":"contact.created","data":{}}`))
	assert.Equal(t, http.StatusOK, status)
	got := rc.got()
	require.Len(t, got, 1)
	assert.NoError(t, got[0].SigErr)
	assert.Equal(t, "contact.created", got[0].Envelope.Type)
	assert.Empty(t, s.Deliveries())
}

// Only message.received reaches the receiver: an agent's reply and the
// dashboard's switch are recorded as events and delivered to nobody, and
// chatbot_active in the next message.received tells the state.
func TestWebhook_DocumentedEventsOnly(t *testing.T) {
	rc := newReceiver(t, "s", nil)
	s := sendbeetest.NewServer(t, sendbeetest.WithWebhook(rc.srv.URL), sendbeetest.WithWebhookSecret("s"),
		sendbeetest.WithDocumentedEventsOnly())
	conv, _ := s.CustomerMessage("+385911234567", "", "hi")
	_, err := s.AgentReply(conv, "", "Marko here")
	require.NoError(t, err)
	s.CustomerMessage("+385911234567", "", "thanks")
	require.NoError(t, s.SetChatbot(conv, true))
	s.CustomerMessage("+385911234567", "", "bot?")
	ds := s.WaitDeliveries(t, 3)
	var active []bool
	for _, d := range ds {
		assert.Equal(t, sendbeetest.EventMessageReceived, d.Type)
		var ev struct {
			Data struct {
				ChatbotActive bool `json:"chatbot_active"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(d.Payload, &ev))
		active = append(active, ev.Data.ChatbotActive)
	}
	assert.Equal(t, []bool{true, false, true}, active)
	assert.Len(t, s.Events(), 6, "message.sent and two chatbot.status events are recorded, not delivered")
	assert.Len(t, rc.got(), 3)
}

package velaflowstest_test

import (
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
)

const secret = "whsec_4f7d0b1c9e2a"

var (
	hex24RE = regexp.MustCompile(`^[0-9a-f]{24}$`)
	tsRE    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// subscribe creates a subscription through the API, as a bot would.
func subscribe(t *testing.T, c *client, url, secret string, events ...string) string {
	t.Helper()
	body := map[string]any{"url": url, "events": events}
	if secret != "" {
		body["secret"] = secret
	}
	return mustOK(t, c.post("/webhooks/subscriptions", body)).obj("subscription")["_id"].(string)
}

func TestWebhook_DeliveryFormat(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	rc := newReceiver(t, nil)
	subscribe(t, c, rc.URL+"/hooks", secret, "conversation.created", "conversation.message.received")

	convID, msgID := s.CustomerMessage("whatsapp", "Nina Simone", "+15550199", "Hi, where is my parcel?")
	got := rc.wait(t, 2)
	require.Len(t, got, 2)

	for i, r := range got {
		assert.True(t, verifySignature(secret, r.Body, r.Header.Get("X-Webhook-Signature")), "signature of delivery %d", i)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		assert.Equal(t, "VelaFlows-Webhook/1.0", r.Header.Get("User-Agent"))
		assert.Equal(t, r.eventType(), r.Header.Get("X-Webhook-Event"))
		assert.NotEmpty(t, r.Header.Get("X-Webhook-Delivery-Id"))
		assert.Regexp(t, hex24RE, r.eventID())
		assert.Regexp(t, tsRE, r.Event["timestamp"])
		assert.Equal(t, testWorkspace, r.Event["workspaceId"])
		assert.Len(t, r.Event, 5, "eventId, eventType, timestamp, workspaceId, data")
	}
	assert.NotEqual(t, got[0].Header.Get("X-Webhook-Delivery-Id"), got[1].Header.Get("X-Webhook-Delivery-Id"))

	// conversation.created, then the message, in order (same conversation).
	assert.Equal(t, "conversation.created", got[0].eventType())
	conv := got[0].data()["conversation"].(map[string]any)
	assert.Equal(t, convID, conv["_id"])
	assert.Equal(t, "whatsapp", conv["channel"])
	assert.Equal(t, "whatsapp", conv["channelType"])
	assert.Equal(t, "open", conv["status"])
	assert.Equal(t, "normal", conv["priority"])
	assert.Equal(t, "Nina Simone", conv["contactName"])
	assert.Equal(t, "+15550199", conv["contactPhone"])
	assert.Nil(t, conv["assignedAgentId"])
	assert.Regexp(t, tsRE, conv["createdAt"])

	assert.Equal(t, "conversation.message.received", got[1].eventType())
	d := got[1].data()
	assert.Equal(t, convID, d["conversationId"])
	m := d["message"].(map[string]any)
	assert.Equal(t, msgID, m["_id"])
	assert.Equal(t, "text", m["type"])
	assert.Equal(t, "Hi, where is my parcel?", m["text"])
	assert.Equal(t, "whatsapp", m["channel"])
	assert.Equal(t, map[string]any{"type": "contact", "name": "Nina Simone", "phone": "+15550199"}, m["sender"])
	assert.Regexp(t, tsRE, m["createdAt"])

	// The delivery log matches what the receiver saw.
	ds := s.WaitDeliveries(t, 2)
	assert.Equal(t, got[1].Body, ds[1].Payload)
	assert.Equal(t, got[1].Header.Get("X-Webhook-Delivery-Id"), ds[1].DeliveryID)
	assert.Equal(t, got[1].Header.Get("X-Webhook-Signature"), ds[1].Signature)
	assert.Equal(t, convID, ds[1].ConversationID)
	assert.True(t, ds[1].OK())

	// A second message in the same conversation: no new conversation.created.
	cid2, _ := s.CustomerMessage("whatsapp", "", "+15550199", "Hello?")
	assert.Equal(t, convID, cid2)
	got = rc.wait(t, 3)
	assert.Equal(t, "conversation.message.received", got[2].eventType())
}

func TestWebhook_SpellingsAndSecrets(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	seed, docs, both, unsigned := newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil)
	subscribe(t, c, seed.URL, secret, "conversation.message.received")
	mustOK(t, c.post("/integrations/webhooks", map[string]any{"url": docs.URL, "events": []string{"inbox.message.received"}, "secret": secret}))
	subscribe(t, c, both.URL, secret, "inbox.message.received", "conversation.message.received")
	subscribe(t, c, unsigned.URL, "", "conversation.message.received")

	s.CustomerMessage("telegram", "Hedy Lamarr", "+436641234567", "Is the spring sale still on?")
	assert.Equal(t, "conversation.message.received", seed.wait(t, 1)[0].eventType())
	d := docs.wait(t, 1)[0]
	assert.Equal(t, "inbox.message.received", d.eventType())
	assert.Equal(t, "inbox.message.received", d.Header.Get("X-Webhook-Event"))
	b := both.wait(t, 1)
	assert.Equal(t, "inbox.message.received", b[0].eventType(), "the first spelling the subscription listed")
	u := unsigned.wait(t, 1)[0]
	assert.Empty(t, u.Header.Values("X-Webhook-Signature"), "no secret, no signature")

	s.WaitDeliveries(t, 4)
	assert.Len(t, both.all(), 1, "one delivery per event even when both spellings are subscribed")
	assert.Equal(t, seed.wait(t, 1)[0].eventID(), d.eventID(), "the same event")
}

func TestWebhook_ForcedNaming(t *testing.T) {
	for _, tt := range []struct {
		naming velaflowstest.EventNaming
		sub    string
		want   string
	}{
		{velaflowstest.NamingDocs, "conversation.message.received", "inbox.message.received"},
		{velaflowstest.NamingSeed, "inbox.message.received", "conversation.message.received"},
		{velaflowstest.NamingAsSubscribed, "inbox.message.received", "inbox.message.received"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			rc := newReceiver(t, nil)
			s := newServer(t, velaflowstest.WithEventNaming(tt.naming), velaflowstest.WithSubscription(rc.URL, secret, tt.sub))
			s.CustomerMessage("sms", "Ann", "+15550123456", "hi")
			assert.Equal(t, tt.want, rc.wait(t, 1)[0].eventType())
		})
	}
	assert.Equal(t, "crm.lead.stage_changed", velaflowstest.DocsEventName("lead.stage_changed"))
	assert.Equal(t, "crm.lead.stage_changed", velaflowstest.DocsEventName("crm.lead.stage_changed"))
	assert.Equal(t, "conversation.created", velaflowstest.SeedEventName("inbox.conversation.created"))
	assert.Equal(t, "x.y", velaflowstest.SeedEventName("x.y"))
}

func TestWebhook_RetriesKeepEventIDAndFollowTheSchedule(t *testing.T) {
	rc := newReceiver(t, func(n int, _ received) int {
		if n <= 3 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	s := newServer(t,
		velaflowstest.WithRetrySchedule(20*time.Millisecond, 40*time.Millisecond, 80*time.Millisecond, 160*time.Millisecond),
		velaflowstest.WithRedeliveryWindow(0),
		velaflowstest.WithSubscription(rc.URL, secret, "conversation.message.received"))
	s.CustomerMessage("email", "Ann", "ann@example.com", "Invoice?")

	got := rc.wait(t, 4)
	ids := map[string]bool{}
	for _, r := range got {
		assert.Equal(t, got[0].eventID(), r.eventID(), "eventId is stable across retries")
		assert.Equal(t, got[0].Body, r.Body, "the body is identical")
		assert.True(t, verifySignature(secret, r.Body, r.Header.Get("X-Webhook-Signature")))
		ids[r.Header.Get("X-Webhook-Delivery-Id")] = true
	}
	assert.Len(t, ids, 4, "a fresh delivery id per attempt")

	ds := s.WaitDeliveries(t, 4)
	for i, want := range []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond} {
		assert.Equal(t, i+1, ds[i].Attempt)
		assert.Equal(t, http.StatusInternalServerError, ds[i].StatusCode)
		assert.GreaterOrEqual(t, ds[i+1].Time.Sub(ds[i].Time), want, "wait before attempt %d", i+2)
	}
	assert.Equal(t, 4, ds[3].Attempt)
	assert.True(t, ds[3].OK())
}

func TestWebhook_GivesUpAfterFiveAttemptsAndDeactivates(t *testing.T) {
	var calls atomic.Int32
	rc := newReceiver(t, func(int, received) int { calls.Add(1); return http.StatusBadGateway })
	opts := append(fastRetries(), velaflowstest.WithAutoDeactivate(2), velaflowstest.WithSubscription(rc.URL, secret, "conversation.message.received"))
	s := newServer(t, opts...)
	s.CustomerMessage("webchat", "V", "visitor-1", "one")
	ds := s.WaitDeliveries(t, 5)
	for i, d := range ds {
		assert.Equal(t, i+1, d.Attempt)
	}
	require.Eventually(t, func() bool { return len(s.Deliveries()) == 5 }, 2*time.Second, time.Millisecond)
	assert.True(t, s.Subscriptions()[0].Active, "one failed event is not enough")

	s.CustomerMessage("webchat", "V", "visitor-1", "two")
	require.Eventually(t, func() bool { return !s.Subscriptions()[0].Active }, 2*time.Second, time.Millisecond)
	assert.Equal(t, "too many consecutive failed events", s.Subscriptions()[0].DeactivatedReason)
	assert.Len(t, s.Deliveries(), 10, "5 attempts per event (1 + 4 retries), then permanently failed")

	s.CustomerMessage("webchat", "V", "visitor-1", "three")
	s.WaitEvents(t, 5) // customer.created + conversation.created + 3 messages
	assert.Len(t, s.Deliveries(), 10, "an inactive subscription gets nothing")
	require.NoError(t, s.SetSubscriptionActive(s.Subscriptions()[0].ID, true))
	assert.True(t, s.Subscriptions()[0].Active)
}

func TestWebhook_SlowPhaseDoesNotHoldTheConversation(t *testing.T) {
	var mu sync.Mutex
	failures := map[string]int{}
	rc := newReceiver(t, func(_ int, r received) int {
		m, _ := r.data()["message"].(map[string]any)
		if m["text"] != "first" {
			return http.StatusOK
		}
		mu.Lock()
		defer mu.Unlock()
		failures[r.eventID()]++
		if failures[r.eventID()] <= 4 { // fails all 3 fast attempts and one slow one
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	// Fast attempts after 1ms and 50ms; the slow phase then waits 83ms
	// (window/24), long enough for "second" to go out first.
	s := newServer(t,
		velaflowstest.WithRetrySchedule(time.Millisecond, 50*time.Millisecond),
		velaflowstest.WithRedeliveryWindow(2*time.Second),
		velaflowstest.WithSubscription(rc.URL, secret, "conversation.message.received"))
	s.CustomerMessage("whatsapp", "Ann", "+15550123456", "first")
	s.CustomerMessage("whatsapp", "Ann", "+15550123456", "second")

	got := rc.wait(t, 6)
	var order []string
	for _, r := range got {
		order = append(order, r.data()["message"].(map[string]any)["text"].(string))
	}
	assert.Equal(t, []string{"first", "first", "first", "second", "first", "first"}, order,
		"after the fast attempts the failing event moves aside and the next one is delivered")
	ds := s.WaitDeliveries(t, 6)
	assert.True(t, ds[5].OK())
	assert.Equal(t, 5, ds[5].Attempt)
}

func TestWebhook_410DisablesTheSubscription(t *testing.T) {
	rc := newReceiver(t, func(int, received) int { return http.StatusGone })
	s := newServer(t, fastRetries()...)
	c := newClient(t, s)
	id := subscribe(t, c, rc.URL, secret, "conversation.message.received")
	s.CustomerMessage("sms", "A", "+15550123456", "one")
	require.Eventually(t, func() bool { return !s.Subscriptions()[0].Active }, 2*time.Second, time.Millisecond)
	assert.Len(t, s.Deliveries(), 1, "410: no retries")
	assert.Equal(t, false, mustOK(t, c.get("/webhooks/subscriptions/"+id)).obj("subscription")["active"])
	assert.Equal(t, "receiver answered 410 Gone", s.Subscriptions()[0].DeactivatedReason)

	s.CustomerMessage("sms", "A", "+15550123456", "two")
	s.WaitEvents(t, 4)
	assert.Len(t, s.Deliveries(), 1)

	// Reactivation through PATCH (not documented; assumed).
	rc.setAnswer(nil)
	mustOK(t, c.patch("/webhooks/subscriptions/"+id, map[string]any{"active": true}))
	s.CustomerMessage("sms", "A", "+15550123456", "three")
	s.WaitDeliveries(t, 2)
	assert.True(t, s.Deliveries()[1].OK())
}

func TestWebhook_RedirectIsAFailure(t *testing.T) {
	var followed atomic.Bool
	target := newReceiver(t, func(int, received) int { followed.Store(true); return http.StatusOK })
	rc := newReceiver(t, nil)
	rc.Config.Handler = http.RedirectHandler(target.URL, http.StatusFound)
	s := newServer(t, append(fastRetries(), velaflowstest.WithSubscription(rc.URL, "", "conversation.message.received"))...)
	s.CustomerMessage("sms", "A", "+15550123456", "one")
	ds := s.WaitDeliveries(t, 5)
	for _, d := range ds {
		assert.Equal(t, http.StatusFound, d.StatusCode)
		assert.False(t, d.OK())
	}
	assert.False(t, followed.Load())
}

func TestWebhook_ConnectionErrorIsRetried(t *testing.T) {
	dead := newReceiver(t, nil)
	url := dead.URL
	dead.Close()
	s := newServer(t, append(fastRetries(), velaflowstest.WithSubscription(url, secret, "conversation.message.received"))...)
	s.CustomerMessage("sms", "A", "+15550123456", "one")
	ds := s.WaitDeliveries(t, 5)
	assert.Equal(t, 0, ds[4].StatusCode)
	assert.NotEmpty(t, ds[4].Error)
}

func TestWebhook_Duplicates(t *testing.T) {
	rc := newReceiver(t, nil)
	s := newServer(t, velaflowstest.WithSubscription(rc.URL, secret, "conversation.message.received"))
	s.DuplicateDeliveries(2)
	s.CustomerMessage("sms", "A", "+15550123456", "one")
	got := rc.wait(t, 3)
	assert.Equal(t, got[0].eventID(), got[1].eventID())
	assert.Equal(t, got[0].eventID(), got[2].eventID())
	assert.NotEqual(t, got[0].Header.Get("X-Webhook-Delivery-Id"), got[1].Header.Get("X-Webhook-Delivery-Id"))
	ds := s.WaitDeliveries(t, 3)
	assert.Equal(t, []int{0, 1, 2}, []int{ds[0].Copy, ds[1].Copy, ds[2].Copy})

	s.DuplicateDeliveries(0)
	s.CustomerMessage("sms", "A", "+15550123456", "two")
	rc.wait(t, 4)
	s.WaitDeliveries(t, 4)
	assert.Len(t, rc.all(), 4)
}

func TestWebhook_Reorder(t *testing.T) {
	rc := newReceiver(t, nil)
	s := newServer(t, velaflowstest.WithReorderHold(20*time.Millisecond),
		velaflowstest.WithSubscription(rc.URL, secret, "conversation.assigned", "conversation.unassigned", "conversation.closed"))
	s.ReorderDeliveries(true)
	require.NoError(t, s.Assign(convID, "Tom Becker"))
	require.NoError(t, s.Unassign(convID))
	got := rc.wait(t, 2)
	assert.Equal(t, []string{"conversation.unassigned", "conversation.assigned"}, []string{got[0].eventType(), got[1].eventType()})

	// A lone event is released after the hold time.
	require.NoError(t, s.Assign(convID, "Maya Patel"))
	assert.Equal(t, "conversation.assigned", rc.wait(t, 3)[2].eventType())

	// Off: FIFO again.
	s.ReorderDeliveries(false)
	require.NoError(t, s.Unassign(convID))
	require.NoError(t, s.CloseConversation(convID))
	got = rc.wait(t, 5)
	assert.Equal(t, []string{"conversation.unassigned", "conversation.closed"}, []string{got[3].eventType(), got[4].eventType()})
}

func TestWebhook_ReorderOffReleasesAHeldEvent(t *testing.T) {
	rc := newReceiver(t, nil)
	s := newServer(t, velaflowstest.WithReorderHold(time.Hour), velaflowstest.WithSubscription(rc.URL, secret, "conversation.assigned"))
	s.ReorderDeliveries(true)
	require.NoError(t, s.Assign(convID, ""))
	s.ReorderDeliveries(false)
	assert.Equal(t, "conversation.assigned", rc.wait(t, 1)[0].eventType())
}

func TestWebhook_Delay(t *testing.T) {
	rc := newReceiver(t, nil)
	s := newServer(t, velaflowstest.WithSubscription(rc.URL, secret, "conversation.message.received"))
	s.DelayDeliveries(60 * time.Millisecond)
	start := time.Now()
	s.CustomerMessage("sms", "A", "+15550123456", "one")
	rc.wait(t, 1)
	assert.GreaterOrEqual(t, time.Since(start), 60*time.Millisecond)
}

func TestWebhook_FIFOPerConversationParallelAcross(t *testing.T) {
	release := make(chan struct{})
	var releaseOnce sync.Once
	rc := newReceiver(t, func(_ int, r received) int {
		m, _ := r.data()["message"].(map[string]any)
		if m["text"] == "A1" {
			<-release
		}
		return http.StatusOK
	})
	s := newServer(t, velaflowstest.WithSubscription(rc.URL, secret, "conversation.message.received"))
	// Registered last, so it runs first: never leave the receiver blocked.
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	s.CustomerMessage("sms", "A", "+15550000001", "A1")
	s.CustomerMessage("sms", "A", "+15550000001", "A2")
	s.CustomerMessage("sms", "B", "+15550000002", "B1")
	text := func(r received) string { return r.data()["message"].(map[string]any)["text"].(string) }
	got := rc.wait(t, 2) // A1 (unanswered) and B1, in either order
	assert.ElementsMatch(t, []string{"A1", "B1"}, []string{text(got[0]), text(got[1])}, "B is not held up by A's slow receiver")
	assert.Len(t, rc.all(), 2, "A2 waits for A1's answer")
	releaseOnce.Do(func() { close(release) })
	got = rc.wait(t, 3)
	assert.Equal(t, "A2", text(got[2]))
}

func TestWebhook_PrefixedIDs(t *testing.T) {
	rc := newReceiver(t, nil)
	s := newServer(t, velaflowstest.WithPrefixedIDs(), velaflowstest.WithSubscription(rc.URL, secret, "inbox.message.received"))
	cid, mid := s.CustomerMessage("whatsapp", "Ann", "+15550123456", "hi")
	r := rc.wait(t, 1)[0]
	assert.Equal(t, "evt_", r.eventID()[:4])
	assert.Equal(t, "ws_"+testWorkspace, r.Event["workspaceId"])
	assert.Equal(t, "conv_"+cid, r.data()["conversationId"])
	assert.Equal(t, "msg_"+mid, r.data()["message"].(map[string]any)["_id"])

	// The bot passes data.conversationId back unchanged.
	c := newClient(t, s)
	mustOK(t, c.post("/inbox/conversations/conv_"+cid+"/messages", map[string]any{"type": "text", "content": "hello"}))
	assert.Equal(t, cid, s.WaitSent(t, 1)[0].ConversationID)
	r2 := mustOK(t, c.get("/inbox/conversations/conv_"+cid))
	assert.Equal(t, cid, r2.obj("conversation")["_id"], "REST keeps bare ObjectIds")
}

func TestWebhook_OtherEvents(t *testing.T) {
	rc := newReceiver(t, nil)
	s := newServer(t)
	c := newClient(t, s)
	subscribe(t, c, rc.URL, secret, "lead.stage_changed", "crm.lead.created", "customer.updated",
		"inbox.conversation.assigned", "conversation.status_changed", "conversation.message.sent")

	mustOK(t, c.patch("/crm/leads/65f0c0ffee0000000000d002/stage", map[string]any{"stageId": "65a1b2c3d4e5f6a7b8c9d0e3"}))
	got := rc.wait(t, 1)
	d := got[0].data()
	assert.Equal(t, "lead.stage_changed", got[0].eventType())
	assert.Equal(t, "65a1b2c3d4e5f6a7b8c9d0e3", d["stageId"])
	assert.Equal(t, velaflowstest.SeedStageID, d["previousStageId"])
	assert.Equal(t, "65f0c0ffee0000000000d002", d["lead"].(map[string]any)["_id"])

	mustOK(t, c.post("/crm/leads", map[string]any{"firstName": "A", "pipelineId": velaflowstest.SeedPipelineID, "stageId": velaflowstest.SeedStageID}))
	assert.Equal(t, "crm.lead.created", rc.wait(t, 2)[1].eventType())

	mustOK(t, c.patch("/customers/"+velaflowstest.SeedCustomerID, map[string]any{"lastName": "Byron"}))
	got = rc.wait(t, 3)
	assert.Equal(t, "customer.updated", got[2].eventType())
	assert.Equal(t, "Byron", got[2].data()["customer"].(map[string]any)["lastName"])

	mustOK(t, c.patch("/inbox/conversations/"+convID, map[string]any{"assignedAgentId": maya}))
	got = rc.wait(t, 4)
	assert.Equal(t, "inbox.conversation.assigned", got[3].eventType())
	d = got[3].data()
	assert.Equal(t, maya, d["assignedAgentId"])
	assert.Equal(t, maya, d["conversation"].(map[string]any)["assignedAgentId"])
	assert.Equal(t, map[string]any{"_id": maya, "name": "Maya Patel"}, d["agent"])

	mustOK(t, c.post("/inbox/conversations/"+convID+"/close", nil))
	got = rc.wait(t, 5)
	assert.Equal(t, "conversation.status_changed", got[4].eventType())
	assert.Equal(t, "open", got[4].data()["previousStatus"])

	mustOK(t, c.post("/inbox/conversations/"+emailCv+"/messages", map[string]any{"type": "text", "content": "On it."}))
	got = rc.wait(t, 6)
	assert.Equal(t, "conversation.message.sent", got[5].eventType())
	assert.Equal(t, "agent", got[5].data()["message"].(map[string]any)["sender"].(map[string]any)["type"])
}

func TestDeliverAndSign(t *testing.T) {
	rc := newReceiver(t, func(int, received) int { return http.StatusAccepted })
	s := newServer(t)
	body := []byte(`{"eventId":"x","eventType":"unknown.thing","timestamp":"2026-03-24T09:00:00.000Z","workspaceId":"w","data":{}}`)
	assert.Equal(t, http.StatusAccepted, s.Deliver(t, rc.URL, secret, "unknown.thing", body))
	r := rc.wait(t, 1)[0]
	assert.Equal(t, body, r.Body)
	assert.Equal(t, "unknown.thing", r.Header.Get("X-Webhook-Event"))
	assert.True(t, verifySignature(secret, body, r.Header.Get("X-Webhook-Signature")))
	assert.Equal(t, velaflowstest.Sign(secret, body), r.Header.Get("X-Webhook-Signature"))
	assert.Empty(t, s.Deliveries(), "Deliver is not recorded")
}

func TestWebhook_DeletedSubscriptionStopsRetrying(t *testing.T) {
	rc := newReceiver(t, func(int, received) int { return http.StatusInternalServerError })
	s := newServer(t, velaflowstest.WithRetrySchedule(time.Hour), velaflowstest.WithRedeliveryWindow(0))
	c := newClient(t, s)
	id := subscribe(t, c, rc.URL, secret, "conversation.message.received")
	s.CustomerMessage("sms", "A", "+15550123456", "one")
	s.WaitDeliveries(t, 1)
	mustOK(t, c.del("/webhooks/subscriptions/"+id))
	assert.Empty(t, s.Subscriptions())
	// Close (at cleanup) must not wait an hour for the retry: goleak and the
	// test timeout would catch it.
}

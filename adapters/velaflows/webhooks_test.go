package velaflows_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows"
)

func TestCanonicalEvent(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		// Each pair is the same event: the docs' spelling and that of
		// VelaFlows' Python examples.
		{velaflows.EventInboxConversationCreated, velaflows.EventConversationCreated},
		{velaflows.EventInboxMessageReceived, velaflows.EventConversationMessageReceived},
		{velaflows.EventCRMLeadStageChanged, velaflows.EventLeadStageChanged},
		// The same rewrite for the other events of those entities.
		{velaflows.EventInboxConversationAssigned, velaflows.EventConversationAssigned},
		{velaflows.EventInboxConversationClosed, velaflows.EventConversationClosed},
		{velaflows.EventCRMLeadCreated, velaflows.EventLeadCreated},
		{"inbox.message.sent", "conversation.message.sent"},
		// Canonical names and others pass through.
		{velaflows.EventConversationCreated, velaflows.EventConversationCreated},
		{velaflows.EventConversationMessageReceived, velaflows.EventConversationMessageReceived},
		{velaflows.EventLeadStageChanged, velaflows.EventLeadStageChanged},
		{velaflows.EventCustomerCreated, velaflows.EventCustomerCreated},
		{velaflows.EventChannelsMessageStatusChanged, velaflows.EventChannelsMessageStatusChanged},
		{"crm.task.completed", "crm.task.completed"},
		{"inbox.conversation.", "inbox.conversation."},
		{"", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, velaflows.CanonicalEvent(tt.in), tt.in)
	}
	assert.True(t, velaflows.SameEvent("inbox.message.received", "conversation.message.received"))
	assert.True(t, velaflows.SameEvent("lead.stage_changed", "crm.lead.stage_changed"))
	assert.False(t, velaflows.SameEvent("inbox.conversation.created", "conversation.message.received"))
}

func TestDocsEvent(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{velaflows.EventConversationCreated, velaflows.EventInboxConversationCreated},
		{velaflows.EventConversationMessageReceived, velaflows.EventInboxMessageReceived},
		{velaflows.EventLeadStageChanged, velaflows.EventCRMLeadStageChanged},
		{velaflows.EventConversationAssigned, velaflows.EventInboxConversationAssigned},
		{velaflows.EventInboxMessageReceived, velaflows.EventInboxMessageReceived},
		{velaflows.EventCustomerMerged, velaflows.EventCustomerMerged},
		{"workflow.execution.failed", "workflow.execution.failed"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, velaflows.DocsEvent(tt.in), tt.in)
		assert.Equal(t, velaflows.CanonicalEvent(tt.in), velaflows.CanonicalEvent(velaflows.DocsEvent(tt.in)), tt.in)
	}
}

func TestNewWebhookSecret(t *testing.T) {
	t.Parallel()
	a, err := velaflows.NewWebhookSecret()
	require.NoError(t, err)
	b, err := velaflows.NewWebhookSecret()
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
	raw, ok := strings.CutPrefix(a, "whsec_")
	require.True(t, ok, a)
	key, err := base64.RawURLEncoding.DecodeString(raw)
	require.NoError(t, err)
	assert.Len(t, key, 32)
}

const subscriptionJSON = `{"_id":"65f0c0ffee0000000000f001","url":"https://your-app.com/webhooks/velaflows","events":["conversation.created","conversation.message.received","lead.stage_changed"],"active":true,"createdAt":"2026-03-24T08:59:00.000Z"}`

// TestClient_CreateWebhookSubscription is the subscription example of
// VelaFlows' Python examples.
func TestClient_CreateWebhookSubscription(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("POST", "/webhooks/subscriptions", 201, ok(`{"subscription":`+subscriptionJSON+`}`))
	c := f.newClient(t)

	events := []string{"conversation.created", "conversation.message.received", "lead.stage_changed"}
	sub, resp, err := c.CreateWebhookSubscription(t.Context(), "https://your-app.com/webhooks/velaflows", events, "your-webhook-secret-for-verification")
	require.NoError(t, err)
	assert.Equal(t, 201, resp.StatusCode)
	assert.JSONEq(t, `{"url":"https://your-app.com/webhooks/velaflows","events":["conversation.created","conversation.message.received","lead.stage_changed"],"secret":"your-webhook-secret-for-verification"}`, string(f.last(t).Body))
	assert.Equal(t, velaflows.WebhookSubscription{
		ID: "65f0c0ffee0000000000f001", URL: "https://your-app.com/webhooks/velaflows", Events: events,
		Active: true, CreatedAt: ts("2026-03-24T08:59:00Z"),
	}, *sub)
	assert.Equal(t, velaflows.SubscriptionsPathSeed, c.SubscriptionsPath())

	// Without a secret the field is left out.
	_, _, err = c.CreateWebhookSubscription(t.Context(), "http://127.0.0.1:8080/hook", []string{"conversation.created"}, "")
	require.NoError(t, err)
	assert.JSONEq(t, `{"url":"http://127.0.0.1:8080/hook","events":["conversation.created"]}`, string(f.last(t).Body))
}

// TestClient_webhookSubscriptions_fallback: where the route of
// VelaFlows' Python examples is missing, the docs' /integrations/webhooks
// is used, with the docs' event names, and remembered.
func TestClient_webhookSubscriptions_fallback(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.allowUnknown = true
	f.handle("POST", "/integrations/webhooks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 201, ok(`{"subscription":{"_id":"s1","events":["inbox.message.received","inbox.conversation.created"],"active":true}}`))
	})
	f.reply("GET", "/integrations/webhooks", 200, pageJSON(`[{"_id":"s1"}]`, 1, 20, 1))
	f.reply("DELETE", "/integrations/webhooks/s1", 200, ok(`{}`))
	c := f.newClient(t)

	sub, _, err := c.CreateWebhookSubscription(t.Context(), "https://bot.example.net/hooks/velaflows",
		[]string{velaflows.EventConversationMessageReceived, velaflows.EventInboxConversationCreated}, "whsec_4f7d0b1c9e2a")
	require.NoError(t, err)
	assert.Equal(t, "s1", sub.ID)
	reqs := f.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "POST /webhooks/subscriptions", reqs[0].Method+" "+reqs[0].Path)
	assert.Equal(t, "POST /integrations/webhooks", reqs[1].Method+" "+reqs[1].Path)
	assert.JSONEq(t, `{"url":"https://bot.example.net/hooks/velaflows","events":["inbox.message.received","inbox.conversation.created"],"secret":"whsec_4f7d0b1c9e2a"}`, string(reqs[1].Body))
	assert.Equal(t, velaflows.SubscriptionsPathIntegrations, c.SubscriptionsPath())

	// Later calls go straight to the remembered path.
	page, _, err := c.ListWebhookSubscriptions(t.Context(), velaflows.ListOptions{})
	require.NoError(t, err)
	assert.Len(t, page.Items, 1)
	_, err = c.DeleteWebhookSubscription(t.Context(), "s1")
	require.NoError(t, err)
	reqs = f.requests()
	require.Len(t, reqs, 4)
	assert.Equal(t, "GET /integrations/webhooks", reqs[2].Method+" "+reqs[2].Path)
	assert.Equal(t, "DELETE /integrations/webhooks/s1", reqs[3].Method+" "+reqs[3].Path)
}

func TestClient_webhookSubscriptions_noRoute(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.allowUnknown = true
	c := f.newClient(t)
	_, _, err := c.CreateWebhookSubscription(t.Context(), "https://bot.example/h", []string{"conversation.created"}, "s")
	require.True(t, velaflows.IsCode(err, velaflows.CodeNotFound))
	var apiErr *velaflows.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, velaflows.SubscriptionsPathSeed, apiErr.Path, "the guide's answer is reported")
	assert.Len(t, f.requests(), 2)
	assert.Empty(t, c.SubscriptionsPath())
}

// TestClient_webhookSubscriptions_resourceMissing: a 404 naming a resource
// is an answer of the route, not a missing route: no fallback.
func TestClient_webhookSubscriptions_resourceMissing(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("DELETE", "/webhooks/subscriptions/gone", 404, `{"success":false,"error":{"code":"NOT_FOUND","message":"Subscription not found","details":{"resourceId":"gone"}}}`)
	c := f.newClient(t)
	_, err := c.DeleteWebhookSubscription(t.Context(), "gone")
	require.True(t, velaflows.IsCode(err, velaflows.CodeNotFound))
	assert.Len(t, f.requests(), 1)
}

// TestClient_webhookSubscriptions_noFallbackOnOtherErrors: only a missing
// route falls back; an auth error, a validation error or a 5xx does not.
func TestClient_webhookSubscriptions_noFallbackOnOtherErrors(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 401, 403, 500} {
		f := newFakeAPI(t)
		f.reply("POST", "/webhooks/subscriptions", status, `{"success":false,"error":{"code":"X","message":"no"}}`)
		c := f.newClient(t)
		_, _, err := c.CreateWebhookSubscription(t.Context(), "https://bot.example/h", []string{"conversation.created"}, "s")
		require.Error(t, err)
		assert.Len(t, f.requests(), 1, "status %d", status)
	}
}

func TestClient_webhookSubscriptions_configuredPath(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("POST", "/integrations/webhooks", 201, ok(`{"subscription":{"_id":"s9"}}`))
	f.reply("GET", "/integrations/webhooks/s9", 200, ok(`{"subscription":{"_id":"s9","active":false}}`))
	f.reply("PATCH", "/integrations/webhooks/s9", 200, ok(`{"subscription":{"_id":"s9","active":true}}`))
	c := f.newClient(t, func(cfg *velaflows.Config) { cfg.SubscriptionsPath = velaflows.SubscriptionsPathIntegrations })
	assert.Equal(t, velaflows.SubscriptionsPathIntegrations, c.SubscriptionsPath())

	_, _, err := c.CreateWebhookSubscription(t.Context(), "https://bot.example/h", []string{velaflows.EventLeadStageChanged}, "s")
	require.NoError(t, err)
	assert.JSONEq(t, `{"url":"https://bot.example/h","events":["crm.lead.stage_changed"],"secret":"s"}`, string(f.last(t).Body))

	sub, _, err := c.WebhookSubscription(t.Context(), "s9")
	require.NoError(t, err)
	assert.False(t, sub.Active)

	sub, _, err = c.UpdateWebhookSubscription(t.Context(), "s9", velaflows.WebhookSubscriptionUpdate{Active: velaflows.Bool(true), Events: []string{velaflows.EventConversationClosed}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"active":true,"events":["inbox.conversation.closed"]}`, string(f.last(t).Body))
	assert.True(t, sub.Active)
	assert.Len(t, f.requests(), 3)
}

func TestClient_ListWebhookSubscriptions(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/webhooks/subscriptions", 200, ok(`{"subscriptions":[`+subscriptionJSON+`]}`))
	f.reply("GET", "/webhooks/subscriptions/65f0c0ffee0000000000f001", 200, ok(`{"subscription":`+subscriptionJSON+`}`))
	f.reply("PATCH", "/webhooks/subscriptions/65f0c0ffee0000000000f001", 200, ok(`{"subscription":`+subscriptionJSON+`}`))
	f.reply("DELETE", "/webhooks/subscriptions/65f0c0ffee0000000000f001", 200, ok(`{"deleted":true}`))
	c := f.newClient(t)

	page, _, err := c.ListWebhookSubscriptions(t.Context(), velaflows.ListOptions{Limit: 50})
	require.NoError(t, err)
	assert.Equal(t, "50", f.last(t).Query.Get("limit"))
	require.Len(t, page.Items, 1, "data.subscriptions is read too")
	assert.Equal(t, "https://your-app.com/webhooks/velaflows", page.Items[0].URL)

	sub, _, err := c.WebhookSubscription(t.Context(), "65f0c0ffee0000000000f001")
	require.NoError(t, err)
	assert.True(t, sub.Active)

	_, _, err = c.UpdateWebhookSubscription(t.Context(), "65f0c0ffee0000000000f001", velaflows.WebhookSubscriptionUpdate{URL: "https://new.example/h", Secret: "whsec_new"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"url":"https://new.example/h","secret":"whsec_new"}`, string(f.last(t).Body))

	_, err = c.DeleteWebhookSubscription(t.Context(), "65f0c0ffee0000000000f001")
	require.NoError(t, err)
	assert.Len(t, f.requests(), 4)
}

package velaflows_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// These tests run every operation of the client against the emulator,
// which was written from VelaFlows' documentation and Python examples,
// independently of this package.

const emulatorPrefix = "/api/v1"

// newEmulator starts an emulator and a client of it.
func newEmulator(t *testing.T, opts ...velaflowstest.Option) (*velaflowstest.Server, *velaflows.Client) {
	t.Helper()
	srv := velaflowstest.NewServer(t, opts...)
	require.True(t, strings.HasSuffix(srv.URL(), emulatorPrefix), "the emulator serves under %s: %s", emulatorPrefix, srv.URL())
	return srv, emulatorClient(t, srv, srv.Token())
}

// emulatorClient is a client of srv with the given token.
func emulatorClient(t *testing.T, srv *velaflowstest.Server, token string, mod ...func(*velaflows.Config)) *velaflows.Client {
	t.Helper()
	cfg := velaflows.Config{
		Token:       token,
		WorkspaceID: srv.WorkspaceID(),
		BaseURL:     srv.URL(),
		Logger:      bottest.Logger(t),
		Debug:       true,
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := velaflows.NewClient(cfg)
	require.NoError(t, err)
	return c
}

// routes lists "METHOD /path" of the emulator's recorded requests.
func routes(srv *velaflowstest.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func TestEmulator_conversations(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	ctx := t.Context()

	// "List Conversations" of VelaFlows' Python examples.
	page, resp, err := c.Conversations(ctx, velaflows.ConversationsOptions{ListOptions: velaflows.ListOptions{Page: 1, Limit: 20}, Status: velaflows.StatusOpen})
	require.NoError(t, err)
	assert.Equal(t, 4, page.Pagination.Total)
	assert.Equal(t, resp.Pagination, page.Pagination)
	assert.Positive(t, resp.Rate.Limit, "X-RateLimit-* headers")
	for _, conv := range page.Items {
		assert.Equal(t, "open", conv.Status)
		assert.NotEmpty(t, conv.ChannelType)
		assert.False(t, conv.LastMessageAt.IsZero())
	}

	page, _, err = c.Conversations(ctx, velaflows.ConversationsOptions{ChannelType: velaflows.ChannelWhatsApp})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, velaflowstest.SeedConversationID, page.Items[0].ID)

	conv, _, err := c.Conversation(ctx, velaflowstest.SeedConversationID)
	require.NoError(t, err)
	assert.Equal(t, "whatsapp", conv.ChannelName())
	assert.Equal(t, "Ada Lovelace", conv.ContactName)
	assert.Equal(t, srv.WorkspaceID(), conv.WorkspaceID)
	assert.Empty(t, conv.AssignedAgentID)
	assert.Equal(t, velaflows.TagNames{"vip"}, conv.Tags)

	_, _, err = c.Conversation(ctx, "65f0c0ffee000000000fffff")
	var apiErr *velaflows.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, velaflows.CodeNotFound, apiErr.Code)
	assert.Equal(t, "65f0c0ffee000000000fffff", apiErr.ResourceID())
}

func TestEmulator_messages(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	ctx := t.Context()

	// "Send a Message" of VelaFlows' Python examples.
	msg, resp, err := c.SendMessage(ctx, velaflowstest.SeedConversationID, velaflows.MessageRequest{Content: "Hello! How can I help you today?", Type: "text"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.NotEmpty(t, msg.ID)
	assert.Equal(t, "Hello! How can I help you today?", msg.Body())
	sent := srv.WaitSent(t, 1)
	assert.Equal(t, "Hello! How can I help you today?", sent[0].Content)
	assert.Equal(t, "content", sent[0].Field, "the seed's field name")
	assert.Equal(t, msg.ID, sent[0].MessageID)
	assert.Equal(t, c.TokenPrefix(), sent[0].TokenPrefix)

	page, _, err := c.ConversationMessages(ctx, velaflowstest.SeedConversationID, velaflows.MessagesOptions{})
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	assert.Equal(t, msg.ID, page.Items[0].ID, "newest first")
	assert.Equal(t, velaflows.SenderContact, page.Items[1].Sender.Type)
	assert.Equal(t, "Hi, where is my parcel?", page.Items[1].Body())

	for range 3 {
		_, _, err := c.SendMessage(ctx, velaflowstest.SeedConversationID, velaflows.MessageRequest{Content: "more"})
		require.NoError(t, err)
	}
	all, err := velaflows.Collect(c.AllConversationMessages(ctx, velaflowstest.SeedConversationID, velaflows.MessagesOptions{ListOptions: velaflows.ListOptions{Limit: 2, SortOrder: velaflows.SortAsc}}))
	require.NoError(t, err)
	require.Len(t, all, 5)
	assert.Equal(t, "Hi, where is my parcel?", all[0].Body())

	// A closed conversation refuses replies.
	require.NoError(t, srv.CloseConversation(velaflowstest.SeedConversationID))
	_, _, err = c.SendMessage(ctx, velaflowstest.SeedConversationID, velaflows.MessageRequest{Content: "late"})
	assert.True(t, velaflows.IsCode(err, velaflows.CodeConflict), "%v", err)
}

func TestEmulator_updateConversation(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	ctx := t.Context()
	const conv = velaflowstest.SeedConversationID

	require.NoError(t, srv.Assign(conv, "")) // the first demo agent takes over
	got, _, err := c.Conversation(ctx, conv)
	require.NoError(t, err)
	agent := got.AssignedAgentID
	require.NotEmpty(t, agent)

	got, _, err = c.UnassignConversation(ctx, conv)
	require.NoError(t, err)
	assert.Empty(t, got.AssignedAgentID)
	got, _, err = c.AssignConversation(ctx, conv, agent)
	require.NoError(t, err)
	assert.Equal(t, agent, got.AssignedAgentID)
	got, _, err = c.SetConversationStatus(ctx, conv, velaflows.StatusClosed)
	require.NoError(t, err)
	assert.Equal(t, "closed", got.Status)
	got, _, err = c.UpdateConversation(ctx, conv, velaflows.ConversationUpdate{Status: velaflows.StatusOpen, Priority: velaflows.PriorityHigh, Unassign: true})
	require.NoError(t, err)
	assert.Equal(t, "open", got.Status)
	assert.Equal(t, "high", got.Priority)
	assert.Empty(t, got.AssignedAgentID)

	var types []string
	for _, e := range srv.Events() {
		types = append(types, velaflows.CanonicalEvent(e.Type))
	}
	for _, want := range []string{velaflows.EventConversationAssigned, velaflows.EventConversationUnassigned, velaflows.EventConversationClosed, velaflows.EventConversationReopened} {
		assert.Contains(t, types, want)
	}

	_, _, err = c.UpdateConversation(ctx, conv, velaflows.ConversationUpdate{Status: "archived"})
	assert.True(t, velaflows.IsValidation(err))
	assert.True(t, velaflows.IsCode(err, velaflows.CodeValidation))
}

func TestEmulator_leads(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	ctx := t.Context()

	// "Create a CRM Lead" of VelaFlows' Python examples.
	lead, resp, err := c.CreateLead(ctx, velaflows.LeadRequest{
		FirstName: "Jane", LastName: "Smith", Email: "jane.smith@example.com", Phone: "+1234567890",
		PipelineID: velaflowstest.SeedPipelineID, StageID: velaflowstest.SeedStageID,
	})
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	require.NotEmpty(t, lead.ID)
	stored, ok := srv.Lead(lead.ID)
	require.True(t, ok)
	assert.Equal(t, "jane.smith@example.com", stored.Email)
	assert.Equal(t, velaflowstest.SeedStageID, lead.StageID)

	got, _, err := c.Lead(ctx, lead.ID)
	require.NoError(t, err)
	assert.Equal(t, "Smith", got.LastName)

	got, _, err = c.UpdateLead(ctx, lead.ID, velaflows.LeadUpdate{StageID: "65a1b2c3d4e5f6a7b8c9d0e3", Status: "qualified"})
	require.NoError(t, err)
	assert.Equal(t, "65a1b2c3d4e5f6a7b8c9d0e3", got.StageID)
	var sawStage bool
	for _, e := range srv.Events() {
		sawStage = sawStage || velaflows.SameEvent(e.Type, velaflows.EventCRMLeadStageChanged)
	}
	assert.True(t, sawStage, "lead.stage_changed emitted")

	page, _, err := c.Leads(ctx, velaflows.LeadsOptions{ListOptions: velaflows.ListOptions{Page: 1, Limit: 100, SortBy: "createdAt", SortOrder: velaflows.SortDesc}})
	require.NoError(t, err)
	assert.Equal(t, 7, page.Pagination.Total)
	assert.Equal(t, lead.ID, page.Items[0].ID, "newest first")

	_, err = c.DeleteLead(ctx, lead.ID)
	require.NoError(t, err)
	_, _, err = c.Lead(ctx, lead.ID)
	assert.True(t, velaflows.IsCode(err, velaflows.CodeNotFound))
	_, err = c.DeleteLead(ctx, lead.ID)
	assert.True(t, velaflows.IsCode(err, velaflows.CodeNotFound))
}

// TestEmulator_validationError is the error handling of VelaFlows' Python
// examples: the API's
// VALIDATION_ERROR with details, at either documented status.
func TestEmulator_validationError(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusUnprocessableEntity, http.StatusBadRequest} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			srv, c := newEmulator(t, velaflowstest.WithValidationStatus(status))
			_, resp, err := c.CreateLead(t.Context(), velaflows.LeadRequest{
				FirstName: "Jane", Email: "invalid-email",
				PipelineID: velaflowstest.SeedPipelineID, StageID: velaflowstest.SeedStageID,
			})
			require.Error(t, err)
			assert.Equal(t, status, resp.StatusCode)
			var apiErr *velaflows.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, velaflows.CodeValidation, apiErr.Code)
			assert.Equal(t, "POST", apiErr.Method)
			assert.Equal(t, "/crm/leads", apiErr.Path)
			require.NotEmpty(t, apiErr.FieldErrors())
			assert.Equal(t, "email", apiErr.FieldErrors()[0].Path)
			assert.True(t, velaflows.IsValidation(err))
			assert.False(t, apiErr.Temporary())
			assert.Len(t, srv.Leads(), 6, "nothing was created")
		})
	}
}

func TestEmulator_customers(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	ctx := t.Context()

	// "Update a Customer" of VelaFlows' Python examples (it reads
	// data.lead._id).
	cust, _, err := c.UpdateCustomer(ctx, velaflowstest.SeedCustomerID, velaflows.CustomerUpdate{FirstName: "Jane", LastName: "Doe", Email: "jane.doe@newcompany.com"})
	require.NoError(t, err)
	assert.Equal(t, velaflowstest.SeedCustomerID, cust.ID)
	assert.Equal(t, "jane.doe@newcompany.com", cust.Email)
	stored, ok := srv.Customer(velaflowstest.SeedCustomerID)
	require.True(t, ok)
	assert.Equal(t, "Doe", stored.LastName)

	cust, _, err = c.Customer(ctx, velaflowstest.SeedCustomerID)
	require.NoError(t, err)
	assert.Equal(t, "Jane", cust.FirstName)

	page, _, err := c.Customers(ctx, velaflows.CustomersOptions{ListOptions: velaflows.ListOptions{Search: "hopper"}})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, "Grace", page.Items[0].FirstName)
	all, err := velaflows.Collect(c.AllCustomers(ctx, velaflows.CustomersOptions{ListOptions: velaflows.ListOptions{Limit: 3}}))
	require.NoError(t, err)
	assert.Len(t, all, 7)

	cust, _, err = c.CreateCustomer(ctx, velaflows.CustomerRequest{FirstName: "Mary", Email: "mary@example.org"})
	require.NoError(t, err)
	assert.NotEmpty(t, cust.ID)

	_, _, err = c.UpdateCustomer(ctx, velaflowstest.SeedCustomerID, velaflows.CustomerUpdate{Email: "not-an-email"})
	assert.True(t, velaflows.IsCode(err, velaflows.CodeValidation))
}

func TestEmulator_tags(t *testing.T) {
	t.Parallel()
	_, c := newEmulator(t)
	ctx := t.Context()

	page, _, err := c.Tags(ctx, velaflows.TagsOptions{EntityType: velaflows.TagEntityConversation})
	require.NoError(t, err)
	var names []string
	for _, tag := range page.Items {
		names = append(names, tag.Name)
		assert.Equal(t, "conversation", tag.EntityType)
	}
	assert.ElementsMatch(t, []string{"vip", "billing", "urgent"}, names)

	tag, _, err := c.CreateTag(ctx, velaflows.TagRequest{Name: "refund", EntityType: velaflows.TagEntityConversation, Color: "#00ff00"})
	require.NoError(t, err)
	assert.Equal(t, "refund", tag.Name)
	_, _, err = c.CreateTag(ctx, velaflows.TagRequest{Name: "refund", EntityType: velaflows.TagEntityConversation})
	assert.True(t, velaflows.IsCode(err, velaflows.CodeConflict))

	all, err := velaflows.Collect(c.AllTags(ctx, velaflows.TagsOptions{ListOptions: velaflows.ListOptions{Limit: 2}}))
	require.NoError(t, err)
	assert.Len(t, all, 6)

	_, err = c.DeleteTag(ctx, tag.ID)
	require.NoError(t, err)
	_, err = c.DeleteTag(ctx, tag.ID)
	assert.True(t, velaflows.IsCode(err, velaflows.CodeNotFound))
}

func TestEmulator_webhookSubscriptions(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", velaflows.SubscriptionsPathSeed, velaflows.SubscriptionsPathIntegrations} {
		t.Run("path "+path, func(t *testing.T) {
			t.Parallel()
			srv := velaflowstest.NewServer(t)
			c := emulatorClient(t, srv, srv.Token(), func(cfg *velaflows.Config) { cfg.SubscriptionsPath = path })
			ctx := t.Context()
			secret, err := velaflows.NewWebhookSecret()
			require.NoError(t, err)

			// "Subscribe to Webhooks" of VelaFlows' Python examples.
			sub, _, err := c.CreateWebhookSubscription(ctx, "https://your-app.com/webhooks/velaflows",
				[]string{"conversation.created", "conversation.message.received", "lead.stage_changed"}, secret)
			require.NoError(t, err)
			require.NotEmpty(t, sub.ID)
			assert.True(t, sub.Active)
			subs := srv.Subscriptions()
			require.Len(t, subs, 1)
			assert.True(t, subs[0].HasSecret)
			wantPath := path
			if wantPath == "" {
				wantPath = velaflows.SubscriptionsPathSeed
			}
			assert.Equal(t, "POST "+wantPath, routes(srv)[0])
			assert.Equal(t, wantPath, c.SubscriptionsPath())

			page, _, err := c.ListWebhookSubscriptions(ctx, velaflows.ListOptions{})
			require.NoError(t, err)
			require.Len(t, page.Items, 1)
			assert.Equal(t, sub.ID, page.Items[0].ID)

			require.NoError(t, srv.SetSubscriptionActive(sub.ID, false))
			got, _, err := c.WebhookSubscription(ctx, sub.ID)
			require.NoError(t, err)
			assert.False(t, got.Active)
			got, _, err = c.UpdateWebhookSubscription(ctx, sub.ID, velaflows.WebhookSubscriptionUpdate{Active: velaflows.Bool(true)})
			require.NoError(t, err)
			assert.True(t, got.Active)

			_, err = c.DeleteWebhookSubscription(ctx, sub.ID)
			require.NoError(t, err)
			assert.Empty(t, srv.Subscriptions())
			_, err = c.DeleteWebhookSubscription(ctx, sub.ID)
			assert.True(t, velaflows.IsCode(err, velaflows.CodeNotFound))

			_, _, err = c.CreateWebhookSubscription(ctx, "http://bot.example.com/hook", []string{"conversation.created"}, secret)
			assert.True(t, velaflows.IsValidation(err), "plain http to a public host: %v", err)
			for _, r := range routes(srv) {
				assert.True(t, strings.HasPrefix(r[strings.Index(r, " ")+1:], wantPath), "every call on %s: %s", wantPath, r)
			}
		})
	}
}

// TestEmulator_webhookDelivery: a subscription made with the client
// receives the emulator's signed deliveries, whose event names map to the
// canonical names.
func TestEmulator_webhookDelivery(t *testing.T) {
	t.Parallel()
	got := make(chan *http.Request, 10)
	bodies := make(chan []byte, 10)
	hook := newFakeHook(t, got, bodies)
	srv, c := newEmulator(t, velaflowstest.WithEventNaming(velaflowstest.NamingDocs))
	secret, err := velaflows.NewWebhookSecret()
	require.NoError(t, err)
	_, _, err = c.CreateWebhookSubscription(t.Context(), hook, []string{velaflows.EventConversationMessageReceived}, secret)
	require.NoError(t, err)

	srv.CustomerMessage("whatsapp", "Ada Lovelace", "+442071838750", "Is my parcel here?")
	r := <-got
	body := <-bodies
	assert.Equal(t, velaflows.EventInboxMessageReceived, r.Header.Get("X-Webhook-Event"))
	assert.Equal(t, velaflows.EventConversationMessageReceived, velaflows.CanonicalEvent(r.Header.Get("X-Webhook-Event")))
	assert.Equal(t, velaflowstest.Sign(secret, body), r.Header.Get("X-Webhook-Signature"))
}

func TestEmulator_auth(t *testing.T) {
	t.Parallel()
	const readOnly = "sk_test_ReadOnlyToken0000000000000000000000000"
	srv := velaflowstest.NewServer(t, velaflowstest.WithToken(readOnly, "inbox:read"))
	ctx := t.Context()

	t.Run("401", func(t *testing.T) {
		c := emulatorClient(t, srv, "sk_test_WrongToken00000000000000000000000000000")
		_, resp, err := c.Conversations(ctx, velaflows.ConversationsOptions{})
		var apiErr *velaflows.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
		assert.Equal(t, velaflows.CodeUnauthorized, apiErr.Code)
		assert.NotEmpty(t, apiErr.Message)
		assert.Equal(t, 401, resp.StatusCode)
		assert.False(t, apiErr.Temporary())
	})
	t.Run("403 missing scope", func(t *testing.T) {
		c := emulatorClient(t, srv, readOnly)
		_, _, err := c.Conversations(ctx, velaflows.ConversationsOptions{})
		require.NoError(t, err, "inbox:read is enough to list conversations")
		_, _, err = c.SendMessage(ctx, velaflowstest.SeedConversationID, velaflows.MessageRequest{Content: "hi"})
		assert.True(t, velaflows.IsCode(err, velaflows.CodeForbidden), "%v", err)
		_, _, err = c.CreateLead(ctx, velaflows.LeadRequest{FirstName: "J", PipelineID: velaflowstest.SeedPipelineID, StageID: velaflowstest.SeedStageID})
		assert.True(t, velaflows.IsCode(err, velaflows.CodeForbidden), "%v", err)
	})
	t.Run("403 other workspace", func(t *testing.T) {
		c := emulatorClient(t, srv, srv.Token(), func(cfg *velaflows.Config) { cfg.WorkspaceID = "000000000000000000000000" })
		_, _, err := c.Conversations(ctx, velaflows.ConversationsOptions{})
		assert.True(t, velaflows.IsCode(err, velaflows.CodeForbidden), "%v", err)
	})
}

func TestEmulator_rateLimit(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	srv.RateLimitNext(45 * time.Second)
	_, resp, err := c.SendMessage(t.Context(), velaflowstest.SeedConversationID, velaflows.MessageRequest{Content: "hi"})
	var rl *bot.RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, "velaflows", rl.Platform)
	assert.Equal(t, 45*time.Second, rl.RetryAfter)
	assert.True(t, velaflows.IsCode(err, velaflows.CodeTooManyRequests))
	assert.Equal(t, 429, resp.StatusCode)
	assert.Empty(t, srv.Sent(), "a 429 means not sent")

	// The real limiter: 2 writes per window, then 429 with Retry-After.
	srv2, c2 := newEmulator(t, velaflowstest.WithRateLimits(300, 2, 50, time.Hour))
	for range 2 {
		_, resp, err := c2.SendMessage(t.Context(), velaflowstest.SeedConversationID, velaflows.MessageRequest{Content: "hi"})
		require.NoError(t, err)
		assert.Equal(t, 2, resp.Rate.Limit)
	}
	_, _, err = c2.SendMessage(t.Context(), velaflowstest.SeedConversationID, velaflows.MessageRequest{Content: "hi"})
	require.ErrorAs(t, err, &rl)
	assert.Greater(t, rl.RetryAfter, 50*time.Minute)
	assert.LessOrEqual(t, rl.RetryAfter, time.Hour)
	assert.Len(t, srv2.Sent(), 2)
}

func TestEmulator_faults(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	ctx := t.Context()

	srv.FailNext(500, "", "")
	_, _, err := c.Leads(ctx, velaflows.LeadsOptions{})
	var apiErr *velaflows.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, velaflows.CodeInternal, apiErr.Code)
	assert.True(t, apiErr.Temporary())

	srv.FailNext(503, "", "") // an HTML gateway page, no envelope
	_, _, err = c.Leads(ctx, velaflows.LeadsOptions{})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 503, apiErr.StatusCode)
	assert.Equal(t, velaflows.CodeUnknown, apiErr.Code)
	assert.True(t, apiErr.Temporary())

	// A dropped connection (a fresh one: on a reused keep-alive connection
	// Go's transport itself resends an idempotent request).
	c.CloseIdleConnections()
	srv.ResetNext()
	_, resp, err := c.Leads(ctx, velaflows.LeadsOptions{})
	require.Error(t, err)
	assert.Nil(t, resp)
	assert.Contains(t, err.Error(), "velaflows: GET /crm/leads: ")
}

// TestEmulator_retry: Config.Retry retries reads through 5xx and dropped
// connections, and never a POST. (A 1ms backoff keeps the test fast; the
// schedule itself is tested on the fake clock in retry_test.go.)
func TestEmulator_retry(t *testing.T) {
	t.Parallel()
	srv := velaflowstest.NewServer(t)
	c := emulatorClient(t, srv, srv.Token(), func(cfg *velaflows.Config) {
		cfg.Retry = &velaflows.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
	})
	ctx := t.Context()

	srv.FailNext(503, "", "")
	page, resp, err := c.Conversations(ctx, velaflows.ConversationsOptions{})
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts)
	assert.NotEmpty(t, page.Items)

	// A dropped connection. (On a reused keep-alive connection Go's
	// transport itself resends an idempotent request, so start afresh.)
	c.CloseIdleConnections()
	srv.ResetNext()
	_, resp, err = c.Conversations(ctx, velaflows.ConversationsOptions{})
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts)

	n := len(srv.Requests())
	srv.FailNext(503, "", "")
	_, resp, err = c.SendMessage(ctx, velaflowstest.SeedConversationID, velaflows.MessageRequest{Content: "hi"})
	require.Error(t, err)
	assert.Equal(t, 1, resp.Attempts)
	assert.Len(t, srv.Requests(), n+1, "the POST was sent once")
	assert.Empty(t, srv.Sent())

	srv.FailNext(404, "", "")
	_, resp, err = c.Lead(ctx, "65f0c0ffee0000000000d001")
	require.Error(t, err)
	assert.Equal(t, 1, resp.Attempts, "4xx is not retried")
}

func TestEmulator_cancelledContext(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, _, err := c.Conversations(ctx, velaflows.ConversationsOptions{})
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, srv.Requests(), "nothing is sent with a done context")

	srv.DelayNext(time.Minute)
	ctx, cancel = context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, _, err = c.Leads(ctx, velaflows.LeadsOptions{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestEmulator_pagination(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t, velaflowstest.WithoutDemoData())
	ids := srv.AddLeads(500)
	ctx := t.Context()

	var got []string
	for lead, err := range c.AllLeads(ctx, velaflows.LeadsOptions{ListOptions: velaflows.ListOptions{Limit: 7, SortOrder: velaflows.SortAsc}}) {
		require.NoError(t, err)
		got = append(got, lead.ID)
	}
	assert.Equal(t, ids, got, "every lead once, in creation order")
	// The emulator records a request once its answer is written, which
	// can come just after the client has the answer.
	requests := func(n int) func() bool { return func() bool { return len(srv.Requests()) == n } }
	require.Eventually(t, requests(72), 5*time.Second, time.Millisecond)

	// Default limit 100 and the API's default order (newest first).
	leads, err := velaflows.Collect(c.AllLeads(ctx, velaflows.LeadsOptions{}))
	require.NoError(t, err)
	require.Len(t, leads, 500)
	assert.Equal(t, ids[499], leads[0].ID)
	require.Eventually(t, requests(72+5), 5*time.Second, time.Millisecond)

	// The pages by hand.
	page, _, err := c.Leads(ctx, velaflows.LeadsOptions{ListOptions: velaflows.ListOptions{Page: 5, Limit: 100}})
	require.NoError(t, err)
	assert.False(t, page.HasNext())
	assert.Equal(t, velaflows.Pagination{Page: 5, Limit: 100, Total: 500, TotalPages: 5}, page.Pagination)
	page, _, err = c.Leads(ctx, velaflows.LeadsOptions{ListOptions: velaflows.ListOptions{Page: 6, Limit: 100}})
	require.NoError(t, err)
	assert.Empty(t, page.Items, "a page past the end is empty")

	// The generic helper and the server's own limit check.
	n := 0
	for _, err := range velaflows.Paginate[velaflows.Lead](ctx, c, "/crm/leads", url.Values{"sortBy": {"email"}}) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 500, n)
	_, err = c.Do(ctx, "GET", "/crm/leads", url.Values{"limit": {"101"}}, nil, nil)
	assert.True(t, velaflows.IsValidation(err), "%v", err)

	// Cancel in the middle of the iteration.
	ctx2, cancel := context.WithCancel(ctx)
	defer cancel()
	count, errs := 0, 0
	for _, err := range c.AllLeads(ctx2, velaflows.LeadsOptions{ListOptions: velaflows.ListOptions{Limit: 10}}) {
		if err != nil {
			errs++
			assert.ErrorIs(t, err, context.Canceled)
			continue
		}
		if count++; count == 25 {
			cancel()
		}
	}
	assert.Equal(t, 25, count)
	assert.Equal(t, 1, errs)
}

func TestEmulator_exportLeads(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t, velaflowstest.WithoutDemoData())
	srv.AddLeads(230)
	var buf bytes.Buffer
	var progress []int
	n, err := c.ExportLeadsCSV(t.Context(), &buf, func(done, total int) {
		assert.Equal(t, 230, total)
		progress = append(progress, done)
	})
	require.NoError(t, err)
	assert.Equal(t, 230, n)
	assert.Equal(t, []int{100, 200, 230}, progress)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\r\n"), "\r\n")
	require.Len(t, lines, 231)
	assert.Equal(t, "_id,firstName,lastName,email,phone,status,createdAt", lines[0])
	assert.True(t, strings.HasPrefix(lines[1], srv.Leads()[229].ID+",Lead,00230,lead00230@example.com,"), lines[1])
	assert.True(t, slices.IsSortedFunc(lines[1:], func(a, b string) int {
		// createdAt is the last column; newest first.
		return -strings.Compare(a[strings.LastIndex(a, ",")+1:], b[strings.LastIndex(b, ",")+1:])
	}))
}

// TestEmulator_requestsAreStrict: the emulator saw the headers of
// VelaFlows' Python examples and
// paths under its prefix for every call.
func TestEmulator_requestsAreStrict(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	_, _, err := c.Conversations(t.Context(), velaflows.ConversationsOptions{Status: "open"})
	require.NoError(t, err)
	_, _, err = c.SendMessage(t.Context(), velaflowstest.SeedConversationID, velaflows.MessageRequest{Content: "hi"})
	require.NoError(t, err)
	for _, r := range srv.Requests() {
		assert.True(t, r.Authenticated, "%s %s: %s", r.Method, r.Path, r.AuthError)
		assert.Equal(t, srv.WorkspaceID(), r.WorkspaceID)
		assert.Equal(t, "application/json", r.ContentType)
		assert.True(t, strings.HasPrefix(r.UserAgent, "parley-velaflows/"))
		assert.Equal(t, c.TokenPrefix(), r.TokenPrefix)
	}
	assert.Equal(t, []string{"GET /inbox/conversations", "POST /inbox/conversations/" + velaflowstest.SeedConversationID + "/messages"}, routes(srv))
}

// newFakeHook starts a webhook receiver that hands each request and its
// body to the channels and answers 200. It returns the receiver's URL.
func newFakeHook(t *testing.T, reqs chan<- *http.Request, bodies chan<- []byte) string {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case reqs <- r.Clone(context.Background()):
			bodies <- body
		default:
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(hs.Close)
	return hs.URL + "/hooks/velaflows"
}

package sendbee_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/bot"
)

// IDs of the emulator's demo business.
const (
	demoAna        = "5eedc0c7-0000-4000-8000-000000000001"
	demoAnaConv    = "5eedc0de-0000-4000-8000-000000000001"
	demoMarkoConv  = "5eedc0de-0000-4000-8000-000000000002"
	demoTagLead    = "5eed7a90-0000-4000-8000-000000000001"
	demoFieldCity  = "5eedf1e1-0000-4000-8000-000000000001"
	demoTeamSup    = "5eed7ea0-0000-4000-8000-000000000001"
	demoIvana      = "5eedae00-0000-4000-8000-000000000001"
	demoLucija     = "5eedae00-0000-4000-8000-000000000003"
	unknownUUID    = "00000000-0000-4000-8000-00000000dead"
	anaPhone       = "+385911234567"
	newPhone       = "+38598765432"
	emulatorPrefix = "/api"
)

// apiPaths are the routes of Sendbee's public API, as the emulator
// records them: without its path prefix.
var apiPaths = []string{
	"GET /contacts", "PUT /contacts", "POST /contacts/subscribe",
	"GET /contacts/tags", "POST /contacts/tags", "PUT /contacts/tags", "DELETE /contacts/tags",
	"GET /contacts/fields", "POST /contacts/fields", "PUT /contacts/fields", "DELETE /contacts/fields",
	"GET /conversations", "GET /conversation", "POST /conversation", "GET /conversations/messages",
	"GET /conversations/messages/templates", "POST /conversations/messages/templates/send",
	"POST /conversations/messages/send", "GET /teams/teams", "GET /teams/members",
	"PUT /automation/chatbot/activity", "GET /automation/chatbot/activity/status",
	"GET /rate-limit/error-test", "GET /rate-limit/request-test",
}

// newEmulator starts an emulator and a client of it.
func newEmulator(t *testing.T, opts ...sendbeetest.Option) (*sendbeetest.Server, *sendbee.Client) {
	t.Helper()
	srv := sendbeetest.NewServer(t, opts...)
	require.True(t, strings.HasSuffix(srv.URL(), emulatorPrefix), "the emulator serves under a path prefix: %s", srv.URL())
	c, err := sendbee.NewClient(sendbee.Config{
		APIKey:    srv.APIKey(),
		APISecret: srv.APISecret(),
		BaseURL:   srv.URL(),
		Logger:    bottestLogger(t),
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		// Every request the client made passed the emulator's strict checks.
		for _, r := range srv.Requests() {
			if r.Fault != "" {
				continue
			}
			assert.True(t, r.Authenticated, "%s %s: %s", r.Method, r.Path, r.AuthError)
			assert.Equal(t, "application/json", r.ContentType)
			assert.Equal(t, "application/json", r.Accept)
			assert.Contains(t, r.UserAgent, "parley-sendbee/")
			assert.Contains(t, apiPaths, r.Method+" "+r.Path, "a request outside the API's routes (or its prefix)")
		}
	})
	return srv, c
}

func TestEmulator_contacts(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	ctx := t.Context()

	p, resp, err := c.Contacts(ctx, sendbee.ContactsOptions{})
	require.NoError(t, err)
	assert.Equal(t, 3, p.Meta.Total)
	assert.Equal(t, 60, resp.Rate.Limit)
	assert.Less(t, resp.Rate.Remaining, 60)
	assert.False(t, resp.Rate.Reset.IsZero())
	assert.Empty(t, resp.Warning)

	p, _, err = c.Contacts(ctx, sendbee.ContactsOptions{Status: sendbee.ContactUnsubscribed})
	require.NoError(t, err)
	require.Len(t, p.Items, 1)
	assert.Equal(t, "John Smith", p.Items[0].Name)
	assert.Equal(t, sendbee.ContactUnsubscribed, p.Items[0].Status)

	p, _, err = c.Contacts(ctx, sendbee.ContactsOptions{Tags: []string{"VIP", "lead"}})
	require.NoError(t, err)
	names := contactNames(p.Items)
	slices.Sort(names)
	assert.Equal(t, []string{"Ana Horvat", "Marko Marić"}, names)

	p, _, err = c.Contacts(ctx, sendbee.ContactsOptions{SearchQuery: "Ana Horvat"})
	require.NoError(t, err)
	require.Len(t, p.Items, 1)
	ana := p.Items[0]
	assert.Equal(t, demoAna, ana.ID)
	assert.Equal(t, anaPhone, ana.Phone)
	assert.Equal(t, "HR.1234567890", ana.WhatsAppUserID)
	assert.False(t, ana.CreatedAt.IsZero())
	assert.Equal(t, sendbee.FolderOpen, ana.Folder)
	assert.Equal(t, []sendbee.ContactTag{{ID: demoTagLead, Name: "lead"}}, ana.Tags)
	assert.Contains(t, ana.ContactFields, sendbee.ContactFieldValue{Key: "city", Value: "Split"})
	require.Len(t, ana.Notes, 1)
	assert.Equal(t, "asked about pricing", ana.Notes[0].Value)

	// Subscribe a new contact: the defaults block notifications and automation.
	sub, _, err := c.SubscribeContact(ctx, sendbee.SubscribeContactRequest{
		Phone: newPhone, Name: "Petra", Tags: []string{"lead", "trial"}, Notes: []string{"from the website"},
		ContactFields: map[string]string{"city": "Rijeka", "plan": "basic"},
	})
	require.NoError(t, err)
	assert.NotEmpty(t, sub.ID)
	assert.Equal(t, "Petra", sub.Name)
	assert.Equal(t, newPhone, sub.Phone)
	assert.Equal(t, sendbee.ContactSubscribed, sub.Status)
	assert.ElementsMatch(t, []string{"lead", "trial"}, tagNames(sub.Tags))
	assert.ElementsMatch(t, []sendbee.ContactFieldValue{{Key: "city", Value: "Rijeka"}, {Key: "plan", Value: "basic"}}, sub.ContactFields)
	conv, ok := srv.ConversationByPhone(newPhone)
	require.True(t, ok, "subscribing creates the contact's conversation")
	assert.Equal(t, []string{"from the website"}, conv.Contact.Notes)

	// Update: notes are appended, fields overwritten.
	upd, _, err := c.UpdateContact(ctx, sendbee.UpdateContactRequest{
		ID: sub.ID, Name: "Petra K", Notes: []string{"called back"}, ContactFields: map[string]string{"city": "Pula"},
	})
	require.NoError(t, err)
	assert.Equal(t, "Petra K", upd.Name)
	assert.Equal(t, []string{"from the website", "called back"}, noteValues(upd.Notes))
	assert.Contains(t, upd.ContactFields, sendbee.ContactFieldValue{Key: "city", Value: "Pula"})

	// Subscribing the same phone again updates it, with a warning.
	_, resp, err = c.SubscribeContact(ctx, sendbee.SubscribeContactRequest{Phone: newPhone})
	require.NoError(t, err)
	assert.Contains(t, resp.Warning, "already exists")

	// 4xx: an unknown contact, an invalid phone.
	_, resp, err = c.UpdateContact(ctx, sendbee.UpdateContactRequest{ID: unknownUUID, Name: "x"})
	apiErr := requireAPIError(t, err, http.StatusNotFound, "not_found")
	assert.Equal(t, "PUT", apiErr.Method)
	assert.Equal(t, "/contacts", apiErr.Path)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	_, _, err = c.SubscribeContact(ctx, sendbee.SubscribeContactRequest{Phone: "not a phone"})
	requireAPIError(t, err, http.StatusBadRequest, "validation_error")
}

func TestEmulator_tags(t *testing.T) {
	t.Parallel()
	_, c := newEmulator(t)
	ctx := t.Context()

	p, _, err := c.ContactTags(ctx, sendbee.ContactTagsOptions{})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"lead", "customer", "VIP", "newsletter"}, tagNames(p.Items))

	tag, _, err := c.CreateContactTag(ctx, "Gold")
	require.NoError(t, err)
	assert.Equal(t, "Gold", tag.Name)
	assert.NotEmpty(t, tag.ID)

	_, _, err = c.CreateContactTag(ctx, "Gold")
	requireAPIError(t, err, http.StatusBadRequest, "validation_error")

	tag, _, err = c.UpdateContactTag(ctx, tag.ID, "Platinum")
	require.NoError(t, err)
	assert.Equal(t, "Platinum", tag.Name)

	p, _, err = c.ContactTags(ctx, sendbee.ContactTagsOptions{Name: "Platinum"})
	require.NoError(t, err)
	require.Len(t, p.Items, 1)
	assert.Equal(t, tag.ID, p.Items[0].ID)

	msg, _, err := c.DeleteContactTag(ctx, tag.ID)
	require.NoError(t, err)
	assert.NotEmpty(t, msg.Message)

	_, _, err = c.DeleteContactTag(ctx, tag.ID)
	requireAPIError(t, err, http.StatusNotFound, "not_found")
	_, _, err = c.UpdateContactTag(ctx, unknownUUID, "x")
	requireAPIError(t, err, http.StatusNotFound, "not_found")

	all := collectAll(t, c.AllContactTags(ctx, sendbee.ContactTagsOptions{Limit: 1}))
	assert.Len(t, all, 4)
}

func TestEmulator_fields(t *testing.T) {
	t.Parallel()
	_, c := newEmulator(t)
	ctx := t.Context()

	p, _, err := c.ContactFields(ctx, sendbee.ContactFieldsOptions{})
	require.NoError(t, err)
	require.Len(t, p.Items, 5)
	byName := map[string]sendbee.ContactField{}
	for _, f := range p.Items {
		byName[f.Name] = f
	}
	assert.Equal(t, sendbee.ContactField{ID: demoFieldCity, Name: "city", Type: sendbee.FieldText, Options: []string{}}, byName["city"])
	assert.Equal(t, sendbee.FieldList, byName["plan"].Type)
	assert.Equal(t, []string{"basic", "pro", "enterprise"}, byName["plan"].Options)
	assert.Equal(t, sendbee.FieldBoolean, byName["vip"].Type)

	p, _, err = c.ContactFields(ctx, sendbee.ContactFieldsOptions{SearchQuery: "birth"})
	require.NoError(t, err)
	require.Len(t, p.Items, 1)
	assert.Equal(t, sendbee.FieldDate, p.Items[0].Type)

	f, _, err := c.CreateContactField(ctx, sendbee.CreateContactFieldRequest{Name: "size", Type: sendbee.FieldList, Options: []string{"S", "M", "L"}})
	require.NoError(t, err)
	assert.Equal(t, "size", f.Name)
	assert.Equal(t, sendbee.FieldList, f.Type)
	assert.Equal(t, []string{"S", "M", "L"}, f.Options)

	f, _, err = c.UpdateContactField(ctx, sendbee.UpdateContactFieldRequest{ID: f.ID, Name: "shirt size", Type: sendbee.FieldList, Options: []string{"S", "M", "L", "XL"}})
	require.NoError(t, err)
	assert.Equal(t, "shirt size", f.Name)
	assert.Equal(t, []string{"S", "M", "L", "XL"}, f.Options)

	f, _, err = c.UpdateContactField(ctx, sendbee.UpdateContactFieldRequest{ID: f.ID, Type: sendbee.FieldText})
	require.NoError(t, err)
	assert.Equal(t, sendbee.FieldText, f.Type)

	msg, _, err := c.DeleteContactField(ctx, f.ID)
	require.NoError(t, err)
	assert.NotEmpty(t, msg.Message)

	_, _, err = c.CreateContactField(ctx, sendbee.CreateContactFieldRequest{Name: "city", Type: sendbee.FieldText})
	requireAPIError(t, err, http.StatusBadRequest, "validation_error")
	_, _, err = c.DeleteContactField(ctx, unknownUUID)
	requireAPIError(t, err, http.StatusNotFound, "not_found")

	all := collectAll(t, c.AllContactFields(ctx, sendbee.ContactFieldsOptions{Limit: 2}))
	assert.Len(t, all, 5)
}

func TestEmulator_conversations(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	ctx := t.Context()

	p, _, err := c.Conversations(ctx, sendbee.ConversationsOptions{Folder: sendbee.FolderOpen})
	require.NoError(t, err)
	assert.Len(t, p.Items, 2)
	for _, cv := range p.Items {
		assert.Equal(t, sendbee.FolderOpen, cv.Folder)
		assert.Equal(t, "whatsapp", cv.Platform)
	}

	now := time.Now()
	p, _, err = c.Conversations(ctx, sendbee.ConversationsOptions{DateFrom: now.Add(-3 * time.Hour), DateTo: now})
	require.NoError(t, err)
	require.Len(t, p.Items, 1, "only Ana's conversation was active in the last 3 hours")
	assert.Equal(t, demoAnaConv, p.Items[0].ID)

	cv, _, err := c.Conversation(ctx, demoAnaConv)
	require.NoError(t, err)
	assert.Equal(t, demoAnaConv, cv.ID)
	assert.True(t, cv.ChatbotActive)
	assert.Equal(t, anaPhone, cv.Contact.Phone)
	assert.Equal(t, sendbee.DirectionOutbound, cv.LastMessage.Direction)
	assert.False(t, cv.LastMessage.InboundSentAt.IsZero())
	assert.False(t, cv.LastMessage.OutboundSentAt.IsZero())

	cv, _, err = c.UpdateConversation(ctx, demoAnaConv, sendbee.FolderDone)
	require.NoError(t, err)
	assert.Equal(t, sendbee.FolderDone, cv.Folder)
	got, ok := srv.Conversation(demoAnaConv)
	require.True(t, ok)
	assert.Equal(t, "done", got.Folder)

	_, _, err = c.Conversation(ctx, unknownUUID)
	requireAPIError(t, err, http.StatusNotFound, "not_found")
	_, _, err = c.UpdateConversation(ctx, unknownUUID, sendbee.FolderOpen)
	requireAPIError(t, err, http.StatusNotFound, "not_found")

	ms, _, err := c.ConversationMessages(ctx, sendbee.MessagesOptions{ConversationID: demoMarkoConv})
	require.NoError(t, err)
	require.Len(t, ms.Items, 3)
	bodies := map[string]sendbee.Message{}
	for _, m := range ms.Items {
		bodies[m.Body] = m
		assert.False(t, m.SentAt.IsZero())
	}
	assert.Equal(t, sendbee.DirectionInbound, bodies["Thanks! When will it arrive?"].Direction)
	assert.Equal(t, sendbee.DirectionOutbound, bodies["Tomorrow before noon."].Direction)

	all := collectAll(t, c.AllConversations(ctx, sendbee.ConversationsOptions{Limit: 1}))
	assert.Len(t, all, 3)
	msgs := collectAll(t, c.AllConversationMessages(ctx, sendbee.MessagesOptions{ConversationID: demoMarkoConv}))
	assert.Len(t, msgs, 3)
}

func TestEmulator_templatesAndSending(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	ctx := t.Context()

	p, _, err := c.MessageTemplates(ctx, sendbee.MessageTemplatesOptions{Status: sendbee.TemplateApproved})
	require.NoError(t, err)
	assert.Equal(t, 5, p.Meta.Total)
	var shipped sendbee.MessageTemplate
	for _, tpl := range p.Items {
		assert.Equal(t, sendbee.TemplateApproved, tpl.Status)
		if tpl.Keyword == "order_shipped" {
			shipped = tpl
		}
	}
	assert.Equal(t, []sendbee.TemplateTag{{Name: "1"}, {Name: "2"}}, shipped.Tags)
	assert.Equal(t, []sendbee.TemplateTag{{Name: "1"}}, shipped.ButtonTags)
	require.Len(t, shipped.Buttons, 1)
	assert.Equal(t, "url", shipped.Buttons[0].Type)
	assert.Equal(t, sendbee.AttachmentNone, shipped.Attachment)

	rej, _, err := c.MessageTemplates(ctx, sendbee.MessageTemplatesOptions{Status: sendbee.TemplateRejected})
	require.NoError(t, err)
	require.Len(t, rej.Items, 1)
	assert.NotEmpty(t, rej.Items[0].RejectedReason)

	templates := collectAll(t, c.AllMessageTemplates(ctx, sendbee.MessageTemplatesOptions{Limit: 3}))
	assert.Len(t, templates, 7)
	var sale sendbee.MessageTemplate
	for _, tpl := range templates {
		if tpl.Keyword == "spring_sale" {
			sale = tpl
		}
	}
	assert.Equal(t, sendbee.AttachmentImage, sale.Attachment)

	// A template sent with prevent_bot_off keeps the chatbot on.
	sent, _, err := c.SendTemplateMessage(ctx, sendbee.SendTemplateMessageRequest{
		Phone: anaPhone, TemplateKeyword: "order_shipped", Language: "en",
		Tags: map[string]string{"1": "Ana", "2": "1042"}, ButtonTags: map[string]string{"1": "1042"},
		PreventBotOff: sendbee.Bool(true), AgentID: demoIvana,
	})
	require.NoError(t, err)
	assert.Equal(t, demoAnaConv, sent.ConversationID)
	assert.NotEmpty(t, sent.MessageID)
	assert.NotEmpty(t, sent.Status)
	assert.True(t, srv.ChatbotActive(demoAnaConv))

	sent, _, err = c.SendTemplateMessage(ctx, sendbee.SendTemplateMessageRequest{
		Phone: anaPhone, TemplateKeyword: "spring_sale", Language: "en",
		Tags: map[string]string{"1": "20%"}, Attachment: "https://cdn.example.com/sale.png", PreventBotOff: sendbee.Bool(true),
	})
	require.NoError(t, err)
	assert.NotEmpty(t, sent.MessageID)

	// Free-form text and media with prevent_bot_off: the chatbot stays on.
	_, _, err = c.SendMessage(ctx, sendbee.SendMessageRequest{Phone: anaPhone, Text: "We open at 9.", PreventBotOff: sendbee.Bool(true)})
	require.NoError(t, err)
	_, _, err = c.SendMessage(ctx, sendbee.SendMessageRequest{Phone: anaPhone, MediaURL: "https://cdn.example.com/map.pdf", Text: "Map", PreventBotOff: sendbee.Bool(true)})
	require.NoError(t, err)
	assert.True(t, srv.ChatbotActive(demoAnaConv))

	// Without the flag, Sendbee switches the chatbot off.
	sent, _, err = c.SendMessage(ctx, sendbee.SendMessageRequest{Phone: anaPhone, Text: "An agent will take over."})
	require.NoError(t, err)
	assert.Equal(t, demoAnaConv, sent.ConversationID)
	assert.False(t, srv.ChatbotActive(demoAnaConv))

	// An explicit false is sent as false.
	_, _, err = c.SetChatbotActivity(ctx, demoAnaConv, true)
	require.NoError(t, err)
	_, _, err = c.SendMessage(ctx, sendbee.SendMessageRequest{Phone: anaPhone, Text: "Handing over.", PreventBotOff: sendbee.Bool(false)})
	require.NoError(t, err)
	assert.False(t, srv.ChatbotActive(demoAnaConv))

	log := srv.WaitSent(t, 6)
	require.Len(t, log, 6)
	assert.Equal(t, "/conversations/messages/templates/send", log[0].Endpoint)
	assert.Equal(t, "order_shipped", log[0].TemplateKeyword)
	assert.Equal(t, map[string]string{"1": "Ana", "2": "1042"}, log[0].TemplateTags)
	assert.Equal(t, map[string]string{"1": "1042"}, log[0].ButtonTags)
	assert.Equal(t, demoIvana, log[0].AgentID)
	assert.Equal(t, "https://cdn.example.com/sale.png", log[1].Attachment)
	assert.Equal(t, "We open at 9.", log[2].Text)
	assert.Equal(t, "https://cdn.example.com/map.pdf", log[3].MediaURL)
	assert.Equal(t, "document", log[3].MediaType)
	for i, want := range []*bool{sendbee.Bool(true), sendbee.Bool(true), sendbee.Bool(true), sendbee.Bool(true), nil, sendbee.Bool(false)} {
		assert.Equal(t, want, log[i].PreventBotOff, "send %d", i)
	}

	// 4xx from the platform's own checks.
	_, _, err = c.SendTemplateMessage(ctx, sendbee.SendTemplateMessageRequest{Phone: anaPhone, TemplateKeyword: "cold_outreach", Language: "en", Tags: map[string]string{"1": "x"}})
	requireAPIError(t, err, http.StatusBadRequest, "validation_error")
	_, _, err = c.SendTemplateMessage(ctx, sendbee.SendTemplateMessageRequest{Phone: anaPhone, TemplateKeyword: "welcome", Language: "en"})
	apiErr := requireAPIError(t, err, http.StatusBadRequest, "validation_error")
	assert.Contains(t, apiErr.Detail, "placeholder")
	_, _, err = c.SendMessage(ctx, sendbee.SendMessageRequest{Phone: anaPhone, MediaURL: "https://cdn.example.com/x.exe"})
	requireAPIError(t, err, http.StatusBadRequest, "validation_error")
	assert.Len(t, srv.Sent(), 6, "rejected sends change nothing")
}

func TestEmulator_teams(t *testing.T) {
	t.Parallel()
	_, c := newEmulator(t)
	ctx := t.Context()

	teams, _, err := c.Teams(ctx, sendbee.TeamsOptions{})
	require.NoError(t, err)
	require.Len(t, teams.Items, 2)
	assert.Equal(t, "Support", teams.Items[0].Name)
	require.Len(t, teams.Items[0].Members, 2)
	assert.Equal(t, sendbee.TeamMember{ID: demoIvana, Name: "Ivana Horvat", Role: "admin", Online: true, Available: true}, teams.Items[0].Members[0])

	teams, _, err = c.Teams(ctx, sendbee.TeamsOptions{MemberID: demoLucija})
	require.NoError(t, err)
	require.Len(t, teams.Items, 1)
	assert.Equal(t, "Sales", teams.Items[0].Name)

	members, _, err := c.Members(ctx, sendbee.MembersOptions{TeamID: demoTeamSup})
	require.NoError(t, err)
	require.Len(t, members.Items, 2)
	assert.Equal(t, "Ivana Horvat", members.Items[0].Name)
	assert.ElementsMatch(t, []string{"Support", "Sales"}, memberTeamNames(members.Items[0].Teams))

	allTeams := collectAll(t, c.AllTeams(ctx, sendbee.TeamsOptions{}))
	assert.Len(t, allTeams, 2)
	allMembers := collectAll(t, c.AllMembers(ctx, sendbee.MembersOptions{}))
	assert.Len(t, allMembers, 3)

	_, _, err = c.Teams(ctx, sendbee.TeamsOptions{MemberID: "not-a-uuid"})
	requireAPIError(t, err, http.StatusBadRequest, "validation_error")
}

func TestEmulator_chatbot(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	ctx := t.Context()

	st, _, err := c.ChatbotStatus(ctx, demoAnaConv)
	require.NoError(t, err)
	assert.Equal(t, &sendbee.ChatbotStatus{ConversationID: demoAnaConv, ChatbotActive: true}, st)

	msg, _, err := c.SetChatbotActivity(ctx, demoAnaConv, false)
	require.NoError(t, err)
	assert.NotEmpty(t, msg.Message)
	assert.False(t, srv.ChatbotActive(demoAnaConv))
	st, _, err = c.ChatbotStatus(ctx, demoAnaConv)
	require.NoError(t, err)
	assert.False(t, st.ChatbotActive)

	_, _, err = c.SetChatbotActivity(ctx, demoAnaConv, true)
	require.NoError(t, err)
	assert.True(t, srv.ChatbotActive(demoAnaConv))

	// An agent's reply from the dashboard switches it off; the client sees it.
	_, err = srv.AgentReply(demoAnaConv, "", "Hello, Ivana here.")
	require.NoError(t, err)
	st, _, err = c.ChatbotStatus(ctx, demoAnaConv)
	require.NoError(t, err)
	assert.False(t, st.ChatbotActive)

	_, _, err = c.ChatbotStatus(ctx, unknownUUID)
	requireAPIError(t, err, http.StatusNotFound, "not_found")
	_, _, err = c.SetChatbotActivity(ctx, unknownUUID, true)
	requireAPIError(t, err, http.StatusNotFound, "not_found")
}

func TestEmulator_rateLimit(t *testing.T) {
	t.Parallel()

	t.Run("test endpoints", func(t *testing.T) {
		t.Parallel()
		_, c := newEmulator(t)
		res, resp, err := c.RateLimitRequestTest(t.Context())
		require.NoError(t, err)
		assert.False(t, res.Error)
		assert.NotEmpty(t, res.Detail)
		assert.Equal(t, 59, resp.Rate.Remaining)

		res, resp, err = c.RateLimitErrorTest(t.Context())
		assert.Nil(t, res)
		var rl *bot.RateLimitError
		require.ErrorAs(t, err, &rl)
		assert.Equal(t, "sendbee", rl.Platform)
		assert.Greater(t, rl.RetryAfter, time.Duration(0))
		assert.LessOrEqual(t, rl.RetryAfter, time.Minute)
		var apiErr *sendbee.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, "throttled", apiErr.Type)
		assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	})

	t.Run("injected", func(t *testing.T) {
		t.Parallel()
		srv, c := newEmulator(t)
		for _, tt := range []struct {
			retryAfter time.Duration
			want       time.Duration
		}{
			{3 * time.Second, 3 * time.Second},
			{1500 * time.Millisecond, 2 * time.Second}, // whole seconds, rounded up
			{-1, 0}, // no Retry-After header
		} {
			srv.RateLimitNext(tt.retryAfter)
			sent, _, err := c.SendMessage(t.Context(), sendbee.SendMessageRequest{Phone: anaPhone, Text: "hi", PreventBotOff: sendbee.Bool(true)})
			assert.Nil(t, sent)
			var rl *bot.RateLimitError
			require.ErrorAs(t, err, &rl)
			assert.Equal(t, tt.want, rl.RetryAfter)
			assert.True(t, rl.Temporary())
		}
		assert.Empty(t, srv.Sent(), "a throttled send is not sent")
	})

	t.Run("real limit", func(t *testing.T) {
		t.Parallel()
		_, c := newEmulator(t, sendbeetest.WithRateLimit(2, time.Hour))
		for range 2 {
			_, _, err := c.RateLimitRequestTest(t.Context())
			require.NoError(t, err)
		}
		_, resp, err := c.RateLimitRequestTest(t.Context())
		var rl *bot.RateLimitError
		require.ErrorAs(t, err, &rl)
		assert.InDelta(t, time.Hour, rl.RetryAfter, float64(time.Minute))
		assert.Equal(t, 2, resp.Rate.Limit)
		assert.Equal(t, 0, resp.Rate.Remaining)
	})
}

func TestEmulator_faults(t *testing.T) {
	t.Parallel()

	t.Run("5xx", func(t *testing.T) {
		t.Parallel()
		srv, c := newEmulator(t)
		srv.FailNext(http.StatusServiceUnavailable, "")
		_, _, err := c.Contacts(t.Context(), sendbee.ContactsOptions{})
		apiErr := requireAPIError(t, err, http.StatusServiceUnavailable, "server_error")
		assert.True(t, apiErr.Temporary())

		srv.FailNext(http.StatusBadGateway, "<html>bad gateway</html>")
		_, _, err = c.Contacts(t.Context(), sendbee.ContactsOptions{})
		apiErr = requireAPIError(t, err, http.StatusBadGateway, "")
		assert.Empty(t, apiErr.Detail)
		assert.Equal(t, "<html>bad gateway</html>", string(apiErr.Body))
		assert.Equal(t, "sendbee: GET /contacts: 502 Bad Gateway", err.Error())
	})

	t.Run("4xx flat body", func(t *testing.T) {
		t.Parallel()
		srv, c := newEmulator(t)
		srv.FailNext(http.StatusForbidden, `{"detail": "not allowed", "error": true, "type": "permission_denied"}`)
		_, _, err := c.Teams(t.Context(), sendbee.TeamsOptions{})
		apiErr := requireAPIError(t, err, http.StatusForbidden, "permission_denied")
		assert.Equal(t, "not allowed", apiErr.Detail)
		assert.False(t, apiErr.Temporary())
	})

	t.Run("unparseable 404", func(t *testing.T) {
		t.Parallel()
		srv, c := newEmulator(t)
		srv.FailNext(http.StatusNotFound, "Not Found")
		_, _, err := c.Teams(t.Context(), sendbee.TeamsOptions{})
		apiErr := requireAPIError(t, err, http.StatusNotFound, "")
		assert.Equal(t, "endpoint not found", apiErr.Detail)
	})

	t.Run("connection reset", func(t *testing.T) {
		t.Parallel()
		srv, c := newEmulator(t)
		srv.ResetNext()
		_, resp, err := c.SendMessage(t.Context(), sendbee.SendMessageRequest{Phone: anaPhone, Text: "hi"})
		require.Error(t, err)
		assert.Nil(t, resp)
		assert.True(t, strings.HasPrefix(err.Error(), "sendbee: POST /conversations/messages/send: "), err.Error())
		var apiErr *sendbee.APIError
		assert.False(t, errors.As(err, &apiErr))
	})

	t.Run("warning", func(t *testing.T) {
		t.Parallel()
		srv, c := newEmulator(t)
		srv.WarnNext("the sky is falling")
		_, resp, err := c.ChatbotStatus(t.Context(), demoAnaConv)
		require.NoError(t, err)
		assert.Equal(t, "the sky is falling", resp.Warning)
	})

	t.Run("bad credentials", func(t *testing.T) {
		t.Parallel()
		srv := sendbeetest.NewServer(t)
		c, err := sendbee.NewClient(sendbee.Config{APIKey: srv.APIKey(), APISecret: "wrong-secret", BaseURL: srv.URL(), Logger: bottestLogger(t)})
		require.NoError(t, err)
		_, _, err = c.Contacts(t.Context(), sendbee.ContactsOptions{})
		requireAPIError(t, err, http.StatusUnauthorized, "authentication_error")
	})
}

func TestEmulator_contextCanceled(t *testing.T) {
	t.Parallel()

	t.Run("before", func(t *testing.T) {
		t.Parallel()
		srv, c := newEmulator(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, _, err := c.SendMessage(ctx, sendbee.SendMessageRequest{Phone: anaPhone, Text: "hi"})
		require.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, srv.Requests())
		assert.Empty(t, srv.Sent())
	})

	t.Run("during a slow answer", func(t *testing.T) {
		t.Parallel()
		srv, c := newEmulator(t)
		srv.DelayNext(time.Minute)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, _, err := c.SendMessage(ctx, sendbee.SendMessageRequest{Phone: anaPhone, Text: "hi"})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 10*time.Second)
		assert.Empty(t, srv.Sent())
	})

	t.Run("iterator", func(t *testing.T) {
		t.Parallel()
		_, c := newEmulator(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var n int
		var errs []error
		for _, err := range c.AllContacts(ctx, sendbee.ContactsOptions{Limit: 1}) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			n++
			cancel()
		}
		assert.Equal(t, 1, n)
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], context.Canceled)
	})
}

func TestEmulator_pagination(t *testing.T) {
	t.Parallel()
	_, c := newEmulator(t)
	ctx := t.Context()

	p, _, err := c.Contacts(ctx, sendbee.ContactsOptions{Limit: 2})
	require.NoError(t, err)
	assert.Equal(t, sendbee.Meta{CurrentPage: 1, LastPage: 2, PerPage: 2, Total: 3, From: 1, To: 2}, p.Meta)
	assert.True(t, p.HasNext())
	assert.NotEmpty(t, p.Links.Next)

	p2, _, err := c.Contacts(ctx, sendbee.ContactsOptions{Limit: 2, Page: p.NextPage()})
	require.NoError(t, err)
	assert.Len(t, p2.Items, 1)
	assert.False(t, p2.HasNext())

	_, resp, err := c.Contacts(ctx, sendbee.ContactsOptions{Limit: 2, Page: p2.NextPage()})
	require.ErrorIs(t, err, sendbee.ErrPagination)
	var pe *sendbee.PaginationError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 3, pe.Page)
	assert.Equal(t, 2, pe.Meta.LastPage)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	all := collectAll(t, c.AllContacts(ctx, sendbee.ContactsOptions{Limit: 1}))
	assert.Len(t, all, 3)
}

// requireAPIError asserts that err is an *APIError with status and type
// (typ "" is not checked).
func requireAPIError(t *testing.T, err error, status int, typ string) *sendbee.APIError {
	t.Helper()
	var apiErr *sendbee.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, status, apiErr.StatusCode, apiErr.Error())
	if typ != "" {
		assert.Equal(t, typ, apiErr.Type, apiErr.Error())
	}
	return apiErr
}

func collectAll[T any](t *testing.T, seq func(func(T, error) bool)) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		require.NoError(t, err)
		out = append(out, v)
	}
	return out
}

func contactNames(cs []sendbee.Contact) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func tagNames(ts []sendbee.ContactTag) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

func noteValues(ns []sendbee.ContactNote) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Value)
	}
	return out
}

func memberTeamNames(ts []sendbee.MemberTeam) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

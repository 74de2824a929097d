package velaflows_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows"
)

const conversationJSON = `{
	"_id": "65f0c0ffee0000000000a001",
	"workspaceId": "64f0c0ffee00000000000001",
	"channelType": "whatsapp",
	"status": "open",
	"priority": "normal",
	"contactName": "Ada Lovelace",
	"contactPhone": "+442071838750",
	"assignedAgentId": null,
	"lastMessageAt": "2026-03-24T09:00:01.000Z",
	"createdAt": "2026-03-24T09:00:00.000Z"
}`

func ts(s string) velaflows.Timestamp {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return velaflows.Timestamp{Time: t}
}

var wantConversation = velaflows.Conversation{
	ID:            "65f0c0ffee0000000000a001",
	WorkspaceID:   "64f0c0ffee00000000000001",
	ChannelType:   "whatsapp",
	Status:        "open",
	Priority:      "normal",
	ContactName:   "Ada Lovelace",
	ContactPhone:  "+442071838750",
	LastMessageAt: ts("2026-03-24T09:00:01Z"),
	CreatedAt:     ts("2026-03-24T09:00:00Z"),
}

func TestClient_Conversations(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/inbox/conversations", 200, pageJSON(`[`+conversationJSON+`]`, 2, 50, 51))
	c := f.newClient(t)

	page, resp, err := c.Conversations(t.Context(), velaflows.ConversationsOptions{
		ListOptions: velaflows.ListOptions{
			Page: 2, Limit: 50, Search: "ada", SortBy: "lastMessageAt", SortOrder: velaflows.SortAsc,
			Query: url.Values{"assignedAgentId": {"a1"}},
		},
		Status:      velaflows.StatusOpen,
		ChannelType: velaflows.ChannelWhatsApp,
	})
	require.NoError(t, err)
	want := url.Values{
		"page": {"2"}, "limit": {"50"}, "search": {"ada"}, "sortBy": {"lastMessageAt"}, "sortOrder": {"asc"},
		"status": {"open"}, "channelType": {"whatsapp"}, "assignedAgentId": {"a1"},
	}
	assert.Equal(t, want, f.last(t).Query)
	require.Len(t, page.Items, 1)
	assert.Equal(t, wantConversation, page.Items[0])
	assert.Equal(t, velaflows.Pagination{Page: 2, Limit: 50, Total: 51, TotalPages: 2}, page.Pagination)
	assert.Equal(t, page.Pagination, resp.Pagination)
	assert.False(t, page.HasNext())
	assert.Equal(t, 0, page.NextPage())

	// Zero options send no parameters: the API's defaults apply.
	_, _, err = c.Conversations(t.Context(), velaflows.ConversationsOptions{})
	require.NoError(t, err)
	assert.Empty(t, f.last(t).Query)
}

func TestClient_Conversation(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/inbox/conversations/65f0c0ffee0000000000a001", 200, ok(`{"conversation":`+conversationJSON+`}`))
	f.reply("GET", "/inbox/conversations/c2", 200, ok(`{"conversation":{"_id":"c2","channel":"instagram","assignedAgentId":"agent7","unreadCount":3}}`))
	c := f.newClient(t)

	conv, resp, err := c.Conversation(t.Context(), "65f0c0ffee0000000000a001")
	require.NoError(t, err)
	assert.Equal(t, wantConversation, *conv)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "whatsapp", conv.ChannelName())

	conv, _, err = c.Conversation(t.Context(), "c2")
	require.NoError(t, err)
	assert.Equal(t, "instagram", conv.ChannelName(), "webhook-style channel is read too")
	assert.Equal(t, "agent7", conv.AssignedAgentID)
	assert.Equal(t, 3, conv.UnreadCount)
}

func TestClient_SendMessage(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	const conv = "65a1b2c3d4e5f6a7b8c9d0e1"
	f.reply("POST", "/inbox/conversations/"+conv+"/messages", 201, ok(`{"message":{
		"_id":"65f0c0ffee0000000000b777","conversationId":"`+conv+`","type":"text",
		"content":"Hello! How can I help you today?","sender":{"type":"agent"},"status":"sent",
		"createdAt":"2026-03-24T09:00:05.000Z"}}`))
	c := f.newClient(t)

	// The "Send a Message" example of VelaFlows' Python examples.
	msg, resp, err := c.SendMessage(t.Context(), conv, velaflows.MessageRequest{Content: "Hello! How can I help you today?", Type: "text"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"content":"Hello! How can I help you today?","type":"text"}`, string(f.last(t).Body))
	assert.Equal(t, 201, resp.StatusCode)
	assert.Equal(t, velaflows.Message{
		ID: "65f0c0ffee0000000000b777", ConversationID: conv, Type: "text",
		Content: "Hello! How can I help you today?", Sender: velaflows.MessageSender{Type: velaflows.SenderAgent},
		Status: "sent", CreatedAt: ts("2026-03-24T09:00:05Z"),
	}, *msg)
	assert.Equal(t, "Hello! How can I help you today?", msg.Body())

	// Type defaults to text.
	_, _, err = c.SendMessage(t.Context(), conv, velaflows.MessageRequest{Content: "Thanks!"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"content":"Thanks!","type":"text"}`, string(f.last(t).Body))
}

func TestClient_ConversationMessages(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/inbox/conversations/c1/messages", 200, pageJSON(`[
		{"_id":"m2","type":"text","text":"Hi, where is my parcel?","sender":{"type":"contact","name":"Ada Lovelace","phone":"+442071838750"},"channel":"whatsapp","createdAt":"2026-03-24T09:00:01.000Z"},
		{"_id":"m1","type":"text","content":"Welcome","sender":"bot"}]`, 1, 2, 3))
	c := f.newClient(t)

	page, _, err := c.ConversationMessages(t.Context(), "c1", velaflows.MessagesOptions{ListOptions: velaflows.ListOptions{Limit: 2}})
	require.NoError(t, err)
	assert.Equal(t, url.Values{"limit": {"2"}}, f.last(t).Query)
	require.Len(t, page.Items, 2)
	m := page.Items[0]
	assert.Equal(t, "Hi, where is my parcel?", m.Body())
	assert.Equal(t, velaflows.MessageSender{Type: velaflows.SenderContact, Name: "Ada Lovelace", Phone: "+442071838750"}, m.Sender)
	assert.Equal(t, "whatsapp", m.Channel)
	assert.Equal(t, "Welcome", page.Items[1].Body())
	assert.Equal(t, velaflows.SenderBot, page.Items[1].Sender.Type, "a bare string sender is its type")
	assert.True(t, page.HasNext())
	assert.Equal(t, 2, page.NextPage())
}

func TestClient_UpdateConversation(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("PATCH", "/inbox/conversations/c1", 200, ok(`{"conversation":{"_id":"c1","status":"closed","assignedAgentId":"agent7"}}`))
	c := f.newClient(t)

	tests := []struct {
		name string
		call func() (*velaflows.Conversation, *velaflows.Response, error)
		want string
	}{
		{"update", func() (*velaflows.Conversation, *velaflows.Response, error) {
			return c.UpdateConversation(t.Context(), "c1", velaflows.ConversationUpdate{Status: "closed", Priority: "high", AssignedAgentID: "agent7"})
		}, `{"status":"closed","priority":"high","assignedAgentId":"agent7"}`},
		{"assign", func() (*velaflows.Conversation, *velaflows.Response, error) {
			return c.AssignConversation(t.Context(), "c1", "agent7")
		}, `{"assignedAgentId":"agent7"}`},
		{"unassign", func() (*velaflows.Conversation, *velaflows.Response, error) {
			return c.UnassignConversation(t.Context(), "c1")
		}, `{"assignedAgentId":null}`},
		{"status", func() (*velaflows.Conversation, *velaflows.Response, error) {
			return c.SetConversationStatus(t.Context(), "c1", velaflows.StatusClosed)
		}, `{"status":"closed"}`},
	}
	for _, tt := range tests {
		conv, _, err := tt.call()
		require.NoError(t, err, tt.name)
		assert.JSONEq(t, tt.want, string(f.last(t).Body), tt.name)
		assert.Equal(t, "closed", conv.Status, tt.name)
	}
}

const leadJSON = `{"_id":"65f0c0ffee0000000000d001","firstName":"Jane","lastName":"Smith","email":"jane.smith@example.com","phone":"+1234567890","status":"new","pipelineId":"65a1b2c3d4e5f6a7b8c9d0e1","stageId":"65a1b2c3d4e5f6a7b8c9d0e2","createdAt":"2026-03-24T14:30:00.000Z"}`

var wantLead = velaflows.Lead{
	ID: "65f0c0ffee0000000000d001", FirstName: "Jane", LastName: "Smith", Email: "jane.smith@example.com",
	Phone: "+1234567890", Status: "new", PipelineID: "65a1b2c3d4e5f6a7b8c9d0e1", StageID: "65a1b2c3d4e5f6a7b8c9d0e2",
	CreatedAt: ts("2026-03-24T14:30:00Z"),
}

func TestClient_Leads(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/crm/leads", 200, pageJSON(`[`+leadJSON+`]`, 1, 100, 1))
	f.reply("GET", "/crm/leads/65f0c0ffee0000000000d001", 200, ok(`{"lead":`+leadJSON+`}`))
	c := f.newClient(t)

	// The export query of VelaFlows' Python examples.
	page, _, err := c.Leads(t.Context(), velaflows.LeadsOptions{ListOptions: velaflows.ListOptions{Page: 1, Limit: 100, SortBy: "createdAt", SortOrder: velaflows.SortDesc}})
	require.NoError(t, err)
	assert.Equal(t, url.Values{"page": {"1"}, "limit": {"100"}, "sortBy": {"createdAt"}, "sortOrder": {"desc"}}, f.last(t).Query)
	require.Len(t, page.Items, 1)
	assert.Equal(t, wantLead, page.Items[0])

	lead, _, err := c.Lead(t.Context(), "65f0c0ffee0000000000d001")
	require.NoError(t, err)
	assert.Equal(t, wantLead, *lead)
}

func TestClient_CreateLead(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("POST", "/crm/leads", 201, ok(`{"lead":`+leadJSON+`}`))
	c := f.newClient(t)

	// The Python example's lead, field names literally.
	lead, resp, err := c.CreateLead(t.Context(), velaflows.LeadRequest{
		FirstName: "Jane", LastName: "Smith", Email: "jane.smith@example.com", Phone: "+1234567890",
		PipelineID: "65a1b2c3d4e5f6a7b8c9d0e1", StageID: "65a1b2c3d4e5f6a7b8c9d0e2",
	})
	require.NoError(t, err)
	assert.Equal(t, 201, resp.StatusCode)
	assert.JSONEq(t, `{"firstName":"Jane","lastName":"Smith","email":"jane.smith@example.com","phone":"+1234567890","pipelineId":"65a1b2c3d4e5f6a7b8c9d0e1","stageId":"65a1b2c3d4e5f6a7b8c9d0e2"}`, string(f.last(t).Body))
	assert.Equal(t, "65f0c0ffee0000000000d001", lead.ID)

	// Optional fields are left out.
	_, _, err = c.CreateLead(t.Context(), velaflows.LeadRequest{FirstName: "Grace", PipelineID: "p1", StageID: "s1"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"firstName":"Grace","pipelineId":"p1","stageId":"s1"}`, string(f.last(t).Body))
}

// TestClient_CreateLead_validationError is the error-handling
// example of VelaFlows' Python examples: the API's VALIDATION_ERROR with details.
func TestClient_CreateLead_validationError(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("POST", "/crm/leads", 400, `{"success":false,"error":{"code":"VALIDATION_ERROR","message":"Request body failed validation","details":{"errors":[{"path":"email","message":"Invalid email"}]}}}`)
	c := f.newClient(t)
	_, _, err := c.CreateLead(t.Context(), velaflows.LeadRequest{FirstName: "Jane", Email: "invalid-email", PipelineID: "p1", StageID: "s1"})
	require.Error(t, err)
	assert.True(t, velaflows.IsCode(err, velaflows.CodeValidation))
	var apiErr *velaflows.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, []velaflows.FieldError{{Path: "email", Message: "Invalid email"}}, apiErr.FieldErrors())
}

func TestClient_UpdateDeleteLead(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("PATCH", "/crm/leads/l1", 200, ok(`{"lead":{"_id":"l1","stageId":"s2"}}`))
	f.reply("DELETE", "/crm/leads/l1", 200, ok(`{"deleted":true}`))
	f.handle("DELETE", "/crm/leads/l2", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	f.reply("DELETE", "/crm/leads/l3", 404, `{"success":false,"error":{"code":"NOT_FOUND","message":"Lead not found","details":{"resourceId":"l3"}}}`)
	c := f.newClient(t)

	lead, _, err := c.UpdateLead(t.Context(), "l1", velaflows.LeadUpdate{StageID: "s2", Status: "qualified"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"stageId":"s2","status":"qualified"}`, string(f.last(t).Body))
	assert.Equal(t, "s2", lead.StageID)

	resp, err := c.DeleteLead(t.Context(), "l1")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	resp, err = c.DeleteLead(t.Context(), "l2")
	require.NoError(t, err)
	assert.Equal(t, 204, resp.StatusCode)
	_, err = c.DeleteLead(t.Context(), "l3")
	require.True(t, velaflows.IsCode(err, velaflows.CodeNotFound))
	var apiErr *velaflows.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "l3", apiErr.ResourceID())
	assert.Equal(t, "DELETE", apiErr.Method)
}

func TestClient_customers(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	const id = "65a1b2c3d4e5f6a7b8c9d0e1"
	// VelaFlows' Python examples read data.lead; the emulator returns the
	// record under both data.customer and data.lead.
	f.reply("PATCH", "/customers/"+id, 200, ok(`{"lead":{"_id":"`+id+`","firstName":"Jane","lastName":"Doe","email":"jane.doe@newcompany.com"}}`))
	f.reply("PATCH", "/customers/both", 200, ok(`{"customer":{"_id":"both","email":"c@x"},"lead":{"_id":"both","email":"l@x"}}`))
	f.reply("GET", "/customers/"+id, 200, ok(`{"customer":{"_id":"`+id+`","firstName":"Jane","phone":"+1234567890","createdAt":"2026-03-24T14:30:00.000Z"}}`))
	f.reply("GET", "/customers", 200, pageJSON(`[{"_id":"k1"},{"_id":"k2"}]`, 1, 20, 2))
	f.reply("POST", "/customers", 201, ok(`{"customer":{"_id":"k3","email":"new@x"}}`))
	c := f.newClient(t)

	// The Python example's update.
	cust, _, err := c.UpdateCustomer(t.Context(), id, velaflows.CustomerUpdate{FirstName: "Jane", LastName: "Doe", Email: "jane.doe@newcompany.com"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"firstName":"Jane","lastName":"Doe","email":"jane.doe@newcompany.com"}`, string(f.last(t).Body))
	assert.Equal(t, velaflows.Customer{ID: id, FirstName: "Jane", LastName: "Doe", Email: "jane.doe@newcompany.com"}, *cust)

	cust, _, err = c.UpdateCustomer(t.Context(), "both", velaflows.CustomerUpdate{Email: "c@x"})
	require.NoError(t, err)
	assert.Equal(t, "c@x", cust.Email, "data.customer wins over data.lead")

	cust, _, err = c.Customer(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, velaflows.Customer{ID: id, FirstName: "Jane", Phone: "+1234567890", CreatedAt: ts("2026-03-24T14:30:00Z")}, *cust)

	page, _, err := c.Customers(t.Context(), velaflows.CustomersOptions{ListOptions: velaflows.ListOptions{Search: "jane"}})
	require.NoError(t, err)
	assert.Equal(t, url.Values{"search": {"jane"}}, f.last(t).Query)
	assert.Len(t, page.Items, 2)

	cust, _, err = c.CreateCustomer(t.Context(), velaflows.CustomerRequest{Email: "new@x"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"email":"new@x"}`, string(f.last(t).Body))
	assert.Equal(t, "k3", cust.ID)
}

func TestClient_tags(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/tags", 200, pageJSON(`[{"_id":"65f0c0ffee0000000000e001","name":"vip","color":"#ff0000","entityType":"conversation"}]`, 1, 20, 1))
	f.reply("POST", "/tags", 201, ok(`{"tag":{"_id":"t2","name":"urgent","entityType":"conversation"}}`))
	f.reply("DELETE", "/tags/t2", 200, ok(`{}`))
	c := f.newClient(t)

	page, _, err := c.Tags(t.Context(), velaflows.TagsOptions{EntityType: velaflows.TagEntityConversation})
	require.NoError(t, err)
	assert.Equal(t, url.Values{"entityType": {"conversation"}}, f.last(t).Query)
	assert.Equal(t, []velaflows.Tag{{ID: "65f0c0ffee0000000000e001", Name: "vip", Color: "#ff0000", EntityType: "conversation"}}, page.Items)

	tag, _, err := c.CreateTag(t.Context(), velaflows.TagRequest{Name: "urgent", EntityType: velaflows.TagEntityConversation})
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"urgent","entityType":"conversation"}`, string(f.last(t).Body))
	assert.Equal(t, "t2", tag.ID)

	_, err = c.DeleteTag(t.Context(), "t2")
	require.NoError(t, err)
	assert.Equal(t, "DELETE /tags/t2", f.last(t).Method+" "+f.last(t).Path)
}

func TestClient_ExportLeadsCSV(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("GET", "/crm/leads", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "100", r.URL.Query().Get("limit"))
		assert.Equal(t, "createdAt", r.URL.Query().Get("sortBy"))
		assert.Equal(t, "desc", r.URL.Query().Get("sortOrder"))
		switch r.URL.Query().Get("page") {
		case "1":
			writeJSON(w, 200, ok(`{"items":[`+leadJSON+`,{"_id":"l2","firstName":"Ann, \"the\" first"}],"pagination":{"page":1,"limit":100,"total":3,"totalPages":2}}`))
		case "2":
			writeJSON(w, 200, ok(`{"items":[{"_id":"l3","email":"x@y"}],"pagination":{"page":2,"limit":100,"total":3,"totalPages":2}}`))
		default:
			t.Errorf("page %s requested", r.URL.Query().Get("page"))
		}
	})
	c := f.newClient(t)
	var buf bytes.Buffer
	var progress [][2]int
	n, err := c.ExportLeadsCSV(t.Context(), &buf, func(done, total int) { progress = append(progress, [2]int{done, total}) })
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, "_id,firstName,lastName,email,phone,status,createdAt\r\n"+
		"65f0c0ffee0000000000d001,Jane,Smith,jane.smith@example.com,+1234567890,new,2026-03-24T14:30:00.000Z\r\n"+
		"l2,\"Ann, \"\"the\"\" first\",,,,,\r\n"+
		"l3,,,x@y,,,\r\n", buf.String())
	assert.Equal(t, [][2]int{{2, 3}, {3, 3}}, progress)

	// No leads: nothing is written.
	g := newFakeAPI(t)
	g.reply("GET", "/crm/leads", 200, pageJSON(`[]`, 1, 100, 0))
	buf.Reset()
	n, err = g.newClient(t).ExportLeadsCSV(t.Context(), &buf, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, n)
	assert.Empty(t, buf.String())

	// An error stops the export and keeps what was written.
	h := newFakeAPI(t)
	h.handle("GET", "/crm/leads", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "1" {
			writeJSON(w, 200, ok(`{"items":[{"_id":"l1"}],"pagination":{"page":1,"limit":100,"total":2,"totalPages":2}}`))
			return
		}
		writeError(w, 403, "FORBIDDEN", "Token lacks required scope", "")
	})
	buf.Reset()
	n, err = h.newClient(t).ExportLeadsCSV(t.Context(), &buf, nil)
	assert.True(t, velaflows.IsCode(err, velaflows.CodeForbidden))
	assert.Equal(t, 1, n)
	assert.Equal(t, "_id,firstName,lastName,email,phone,status,createdAt\r\nl1,,,,,,\r\n", buf.String())
}

// TestClient_validation: invalid input is a *ValidationError and sends
// nothing.
func TestClient_validation(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	c := f.newClient(t)
	ctx := t.Context()
	tests := []struct {
		name      string
		call      func(ctx context.Context) error
		wantField string
	}{
		{"negative page", func(ctx context.Context) error {
			_, _, err := c.Conversations(ctx, velaflows.ConversationsOptions{ListOptions: velaflows.ListOptions{Page: -1}})
			return err
		}, "page"},
		{"limit over 100", func(ctx context.Context) error {
			_, _, err := c.Leads(ctx, velaflows.LeadsOptions{ListOptions: velaflows.ListOptions{Limit: 101}})
			return err
		}, "limit"},
		{"sort order", func(ctx context.Context) error {
			_, _, err := c.Leads(ctx, velaflows.LeadsOptions{ListOptions: velaflows.ListOptions{SortOrder: "DESC"}})
			return err
		}, "sortOrder"},
		{"query repeats status", func(ctx context.Context) error {
			_, _, err := c.Conversations(ctx, velaflows.ConversationsOptions{Status: "open", ListOptions: velaflows.ListOptions{Query: url.Values{"status": {"closed"}}}})
			return err
		}, "status"},
		{"query repeats page", func(ctx context.Context) error {
			_, _, err := c.Tags(ctx, velaflows.TagsOptions{ListOptions: velaflows.ListOptions{Query: url.Values{"page": {"2"}}}})
			return err
		}, "page"},
		{"query repeats entityType", func(ctx context.Context) error {
			_, _, err := c.Tags(ctx, velaflows.TagsOptions{EntityType: "lead", ListOptions: velaflows.ListOptions{Query: url.Values{"entityType": {"x"}}}})
			return err
		}, "entityType"},
		{"send without content", func(ctx context.Context) error {
			_, _, err := c.SendMessage(ctx, "c1", velaflows.MessageRequest{Content: "  "})
			return err
		}, "content"},
		{"send without conversation", func(ctx context.Context) error {
			_, _, err := c.SendMessage(ctx, "", velaflows.MessageRequest{Content: "hi"})
			return err
		}, "conversationId"},
		{"messages without conversation", func(ctx context.Context) error {
			_, _, err := c.ConversationMessages(ctx, "", velaflows.MessagesOptions{})
			return err
		}, "conversationId"},
		{"update conversation without fields", func(ctx context.Context) error {
			_, _, err := c.UpdateConversation(ctx, "c1", velaflows.ConversationUpdate{})
			return err
		}, "body"},
		{"assign and unassign", func(ctx context.Context) error {
			_, _, err := c.UpdateConversation(ctx, "c1", velaflows.ConversationUpdate{AssignedAgentID: "a", Unassign: true})
			return err
		}, "assignedAgentId"},
		{"assign without agent", func(ctx context.Context) error {
			_, _, err := c.AssignConversation(ctx, "c1", "")
			return err
		}, "assignedAgentId"},
		{"status empty", func(ctx context.Context) error {
			_, _, err := c.SetConversationStatus(ctx, "c1", "")
			return err
		}, "status"},
		{"lead without firstName", func(ctx context.Context) error {
			_, _, err := c.CreateLead(ctx, velaflows.LeadRequest{Email: "invalid-email"})
			return err
		}, "firstName"},
		{"lead without pipeline", func(ctx context.Context) error {
			_, _, err := c.CreateLead(ctx, velaflows.LeadRequest{FirstName: "J", StageID: "s"})
			return err
		}, "pipelineId"},
		{"lead without stage", func(ctx context.Context) error {
			_, _, err := c.CreateLead(ctx, velaflows.LeadRequest{FirstName: "J", PipelineID: "p"})
			return err
		}, "stageId"},
		{"update lead without fields", func(ctx context.Context) error {
			_, _, err := c.UpdateLead(ctx, "l1", velaflows.LeadUpdate{})
			return err
		}, "body"},
		{"delete lead without id", func(ctx context.Context) error {
			_, err := c.DeleteLead(ctx, "")
			return err
		}, "id"},
		{"customer without id", func(ctx context.Context) error {
			_, _, err := c.Customer(ctx, "..")
			return err
		}, "id"},
		{"update customer without fields", func(ctx context.Context) error {
			_, _, err := c.UpdateCustomer(ctx, "k1", velaflows.CustomerUpdate{})
			return err
		}, "body"},
		{"create customer without fields", func(ctx context.Context) error {
			_, _, err := c.CreateCustomer(ctx, velaflows.CustomerRequest{})
			return err
		}, "body"},
		{"tag without name", func(ctx context.Context) error {
			_, _, err := c.CreateTag(ctx, velaflows.TagRequest{EntityType: "lead"})
			return err
		}, "name"},
		{"delete tag without id", func(ctx context.Context) error {
			_, err := c.DeleteTag(ctx, " ")
			return err
		}, "id"},
		{"subscription without url", func(ctx context.Context) error {
			_, _, err := c.CreateWebhookSubscription(ctx, "", []string{"conversation.created"}, "s")
			return err
		}, "url"},
		{"subscription with relative url", func(ctx context.Context) error {
			_, _, err := c.CreateWebhookSubscription(ctx, "/hooks", []string{"conversation.created"}, "s")
			return err
		}, "url"},
		{"subscription without events", func(ctx context.Context) error {
			_, _, err := c.CreateWebhookSubscription(ctx, "https://x.example/h", nil, "s")
			return err
		}, "events"},
		{"subscription with empty event", func(ctx context.Context) error {
			_, _, err := c.CreateWebhookSubscription(ctx, "https://x.example/h", []string{"conversation.created", ""}, "s")
			return err
		}, "events"},
		{"update subscription without fields", func(ctx context.Context) error {
			_, _, err := c.UpdateWebhookSubscription(ctx, "s1", velaflows.WebhookSubscriptionUpdate{})
			return err
		}, "body"},
		{"update subscription with bad url", func(ctx context.Context) error {
			_, _, err := c.UpdateWebhookSubscription(ctx, "s1", velaflows.WebhookSubscriptionUpdate{URL: "ftp://x"})
			return err
		}, "url"},
		{"delete subscription without id", func(ctx context.Context) error {
			_, err := c.DeleteWebhookSubscription(ctx, "")
			return err
		}, "id"},
		{"get subscription without id", func(ctx context.Context) error {
			_, _, err := c.WebhookSubscription(ctx, "")
			return err
		}, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(ctx)
			var ve *velaflows.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.wantField, ve.Field)
			assert.Contains(t, err.Error(), "velaflows: ")
			assert.True(t, velaflows.IsValidation(err))
			assert.False(t, velaflows.IsCode(err, velaflows.CodeValidation), "client-side errors have no API code")
		})
	}
	assert.Empty(t, f.requests(), "invalid input sends nothing")
}

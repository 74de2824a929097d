package velaflowstest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
)

const (
	convID  = velaflowstest.SeedConversationID
	emailCv = "65f0c0ffee0000000000a002"
	closedC = "65f0c0ffee0000000000a004"
	maya    = "65f0c0ffee00000000009001"
)

func TestConversations_List(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)

	r := mustOK(t, c.get("/inbox/conversations"))
	assert.Equal(t, map[string]any{"page": 1.0, "limit": 20.0, "total": 7.0, "totalPages": 1.0}, r.pagination())
	first := r.items()[0].(map[string]any)
	for _, k := range []string{"_id", "workspaceId", "channelType", "channel", "status", "priority", "contactName",
		"contactPhone", "contactEmail", "customerId", "assignedAgentId", "tags", "unreadCount", "lastMessageAt", "createdAt", "updatedAt"} {
		assert.Contains(t, first, k)
	}
	assert.Equal(t, testWorkspace, first["workspaceId"])
	assert.Equal(t, "webchat", first["channelType"], "newest first by default")

	tests := []struct {
		query string
		total int
	}{
		{"status=open", 4},
		{"status=closed", 2},
		{"status=pending", 1},
		{"status=bogus", 0}, // unknown filter value: empty list (assumed; the API may answer 400)
		{"channelType=whatsapp", 1},
		{"channelType=whatsapp&status=closed", 0},
		{"search=lovelace", 1},
		{"search=parcel", 1}, // message text
		{"assignedAgentId=" + maya, 1},
		{"status=", 7}, // empty values are ignored
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := mustOK(t, c.get("/inbox/conversations?"+tt.query))
			assert.Equal(t, float64(tt.total), r.pagination()["total"])
			assert.Len(t, r.items(), tt.total)
		})
	}

	r = mustOK(t, c.get("/inbox/conversations?sortBy=lastMessageAt&sortOrder=asc&limit=2&page=2"))
	assert.Equal(t, map[string]any{"page": 2.0, "limit": 2.0, "total": 7.0, "totalPages": 4.0}, r.pagination())
	assert.Len(t, r.items(), 2)
	r = mustOK(t, c.get("/inbox/conversations?page=9"))
	assert.Empty(t, r.items(), "a page past the end is empty with true totals")
	assert.Equal(t, 7.0, r.pagination()["total"])
}

func TestPagination_Validation(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	for _, q := range []string{"limit=101", "limit=0", "limit=x", "page=0", "page=-1", "sortOrder=up", "sortBy=password"} {
		t.Run(q, func(t *testing.T) {
			r := mustFail(t, c.get("/crm/leads?"+q), http.StatusBadRequest, "BAD_REQUEST")
			assert.NotEmpty(t, r.errPaths())
		})
	}
	mustOK(t, c.get("/crm/leads?limit=100"))
}

func TestPagination_ManyPages(t *testing.T) {
	s := newServer(t, velaflowstest.WithoutDemoData(), velaflowstest.WithPageSize(7))
	c := newClient(t, s)
	ids := s.AddLeads(250)
	require.Len(t, ids, 250)

	r := mustOK(t, c.get("/crm/leads"))
	assert.Equal(t, map[string]any{"page": 1.0, "limit": 7.0, "total": 250.0, "totalPages": 36.0}, r.pagination())

	var got []string
	for page := 1; ; page++ {
		r := mustOK(t, c.get(fmt.Sprintf("/crm/leads?page=%d&limit=100&sortBy=createdAt&sortOrder=asc", page)))
		for _, it := range r.items() {
			got = append(got, it.(map[string]any)["_id"].(string))
		}
		if page >= int(r.pagination()["totalPages"].(float64)) {
			assert.Equal(t, 3, page)
			break
		}
	}
	assert.Equal(t, ids, got, "ascending creation order, no gaps or repeats")

	empty := newServer(t, velaflowstest.WithoutDemoData())
	r = mustOK(t, newClient(t, empty).get("/crm/leads"))
	assert.Equal(t, map[string]any{"page": 1.0, "limit": 20.0, "total": 0.0, "totalPages": 0.0}, r.pagination())
	assert.Equal(t, []any{}, r.items())
}

func TestConversations_GetPatchAndActions(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	r := mustOK(t, c.get("/inbox/conversations/"+convID))
	conv := r.obj("conversation")
	assert.Equal(t, convID, conv["_id"])
	assert.Equal(t, "whatsapp", conv["channelType"])
	assert.Equal(t, "whatsapp", conv["channel"])
	assert.Nil(t, conv["assignedAgentId"])
	assert.Equal(t, "Ada Lovelace", conv["contactName"])

	r = mustOK(t, c.patch("/inbox/conversations/"+convID, map[string]any{"assignedAgentId": maya, "priority": "high"}))
	assert.Equal(t, maya, r.obj("conversation")["assignedAgentId"])
	assert.Equal(t, "high", r.obj("conversation")["priority"])
	r = mustOK(t, c.patch("/inbox/conversations/"+convID, map[string]any{"assignedAgentId": nil}))
	assert.Nil(t, r.obj("conversation")["assignedAgentId"])
	r = mustOK(t, c.patch("/inbox/conversations/"+convID, map[string]any{"status": "closed"}))
	assert.Equal(t, "closed", r.obj("conversation")["status"])

	r = mustFail(t, c.patch("/inbox/conversations/"+convID, map[string]any{"status": "done", "assignedAgentId": "bob", "colour": 1}),
		http.StatusUnprocessableEntity, "VALIDATION_ERROR")
	assert.Equal(t, []string{"colour", "status", "assignedAgentId"}, r.errPaths())

	mustOK(t, c.post("/inbox/conversations/"+convID+"/reopen", nil))
	mustOK(t, c.post("/inbox/conversations/"+convID+"/assign", map[string]any{"assignedAgentId": maya}))
	mustFail(t, c.post("/inbox/conversations/"+convID+"/assign", map[string]any{}), http.StatusUnprocessableEntity, "VALIDATION_ERROR")
	mustOK(t, c.post("/inbox/conversations/"+convID+"/unassign", nil))
	r = mustOK(t, c.post("/inbox/conversations/"+convID+"/close", nil))
	assert.Equal(t, "closed", r.obj("conversation")["status"])

	types := []string{}
	for _, e := range s.Events() {
		types = append(types, e.Type)
	}
	assert.Equal(t, []string{
		"conversation.assigned", "conversation.unassigned",
		"conversation.status_changed", "conversation.closed",
		"conversation.status_changed", "conversation.reopened",
		"conversation.assigned", "conversation.unassigned",
		"conversation.status_changed", "conversation.closed",
	}, types)
	cv, ok := s.Conversation(convID)
	require.True(t, ok)
	assert.Equal(t, "closed", cv.Status)
	assert.Empty(t, cv.AssignedAgentID)
}

func TestMessages_SendAndList(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)

	r := mustOK(t, c.post("/inbox/conversations/"+convID+"/messages", map[string]any{"content": "Hello! How can I help you today?", "type": "text"}))
	assert.Equal(t, http.StatusCreated, r.Status)
	msg := r.obj("message")
	assert.Regexp(t, "^[0-9a-f]{24}$", msg["_id"])
	assert.Equal(t, "Hello! How can I help you today?", msg["content"])
	assert.Equal(t, "Hello! How can I help you today?", msg["text"])
	assert.Equal(t, "outbound", msg["direction"])
	assert.Equal(t, convID, msg["conversationId"])

	// The docs' assumed body: "text" is an alias of "content".
	r = mustOK(t, c.post("/inbox/conversations/"+convID+"/messages", map[string]any{"type": "text", "text": "Order #1042 ships tomorrow."}))
	// Both, when equal, are fine.
	mustOK(t, c.post("/inbox/conversations/"+convID+"/messages", map[string]any{"type": "text", "text": "x", "content": "x"}))

	sent := s.WaitSent(t, 3)
	assert.Equal(t, "content", sent[0].Field)
	assert.Equal(t, "text", sent[1].Field)
	assert.Equal(t, "Order #1042 ships tomorrow.", sent[1].Content)
	assert.Equal(t, r.obj("message")["_id"], sent[1].MessageID)
	assert.Equal(t, "whatsapp", sent[1].ChannelType)
	assert.Equal(t, testToken[:16], sent[1].TokenPrefix)

	tests := []struct {
		name  string
		body  any
		paths []string
	}{
		{"no type", map[string]any{"content": "hi"}, []string{"type"}},
		{"image type", map[string]any{"content": "hi", "type": "image"}, []string{"type"}},
		{"no text", map[string]any{"type": "text"}, []string{"content"}},
		{"blank", map[string]any{"type": "text", "content": "  "}, []string{"content"}},
		{"text and content differ", map[string]any{"type": "text", "content": "a", "text": "b"}, []string{"text"}},
		{"too long", map[string]any{"type": "text", "content": strings.Repeat("x", 4097)}, []string{"content"}},
		{"misspelt field", map[string]any{"type": "text", "body": "hi"}, []string{"body", "content"}},
		{"content not a string", map[string]any{"type": "text", "content": 42}, []string{"content"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustFail(t, c.post("/inbox/conversations/"+convID+"/messages", tt.body), http.StatusUnprocessableEntity, "VALIDATION_ERROR")
			assert.Equal(t, tt.paths, r.errPaths())
		})
	}
	mustFail(t, c.post("/inbox/conversations/"+convID+"/messages", "{not json"), http.StatusBadRequest, "BAD_REQUEST")
	mustFail(t, c.post("/inbox/conversations/"+convID+"/messages", "[1]"), http.StatusBadRequest, "BAD_REQUEST")
	mustFail(t, c.do(http.MethodPost, "/inbox/conversations/"+convID+"/messages", `{"type":"text","content":"x"}`, "Content-Type", "text/plain"),
		http.StatusBadRequest, "BAD_REQUEST")
	mustFail(t, c.post("/inbox/conversations/"+convID+"/messages", `{"type":"text","content":"`+strings.Repeat("x", 1<<20)+`"}`),
		http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE")
	mustFail(t, c.post("/inbox/conversations/000000000000000000000000/messages", map[string]any{"type": "text", "content": "x"}),
		http.StatusNotFound, "NOT_FOUND")
	mustFail(t, c.post("/inbox/conversations/"+closedC+"/messages", map[string]any{"type": "text", "content": "x"}),
		http.StatusConflict, "CONFLICT")
	assert.Len(t, s.Sent(), 3, "refused sends are not recorded")

	r = mustOK(t, c.get("/inbox/conversations/"+convID+"/messages"))
	assert.Equal(t, 4.0, r.pagination()["total"])
	newest := r.items()[0].(map[string]any)
	assert.Equal(t, "x", newest["text"], "newest first by default")
	r = mustOK(t, c.get("/inbox/conversations/"+convID+"/messages?sortOrder=asc"))
	oldest := r.items()[0].(map[string]any)
	assert.Equal(t, "inbound", oldest["direction"])
	assert.Equal(t, "contact", oldest["sender"].(map[string]any)["type"])

	cv, _ := s.Conversation(convID)
	require.Len(t, cv.Messages, 4)
	assert.Equal(t, 0, int(mustOK(t, c.get("/inbox/conversations/"+convID)).obj("conversation")["unreadCount"].(float64)))
}

func TestValidationStatus400(t *testing.T) {
	s := newServer(t, velaflowstest.WithValidationStatus(http.StatusBadRequest))
	r := mustFail(t, newClient(t, s).post("/crm/leads", map[string]any{"email": "invalid-email"}), http.StatusBadRequest, "VALIDATION_ERROR")
	assert.Contains(t, r.errPaths(), "email")
}

func TestLeads(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)

	r := mustOK(t, c.get("/crm/leads?page=1&limit=20&sortBy=createdAt&sortOrder=desc"))
	assert.Equal(t, 6.0, r.pagination()["total"])
	lead := r.items()[0].(map[string]any)
	for _, k := range []string{"_id", "firstName", "lastName", "email", "phone", "status", "createdAt", "pipelineId", "stageId"} {
		assert.Contains(t, lead, k)
	}
	assert.Equal(t, "Edsger", lead["firstName"], "newest first")

	body := map[string]any{
		"firstName": "Jane", "lastName": "Smith", "email": "jane.smith@example.com", "phone": "+1234567890",
		"pipelineId": velaflowstest.SeedPipelineID, "stageId": velaflowstest.SeedStageID,
	}
	r = mustOK(t, c.post("/crm/leads", body))
	assert.Equal(t, http.StatusCreated, r.Status)
	id := r.obj("lead")["_id"].(string)
	assert.Equal(t, "new", r.obj("lead")["status"])
	mustOK(t, c.get("/crm/leads/"+id))

	// The error example of VelaFlows' Python examples, and other
	// validation failures.
	r = mustFail(t, c.post("/crm/leads", map[string]any{"email": "invalid-email"}), http.StatusUnprocessableEntity, "VALIDATION_ERROR")
	assert.Equal(t, []string{"firstName", "pipelineId", "stageId", "email"}, r.errPaths())
	r = mustFail(t, c.post("/crm/leads", map[string]any{
		"firstName": "A", "pipelineId": velaflowstest.SeedPipelineID, "stageId": "65f0c0ffee0000000000c002", "phone": "555", "status": "hot",
	}), http.StatusUnprocessableEntity, "VALIDATION_ERROR")
	assert.Equal(t, []string{"phone", "status", "stageId"}, r.errPaths())
	r = mustFail(t, c.post("/crm/leads", map[string]any{"firstName": "A", "pipelineId": "000000000000000000000000", "stageId": velaflowstest.SeedStageID}),
		http.StatusUnprocessableEntity, "VALIDATION_ERROR")
	assert.Equal(t, []string{"pipelineId"}, r.errPaths())

	r = mustOK(t, c.patch("/crm/leads/"+id, map[string]any{"lastName": "Doe", "status": "contacted", "value": 1500}))
	assert.Equal(t, "Doe", r.obj("lead")["lastName"])
	assert.Equal(t, 1500.0, r.obj("lead")["value"])
	r = mustOK(t, c.patch("/crm/leads/"+id, map[string]any{"stageId": "65a1b2c3d4e5f6a7b8c9d0e3"}))
	assert.Equal(t, "65a1b2c3d4e5f6a7b8c9d0e3", r.obj("lead")["stageId"])
	r = mustOK(t, c.patch("/crm/leads/"+id+"/stage", map[string]any{"stageId": "65f0c0ffee0000000000c003", "pipelineId": "65f0c0ffee0000000000c001"}))
	assert.Equal(t, "65f0c0ffee0000000000c001", r.obj("lead")["pipelineId"])
	mustFail(t, c.patch("/crm/leads/"+id, map[string]any{"pipelineId": velaflowstest.SeedPipelineID}), http.StatusUnprocessableEntity, "VALIDATION_ERROR")

	r = mustOK(t, c.del("/crm/leads/"+id))
	assert.Equal(t, map[string]any{"_id": id, "deleted": true}, r.data())
	mustFail(t, c.get("/crm/leads/"+id), http.StatusNotFound, "NOT_FOUND")
	mustFail(t, c.del("/crm/leads/"+id), http.StatusNotFound, "NOT_FOUND")

	var types []string
	for _, e := range s.Events() {
		types = append(types, e.Type)
	}
	assert.Equal(t, []string{"lead.created", "lead.updated", "lead.updated", "lead.stage_changed", "lead.stage_changed", "lead.deleted"}, types)
	last := s.Events()[4]
	assert.JSONEq(t, `"65a1b2c3d4e5f6a7b8c9d0e3"`, string(mustJSON(t, last.Data, "previousStageId")))

	// Filters and sorting.
	r = mustOK(t, c.get("/crm/leads?status=qualified"))
	assert.Equal(t, 2.0, r.pagination()["total"])
	r = mustOK(t, c.get("/crm/leads?search=liskov"))
	assert.Equal(t, 1.0, r.pagination()["total"])
	r = mustOK(t, c.get("/crm/leads?sortBy=firstName&sortOrder=asc"))
	assert.Equal(t, "Barbara", r.items()[0].(map[string]any)["firstName"])

	r = mustOK(t, c.get("/crm/pipelines"))
	assert.Equal(t, 2.0, r.pagination()["total"])
	r = mustOK(t, c.get("/crm/pipelines/"+velaflowstest.SeedPipelineID))
	stages := r.obj("pipeline")["stages"].([]any)
	assert.Equal(t, velaflowstest.SeedStageID, stages[0].(map[string]any)["_id"])
	assert.Len(t, s.Leads(), 6)
}

func TestCustomers(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	r := mustOK(t, c.get("/customers"))
	assert.Equal(t, 7.0, r.pagination()["total"])
	r = mustOK(t, c.get("/customers/"+velaflowstest.SeedCustomerID))
	assert.Equal(t, "Ada", r.obj("customer")["firstName"])

	r = mustOK(t, c.patch("/customers/"+velaflowstest.SeedCustomerID, map[string]any{"firstName": "Jane", "lastName": "Doe", "email": "jane.doe@newcompany.com"}))
	assert.Equal(t, r.obj("customer"), r.obj("lead"), "the record under both keys")
	assert.Equal(t, velaflowstest.SeedCustomerID, r.obj("lead")["_id"])
	assert.Equal(t, "Jane Doe", r.obj("customer")["name"])
	// Conversations show the customer's new name.
	assert.Equal(t, "Jane Doe", mustOK(t, c.get("/inbox/conversations/"+convID)).obj("conversation")["contactName"])

	r = mustFail(t, c.patch("/customers/"+velaflowstest.SeedCustomerID, map[string]any{"email": "nope", "first_name": "x"}), http.StatusUnprocessableEntity, "VALIDATION_ERROR")
	assert.Equal(t, []string{"first_name", "email"}, r.errPaths())
	mustFail(t, c.patch("/customers/000000000000000000000000", map[string]any{"firstName": "x"}), http.StatusNotFound, "NOT_FOUND")

	r = mustOK(t, c.post("/customers", map[string]any{"firstName": "Mary", "email": "mary@example.com"}))
	assert.Equal(t, http.StatusCreated, r.Status)
	mustFail(t, c.post("/customers", map[string]any{"lastName": "x"}), http.StatusUnprocessableEntity, "VALIDATION_ERROR")
	r = mustOK(t, c.get("/customers?search=mary"))
	assert.Equal(t, 1.0, r.pagination()["total"])

	types := []string{}
	for _, e := range s.Events() {
		types = append(types, e.Type)
	}
	assert.Equal(t, []string{"customer.updated", "customer.created"}, types)
}

func TestTags(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	r := mustOK(t, c.get("/tags?entityType=conversation"))
	assert.Equal(t, 3.0, r.pagination()["total"])
	for _, it := range r.items() {
		assert.NotEmpty(t, it.(map[string]any)["name"])
	}
	assert.Equal(t, 0.0, mustOK(t, c.get("/tags?entityType=nothing")).pagination()["total"])
	assert.Equal(t, 5.0, mustOK(t, c.get("/tags")).pagination()["total"])

	r = mustOK(t, c.post("/tags", map[string]any{"name": "returns", "color": "#112233", "entityType": "conversation"}))
	id := r.obj("tag")["_id"].(string)
	mustFail(t, c.post("/tags", map[string]any{"name": "VIP", "entityType": "conversation"}), http.StatusConflict, "CONFLICT")
	mustOK(t, c.post("/tags", map[string]any{"name": "vip", "entityType": "lead"}))
	mustFail(t, c.post("/tags", map[string]any{"name": "x", "color": "red"}), http.StatusUnprocessableEntity, "VALIDATION_ERROR")
	r = mustOK(t, c.patch("/tags/"+id, map[string]any{"name": "refunds"}))
	assert.Equal(t, "refunds", r.obj("tag")["name"])
	mustOK(t, c.get("/tags/"+id))
	mustOK(t, c.del("/tags/"+id))
	mustFail(t, c.get("/tags/"+id), http.StatusNotFound, "NOT_FOUND")
}

func TestSubscriptions_BothSpellings(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	for _, base := range []string{"/webhooks/subscriptions", "/integrations/webhooks"} {
		t.Run(base, func(t *testing.T) {
			r := mustOK(t, c.post(base, map[string]any{
				"url": "https://bot.example.net/hooks/velaflows", "events": []string{"inbox.message.received", "conversation.created"},
				"secret": "whsec_4f7d0b1c9e2a",
			}))
			assert.Equal(t, http.StatusCreated, r.Status)
			sub := r.obj("subscription")
			id := sub["_id"].(string)
			assert.Regexp(t, "^[0-9a-f]{24}$", id)
			assert.Equal(t, true, sub["active"])
			assert.NotContains(t, sub, "secret", "the secret is not echoed")

			mustOK(t, c.get(base+"/"+id))
			r = mustOK(t, c.patch(base+"/"+id, map[string]any{"active": false, "events": []string{"lead.stage_changed"}}))
			assert.Equal(t, false, r.obj("subscription")["active"])
			r = mustOK(t, c.get(base))
			assert.GreaterOrEqual(t, len(r.items()), 1)
			mustOK(t, c.del(base+"/"+id))
			mustFail(t, c.get(base+"/"+id), http.StatusNotFound, "NOT_FOUND")
		})
	}
	// Both spellings see the same subscriptions.
	r := mustOK(t, c.post("/webhooks/subscriptions", map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"lead.created"}}))
	id := r.obj("subscription")["_id"].(string)
	mustOK(t, c.get("/integrations/webhooks/"+id))

	tests := []struct {
		name  string
		body  map[string]any
		paths []string
	}{
		{"plain http", map[string]any{"url": "http://bot.example.net/h", "events": []string{"lead.created"}}, []string{"url"}},
		{"relative url", map[string]any{"url": "/hook", "events": []string{"lead.created"}}, []string{"url"}},
		{"no events", map[string]any{"url": "https://bot.example.net/h", "events": []string{}}, []string{"events"}},
		{"wildcard", map[string]any{"url": "https://bot.example.net/h", "events": []string{"inbox.*"}}, []string{"events.0"}},
		{"misspelt field", map[string]any{"url": "https://bot.example.net/h", "event": []string{"lead.created"}}, []string{"event", "events"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustFail(t, c.post("/integrations/webhooks", tt.body), http.StatusUnprocessableEntity, "VALIDATION_ERROR")
			assert.Equal(t, tt.paths, r.errPaths())
		})
	}
	allowed := newServer(t, velaflowstest.WithAllowHTTPWebhooks())
	mustOK(t, newClient(t, allowed).post("/integrations/webhooks", map[string]any{"url": "http://bot.example.net/h", "events": []string{"lead.created"}}))
}

func TestWorkflowExecute(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	r := mustOK(t, c.post("/workflows/65f0c0ffee0000000000f0a1/execute", map[string]any{"input": map[string]any{"conversationId": convID}}))
	assert.Equal(t, "completed", r.obj("execution")["status"])
	cv, _ := s.Conversation(convID)
	assert.Equal(t, maya, cv.AssignedAgentID)
	assert.Equal(t, "Maya Patel", cv.AssignedAgentName)
	mustOK(t, c.post("/workflows/65f0c0ffee0000000000f0a2/execute", map[string]any{"customer": "x"}))
	ex := s.Executions()
	require.Len(t, ex, 2)
	assert.Equal(t, map[string]any{"customer": "x"}, ex[1].Input, "a bare body is the input")
	mustFail(t, c.post("/workflows/65f0c0ffee0000000000f0a1/execute", map[string]any{}), http.StatusUnprocessableEntity, "VALIDATION_ERROR")
	mustFail(t, c.post("/workflows/000000000000000000000000/execute", nil), http.StatusNotFound, "NOT_FOUND")
}

func TestClockAndTimestamps(t *testing.T) {
	at := time.Date(2026, 3, 24, 14, 30, 0, 0, time.UTC)
	s := newServer(t, velaflowstest.WithClock(func() time.Time { return at }))
	c := newClient(t, s)
	r := mustOK(t, c.post("/crm/leads", map[string]any{"firstName": "A", "pipelineId": velaflowstest.SeedPipelineID, "stageId": velaflowstest.SeedStageID}))
	assert.Equal(t, "2026-03-24T14:30:00.000Z", r.obj("lead")["createdAt"])
	assert.Equal(t, "2026-03-24T14:30:00.000Z", s.Requests()[0].Time.UTC().Format("2006-01-02T15:04:05.000Z"))
}

// mustJSON returns the raw JSON of data[key].
func mustJSON(t *testing.T, data []byte, key string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(data, &m))
	return m[key]
}

// A request is recorded before its answer goes out: a client that has read
// an answer (here pages of 100 leads, larger than the server's write
// buffer, so that they leave before the handler returns) finds the request
// in Requests at once.
func TestRequests_recordedBeforeAnswer(t *testing.T) {
	s := newServer(t, velaflowstest.WithoutDemoData())
	c := newClient(t, s)
	s.AddLeads(100)
	for i := range 200 {
		r := mustOK(t, c.get("/crm/leads?limit=100"))
		require.Len(t, r.items(), 100)
		require.Equal(t, i+1, len(s.Requests()), "request %d is recorded once its answer is read", i)
	}
}

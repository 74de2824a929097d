package sendbeetest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

type contactJSON struct {
	ID                  string  `json:"id"`
	Name                string  `json:"name"`
	Phone               string  `json:"phone"`
	WhatsAppUserID      *string `json:"whatsapp_user_id"`
	CreatedAt           string  `json:"created_at"`
	ModifiedAt          string  `json:"modified_at"`
	HasMessagingConsent bool    `json:"has_messaging_consent"`
	Status              string  `json:"status"`
	Folder              string  `json:"folder"`
	Tags                []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"tags"`
	ContactFields []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"contact_fields"`
	Notes []struct {
		ID    string `json:"id"`
		Value string `json:"value"`
	} `json:"notes"`
}

func (c contactJSON) tagNames() []string {
	var out []string
	for _, t := range c.Tags {
		out = append(out, t.Name)
	}
	return out
}

func (c contactJSON) fields() map[string]string {
	out := map[string]string{}
	for _, f := range c.ContactFields {
		out[f.Key] = f.Value
	}
	return out
}

func (c contactJSON) notes() []string {
	var out []string
	for _, n := range c.Notes {
		out = append(out, n.Value)
	}
	return out
}

type conversationJSON struct {
	ID            string `json:"id"`
	Folder        string `json:"folder"`
	ChatbotActive bool   `json:"chatbot_active"`
	Platform      string `json:"platform"`
	CreatedAt     string `json:"created_at"`
	Contact       struct {
		ID             string  `json:"id"`
		Name           string  `json:"name"`
		Phone          string  `json:"phone"`
		WhatsAppUserID *string `json:"whatsapp_user_id"`
	} `json:"contact"`
	LastMessage struct {
		Direction      *string `json:"direction"`
		Status         *string `json:"status"`
		InboundSentAt  *string `json:"inbound_sent_at"`
		OutboundSentAt *string `json:"outbound_sent_at"`
	} `json:"last_message"`
}

type messageJSON struct {
	ID         string  `json:"id"`
	Body       *string `json:"body"`
	MediaType  *string `json:"media_type"`
	MediaURL   *string `json:"media_url"`
	Status     string  `json:"status"`
	Direction  string  `json:"direction"`
	SentAt     float64 `json:"sent_at"`
	FailReason *string `json:"fail_reason"`
	FromUserID *string `json:"from_user_id"`
	ToUserID   *string `json:"to_user_id"`
}

type sentJSON struct {
	ID                 string `json:"id"`
	MessageID          string `json:"message_id"`
	MessageReferenceID string `json:"message_reference_id"`
	Status             string `json:"status"`
}

func TestServer_Prefix(t *testing.T) {
	s := sendbeetest.NewServer(t)
	assert.True(t, strings.HasPrefix(s.URL(), "http://127.0.0.1:"))
	assert.True(t, strings.HasSuffix(s.URL(), "/api"))
	assert.Equal(t, s.RootURL()+"/api", s.URL())

	c := newClient(t, s)
	c.base = s.RootURL() // an absolute-URL bug: the client drops the base path
	r := c.get("/contacts", "")
	require.Equal(t, http.StatusNotFound, r.Status)
	e := r.err(t)
	assert.Equal(t, "not_found", e.Type)
	assert.Contains(t, e.Detail, "/api")

	c = newClient(t, s)
	r = c.get("/nope", "")
	assert.Equal(t, http.StatusNotFound, r.Status)
	assert.Contains(t, r.err(t).Detail, "endpoint not found: GET /nope")

	r = c.get("/contacts/", "")
	assert.Equal(t, http.StatusNotFound, r.Status)
	assert.Contains(t, r.err(t).Detail, "did you mean /contacts?")

	r = c.request(http.MethodDelete, "/contacts", "", nil, nil)
	require.Equal(t, http.StatusMethodNotAllowed, r.Status)
	assert.Equal(t, "GET, PUT", r.Header.Get("Allow"))
	assert.Equal(t, "method_not_allowed", r.err(t).Type)

	s2 := sendbeetest.NewServer(t, sendbeetest.WithPrefix("v2/"))
	assert.Equal(t, s2.RootURL()+"/v2", s2.URL())
	mustOK(t, newClient(t, s2).get("/teams/members", ""))
}

func TestServer_Contacts(t *testing.T) {
	s := sendbeetest.NewServer(t)
	c := newClient(t, s)

	r := mustOK(t, c.get("/contacts", ""))
	var list []contactJSON
	r.decode(t, &list)
	require.Len(t, list, 3)
	assert.Equal(t, "Ana Horvat", list[0].Name, "newest first")
	assert.Equal(t, "+385911234567", list[0].Phone)
	assert.Equal(t, "HR.1234567890", *list[0].WhatsAppUserID)
	assert.Equal(t, []string{"lead"}, list[0].tagNames())
	assert.Equal(t, map[string]string{"city": "Split", "plan": "pro"}, list[0].fields())
	assert.Equal(t, []string{"asked about pricing"}, list[0].notes())
	assert.Equal(t, "open", list[0].Folder)
	assert.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`, list[0].CreatedAt)
	assert.Equal(t, &meta{CurrentPage: 1, LastPage: 1, PerPage: 10, Total: 3, From: 1, To: 3}, r.Meta)

	var filtered []contactJSON
	mustOK(t, c.get("/contacts", "status=unsubscribed")).decode(t, &filtered)
	require.Len(t, filtered, 1)
	assert.Equal(t, "John Smith", filtered[0].Name)
	mustOK(t, c.get("/contacts", "tags=VIP,newsletter")).decode(t, &filtered)
	assert.Len(t, filtered, 2)
	mustOK(t, c.get("/contacts", "tags[]=lead")).decode(t, &filtered)
	assert.Len(t, filtered, 1)
	mustOK(t, c.get("/contacts", "tags%5B0%5D=lead&tags%5B1%5D=VIP")).decode(t, &filtered)
	assert.Len(t, filtered, 2)

	// Subscribe: tags created on the fly, unknown contact fields ignored with a warning.
	r = mustOK(t, c.post("/contacts/subscribe", map[string]any{
		"phone": "+385 98 765 4321", "name": "Petra", "tags": []string{"lead", "webinar"},
		"notes": []string{"met at the fair"}, "contact_fields": map[string]any{"city": "Rijeka", "age": 31, "shoe_size": 38},
		"block_notifications": true, "block_automation": false,
	}))
	var petra contactJSON
	r.decode(t, &petra)
	assert.Regexp(t, uuidRE, petra.ID)
	assert.Equal(t, "+385987654321", petra.Phone)
	assert.Equal(t, "subscribed", petra.Status)
	assert.Equal(t, []string{"lead", "webinar"}, petra.tagNames())
	assert.Equal(t, map[string]string{"city": "Rijeka", "age": "31"}, petra.fields())
	assert.Equal(t, "unknown contact field ignored: shoe_size", r.Warning)

	var tags []struct{ ID, Name string }
	mustOK(t, c.get("/contacts/tags", "name=webinar")).decode(t, &tags)
	require.Len(t, tags, 1, "the tag was created")

	// Update: notes appended, fields overwritten, tags replaced.
	r = mustOK(t, c.put("/contacts", map[string]any{
		"id": petra.ID, "name": "Petra K.", "notes": []string{"called back"},
		"contact_fields": map[string]any{"city": "Pula", "vip": true}, "tags": []string{"customer"},
	}))
	var upd contactJSON
	r.decode(t, &upd)
	assert.Equal(t, "Petra K.", upd.Name)
	assert.Equal(t, []string{"met at the fair", "called back"}, upd.notes())
	assert.Equal(t, map[string]string{"city": "Pula", "age": "31", "vip": "true"}, upd.fields())
	assert.Equal(t, []string{"customer"}, upd.tagNames())
	assert.Empty(t, r.Warning)

	// Subscribing an existing phone updates it with a warning.
	r = mustOK(t, c.post("/contacts/subscribe", map[string]any{"phone": "+385987654321", "tags": []string{"VIP"}}))
	r.decode(t, &upd)
	assert.Equal(t, petra.ID, upd.ID)
	assert.Equal(t, []string{"customer", "VIP"}, upd.tagNames())
	assert.Contains(t, r.Warning, "already exists")

	// The new contact has a conversation.
	conv, ok := s.ConversationByPhone("+385987654321")
	require.True(t, ok)
	assert.True(t, conv.ChatbotActive)
	assert.Equal(t, "Petra K.", conv.Contact.Name)
}

func TestServer_TagsAndFields(t *testing.T) {
	s := sendbeetest.NewServer(t)
	c := newClient(t, s)
	type tagJSON struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	var tg tagJSON
	mustOK(t, c.post("/contacts/tags", map[string]string{"name": "spring"})).decode(t, &tg)
	assert.Equal(t, "spring", tg.Name)
	mustOK(t, c.put("/contacts/tags", map[string]string{"id": tg.ID, "name": "summer"})).decode(t, &tg)
	assert.Equal(t, "summer", tg.Name)
	var msg struct{ Message string }
	mustOK(t, c.del("/contacts/tags", map[string]string{"id": tg.ID})).decode(t, &msg)
	assert.Equal(t, "Tag deleted", msg.Message)
	assert.Equal(t, http.StatusNotFound, c.del("/contacts/tags", map[string]string{"id": tg.ID}).Status)

	// Deleting a seeded tag removes it from contacts.
	mustOK(t, c.del("/contacts/tags", map[string]string{"id": leadTagID}))
	conv, _ := s.Conversation(anaConv)
	assert.Empty(t, conv.Contact.Tags)

	type fieldJSON struct {
		ID      string   `json:"id"`
		Name    string   `json:"name"`
		Type    string   `json:"type"`
		Options []string `json:"options"`
	}
	var fields []fieldJSON
	mustOK(t, c.get("/contacts/fields", "")).decode(t, &fields)
	require.Len(t, fields, 5)
	assert.Equal(t, fieldJSON{ID: "5eedf1e1-0000-4000-8000-000000000003", Name: "plan", Type: "list",
		Options: []string{"basic", "pro", "enterprise"}}, fields[2])

	var f fieldJSON
	mustOK(t, c.post("/contacts/fields", map[string]any{"name": "size", "type": "list", "options": []string{"S", "M"}})).decode(t, &f)
	assert.Equal(t, []string{"S", "M"}, f.Options)
	r := mustOK(t, c.put("/contacts/fields", map[string]any{"id": f.ID, "options": []string{"S", "M", "L"}}))
	r.decode(t, &f)
	assert.Equal(t, "list", f.Type, "type kept when omitted")
	assert.Equal(t, []string{"S", "M", "L"}, f.Options)
	r = mustOK(t, c.put("/contacts/fields", map[string]any{"id": f.ID, "name": "shirt", "type": "text", "options": []string{"x"}}))
	r.decode(t, &f)
	assert.Equal(t, fieldJSON{ID: f.ID, Name: "shirt", Type: "text", Options: []string{}}, f)
	assert.Contains(t, r.Warning, "options are ignored")

	mustOK(t, c.get("/contacts/fields", "search_query=shi")).decode(t, &fields)
	assert.Len(t, fields, 1)
	mustOK(t, c.del("/contacts/fields", map[string]string{"id": cityField})).decode(t, &msg)
	assert.Equal(t, "Contact field deleted", msg.Message)
	conv, _ = s.Conversation(anaConv)
	assert.Equal(t, map[string]string{"plan": "pro"}, conv.Contact.Fields)
}

func TestServer_Conversations(t *testing.T) {
	clk := newClock(time.Date(2024, 5, 2, 12, 0, 0, 0, time.UTC))
	s := sendbeetest.NewServer(t, sendbeetest.WithClock(clk.Now))
	c := newClient(t, s)
	c.now = clk.Now

	var convs []conversationJSON
	mustOK(t, c.get("/conversations", "")).decode(t, &convs)
	require.Len(t, convs, 3)
	assert.Equal(t, anaConv, convs[0].ID, "most recently active first")
	assert.Equal(t, "whatsapp", convs[0].Platform)
	assert.True(t, convs[0].ChatbotActive)
	assert.Equal(t, "outbound", *convs[0].LastMessage.Direction)
	assert.Equal(t, "2024-05-02 10:00:00", *convs[0].LastMessage.InboundSentAt)
	assert.Equal(t, "2024-05-02 10:01:00", *convs[0].LastMessage.OutboundSentAt)

	mustOK(t, c.get("/conversations", "folder=done")).decode(t, &convs)
	require.Len(t, convs, 1)
	assert.Equal(t, markoConv, convs[0].ID)
	assert.False(t, convs[0].ChatbotActive)

	from := clk.Now().Add(-3 * time.Hour).Unix()
	mustOK(t, c.get("/conversations", "date_from="+strconv.FormatInt(from, 10))).decode(t, &convs)
	assert.Len(t, convs, 1)
	mustOK(t, c.get("/conversations", fmt.Sprintf("date_to=%d", from))).decode(t, &convs)
	assert.Len(t, convs, 2)
	mustOK(t, c.get("/conversations", "search_query=Smith")).decode(t, &convs)
	assert.Len(t, convs, 1)

	var one conversationJSON
	mustOK(t, c.get("/conversation", "conversation_id="+anaConv)).decode(t, &one)
	assert.Equal(t, "Ana Horvat", one.Contact.Name)
	mustOK(t, c.post("/conversation", map[string]string{"conversation_id": anaConv, "folder": "done"})).decode(t, &one)
	assert.Equal(t, "done", one.Folder)

	var msgs []messageJSON
	r := mustOK(t, c.get("/conversations/messages", "conversation_id="+markoConv))
	r.decode(t, &msgs)
	require.Len(t, msgs, 3)
	assert.Equal(t, "Tomorrow before noon.", *msgs[0].Body, "newest first")
	assert.Equal(t, "inbound", msgs[1].Direction)
	assert.InDelta(t, float64(clk.Now().Add(-25*time.Hour).Unix()), msgs[0].SentAt, 0.001)
	var raw []map[string]any
	r.decode(t, &raw)
	for _, k := range []string{"id", "body", "media_type", "media_url", "status", "direction", "sent_at", "fail_reason",
		"action", "meta_data", "from_user_id", "to_user_id"} {
		assert.Contains(t, raw[0], k)
	}

	// An inbound message reopens a done conversation.
	s.CustomerMessage("+385911234567", "", "one more question")
	mustOK(t, c.get("/conversation", "conversation_id="+anaConv)).decode(t, &one)
	assert.Equal(t, "open", one.Folder)
	assert.Equal(t, "inbound", *one.LastMessage.Direction)
}

func TestServer_Templates(t *testing.T) {
	s := sendbeetest.NewServer(t)
	c := newClient(t, s)
	type tplJSON struct {
		ID             string              `json:"id"`
		Status         string              `json:"status"`
		Keyword        string              `json:"keyword"`
		Language       string              `json:"language"`
		Text           string              `json:"text"`
		Attachment     *string             `json:"attachment"`
		Tags           []map[string]string `json:"tags"`
		ButtonTags     []map[string]string `json:"button_tags"`
		Buttons        []map[string]any    `json:"buttons"`
		RejectedReason *string             `json:"rejected_reason"`
	}
	var all []tplJSON
	mustOK(t, c.get("/conversations/messages/templates", "")).decode(t, &all)
	assert.Len(t, all, 7)
	var approved []tplJSON
	mustOK(t, c.get("/conversations/messages/templates", "status=approved")).decode(t, &approved)
	assert.Len(t, approved, 5)
	var rejected []tplJSON
	mustOK(t, c.get("/conversations/messages/templates", "status=rejected")).decode(t, &rejected)
	require.Len(t, rejected, 1)
	require.NotNil(t, rejected[0].RejectedReason)
	assert.NotEmpty(t, *rejected[0].RejectedReason)

	var shipped []tplJSON
	mustOK(t, c.get("/conversations/messages/templates", "search_query=order_shipped")).decode(t, &shipped)
	require.Len(t, shipped, 1)
	assert.Equal(t, []map[string]string{{"name": "1"}}, shipped[0].ButtonTags)
	assert.Equal(t, "url", shipped[0].Buttons[0]["type"])
	assert.Nil(t, shipped[0].Attachment)

	r := mustOK(t, c.get("/conversations/messages/templates", "approved=1"))
	r.decode(t, &approved)
	assert.Len(t, approved, 5)
	assert.Contains(t, r.Warning, "deprecated")
}

func TestServer_SendTemplate(t *testing.T) {
	s := sendbeetest.NewServer(t)
	c := newClient(t, s)
	r := mustOK(t, c.post("/conversations/messages/templates/send", map[string]any{
		"phone": "+385911234567", "template_keyword": "order_shipped", "language": "en",
		"tags": map[string]string{"1": "Ana", "2": "1042"}, "button_tags": map[string]string{"1": "1042"},
		"prevent_bot_off": true,
	}))
	var sent sentJSON
	r.decode(t, &sent)
	assert.Equal(t, anaConv, sent.ID, "id is the conversation id")
	assert.Regexp(t, uuidRE, sent.MessageID)
	assert.True(t, strings.HasPrefix(sent.MessageReferenceID, "wamid."))
	assert.Equal(t, "queued", sent.Status)

	got := s.WaitSent(t, 1)
	assert.Equal(t, "Hi Ana, your order 1042 has shipped.", got[0].Text)
	assert.Equal(t, "order_shipped", got[0].TemplateKeyword)
	assert.Equal(t, "en", got[0].TemplateLanguage)
	assert.Equal(t, map[string]string{"1": "1042"}, got[0].ButtonTags)
	require.NotNil(t, got[0].PreventBotOff)
	assert.True(t, *got[0].PreventBotOff)
	assert.True(t, s.ChatbotActive(anaConv))

	// An image template needs an image attachment; a new number gets a contact.
	r = mustOK(t, c.post("/conversations/messages/templates/send", map[string]any{
		"phone": "+4915112345678", "template_keyword": "spring_sale", "language": "en",
		"tags": map[string]any{"1": 20}, "attachment": "https://cdn.example.com/sale.png", "agent_id": ivanaID,
	}))
	r.decode(t, &sent)
	conv, ok := s.Conversation(sent.ID)
	require.True(t, ok)
	assert.Equal(t, "+4915112345678", conv.Contact.Phone)
	assert.False(t, conv.ChatbotActive, "no prevent_bot_off: the chatbot is turned off")
	assert.Equal(t, ivanaID, conv.AgentID)
	last := conv.Messages[len(conv.Messages)-1]
	assert.Equal(t, "image", last.MediaType)
	assert.Equal(t, "delivered", last.Status)
	assert.Equal(t, "Spring sale: 20 off everything until Sunday!", last.Body)
}

func TestServer_SendMessage(t *testing.T) {
	// It sends to a phone that never wrote, to see its contact made:
	// outside the 24-hour window (TestWindow_* test the window).
	s := sendbeetest.NewServer(t, sendbeetest.WithoutServiceWindow())
	c := newClient(t, s)
	var sent sentJSON
	mustOK(t, c.post("/conversations/messages/send", map[string]any{
		"phone": "+385911234567", "text": "Hello from the bot", "prevent_bot_off": true,
	})).decode(t, &sent)
	assert.Equal(t, anaConv, sent.ID)

	mustOK(t, c.post("/conversations/messages/send", map[string]any{
		"whatsapp_user_id": "HR.1234567890", "text": "Here is the menu", "media_url": "https://cdn.example.com/menu.pdf",
	})).decode(t, &sent)
	assert.Equal(t, anaConv, sent.ID, "found by whatsapp_user_id")

	// With both, the phone wins: an unknown phone is a new contact.
	var other sentJSON
	mustOK(t, c.post("/conversations/messages/send", map[string]any{
		"phone": "+385991111111", "whatsapp_user_id": "HR.1234567890", "text": "hi", "prevent_bot_off": true,
	})).decode(t, &other)
	assert.NotEqual(t, anaConv, other.ID)
	newConv, _ := s.Conversation(other.ID)
	assert.Equal(t, "+385991111111", newConv.Contact.Phone)
	assert.Empty(t, newConv.Contact.WhatsAppUserID, "the whatsapp_user_id belongs to Ana")

	got := s.WaitSent(t, 2)
	assert.Equal(t, "Hello from the bot", got[0].Text)
	assert.Equal(t, "HR.1234567890", got[1].WhatsAppUserID)
	assert.Equal(t, "document", got[1].MediaType)
	assert.Nil(t, got[1].PreventBotOff, "recorded as received: absent")
	assert.False(t, got[1].ChatbotActive)

	var msgs []messageJSON
	mustOK(t, c.get("/conversations/messages", "conversation_id="+anaConv)).decode(t, &msgs)
	assert.Equal(t, sent.MessageID, msgs[0].ID)
	assert.Equal(t, "https://cdn.example.com/menu.pdf", *msgs[0].MediaURL)
	assert.Equal(t, "outbound", msgs[0].Direction)
}

func TestServer_TeamsAndMembers(t *testing.T) {
	s := sendbeetest.NewServer(t)
	c := newClient(t, s)
	type member struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Role      string `json:"role"`
		Online    bool   `json:"online"`
		Available bool   `json:"available"`
		Teams     []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"teams"`
	}
	type team struct {
		ID      string   `json:"id"`
		Name    string   `json:"name"`
		Members []member `json:"members"`
	}
	var teams []team
	mustOK(t, c.get("/teams/teams", "")).decode(t, &teams)
	require.Len(t, teams, 2)
	assert.Equal(t, "Support", teams[0].Name)
	assert.Len(t, teams[0].Members, 2)
	mustOK(t, c.get("/teams/teams", "member_id=5eedae00-0000-4000-8000-000000000003")).decode(t, &teams)
	require.Len(t, teams, 1)
	assert.Equal(t, salesID, teams[0].ID)

	var members []member
	mustOK(t, c.get("/teams/members", "")).decode(t, &members)
	require.Len(t, members, 3)
	assert.Equal(t, "Ivana Horvat", members[0].Name)
	assert.Len(t, members[0].Teams, 2)
	assert.True(t, members[0].Online)
	mustOK(t, c.get("/teams/members", "team_id="+supportID)).decode(t, &members)
	assert.Len(t, members, 2)

	assert.Equal(t, http.StatusBadRequest, c.get("/teams/members", "team_id=nope").Status)
}

func TestServer_ChatbotEndpoints(t *testing.T) {
	s := sendbeetest.NewServer(t)
	c := newClient(t, s)
	var st struct {
		ConversationID string `json:"conversation_id"`
		ChatbotActive  bool   `json:"chatbot_active"`
	}
	mustOK(t, c.get("/automation/chatbot/activity/status", "conversation_id="+anaConv)).decode(t, &st)
	assert.Equal(t, anaConv, st.ConversationID)
	assert.True(t, st.ChatbotActive)

	var msg struct {
		Message string `json:"message"`
	}
	mustOK(t, c.put("/automation/chatbot/activity", map[string]any{"conversation_id": anaConv, "active": false})).decode(t, &msg)
	assert.NotEmpty(t, msg.Message)
	mustOK(t, c.get("/automation/chatbot/activity/status", "conversation_id="+anaConv)).decode(t, &st)
	assert.False(t, st.ChatbotActive)

	r := c.put("/automation/chatbot/activity", map[string]any{"conversation_id": "6a1c2f0e-4b8d-4c1e-9a57-2f1d0c7b9e11", "active": true})
	assert.Equal(t, http.StatusNotFound, r.Status)
	assert.Equal(t, "not_found", r.err(t).Type)
}

func TestServer_Pagination(t *testing.T) {
	s := sendbeetest.NewServer(t, sendbeetest.WithoutDemoData(), sendbeetest.WithRateLimit(0, 0))
	c := newClient(t, s)
	for i := range 25 {
		mustOK(t, c.post("/contacts/tags", map[string]string{"name": fmt.Sprintf("tag-%02d", i)}))
	}
	var tags []struct{ Name string }

	r := mustOK(t, c.get("/contacts/tags", ""))
	r.decode(t, &tags)
	assert.Len(t, tags, 10, "default page size")
	assert.Equal(t, &meta{CurrentPage: 1, LastPage: 3, PerPage: 10, Total: 25, From: 1, To: 10}, r.Meta)

	r = mustOK(t, c.get("/contacts/tags", "page=3"))
	r.decode(t, &tags)
	assert.Len(t, tags, 5)
	assert.Equal(t, &meta{CurrentPage: 3, LastPage: 3, PerPage: 10, Total: 25, From: 21, To: 25}, r.Meta)
	require.NotNil(t, r.Links)
	assert.Nil(t, r.Links.Next)
	assert.Equal(t, s.URL()+"/contacts/tags?page=2", *r.Links.Prev)
	assert.Equal(t, s.URL()+"/contacts/tags?page=1", *r.Links.First)

	r = mustOK(t, c.get("/contacts/tags", "page=4"))
	assert.JSONEq(t, `[]`, string(r.Data), "past the last page: 200 with data []")
	assert.Equal(t, 4, r.Meta.CurrentPage)
	assert.Equal(t, 3, r.Meta.LastPage)

	r = mustOK(t, c.get("/contacts/tags", "page=2&limit=7&name=tag"))
	r.decode(t, &tags)
	assert.Equal(t, "tag-07", tags[0].Name)
	assert.Equal(t, &meta{CurrentPage: 2, LastPage: 4, PerPage: 7, Total: 25, From: 8, To: 14}, r.Meta)
	assert.Equal(t, s.URL()+"/contacts/tags?limit=7&name=tag&page=3", *r.Links.Next)

	r = mustOK(t, c.get("/contacts/tags", "limit=500"))
	assert.Equal(t, 100, r.Meta.PerPage, "limit capped at 100")
	assert.Contains(t, r.Warning, "maximum of 100")

	r = mustOK(t, c.get("/contacts", ""))
	assert.JSONEq(t, `[]`, string(r.Data))
	assert.Equal(t, &meta{CurrentPage: 1, LastPage: 1, PerPage: 10, Total: 0}, r.Meta)

	for _, q := range []string{"page=0", "page=x", "limit=0", "limit=-3"} {
		r = c.get("/contacts/tags", q)
		assert.Equal(t, http.StatusBadRequest, r.Status, q)
		assert.Equal(t, "validation_error", r.err(t).Type, q)
	}

	small := sendbeetest.NewServer(t, sendbeetest.WithPageSize(2))
	r = mustOK(t, newClient(t, small).get("/teams/members", ""))
	assert.Equal(t, 2, r.Meta.PerPage)
	assert.Equal(t, 2, r.Meta.LastPage)
}

func TestServer_Validation(t *testing.T) {
	s := sendbeetest.NewServer(t, sendbeetest.WithRateLimit(0, 0))
	c := newClient(t, s)
	const unknownUUID = "6a1c2f0e-4b8d-4c1e-9a57-2f1d0c7b9e11"
	tests := []struct {
		name       string
		method     string
		path       string
		query      string
		body       any
		wantStatus int
		wantDetail string
	}{
		{"subscribe without phone", "POST", "/contacts/subscribe", "", map[string]any{"name": "x"}, 400, "phone is required"},
		{"subscribe with local phone", "POST", "/contacts/subscribe", "", map[string]any{"phone": "0911234567"}, 400, "leading +"},
		{"subscribe with tags not a list", "POST", "/contacts/subscribe", "", map[string]any{"phone": "+385911234567", "tags": "lead"}, 400, "tags must be an array"},
		{"subscribe with bad list value", "POST", "/contacts/subscribe", "", map[string]any{"phone": "+385911234567", "contact_fields": map[string]any{"plan": "gold"}}, 400, "contact_fields.plan"},
		{"subscribe with bad number", "POST", "/contacts/subscribe", "", map[string]any{"phone": "+385911234567", "contact_fields": map[string]any{"age": "old"}}, 400, "not a number"},
		{"malformed JSON", "POST", "/contacts/subscribe", "", `{"phone":`, 400, "JSON object"},
		{"JSON array body", "POST", "/contacts/subscribe", "", `["+385911234567"]`, 400, "JSON object"},
		{"update without id", "PUT", "/contacts", "", map[string]any{"name": "x"}, 400, "id is required"},
		{"update with bad id", "PUT", "/contacts", "", map[string]any{"id": "42"}, 400, "must be a UUID"},
		{"update unknown id", "PUT", "/contacts", "", map[string]any{"id": unknownUUID}, 404, "contact not found"},
		{"tag without name", "POST", "/contacts/tags", "", map[string]any{}, 400, "name is required"},
		{"duplicate tag", "POST", "/contacts/tags", "", map[string]any{"name": "vip"}, 400, "already exists"},
		{"delete tag without id", "DELETE", "/contacts/tags", "", nil, 400, "id is required"},
		{"field with bad type", "POST", "/contacts/fields", "", map[string]any{"name": "x", "type": "color"}, 400, "type must be one of"},
		{"list field without options", "POST", "/contacts/fields", "", map[string]any{"name": "x", "type": "list"}, 400, "options are required"},
		{"bad folder", "GET", "/conversations", "folder=archive", nil, 400, "folder must be one of"},
		{"bad date_from", "GET", "/conversations", "date_from=yesterday", nil, 400, "date_from"},
		{"get conversation without id", "GET", "/conversation", "", nil, 400, "conversation_id is required"},
		{"get unknown conversation", "GET", "/conversation", "conversation_id=" + unknownUUID, nil, 404, "conversation not found"},
		{"folder update to spam", "POST", "/conversation", "", map[string]any{"conversation_id": anaConv, "folder": "spam"}, 400, "open or done"},
		{"messages of unknown conversation", "GET", "/conversations/messages", "conversation_id=" + unknownUUID, nil, 404, "conversation not found"},
		{"bad template status", "GET", "/conversations/messages/templates", "status=live", nil, 400, "status must be one of"},
		{"send without recipient", "POST", "/conversations/messages/send", "", map[string]any{"text": "hi"}, 400, "phone is required"},
		{"send without text or media", "POST", "/conversations/messages/send", "", map[string]any{"phone": "+385911234567"}, 400, "text or media_url"},
		{"send unsupported media", "POST", "/conversations/messages/send", "", map[string]any{"phone": "+385911234567", "media_url": "https://x.example/a.gif"}, 400, "unsupported media format"},
		{"send relative media", "POST", "/conversations/messages/send", "", map[string]any{"phone": "+385911234567", "media_url": "/a.png"}, 400, "absolute"},
		{"prevent_bot_off as string", "POST", "/conversations/messages/send", "", map[string]any{"phone": "+385911234567", "text": "x", "prevent_bot_off": "true"}, 400, "prevent_bot_off must be a boolean"},
		{"unknown agent", "POST", "/conversations/messages/send", "", map[string]any{"phone": "+385911234567", "text": "x", "agent_id": unknownUUID}, 400, "agent_id"},
		{"text too long", "POST", "/conversations/messages/send", "", map[string]any{"phone": "+385911234567", "text": strings.Repeat("x", 4097)}, 400, "maximum is 4096"},
		{"template without keyword", "POST", "/conversations/messages/templates/send", "", map[string]any{"phone": "+385911234567", "language": "en"}, 400, "template_keyword is required"},
		{"template without language", "POST", "/conversations/messages/templates/send", "", map[string]any{"phone": "+385911234567", "template_keyword": "welcome"}, 400, "language is required"},
		{"unknown template", "POST", "/conversations/messages/templates/send", "", map[string]any{"phone": "+385911234567", "template_keyword": "nope", "language": "en"}, 400, "not found"},
		{"template wrong language", "POST", "/conversations/messages/templates/send", "", map[string]any{"phone": "+385911234567", "template_keyword": "welcome", "language": "de", "tags": map[string]string{"1": "x"}}, 400, "languages: en, hr"},
		{"rejected template", "POST", "/conversations/messages/templates/send", "", map[string]any{"phone": "+385911234567", "template_keyword": "cold_outreach", "language": "en", "tags": map[string]string{"1": "x"}}, 400, "is rejected"},
		{"pending template", "POST", "/conversations/messages/templates/send", "", map[string]any{"phone": "+385911234567", "template_keyword": "appointment_reminder", "language": "en"}, 400, "is pending"},
		{"missing tag", "POST", "/conversations/messages/templates/send", "", map[string]any{"phone": "+385911234567", "template_keyword": "order_shipped", "language": "en", "tags": map[string]string{"1": "Ana"}, "button_tags": map[string]string{"1": "x"}}, 400, "{{2}}"},
		{"missing button tag", "POST", "/conversations/messages/templates/send", "", map[string]any{"phone": "+385911234567", "template_keyword": "order_shipped", "language": "en", "tags": map[string]string{"1": "Ana", "2": "1"}}, 400, "button_tags: missing value"},
		{"tags as list", "POST", "/conversations/messages/templates/send", "", map[string]any{"phone": "+385911234567", "template_keyword": "welcome", "language": "en", "tags": []string{"Ana"}}, 400, "tags must be a JSON object"},
		{"image template without attachment", "POST", "/conversations/messages/templates/send", "", map[string]any{"phone": "+385911234567", "template_keyword": "spring_sale", "language": "en", "tags": map[string]string{"1": "x"}}, 400, "requires an image attachment"},
		{"image template with a pdf", "POST", "/conversations/messages/templates/send", "", map[string]any{"phone": "+385911234567", "template_keyword": "spring_sale", "language": "en", "tags": map[string]string{"1": "x"}, "attachment": "https://x.example/a.pdf"}, 400, "got a document URL"},
		{"text template with attachment", "POST", "/conversations/messages/templates/send", "", map[string]any{"phone": "+385911234567", "template_keyword": "welcome", "language": "en", "tags": map[string]string{"1": "x"}, "attachment": "https://x.example/a.png"}, 400, "does not accept an attachment"},
		{"chatbot activity without active", "PUT", "/automation/chatbot/activity", "", map[string]any{"conversation_id": anaConv}, 400, "active is required"},
		{"chatbot status without id", "GET", "/automation/chatbot/activity/status", "", nil, 400, "conversation_id is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.request(tt.method, tt.path, tt.query, tt.body, nil)
			require.Equal(t, tt.wantStatus, r.Status, "body %s", r.Raw)
			e := r.err(t)
			assert.Contains(t, e.Detail, tt.wantDetail)
			if tt.wantStatus == 400 {
				assert.Equal(t, "validation_error", e.Type)
			} else {
				assert.Equal(t, "not_found", e.Type)
			}
		})
	}
	assert.Empty(t, s.Sent(), "failed sends are not recorded")
	assert.True(t, s.ChatbotActive(anaConv), "failed sends change nothing")
}

func TestServer_ContentTypeAndBodyLimit(t *testing.T) {
	s := sendbeetest.NewServer(t)
	c := newClient(t, s)
	r := c.request(http.MethodPost, "/contacts/tags", "", `name=x`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	assert.Equal(t, http.StatusUnsupportedMediaType, r.Status)
	mustOK(t, c.request(http.MethodPost, "/contacts/tags", "", `{"name":"x"}`, map[string]string{"Content-Type": "application/json; charset=utf-8"}))
	r = c.request(http.MethodPost, "/contacts/tags", "", `{"name":"`+strings.Repeat("x", 2<<20)+`"}`, nil)
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.Status)
}

func TestServer_LenientQuery(t *testing.T) {
	s := sendbeetest.NewServer(t)
	c := newClient(t, s)
	var list []contactJSON

	// The Python client appends "?" even without parameters.
	mustOK(t, c.request(http.MethodGet, "/contacts?", "", nil, nil)).decode(t, &list)
	assert.Len(t, list, 3)

	// A raw, unencoded "+" (Python) keeps its meaning: a phone number.
	mustOK(t, c.get("/contacts", "search_query=+385911234567")).decode(t, &list)
	require.Len(t, list, 1)
	assert.Equal(t, "Ana Horvat", list[0].Name)
	// The encoded form (Go url.Values, PHP) works too.
	mustOK(t, c.get("/contacts", "search_query=%2B385911234567")).decode(t, &list)
	assert.Len(t, list, 1)
	// Form encoding of a space as "+" still finds "Ana Horvat".
	mustOK(t, c.get("/contacts", "search_query=Ana+Horvat")).decode(t, &list)
	assert.Len(t, list, 1)
	mustOK(t, c.get("/contacts", "search_query=Ana%20Horvat")).decode(t, &list)
	assert.Len(t, list, 1)
	// A stray % is kept literally instead of failing.
	mustOK(t, c.get("/contacts", "search_query=100%")).decode(t, &list)
	assert.Empty(t, list)

	r := mustOK(t, c.get("/contacts", "searchQuery=Ana"))
	assert.Equal(t, "unknown query parameter ignored: searchQuery", r.Warning)
	r = mustOK(t, c.post("/conversations/messages/send", map[string]any{"phone": "+385911234567", "text": "x", "preventBotOff": true}))
	assert.Equal(t, "unknown field ignored: preventBotOff", r.Warning)
	assert.False(t, s.ChatbotActive(anaConv), "the misspelt flag had no effect")

	reqs := s.Requests()
	assert.Equal(t, "search_query=+385911234567", reqs[1].RawQuery, "raw query recorded as sent")
}

func TestServer_RateLimit(t *testing.T) {
	clk := newClock(time.Unix(1700000000, 0))
	s := sendbeetest.NewServer(t, sendbeetest.WithClock(clk.Now), sendbeetest.WithRateLimit(3, time.Minute))
	c := newClient(t, s)
	c.now = clk.Now
	for i := range 3 {
		r := mustOK(t, c.get("/rate-limit/request-test", ""))
		assert.Equal(t, "3", r.Header.Get("X-RateLimit-Limit"))
		assert.Equal(t, strconv.Itoa(2-i), r.Header.Get("X-RateLimit-Remaining"))
		assert.Equal(t, "1700000060", r.Header.Get("X-RateLimit-Reset"))
		clk.Advance(10 * time.Second)
	}
	r := c.get("/contacts", "")
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	assert.Equal(t, "30", r.Header.Get("Retry-After"))
	assert.Equal(t, "0", r.Header.Get("X-RateLimit-Remaining"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(r.Raw, &body))
	assert.Equal(t, map[string]any{"detail": "Request was throttled. Expected available in 30 seconds.", "error": true, "type": "throttled"}, body)

	// 401 and 404 answers carry the headers too.
	r = c.request(http.MethodGet, "/contacts", "", nil, map[string]string{"X-Api-Key": "x"})
	assert.Equal(t, "0", r.Header.Get("X-RateLimit-Remaining"))

	clk.Advance(30 * time.Second)
	r = mustOK(t, c.get("/contacts", ""))
	assert.Equal(t, "2", r.Header.Get("X-RateLimit-Remaining"))
	assert.Equal(t, "1700000120", r.Header.Get("X-RateLimit-Reset"))

	r = c.get("/rate-limit/error-test", "")
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	assert.Equal(t, "60", r.Header.Get("Retry-After"))
	require.NoError(t, json.Unmarshal(r.Raw, &body))
	assert.Equal(t, true, body["error"])

	off := sendbeetest.NewServer(t, sendbeetest.WithRateLimit(0, 0))
	r = mustOK(t, newClient(t, off).get("/contacts", ""))
	assert.Empty(t, r.Header.Get("X-RateLimit-Limit"))
}

func TestServer_Warnings(t *testing.T) {
	s := sendbeetest.NewServer(t)
	c := newClient(t, s)
	s.WarnNext("API v1 is deprecated")
	r := c.get("/contacts/nope", "")
	require.Equal(t, http.StatusNotFound, r.Status)
	assert.Empty(t, r.Warning, "errors do not consume a forced warning")
	r = mustOK(t, c.get("/contacts", ""))
	assert.Equal(t, "API v1 is deprecated", r.Warning)
	r = mustOK(t, c.get("/contacts", ""))
	assert.Empty(t, r.Warning)
	assert.NotContains(t, string(r.Raw), `"warning"`, "absent, not empty, without a warning")

	s.WarnNext("forced")
	r = mustOK(t, c.post("/contacts/subscribe", map[string]any{"phone": "+385911111111", "contact_fields": map[string]string{"x": "1"}}))
	assert.Equal(t, "unknown contact field ignored: x; forced", r.Warning)
}

func TestServer_ConcurrentUse(t *testing.T) {
	s := sendbeetest.NewServer(t, sendbeetest.WithRateLimit(0, 0))
	c := newClient(t, s)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			phone := fmt.Sprintf("+3859100000%02d", i)
			s.CustomerMessage(phone, "", "hi")
			r := c.post("/conversations/messages/send", map[string]any{"phone": phone, "text": "hello", "prevent_bot_off": true})
			assert.Equal(t, http.StatusOK, r.Status)
			_ = s.Conversations()
			_ = s.Requests()
		})
	}
	wg.Wait()
	assert.Len(t, s.WaitSent(t, 20), 20)
	resp, err := http.Get(s.RootURL() + "/_sim/sent")
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var sent []map[string]any
	require.NoError(t, json.Unmarshal(raw, &sent))
	assert.Len(t, sent, 20)
	http.DefaultClient.CloseIdleConnections()
}

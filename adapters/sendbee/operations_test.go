package sendbee_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
)

const (
	contactJSON = `{
		"id": "6a1c2f0e-4b8d-4c1e-9a57-2f1d0c7b9e11",
		"name": "Ana",
		"phone": "+385911234567",
		"whatsapp_user_id": "HR.1234567890",
		"created_at": "2024-05-02 10:15:00",
		"modified_at": "2024-05-03 11:00:00",
		"has_messaging_consent": true,
		"status": "subscribed",
		"folder": "open",
		"tags": [{"id": "1f0e", "name": "lead", "editable": true, "disable_contact": false, "icons": []}],
		"contact_fields": [{"key": "city", "value": "Split"}, {"key": "age", "value": 42}],
		"notes": [{"id": "n1", "value": "asked about pricing"}]
	}`
	conversationJSON = `{
		"id": "c0ffee00-1111-4222-8333-444455556666",
		"folder": "open",
		"chatbot_active": true,
		"platform": "whatsapp",
		"created_at": "2024-05-02 10:15:03",
		"contact": {"id": "6a1c", "name": "Ana", "phone": "+385911234567", "whatsapp_user_id": null},
		"last_message": {"direction": "inbound", "status": "received", "inbound_sent_at": "2024-05-02 10:15:03", "outbound_sent_at": null}
	}`
	sentJSON = `{"data": {"id": "c0ffee00-1111-4222-8333-444455556666", "message_id": "9d3e", "message_reference_id": "wamid.HBg", "status": "queued"}}`
	meta1    = `"meta": {"current_page": 1, "last_page": 1, "per_page": 10, "total": 1, "from": 1, "to": 1}`
)

// An opCase is one API operation: how to call it, what the fake must
// receive and what it answers.
type opCase struct {
	name   string
	call   func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error)
	method string
	path   string
	query  url.Values // nil: no query at all
	body   string     // "": no body
	reply  string
	check  func(t *testing.T, v any)
}

func operationCases() []opCase {
	return []opCase{
		{
			name: "Contacts",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.Contacts(ctx, sendbee.ContactsOptions{
					Tags: []string{"lead", "vip"}, Status: sendbee.ContactSubscribed,
					SearchQuery: "ana & b+c", Page: 1, Limit: 50,
				})
			},
			method: "GET", path: "/contacts",
			query: url.Values{"tags": {"lead,vip"}, "status": {"subscribed"}, "search_query": {"ana & b+c"}, "page": {"1"}, "limit": {"50"}},
			reply: `{"data": [` + contactJSON + `], ` + meta1 + `}`,
			check: func(t *testing.T, v any) {
				p := v.(*sendbee.Page[sendbee.Contact])
				require.Len(t, p.Items, 1)
				checkContact(t, p.Items[0])
				assert.Equal(t, sendbee.Meta{CurrentPage: 1, LastPage: 1, PerPage: 10, Total: 1, From: 1, To: 1}, p.Meta)
				assert.False(t, p.HasNext())
			},
		},
		{
			name: "SubscribeContact defaults",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.SubscribeContact(ctx, sendbee.SubscribeContactRequest{Phone: "+385911234567"})
			},
			method: "POST", path: "/contacts/subscribe",
			body:  `{"phone": "+385911234567", "block_notifications": true, "block_automation": true}`,
			reply: `{"data": ` + contactJSON + `}`,
			check: func(t *testing.T, v any) { checkContact(t, *v.(*sendbee.Contact)) },
		},
		{
			name: "SubscribeContact all fields",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.SubscribeContact(ctx, sendbee.SubscribeContactRequest{
					Phone: "+385911234567", WhatsAppUserID: "HR.1", Name: "Ana",
					Tags: []string{"lead"}, Notes: []string{"first"},
					ContactFields:      map[string]string{"city": "Split"},
					BlockNotifications: sendbee.Bool(false), BlockAutomation: sendbee.Bool(false),
				})
			},
			method: "POST", path: "/contacts/subscribe",
			body: `{"phone": "+385911234567", "whatsapp_user_id": "HR.1", "name": "Ana", "tags": ["lead"],
				"notes": ["first"], "contact_fields": {"city": "Split"},
				"block_notifications": false, "block_automation": false}`,
			reply: `{"data": [` + contactJSON + `]}`, // a one-element array is accepted too
			check: func(t *testing.T, v any) { checkContact(t, *v.(*sendbee.Contact)) },
		},
		{
			name: "UpdateContact",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.UpdateContact(ctx, sendbee.UpdateContactRequest{
					ID: "6a1c", Phone: "+385911234567", Name: "Ana K", Tags: []string{"vip"},
					Notes: []string{"appended"}, ContactFields: map[string]string{"city": "Zagreb"},
					BlockNotifications: sendbee.Bool(true),
				})
			},
			method: "PUT", path: "/contacts",
			body: `{"id": "6a1c", "phone": "+385911234567", "name": "Ana K", "tags": ["vip"], "notes": ["appended"],
				"contact_fields": {"city": "Zagreb"}, "block_notifications": true}`,
			reply: `{"data": ` + contactJSON + `}`,
			check: func(t *testing.T, v any) { checkContact(t, *v.(*sendbee.Contact)) },
		},
		{
			name: "UpdateContact id only",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.UpdateContact(ctx, sendbee.UpdateContactRequest{ID: "6a1c"})
			},
			method: "PUT", path: "/contacts",
			body:  `{"id": "6a1c"}`,
			reply: `{"data": ` + contactJSON + `}`,
			check: func(t *testing.T, v any) { checkContact(t, *v.(*sendbee.Contact)) },
		},
		{
			name: "ContactTags",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.ContactTags(ctx, sendbee.ContactTagsOptions{Name: "VIP", Page: 2, Limit: 10})
			},
			method: "GET", path: "/contacts/tags",
			query: url.Values{"name": {"VIP"}, "page": {"2"}, "limit": {"10"}},
			reply: `{"data": [{"id": "0b6f", "name": "VIP"}],
				"meta": {"current_page": 2, "last_page": 3, "per_page": 10, "total": 27, "from": 11, "to": 20},
				"links": {"first": "https://x/contacts/tags?page=1", "last": "https://x/contacts/tags?page=3", "prev": "https://x/contacts/tags?page=1", "next": "https://x/contacts/tags?page=3"}}`,
			check: func(t *testing.T, v any) {
				p := v.(*sendbee.Page[sendbee.ContactTag])
				assert.Equal(t, []sendbee.ContactTag{{ID: "0b6f", Name: "VIP"}}, p.Items)
				assert.True(t, p.HasNext())
				assert.Equal(t, 3, p.NextPage())
				assert.Equal(t, "https://x/contacts/tags?page=3", p.Links.Next)
			},
		},
		{
			name: "CreateContactTag",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.CreateContactTag(ctx, "VIP")
			},
			method: "POST", path: "/contacts/tags",
			body:  `{"name": "VIP"}`,
			reply: `{"data": {"id": "0b6f", "name": "VIP"}}`,
			check: func(t *testing.T, v any) {
				assert.Equal(t, &sendbee.ContactTag{ID: "0b6f", Name: "VIP"}, v)
			},
		},
		{
			name: "UpdateContactTag",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.UpdateContactTag(ctx, "0b6f", "Gold")
			},
			method: "PUT", path: "/contacts/tags",
			body:  `{"id": "0b6f", "name": "Gold"}`,
			reply: `{"data": {"id": "0b6f", "name": "Gold"}}`,
			check: func(t *testing.T, v any) {
				assert.Equal(t, &sendbee.ContactTag{ID: "0b6f", Name: "Gold"}, v)
			},
		},
		{
			name: "DeleteContactTag",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.DeleteContactTag(ctx, "0b6f")
			},
			method: "DELETE", path: "/contacts/tags",
			body:  `{"id": "0b6f"}`,
			reply: `{"data": {"message": "Tag deleted"}}`,
			check: func(t *testing.T, v any) {
				assert.Equal(t, &sendbee.ServerMessage{Message: "Tag deleted"}, v)
			},
		},
		{
			name: "ContactFields",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.ContactFields(ctx, sendbee.ContactFieldsOptions{SearchQuery: "ci", Limit: 100})
			},
			method: "GET", path: "/contacts/fields",
			query: url.Values{"search_query": {"ci"}, "limit": {"100"}},
			reply: `{"data": [{"id": "f1", "name": "city", "type": "text", "options": []},
				{"id": "f2", "name": "plan", "type": "list", "options": ["free", "pro"]}], ` + meta1 + `}`,
			check: func(t *testing.T, v any) {
				p := v.(*sendbee.Page[sendbee.ContactField])
				assert.Equal(t, []sendbee.ContactField{
					{ID: "f1", Name: "city", Type: sendbee.FieldText, Options: []string{}},
					{ID: "f2", Name: "plan", Type: sendbee.FieldList, Options: []string{"free", "pro"}},
				}, p.Items)
			},
		},
		{
			name: "CreateContactField list",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.CreateContactField(ctx, sendbee.CreateContactFieldRequest{Name: "plan", Type: sendbee.FieldList, Options: []string{"free", "pro"}})
			},
			method: "POST", path: "/contacts/fields",
			body:  `{"name": "plan", "type": "list", "options": ["free", "pro"]}`,
			reply: `{"data": {"id": "f2", "name": "plan", "type": "list", "options": ["free", "pro"]}}`,
			check: func(t *testing.T, v any) {
				assert.Equal(t, &sendbee.ContactField{ID: "f2", Name: "plan", Type: sendbee.FieldList, Options: []string{"free", "pro"}}, v)
			},
		},
		{
			name: "CreateContactField text",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.CreateContactField(ctx, sendbee.CreateContactFieldRequest{Name: "city", Type: sendbee.FieldText})
			},
			method: "POST", path: "/contacts/fields",
			body:  `{"name": "city", "type": "text"}`,
			reply: `{"data": {"id": "f1", "name": "city", "type": "text"}}`,
			check: func(t *testing.T, v any) {
				assert.Equal(t, &sendbee.ContactField{ID: "f1", Name: "city", Type: sendbee.FieldText}, v)
			},
		},
		{
			name: "UpdateContactField",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.UpdateContactField(ctx, sendbee.UpdateContactFieldRequest{ID: "f1", Name: "town", Type: sendbee.FieldBoolean})
			},
			method: "PUT", path: "/contacts/fields",
			body:  `{"id": "f1", "name": "town", "type": "boolean"}`,
			reply: `{"data": {"id": "f1", "name": "town", "type": "boolean"}}`,
			check: func(t *testing.T, v any) {
				assert.Equal(t, &sendbee.ContactField{ID: "f1", Name: "town", Type: sendbee.FieldBoolean}, v)
			},
		},
		{
			name: "DeleteContactField",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.DeleteContactField(ctx, "f1")
			},
			method: "DELETE", path: "/contacts/fields",
			body:  `{"id": "f1"}`,
			reply: `{"data": {"message": "Contact field deleted"}}`,
			check: func(t *testing.T, v any) {
				assert.Equal(t, &sendbee.ServerMessage{Message: "Contact field deleted"}, v)
			},
		},
		{
			name: "Conversations",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.Conversations(ctx, sendbee.ConversationsOptions{
					Folder: sendbee.FolderOpen, SearchQuery: "ana",
					DateFrom: time.Unix(1714600000, 0), DateTo: time.Unix(1714700000, 0), Page: 1, Limit: 25,
				})
			},
			method: "GET", path: "/conversations",
			query: url.Values{"folder": {"open"}, "search_query": {"ana"}, "date_from": {"1714600000"}, "date_to": {"1714700000"}, "page": {"1"}, "limit": {"25"}},
			reply: `{"data": [` + conversationJSON + `], ` + meta1 + `}`,
			check: func(t *testing.T, v any) {
				p := v.(*sendbee.Page[sendbee.Conversation])
				require.Len(t, p.Items, 1)
				checkConversation(t, p.Items[0])
			},
		},
		{
			name: "Conversation",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.Conversation(ctx, "c0ffee00-1111-4222-8333-444455556666")
			},
			method: "GET", path: "/conversation",
			query: url.Values{"conversation_id": {"c0ffee00-1111-4222-8333-444455556666"}},
			reply: `{"data": ` + conversationJSON + `}`,
			check: func(t *testing.T, v any) { checkConversation(t, *v.(*sendbee.Conversation)) },
		},
		{
			name: "UpdateConversation",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.UpdateConversation(ctx, "c0ffee00-1111-4222-8333-444455556666", sendbee.FolderDone)
			},
			method: "POST", path: "/conversation",
			body:  `{"conversation_id": "c0ffee00-1111-4222-8333-444455556666", "folder": "done"}`,
			reply: `{"data": ` + conversationJSON + `}`,
			check: func(t *testing.T, v any) { checkConversation(t, *v.(*sendbee.Conversation)) },
		},
		{
			name: "ConversationMessages",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.ConversationMessages(ctx, sendbee.MessagesOptions{ConversationID: "c0ffee00", Page: 3})
			},
			method: "GET", path: "/conversations/messages",
			query: url.Values{"conversation_id": {"c0ffee00"}, "page": {"3"}},
			reply: `{"data": [{"id": "m1", "body": "Hi, is the shop open today?", "media_type": null, "media_url": null,
				"status": "received", "direction": "inbound", "sent_at": 1714644903.12, "fail_reason": null,
				"action": null, "meta_data": {"k": 1}, "from_user_id": "u1", "to_user_id": "u2"},
				{"id": "m2", "body": "photo", "media_type": "image", "media_url": "https://cdn/x.png",
				"status": "delivered", "direction": "outbound", "sent_at": 1714644999}],
				"meta": {"current_page": 3, "last_page": 3, "per_page": 2, "total": 6, "from": 5, "to": 6}}`,
			check: func(t *testing.T, v any) {
				p := v.(*sendbee.Page[sendbee.Message])
				require.Len(t, p.Items, 2)
				m := p.Items[0]
				assert.Equal(t, "m1", m.ID)
				assert.Equal(t, "Hi, is the shop open today?", m.Body)
				assert.Equal(t, sendbee.DirectionInbound, m.Direction)
				assert.Equal(t, "received", m.Status)
				assert.Equal(t, time.Date(2024, 5, 2, 10, 15, 3, 120000000, time.UTC), m.SentAt.Time)
				assert.Equal(t, "u1", m.FromUserID)
				assert.Equal(t, "u2", m.ToUserID)
				assert.JSONEq(t, `{"k": 1}`, string(m.MetaData))
				m2 := p.Items[1]
				assert.Equal(t, "image", m2.MediaType)
				assert.Equal(t, "https://cdn/x.png", m2.MediaURL)
				assert.Equal(t, sendbee.DirectionOutbound, m2.Direction)
				assert.Equal(t, int64(1714644999), m2.SentAt.Unix())
			},
		},
		{
			name: "MessageTemplates",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.MessageTemplates(ctx, sendbee.MessageTemplatesOptions{Status: sendbee.TemplateApproved, SearchQuery: "welcome", Page: 1, Limit: 20})
			},
			method: "GET", path: "/conversations/messages/templates",
			query: url.Values{"status": {"approved"}, "search_query": {"welcome"}, "page": {"1"}, "limit": {"20"}},
			reply: `{"data": [{"id": "t1", "status": "approved", "keyword": "welcome", "name": "Welcome", "category": "MARKETING",
				"language": "en", "text": "Welcome {{1}}!", "attachment": "image", "tags": [{"name": "1"}],
				"button_tags": [{"name": "1"}], "buttons": [{"index": 0, "type": "url", "title": "Open", "value": "https://x/{{1}}",
				"icon": null, "action": null, "flow_action": null, "navigate_screen": null, "flow_id": null, "url_type": "dynamic"}],
				"rejected_reason": null},
				{"id": "t2", "status": "rejected", "keyword": "promo", "language": "hr_HR", "text": "Promo", "attachment": null,
				"tags": [], "button_tags": [], "buttons": [], "reject_reason": "policy"}], ` + meta1 + `}`,
			check: func(t *testing.T, v any) {
				p := v.(*sendbee.Page[sendbee.MessageTemplate])
				require.Len(t, p.Items, 2)
				assert.Equal(t, sendbee.MessageTemplate{
					ID: "t1", Status: sendbee.TemplateApproved, Keyword: "welcome", Name: "Welcome", Category: "MARKETING",
					Language: "en", Text: "Welcome {{1}}!", Attachment: sendbee.AttachmentImage,
					Tags: []sendbee.TemplateTag{{Name: "1"}}, ButtonTags: []sendbee.TemplateTag{{Name: "1"}},
					Buttons: []sendbee.TemplateButton{{Index: 0, Type: "url", Title: "Open", Value: "https://x/{{1}}", URLType: "dynamic"}},
				}, p.Items[0])
				assert.Equal(t, sendbee.TemplateRejected, p.Items[1].Status)
				assert.Equal(t, sendbee.AttachmentNone, p.Items[1].Attachment)
				assert.Equal(t, "policy", p.Items[1].RejectedReason)
			},
		},
		{
			name: "SendTemplateMessage",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.SendTemplateMessage(ctx, sendbee.SendTemplateMessageRequest{
					Phone: "+385911234567", TemplateKeyword: "welcome", Language: "en",
					Tags: map[string]string{"1": "John"}, ButtonTags: map[string]string{"1": "page/123"},
					Attachment: "https://cdn/x.png", PreventBotOff: sendbee.Bool(true), AgentID: "a1",
				})
			},
			method: "POST", path: "/conversations/messages/templates/send",
			body: `{"phone": "+385911234567", "template_keyword": "welcome", "language": "en", "tags": {"1": "John"},
				"button_tags": {"1": "page/123"}, "attachment": "https://cdn/x.png", "prevent_bot_off": true, "agent_id": "a1"}`,
			reply: sentJSON,
			check: checkSent,
		},
		{
			name: "SendTemplateMessage prevent_bot_off false is sent",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.SendTemplateMessage(ctx, sendbee.SendTemplateMessageRequest{
					WhatsAppUserID: "HR.1", TemplateKeyword: "welcome", Language: "en", PreventBotOff: sendbee.Bool(false),
				})
			},
			method: "POST", path: "/conversations/messages/templates/send",
			body:  `{"whatsapp_user_id": "HR.1", "template_keyword": "welcome", "language": "en", "prevent_bot_off": false}`,
			reply: sentJSON,
			check: checkSent,
		},
		{
			name: "SendMessage text",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.SendMessage(ctx, sendbee.SendMessageRequest{Phone: "+385911234567", Text: "Hello", PreventBotOff: sendbee.Bool(true)})
			},
			method: "POST", path: "/conversations/messages/send",
			body:  `{"phone": "+385911234567", "text": "Hello", "prevent_bot_off": true}`,
			reply: sentJSON,
			check: checkSent,
		},
		{
			name: "SendMessage media without prevent_bot_off",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.SendMessage(ctx, sendbee.SendMessageRequest{
					Phone: "+385911234567", MediaURL: "https://cdn/x.pdf", AgentID: "a1", LiveInbox: sendbee.Bool(true),
				})
			},
			method: "POST", path: "/conversations/messages/send",
			body:  `{"phone": "+385911234567", "media_url": "https://cdn/x.pdf", "agent_id": "a1", "live_inbox": true}`,
			reply: sentJSON,
			check: checkSent,
		},
		{
			name: "SendMessage prevent_bot_off false is sent",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.SendMessage(ctx, sendbee.SendMessageRequest{Phone: "+385911234567", Text: "Over to a human", PreventBotOff: sendbee.Bool(false)})
			},
			method: "POST", path: "/conversations/messages/send",
			body:  `{"phone": "+385911234567", "text": "Over to a human", "prevent_bot_off": false}`,
			reply: sentJSON,
			check: checkSent,
		},
		{
			name: "Teams",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.Teams(ctx, sendbee.TeamsOptions{MemberID: "u1"})
			},
			method: "GET", path: "/teams/teams",
			query: url.Values{"member_id": {"u1"}},
			reply: `{"data": [{"id": "team1", "name": "Support", "members": [
				{"id": "u1", "name": "Iva", "role": "agent", "online": true, "available": "false"}]}], ` + meta1 + `}`,
			check: func(t *testing.T, v any) {
				p := v.(*sendbee.Page[sendbee.Team])
				assert.Equal(t, []sendbee.Team{{ID: "team1", Name: "Support", Members: []sendbee.TeamMember{
					{ID: "u1", Name: "Iva", Role: "agent", Online: true, Available: false},
				}}}, p.Items)
			},
		},
		{
			name: "Members",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.Members(ctx, sendbee.MembersOptions{TeamID: "team1", Page: 1})
			},
			method: "GET", path: "/teams/members",
			query: url.Values{"team_id": {"team1"}, "page": {"1"}},
			reply: `{"data": [{"id": "u1", "name": "Iva", "role": "owner", "online": "true", "available": true,
				"teams": [{"id": "team1", "name": "Support"}]}], ` + meta1 + `}`,
			check: func(t *testing.T, v any) {
				p := v.(*sendbee.Page[sendbee.Member])
				assert.Equal(t, []sendbee.Member{{ID: "u1", Name: "Iva", Role: "owner", Online: true, Available: true,
					Teams: []sendbee.MemberTeam{{ID: "team1", Name: "Support"}}}}, p.Items)
			},
		},
		{
			name: "SetChatbotActivity off",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.SetChatbotActivity(ctx, "c0ffee00", false)
			},
			method: "PUT", path: "/automation/chatbot/activity",
			body:  `{"conversation_id": "c0ffee00", "active": false}`,
			reply: `{"data": {"message": "Chatbot turned off"}}`,
			check: func(t *testing.T, v any) {
				assert.Equal(t, &sendbee.ServerMessage{Message: "Chatbot turned off"}, v)
			},
		},
		{
			name: "SetChatbotActivity on",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.SetChatbotActivity(ctx, "c0ffee00", true)
			},
			method: "PUT", path: "/automation/chatbot/activity",
			body:  `{"conversation_id": "c0ffee00", "active": true}`,
			reply: `{"data": {"message": "Chatbot turned on"}}`,
			check: func(t *testing.T, v any) {
				assert.Equal(t, &sendbee.ServerMessage{Message: "Chatbot turned on"}, v)
			},
		},
		{
			name: "ChatbotStatus",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.ChatbotStatus(ctx, "c0ffee00")
			},
			method: "GET", path: "/automation/chatbot/activity/status",
			query: url.Values{"conversation_id": {"c0ffee00"}},
			reply: `{"data": {"conversation_id": "c0ffee00", "chatbot_active": true}}`,
			check: func(t *testing.T, v any) {
				assert.Equal(t, &sendbee.ChatbotStatus{ConversationID: "c0ffee00", ChatbotActive: true}, v)
			},
		},
		{
			name: "RateLimitRequestTest",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.RateLimitRequestTest(ctx)
			},
			method: "GET", path: "/rate-limit/request-test",
			reply: `{"data": {"detail": "ok", "error": false, "type": "request_test"}}`,
			check: func(t *testing.T, v any) {
				assert.Equal(t, &sendbee.RateLimitTestResult{Detail: "ok", Type: "request_test"}, v)
			},
		},
		{
			name: "RateLimitErrorTest flat 200",
			call: func(ctx context.Context, c *sendbee.Client) (any, *sendbee.Response, error) {
				return c.RateLimitErrorTest(ctx)
			},
			method: "GET", path: "/rate-limit/error-test",
			reply: `{"detail": "sample", "error": true, "type": "throttled"}`,
			check: func(t *testing.T, v any) {
				assert.Equal(t, &sendbee.RateLimitTestResult{Detail: "sample", Error: true, Type: "throttled"}, v)
			},
		},
	}
}

func TestClient_operations(t *testing.T) {
	t.Parallel()
	for _, tt := range operationCases() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.reply(tt.method, tt.path, http.StatusOK, tt.reply, "X-RateLimit-Limit", "60", "X-RateLimit-Remaining", "59")
			c := f.newClient(t)

			v, resp, err := tt.call(t.Context(), c)
			require.NoError(t, err)
			require.NotNil(t, resp)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.JSONEq(t, tt.reply, string(resp.Raw))
			assert.Equal(t, 60, resp.Rate.Limit)
			assert.Equal(t, 59, resp.Rate.Remaining)
			assert.Empty(t, resp.Warning)

			reqs := f.requests()
			require.Len(t, reqs, 1)
			got := reqs[0]
			assert.Equal(t, tt.method, got.Method)
			assert.Equal(t, tt.path, got.Path)
			if tt.query == nil {
				assert.Empty(t, got.Query)
			} else {
				assert.Equal(t, tt.query, got.Query)
			}
			if tt.body == "" {
				assert.Empty(t, got.Body)
			} else {
				assert.JSONEq(t, tt.body, string(got.Body))
			}
			assert.Contains(t, got.Header.Get("User-Agent"), "parley-sendbee/")
			tt.check(t, v)
		})
	}
}

func checkContact(t *testing.T, c sendbee.Contact) {
	t.Helper()
	assert.Equal(t, "6a1c2f0e-4b8d-4c1e-9a57-2f1d0c7b9e11", c.ID)
	assert.Equal(t, "Ana", c.Name)
	assert.Equal(t, "+385911234567", c.Phone)
	assert.Equal(t, "HR.1234567890", c.WhatsAppUserID)
	assert.Equal(t, time.Date(2024, 5, 2, 10, 15, 0, 0, time.UTC), c.CreatedAt.Time)
	assert.Equal(t, "2024-05-02 10:15:00", c.CreatedAt.Raw)
	assert.Equal(t, time.Date(2024, 5, 3, 11, 0, 0, 0, time.UTC), c.ModifiedAt.Time)
	assert.True(t, c.HasMessagingConsent)
	assert.Equal(t, sendbee.ContactSubscribed, c.Status)
	assert.Equal(t, sendbee.FolderOpen, c.Folder)
	require.Len(t, c.Tags, 1)
	assert.Equal(t, "1f0e", c.Tags[0].ID)
	assert.Equal(t, "lead", c.Tags[0].Name)
	assert.True(t, c.Tags[0].Editable)
	assert.Equal(t, []sendbee.ContactFieldValue{{Key: "city", Value: "Split"}, {Key: "age", Value: "42"}}, c.ContactFields)
	assert.Equal(t, []sendbee.ContactNote{{ID: "n1", Value: "asked about pricing"}}, c.Notes)
}

func checkConversation(t *testing.T, c sendbee.Conversation) {
	t.Helper()
	assert.Equal(t, "c0ffee00-1111-4222-8333-444455556666", c.ID)
	assert.Equal(t, sendbee.FolderOpen, c.Folder)
	assert.True(t, c.ChatbotActive)
	assert.Equal(t, "whatsapp", c.Platform)
	assert.Equal(t, time.Date(2024, 5, 2, 10, 15, 3, 0, time.UTC), c.CreatedAt.Time)
	assert.Equal(t, sendbee.ConversationContact{ID: "6a1c", Name: "Ana", Phone: "+385911234567"}, c.Contact)
	assert.Equal(t, sendbee.DirectionInbound, c.LastMessage.Direction)
	assert.Equal(t, "received", c.LastMessage.Status)
	assert.Equal(t, time.Date(2024, 5, 2, 10, 15, 3, 0, time.UTC), c.LastMessage.InboundSentAt.Time)
	assert.True(t, c.LastMessage.OutboundSentAt.IsZero())
}

func checkSent(t *testing.T, v any) {
	t.Helper()
	assert.Equal(t, &sendbee.SentMessage{
		ConversationID: "c0ffee00-1111-4222-8333-444455556666", MessageID: "9d3e",
		MessageReferenceID: "wamid.HBg", Status: "queued",
	}, v)
}

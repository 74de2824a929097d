package flowdock_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
)

const allColors = "black, blue, cyan, green, grey, lime, orange, purple, red, yellow"

func TestNewStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		color   flowdock.Color
		wantErr bool
	}{
		{color: "black"}, {color: "blue"}, {color: "cyan"}, {color: "green"}, {color: "grey"},
		{color: "lime"}, {color: "orange"}, {color: "purple"}, {color: "red"}, {color: "yellow"},
		{color: "not supported color", wantErr: true},
		{color: "gray", wantErr: true},
		{color: "Red", wantErr: true},
		{color: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(string(tt.color), func(t *testing.T) {
			t.Parallel()
			s, err := flowdock.NewStatus(tt.color, "TODO")
			if !tt.wantErr {
				require.NoError(t, err)
				assert.Equal(t, flowdock.Status{Color: tt.color, Value: "TODO"}, s)
				assert.True(t, tt.color.Valid())
				return
			}
			var ve *flowdock.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "color", ve.Field)
			assert.Equal(t, `flowdock: new status: color "`+string(tt.color)+`" is not supported; supported colors are: `+allColors, err.Error())
			assert.Contains(t, err.Error(), "supported colors are: black, blue, cyan, green, grey, lime, orange, purple, red, yellow")
			assert.Zero(t, s)
			assert.False(t, tt.color.Valid())
		})
	}
}

func TestNewStatus_blankValue(t *testing.T) {
	t.Parallel()
	_, err := flowdock.NewStatus(flowdock.ColorGreen, " ")
	var ve *flowdock.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "value", ve.Field)
}

func TestStatusColors(t *testing.T) {
	t.Parallel()
	cs := flowdock.StatusColors()
	require.Len(t, cs, 10)
	var names []string
	for _, c := range cs {
		names = append(names, string(c))
	}
	assert.Equal(t, allColors, strings.Join(names, ", "))
	cs[0] = "pink"
	assert.Equal(t, flowdock.ColorBlack, flowdock.StatusColors()[0], "the caller's copy")
}

// TestNewThread_seed builds the Python wrapper README's example item with
// the constructors: the posted thread must equal the README's hand-written
// data.
func TestNewThread_seed(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("POST", "/messages", 202, `{}`)
	c := f.newClient(t)

	itemID := "ITEM-01"
	uri := "https://external.service/item/" + itemID
	status, err := flowdock.NewStatus(flowdock.ColorGreen, "TODO")
	require.NoError(t, err)
	item := flowdock.NewThread("Item 01",
		flowdock.WithExternalURL(uri),
		flowdock.WithBody("<strong>The detail of the item here....</strong>"),
		flowdock.WithFields(flowdock.NewField("a", "1"), flowdock.NewField("<a>b</a>", "<a>2</a>")),
		flowdock.WithStatus(status),
		flowdock.WithActions(
			flowdock.ViewAction("Diff", ""),
			flowdock.UpdateAction("Assign to me", uri+"?assign=me", "POST"),
		),
	)
	ray := flowdock.NewAuthor("Ray", "http://somewhere.public/ray.png")
	_, _, err = c.PostActivity(t.Context(), flowdock.Activity{ExternalThreadID: itemID, Author: ray, Title: "created item", Thread: item, UUID: "u-1"})
	require.NoError(t, err)

	want := `{
		"flow_token": "` + testFlowToken + `",
		"event": "activity",
		"external_thread_id": "ITEM-01",
		"author": {"name": "Ray", "avatar": "http://somewhere.public/ray.png"},
		"title": "created item",
		"uuid": "u-1",
		"thread": {
			"title": "Item 01",
			"external_url": "https://external.service/item/ITEM-01",
			"body": "<strong>The detail of the item here....</strong>",
			"fields": [{"label": "a", "value": "1"}, {"label": "<a>b</a>", "value": "<a>2</a>"}],
			"status": {"color": "green", "value": "TODO"},
			"actions": [
				{"@type": "ViewAction", "name": "Diff", "url": ""},
				{"@type": "UpdateAction", "name": "Assign to me",
				 "target": {"@type": "EntryPoint", "urlTemplate": "https://external.service/item/ITEM-01?assign=me", "httpMethod": "POST"}}
			]
		}
	}`
	r := f.last(t)
	assert.True(t, r.FlowToken)
	assert.Empty(t, r.Header.Get("Authorization"), "flow-token posts carry no Basic auth")
	assert.JSONEq(t, want, string(r.Body))
}

func TestClient_PostActivity(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("POST", "/messages", 202, `{}`)
	c := f.newClient(t)

	ray := flowdock.NewAuthor("Ray", "")
	m, resp, err := c.PostActivity(t.Context(), flowdock.Activity{
		ExternalThreadID: "ITEM-01", Author: ray, Title: "created item", Thread: flowdock.NewThread("Item 01"),
	})
	require.NoError(t, err)
	assert.Equal(t, 202, resp.StatusCode)
	assert.Zero(t, resp.UserID, "no Flowdock-User for a flow token")
	body := f.last(t).JSON(t)
	uuid, _ := body["uuid"].(string)
	assert.Regexp(t, uuidRE, uuid)
	delete(body, "uuid")
	assert.Equal(t, map[string]any{
		"flow_token":         testFlowToken,
		"event":              "activity",
		"external_thread_id": "ITEM-01",
		"author":             map[string]any{"name": "Ray"},
		"title":              "created item",
		"thread":             map[string]any{"title": "Item 01"},
	}, body)

	// 202 {}: no id; the Message is what was sent.
	assert.Zero(t, m.ID)
	assert.Equal(t, uuid, m.UUID)
	assert.Equal(t, "activity", m.Event)
	assert.Equal(t, "created item", m.Title)
	assert.Equal(t, "Ray", m.Author.Name)
	assert.Equal(t, "Item 01", m.Thread.Title)

	// An item presented before: only its id, no thread.
	_, _, err = c.PostActivity(t.Context(), flowdock.Activity{ExternalThreadID: "ITEM-01", Author: ray, Title: "touched", Tags: []string{"idea"}, UUID: "u-2"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"flow_token":"`+testFlowToken+`","event":"activity","external_thread_id":"ITEM-01",
		"author":{"name":"Ray"},"title":"touched","tags":["idea"],"uuid":"u-2"}`, string(f.last(t).Body))

	// By Flowdock thread id.
	_, _, err = c.PostActivity(t.Context(), flowdock.Activity{ThreadID: "Hh7Qp0", Author: ray, Title: "closed", UUID: "u-3"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"flow_token":"`+testFlowToken+`","event":"activity","thread_id":"Hh7Qp0",
		"author":{"name":"Ray"},"title":"closed","uuid":"u-3"}`, string(f.last(t).Body))
}

func TestClient_PostDiscussion(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("POST", "/messages", 202, `{}`)
	c := f.newClient(t)

	author := flowdock.NewAuthor("Ray", "")
	author.Email = "ray@example.test"
	m, _, err := c.PostDiscussion(t.Context(), flowdock.Discussion{
		ExternalThreadID: "ITEM-01", Author: author, Title: "commented", Body: "The comment",
		Thread: flowdock.NewThread("Item 01"), UUID: "d-1",
	})
	require.NoError(t, err)
	assert.JSONEq(t, `{"flow_token":"`+testFlowToken+`","event":"discussion","external_thread_id":"ITEM-01",
		"author":{"name":"Ray","email":"ray@example.test"},"title":"commented","body":"The comment",
		"thread":{"title":"Item 01"},"uuid":"d-1"}`, string(f.last(t).Body))
	assert.Equal(t, "The comment", m.Body)
	assert.Equal(t, "d-1", m.UUID)
	assert.Equal(t, "discussion", m.Event)
}

func TestClient_PostActivity_returnedMessage(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	// With X-flowdock-wait-for-message a server returns the message.
	f.reply("POST", "/messages", 200, `{"event":"activity","id":600,"user":"0","app":"influx","content":null,"title":"did","author":{"name":"ci"},"thread_id":"Hh7Qp0","uuid":"a-1"}`)
	m, _, err := f.newClient(t).PostActivity(t.Context(), flowdock.Activity{ExternalThreadID: "B-88", Author: flowdock.NewAuthor("ci", ""), Title: "did", UUID: "a-1"})
	require.NoError(t, err)
	assert.EqualValues(t, 600, m.ID)
	assert.Equal(t, "Hh7Qp0", m.ThreadID)
	assert.Equal(t, "influx", m.App)
}

func TestClient_PostActivity_gone(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("POST", "/messages", 410, `{"message":"Source has been removed"}`)
	_, _, err := f.newClient(t).PostActivity(t.Context(), flowdock.Activity{ExternalThreadID: "X", Author: flowdock.NewAuthor("a", ""), Title: "t"})
	var apiErr *flowdock.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 410, apiErr.StatusCode)
	assert.False(t, apiErr.Temporary())
	assert.NotContains(t, err.Error(), testFlowToken)
}

func TestClient_PostItem_invalid(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	c := f.newClient(t)
	ok := flowdock.Activity{ExternalThreadID: "X", Author: flowdock.NewAuthor("a", ""), Title: "t"}
	with := func(mod func(*flowdock.Activity)) flowdock.Activity {
		a := ok
		mod(&a)
		return a
	}
	tests := []struct {
		name  string
		a     flowdock.Activity
		field string
	}{
		{"no item", with(func(a *flowdock.Activity) { a.ExternalThreadID = "" }), "external_thread_id"},
		{"both ids", with(func(a *flowdock.Activity) { a.ThreadID = "T" }), "external_thread_id"},
		{"no author", with(func(a *flowdock.Activity) { a.Author = flowdock.Author{} }), "author.name"},
		{"no title", with(func(a *flowdock.Activity) { a.Title = " " }), "title"},
		{"thread without title", with(func(a *flowdock.Activity) { a.Thread = flowdock.NewThread("") }), "thread.title"},
		{"bad colour set by hand", with(func(a *flowdock.Activity) {
			a.Thread = flowdock.NewThread("i", flowdock.WithStatus(flowdock.Status{Color: "pink", Value: "x"}))
		}), "thread.status.color"},
		{"field without label", with(func(a *flowdock.Activity) {
			a.Thread = flowdock.NewThread("i", flowdock.WithFields(flowdock.NewField("", "v")))
		}), "thread.fields[0].label"},
		{"action without type", with(func(a *flowdock.Activity) {
			a.Thread = flowdock.NewThread("i", flowdock.WithActions(flowdock.Action{"name": "x"}))
		}), "thread.actions[0]"},
		{"empty tag", with(func(a *flowdock.Activity) { a.Tags = []string{""} }), "tags"},
	}
	for _, tt := range tests {
		_, _, err := c.PostActivity(t.Context(), tt.a)
		var ve *flowdock.ValidationError
		if assert.ErrorAs(t, err, &ve, tt.name) {
			assert.Equal(t, tt.field, ve.Field, tt.name)
		}
	}
	_, _, err := c.PostDiscussion(t.Context(), flowdock.Discussion{ExternalThreadID: "X", Author: flowdock.NewAuthor("a", ""), Title: "commented"})
	var ve *flowdock.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "body", ve.Field)
	bad := with(func(a *flowdock.Activity) {
		a.Thread = flowdock.NewThread("i", flowdock.WithStatus(flowdock.Status{Color: "pink", Value: "x"}))
	})
	_, _, err = c.PostActivity(t.Context(), bad)
	assert.Contains(t, err.Error(), allColors)
	assert.Empty(t, f.requests())
}

func TestClient_PostMessage(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("POST", "/messages", 202, `{}`)
	c := f.newClient(t)

	m, _, err := c.PostMessage(t.Context(), flowdock.IntegrationMessage{
		NewMessage:       flowdock.NewMessage{Content: "Build #88 failed", Tags: []string{"ci"}, ExternalUserName: "CI", UUID: "i-1"},
		ExternalThreadID: "build-88",
	})
	require.NoError(t, err)
	assert.JSONEq(t, `{"flow_token":"`+testFlowToken+`","event":"message","content":"Build #88 failed","tags":["ci"],
		"external_user_name":"CI","external_thread_id":"build-88","uuid":"i-1"}`, string(f.last(t).Body))
	assert.Equal(t, "i-1", m.UUID)
	assert.Equal(t, "Build #88 failed", m.Text())

	_, _, err = c.PostMessage(t.Context(), flowdock.IntegrationMessage{NewMessage: flowdock.NewMessage{Content: "x", ThreadID: "T"}, ExternalThreadID: "E"})
	var ve *flowdock.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "external_thread_id", ve.Field)
}

func TestActions(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal([]flowdock.Action{
		flowdock.ViewAction("Open", "https://tickets.example.test/42"),
		flowdock.UpdateAction("Close", "https://tickets.example.test/42/close", "POST"),
	})
	require.NoError(t, err)
	assert.JSONEq(t, `[{"@type":"ViewAction","name":"Open","url":"https://tickets.example.test/42"},
		{"@type":"UpdateAction","name":"Close","target":{"@type":"EntryPoint","urlTemplate":"https://tickets.example.test/42/close","httpMethod":"POST"}}]`, string(b))
}

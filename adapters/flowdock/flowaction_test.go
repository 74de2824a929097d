package flowdock_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/bot/flow"
	"github.com/parleybot/parley/bot/rulefile"
)

// The adapter resolves the team flows of rules files.
var _ rulefile.ConversationResolver = (*flowdock.Adapter)(nil)

// flowTokenClient is a client of the emulator with only the flow token of
// acme/ops.
func flowTokenClient(t *testing.T, s *flowdocktest.Server) *flowdock.Client {
	t.Helper()
	c, err := flowdock.NewClient(flowdock.Config{FlowToken: s.FlowToken("acme/ops"), BaseURL: s.URL(), Logger: bottestLogger(t)})
	require.NoError(t, err)
	return c
}

// items returns the activities and discussions of acme/ops posted by
// the integration as "Parley" (the emulator's demo flow has others).
func items(s *flowdocktest.Server) []flowdocktest.Message {
	var out []flowdocktest.Message
	for _, m := range s.Messages("acme/ops") {
		if (m.Event == flowdock.EventActivity || m.Event == flowdock.EventDiscussion) && strings.Contains(string(m.JSON), `"author":{"name":"Parley"}`) {
			out = append(out, m)
		}
	}
	return out
}

// requestsSince returns "METHOD /path" of the API requests after the first n.
func requestsSince(s *flowdocktest.Server, n int) []string {
	var out []string
	for _, r := range s.Requests()[n:] {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func leadPresentation(key string) flow.ActionCall {
	return flow.ActionCall{
		Key: key, Flow: "qualify", Platform: "sendbee", Conversation: "c1",
		Args: map[string]any{
			"title":  "New lead",
			"url":    "https://crm.example.test/leads/42",
			"status": "qualified", "color": "green",
			"fields": map[string]any{"Source": "WhatsApp", "Score": int64(80)},
			"values": []string{"name", "need", "missing"},
			"tags":   "lead, sales",
		},
		Values: flow.Values{"name": "Ada <Lovelace>", "need": "CRM"},
	}
}

func TestPresentAction(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := emuClient(t, s)
	act := flowdock.PresentAction(c, flowdock.FlowChat("acme", "ops"))
	call := leadPresentation("qualify/run-1/$done/2")

	require.NoError(t, act.Run(t.Context(), call))
	posted := items(s)
	require.Equal(t, 1, len(posted))
	m := posted[0]
	assert.Equal(t, flowdock.EventActivity, m.Event)
	assert.Equal(t, "created", m.Title)
	assert.NotEmpty(t, m.UUID)
	assert.ElementsMatch(t, []string{"lead", "sales"}, m.Tags)

	threads, _, err := c.ListThreads(t.Context(), "acme", "ops", flowdock.ThreadListOptions{})
	require.NoError(t, err)
	var th *flowdock.Thread
	for i := range threads {
		if threads[i].ID == m.ThreadID {
			th = &threads[i]
		}
	}
	require.NotNil(t, th, "the item's thread")
	assert.Equal(t, "New lead", th.Title)
	assert.Equal(t, "https://crm.example.test/leads/42", th.ExternalURL)
	assert.Equal(t, &flowdock.Status{Color: flowdock.ColorGreen, Value: "qualified"}, th.Status)
	assert.Equal(t, []flowdock.Field{
		{Label: "Score", Value: "80"}, {Label: "Source", Value: "WhatsApp"},
		{Label: "name", Value: "Ada &lt;Lovelace&gt;"}, {Label: "need", Value: "CRM"},
	}, th.Fields, "rows in label order, then the flow's values, escaped")

	t.Run("a repeated call looks and does not post", func(t *testing.T) {
		n := len(s.Requests())
		require.NoError(t, act.Run(t.Context(), call))
		assert.Equal(t, 1, len(items(s)))
		for _, r := range requestsSince(s, n) {
			assert.NotEqual(t, "POST /messages", r)
		}
	})
	t.Run("another call of the thread goes to the same thread", func(t *testing.T) {
		next := leadPresentation("qualify/run-1/$done/3")
		next.Args["thread"] = "lead-42"
		first := leadPresentation("qualify/run-1/$done/4")
		first.Args["thread"] = "lead-42"
		first.Args["comment"] = "Called <b>back</b>"
		require.NoError(t, act.Run(t.Context(), next))
		require.NoError(t, act.Run(t.Context(), first))
		got := items(s)
		require.Equal(t, 3, len(got))
		assert.Equal(t, got[1].ThreadID, got[2].ThreadID)
		assert.NotEqual(t, got[0].ThreadID, got[1].ThreadID)
		assert.Equal(t, flowdock.EventDiscussion, got[2].Event)
		assert.Equal(t, "commented", got[2].Title)
		assert.Equal(t, "Called <b>back</b>", got[2].Body)
	})
}

// threadOf returns the thread of the item m.
func threadOf(t *testing.T, c *flowdock.Client, m flowdocktest.Message) *flowdock.Thread {
	t.Helper()
	threads, _, err := c.ListThreads(t.Context(), "acme", "ops", flowdock.ThreadListOptions{})
	require.NoError(t, err)
	for i := range threads {
		if threads[i].ID == m.ThreadID {
			return &threads[i]
		}
	}
	require.FailNow(t, "no thread of the item")
	return nil
}

// fields may be a list of {label, value} mappings, as a rules file writes
// them, whose rows keep their order; in every form a row whose value is
// empty is left out.
func TestPresentAction_fieldsInOrder(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := emuClient(t, s)
	act := flowdock.PresentAction(c, flowdock.FlowChat("acme", "ops"))
	for i, tt := range []struct {
		name   string
		fields any
		want   []flowdock.Field
	}{
		{
			name: "list",
			fields: []any{
				map[string]any{"label": "Name", "value": "Ana"},
				map[string]any{"label": "Phone", "value": " "},
				map[string]any{"label": "Company size", "value": "51-200"},
				map[string]any{"label": "Seats", "value": int64(12)},
				map[string]any{"label": "Note"},
				map[string]any{"label": "Conversation", "value": "sendbee c1"},
			},
			want: []flowdock.Field{{Label: "Name", Value: "Ana"}, {Label: "Company size", Value: "51-200"},
				{Label: "Seats", Value: "12"}, {Label: "Conversation", Value: "sendbee c1"}},
		},
		{
			name:   "map",
			fields: map[string]any{"Name": "Ana", "Phone": "", "Need": "CRM"},
			want:   []flowdock.Field{{Label: "Name", Value: "Ana"}, {Label: "Need", Value: "CRM"}},
		},
		{
			name:   "Go",
			fields: []flowdock.Field{{Label: "Name", Value: "Ana"}, {Label: "Phone"}},
			want:   []flowdock.Field{{Label: "Name", Value: "Ana"}},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			call := flow.ActionCall{Key: fmt.Sprintf("fields/%d", i), Args: map[string]any{"title": "Lead: Ana", "fields": tt.fields}}
			before := len(items(s))
			require.NoError(t, act.Run(t.Context(), call))
			got := items(s)
			require.Len(t, got, before+1)
			assert.Equal(t, tt.want, threadOf(t, c, got[before]).Fields)
		})
	}
}

// Without the personal token there is no look-up: the uuid alone keeps a
// retry from posting twice, here after the first attempt's answer was lost.
func TestPresentAction_flowTokenOnly(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	act := flowdock.PresentAction(flowTokenClient(t, s), flowdock.FlowChat("acme", "ops"))
	call := leadPresentation("qualify/run-7/$done/0")

	s.LoseAnswers(1)
	require.Error(t, act.Run(t.Context(), call))
	require.Equal(t, 1, len(items(s)), "the post went through")

	n := len(s.Requests())
	require.NoError(t, act.Run(t.Context(), call), "the refused uuid is the earlier attempt's")
	assert.Equal(t, []string{"POST /messages"}, requestsSince(s, n))
	assert.Equal(t, 1, len(items(s)))
}

func TestPresentAction_badArgs(t *testing.T) {
	t.Parallel()
	ok := map[string]any{"title": "New lead"}
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range ok {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	tests := []struct {
		name   string
		key    string
		args   map[string]any
		values flow.Values
		field  string
	}{
		{"no title", "k", with("title", nil), nil, "args.title"},
		{"title not a string", "k", with("title", 1), nil, "args.title"},
		{"unknown argument", "k", with("colour", "red"), nil, "args.colour"},
		{"status without color", "k", with("status", "new"), nil, "args.color"},
		{"color without status", "k", with("color", "red"), nil, "args.status"},
		{"bad color", "k", with("status", "new", "color", "pink"), nil, "args.color"},
		{"fields not a map", "k", with("fields", "a=b"), nil, "args.fields"},
		{"field value", "k", with("fields", map[string]any{"a": struct{}{}}), nil, "args.fields.a"},
		{"blank field label", "k", with("fields", []flowdock.Field{{Label: " ", Value: "x"}}), nil, "args.fields[0].label"},
		{"field row not a mapping", "k", with("fields", []any{"Name"}), nil, "args.fields[0]"},
		{"field row without a label", "k", with("fields", []any{map[string]any{"value": "x"}}), nil, "args.fields[0].label"},
		{"field row label not a string", "k", with("fields", []any{map[string]any{"label": 3, "value": "x"}}), nil, "args.fields[0].label"},
		{"field row unknown key", "k", with("fields", []any{map[string]any{"label": "a", "valeu": "x"}}), nil, "args.fields[0].valeu"},
		{"field row value", "k", with("fields", []any{map[string]any{"label": "a", "value": struct{}{}}}), nil, "args.fields[0].value"},
		{"tags", "k", with("tags", []any{"a", 2}), nil, "args.tags[1]"},
		{"value", "k", with("values", "size"), flow.Values{"size": map[string]any{}}, "values.size"},
		{"no key and no thread", "", ok, nil, "args.thread"},
	}
	s := flowdocktest.NewServer(t)
	act := flowdock.PresentAction(emuClient(t, s), flowdock.FlowChat("acme", "ops"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ve *flowdock.ValidationError
			require.ErrorAs(t, act.Run(t.Context(), flow.ActionCall{Key: tt.key, Args: tt.args, Values: tt.values}), &ve)
			assert.Equal(t, tt.field, ve.Field)
			assert.Equal(t, "present action", ve.Op)
		})
	}
	assert.Empty(t, s.Requests(), "a bad call sends nothing")
}

func TestPresentAction_panics(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	assert.PanicsWithValue(t, "flowdock: PresentAction: nil client", func() { flowdock.PresentAction(nil, flowdock.Chat{}) })
	assert.Panics(t, func() { flowdock.PresentAction(emuClient(t, s), flowdock.PrivateChat(1305)) })
}

// ExamplePresentAction presents a qualified lead in the sales team's
// flow, with the flow's answers as rows of the item.
func ExamplePresentAction() {
	c, err := flowdock.NewClient(flowdock.Config{}) // FLOWDOCK_TOKEN, FLOWDOCK_FLOW_TOKEN
	if err != nil {
		fmt.Println(err)
		return
	}
	act := flowdock.PresentAction(c, flowdock.FlowChat("acme", "sales"))
	err = act.Run(context.Background(), flow.ActionCall{
		Key: "qualify/run-1/$done/2",
		Args: map[string]any{
			"title":  "New lead",
			"status": "qualified", "color": string(flowdock.ColorGreen),
			"values": []string{"name", "email", "company_size", "need"},
		},
		Values: flow.Values{"name": "Ada Lovelace", "email": "ada@example.org", "company_size": int64(40), "need": "CRM"},
	})
	_ = err
}

// A flow named as its users know it, "org/flow", is the conversation of
// its flow ID; a private chat's "private/<id>" is "private:<id>"; a
// conversation is itself.
func TestAdapter_ResolveConversation(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	a := newAdapter(t, s)
	for name, want := range map[string]string{
		"acme/ops":           s.FlowID("acme/ops"),
		" acme/main ":        s.FlowID("acme/main"),
		s.FlowID("acme/ops"): s.FlowID("acme/ops"),
		"private/42":         "private:42",
		"private:42":         "private:42",
	} {
		got, err := a.ResolveConversation(t.Context(), name)
		require.NoError(t, err, name)
		assert.Equal(t, want, got, name)
	}
	_, err := a.ResolveConversation(t.Context(), "acme/nope")
	var apiErr *flowdock.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 404, apiErr.StatusCode)
	assert.Contains(t, err.Error(), "find flow acme/nope")
}

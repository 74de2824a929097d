package sendbee_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
)

// contactOf reads the contact with phone through the API.
func contactOf(t *testing.T, c *sendbee.Client, phone string) sendbee.Contact {
	t.Helper()
	p, _, err := c.Contacts(t.Context(), sendbee.ContactsOptions{SearchQuery: strings.TrimPrefix(phone, "+")})
	require.NoError(t, err)
	for _, ct := range p.Items {
		if ct.Phone == phone {
			return ct
		}
	}
	require.FailNow(t, "no contact", phone)
	return sendbee.Contact{}
}

func fieldMap(ct sendbee.Contact) map[string]string {
	out := map[string]string{}
	for _, f := range ct.ContactFields {
		out[f.Key] = f.Value
	}
	return out
}

// requestsSince returns "METHOD /path" of the requests after the first n.
func requestsSince(srv *sendbeetest.Server, n int) []string {
	var out []string
	for _, r := range srv.Requests()[n:] {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func TestUpdateContactAction_conversation(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	act := sendbee.UpdateContactAction(c)
	call := flow.ActionCall{
		Key: "qualify/run-1/need/0", Flow: "qualify", Step: "need",
		Platform: sendbee.Name, Conversation: demoAnaConv,
		Args: map[string]any{
			"tags":   []any{"qualified", "lead"},
			"note":   "Needs a CRM for 40 people",
			"fields": map[string]any{"city": "Zagreb", "age": int64(40), "vip": true, "birthday": time.Date(1990, 5, 2, 0, 0, 0, 0, time.UTC)},
			"values": "plan, size",
		},
		Values: flow.Values{"name": "Ana Horvat", "plan": "pro"},
	}
	require.NoError(t, act.Run(t.Context(), call))
	ct := contactOf(t, c, anaPhone)
	assert.Equal(t, "Ana Horvat", ct.Name, "the name comes from the flow's values")
	assert.ElementsMatch(t, []string{"lead", "qualified"}, tagNames(ct.Tags), "tags are added")
	assert.Equal(t, map[string]string{"city": "Zagreb", "age": "40", "vip": "true", "birthday": "1990-05-02", "plan": "pro"}, fieldMap(ct))
	require.Len(t, ct.Notes, 2)
	assert.Equal(t, "asked about pricing", ct.Notes[0].Value)
	assert.Regexp(t, `^Needs a CRM for 40 people \[ref [0-9a-f]{12}\]$`, ct.Notes[1].Value)

	t.Run("a repeated call changes nothing", func(t *testing.T) {
		n := len(srv.Requests())
		require.NoError(t, act.Run(t.Context(), call))
		assert.Equal(t, []string{"GET /conversation", "GET /contacts"}, requestsSince(srv, n), "read, did not write")
		assert.Len(t, contactOf(t, c, anaPhone).Notes, 2)
	})
	t.Run("another call's note is added", func(t *testing.T) {
		again := call
		again.Key = "qualify/run-2/need/0"
		require.NoError(t, act.Run(t.Context(), again))
		assert.Len(t, contactOf(t, c, anaPhone).Notes, 3)
	})
}

func TestUpdateContactAction_subscribe(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	act := sendbee.UpdateContactAction(c)
	call := flow.ActionCall{
		Key: "qualify/run-1/$done/0", Platform: "velaflows", Conversation: "65f0c0ffee0000000000a001",
		Contact: bot.User{Name: "Ivo", Phone: newPhone},
		Args:    map[string]any{"name": "Ivo Ivić", "tags": "lead, qualified", "notes": []string{"one", "two"}, "fields": map[string]string{"city": "Split"}},
	}
	// The subscribe reaches Sendbee but its answer is lost: the retry
	// finds the contact and sends nothing.
	srv.DelayNext(0) // the look-up
	srv.LoseAnswerNext()
	require.Error(t, act.Run(t.Context(), call))
	ct := contactOf(t, c, newPhone)
	assert.Equal(t, "Ivo Ivić", ct.Name)
	assert.ElementsMatch(t, []string{"lead", "qualified"}, tagNames(ct.Tags))
	assert.Equal(t, map[string]string{"city": "Split"}, fieldMap(ct))
	require.Len(t, ct.Notes, 2)

	n := len(srv.Requests())
	require.NoError(t, act.Run(t.Context(), call))
	assert.Equal(t, []string{"GET /contacts"}, requestsSince(srv, n))
	assert.Len(t, contactOf(t, c, newPhone).Notes, 2, "no note twice")
}

func TestUpdateContactAction_lostUpdate(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	act := sendbee.UpdateContactAction(c)
	call := flow.ActionCall{Key: "k", Contact: bot.User{Phone: anaPhone}, Args: map[string]any{"note": "called back", "tags": []string{"hot"}}}
	srv.DelayNext(0)
	srv.LoseAnswerNext() // the PUT
	require.Error(t, act.Run(t.Context(), call))
	require.NoError(t, act.Run(t.Context(), call))
	ct := contactOf(t, c, anaPhone)
	assert.Len(t, ct.Notes, 2, "the original and one copy of the new note")
	assert.ElementsMatch(t, []string{"lead", "hot"}, tagNames(ct.Tags))
}

func TestUpdateContactAction_withoutKey(t *testing.T) {
	t.Parallel()
	_, c := newEmulator(t)
	act := sendbee.UpdateContactAction(c)
	call := flow.ActionCall{Contact: bot.User{Phone: anaPhone}, Args: map[string]any{"note": "plain"}}
	require.NoError(t, act.Run(t.Context(), call))
	require.NoError(t, act.Run(t.Context(), call))
	ct := contactOf(t, c, anaPhone)
	require.Len(t, ct.Notes, 3, "without a Key, notes are appended every time")
	assert.Equal(t, "plain", ct.Notes[2].Value)
}

func TestUpdateContactAction_badArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		call  flow.ActionCall
		field string
	}{
		{"unknown argument", flow.ActionCall{Contact: bot.User{Phone: anaPhone}, Args: map[string]any{"tag": "x"}}, "args.tag"},
		{"tags not a list", flow.ActionCall{Contact: bot.User{Phone: anaPhone}, Args: map[string]any{"tags": 3}}, "args.tags"},
		{"tag not a string", flow.ActionCall{Contact: bot.User{Phone: anaPhone}, Args: map[string]any{"tags": []any{"a", 1}}}, "args.tags[1]"},
		{"note not a string", flow.ActionCall{Contact: bot.User{Phone: anaPhone}, Args: map[string]any{"note": []string{"a"}}}, "args.note"},
		{"fields not a map", flow.ActionCall{Contact: bot.User{Phone: anaPhone}, Args: map[string]any{"fields": []string{"city"}}}, "args.fields"},
		{"field value", flow.ActionCall{Contact: bot.User{Phone: anaPhone}, Args: map[string]any{"fields": map[string]any{"city": []string{"x"}}}}, "args.fields.city"},
		{"value of values", flow.ActionCall{Contact: bot.User{Phone: anaPhone}, Args: map[string]any{"values": []string{"size"}},
			Values: flow.Values{"size": map[string]int{}}}, "values.size"},
		{"no phone", flow.ActionCall{Platform: "flowdock", Conversation: "acme/ops", Args: map[string]any{"note": "x"}}, "args.phone"},
		{"phone not a number", flow.ActionCall{Args: map[string]any{"phone": "call me"}}, "args.phone"},
	}
	srv, c := newEmulator(t)
	act := sendbee.UpdateContactAction(c)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ve *sendbee.ValidationError
			require.ErrorAs(t, act.Run(t.Context(), tt.call), &ve)
			assert.Equal(t, tt.field, ve.Field)
			assert.Equal(t, "update contact action", ve.Op)
		})
	}
	assert.Empty(t, srv.Requests(), "a bad call sends nothing")
}

func TestUpdateContactAction_apiError(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	act := sendbee.UpdateContactAction(c)
	// Sendbee checks field values: "plan" is a list field.
	err := act.Run(t.Context(), flow.ActionCall{Key: "k", Contact: bot.User{Phone: anaPhone}, Args: map[string]any{"fields": map[string]any{"plan": "gold"}}})
	var apiErr *sendbee.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.StatusCode)
	assert.True(t, slices.ContainsFunc(srv.Requests(), func(r sendbeetest.Request) bool { return r.Method == "PUT" }))
}

// ExampleUpdateContactAction tags the contact of a WhatsApp conversation
// and stores what the flow asked in its contact fields.
func ExampleUpdateContactAction() {
	c, err := sendbee.NewClient(sendbee.Config{}) // SENDBEE_API_KEY, SENDBEE_API_SECRET
	if err != nil {
		fmt.Println(err)
		return
	}
	act := sendbee.UpdateContactAction(c)
	err = act.Run(context.Background(), flow.ActionCall{
		Key:          "qualify/run-1/$done/0",
		Platform:     sendbee.Name,
		Conversation: "c0ffee00-1111-4222-8333-444455556666",
		Args: map[string]any{
			"tags":   []string{"lead", "qualified"},
			"note":   "Qualified by the bot",
			"values": []string{"email", "company_size", "need"},
		},
		Values: flow.Values{"email": "ana@example.org", "company_size": int64(40), "need": "CRM"},
	})
	_ = err
}

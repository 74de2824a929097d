package velaflows_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
)

// The emulator's "Partnerships" pipeline and its first stage; its seeded
// lead Grace Hopper (grace@example.org) is 20 days old.
const (
	partnerships = "65f0c0ffee0000000000c001"
	leadIn       = "65f0c0ffee0000000000c002"
)

func leadCall(key string, args map[string]any, values flow.Values) flow.ActionCall {
	return flow.ActionCall{Key: key, Flow: "qualify", Platform: "sendbee", Conversation: "c1", Args: args, Values: values}
}

func TestCreateLeadAction(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	act := velaflows.CreateLeadAction(c, velaflows.WithPipeline(velaflowstest.SeedPipelineID, velaflowstest.SeedStageID))
	call := leadCall("qualify/run-1/$done/0",
		map[string]any{"name": "Ada King Lovelace", "phone": "+442071838750"},
		flow.Values{"email": "ada.king@example.org", "size": int64(40)})
	before := len(srv.Leads())

	require.NoError(t, act.Run(t.Context(), call))
	leads := srv.Leads()
	require.Len(t, leads, before+1)
	l := leads[len(leads)-1]
	assert.Equal(t, "Ada", l.FirstName)
	assert.Equal(t, "King Lovelace", l.LastName)
	assert.Equal(t, "ada.king@example.org", l.Email, "email comes from the flow's values")
	assert.Equal(t, "+442071838750", l.Phone)
	assert.Equal(t, velaflowstest.SeedPipelineID, l.PipelineID)
	assert.Equal(t, velaflowstest.SeedStageID, l.StageID)

	t.Run("a repeated call creates nothing", func(t *testing.T) {
		n := len(srv.Requests())
		require.NoError(t, act.Run(t.Context(), call))
		assert.Len(t, srv.Leads(), before+1)
		assert.Equal(t, []string{"GET /crm/leads"}, routes(srv)[n:], "looked, did not post")
	})
}

func TestCreateLeadAction_byPhone(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	act := velaflows.CreateLeadAction(c)
	args := map[string]any{"firstName": "Linus", "lastName": "Pauling", "phone": "+1 555 0199", "pipelineId": partnerships, "stageId": leadIn}
	before := len(srv.Leads())
	for range 2 {
		require.NoError(t, act.Run(t.Context(), leadCall("k", args, nil)))
	}
	assert.Len(t, srv.Leads(), before+1)
}

func TestCreateLeadAction_dedupWindow(t *testing.T) {
	t.Parallel()
	args := map[string]any{"name": "Grace Hopper", "email": "GRACE@example.org", "pipelineId": partnerships, "stageId": leadIn}

	srv, c := newEmulator(t)
	before := len(srv.Leads())
	require.NoError(t, velaflows.CreateLeadAction(c).Run(t.Context(), leadCall("k", args, nil)))
	assert.Len(t, srv.Leads(), before+1, "the 20-day-old lead is outside the default window")

	srv, c = newEmulator(t)
	require.NoError(t, velaflows.CreateLeadAction(c, velaflows.WithDedupWindow(0)).Run(t.Context(), leadCall("k", args, nil)))
	assert.Len(t, srv.Leads(), before, "any age counts with a zero window")

	srv, c = newEmulator(t)
	other := map[string]any{"name": "Grace Hopper", "email": "grace@example.org",
		"pipelineId": velaflowstest.SeedPipelineID, "stageId": velaflowstest.SeedStageID}
	require.NoError(t, velaflows.CreateLeadAction(c, velaflows.WithDedupWindow(0)).Run(t.Context(), leadCall("k", other, nil)))
	assert.Len(t, srv.Leads(), before+1, "a lead of another pipeline is another lead")
}

func TestCreateLeadAction_badArgs(t *testing.T) {
	t.Parallel()
	ok := map[string]any{"name": "Ada", "email": "ada@example.org", "pipelineId": partnerships, "stageId": leadIn}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k, v := range ok {
			m[k] = v
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name   string
		args   map[string]any
		values flow.Values
		field  string
	}{
		{"no name", with("name", nil), nil, "args.name"},
		{"name not a string", with("name", 7), nil, "args.name"},
		{"name and firstName", with("firstName", "Ada"), nil, "args.name"},
		{"no email or phone", with("email", nil), nil, "args.email"},
		{"email not a string", with("email", []string{"a@b.c"}), nil, "args.email"},
		{"value not a string", with("email", nil), flow.Values{"email": int64(1)}, "values.email"},
		{"no pipeline", with("pipelineId", nil), nil, "args.pipelineId"},
		{"no stage", with("stageId", nil), nil, "args.stageId"},
		{"unknown argument", with("company", "Acme"), nil, "args.company"},
	}
	srv, c := newEmulator(t)
	act := velaflows.CreateLeadAction(c)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := act.Run(t.Context(), leadCall("k", tt.args, tt.values))
			var ve *velaflows.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field, "%v", err)
			assert.True(t, velaflows.IsValidation(err))
		})
	}
	assert.Empty(t, srv.Requests(), "a bad call sends nothing")
}

func TestCreateLeadAction_apiErrors(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	act := velaflows.CreateLeadAction(c)
	call := leadCall("k", map[string]any{"name": "Ada", "email": "ada@example.org", "pipelineId": partnerships, "stageId": leadIn}, nil)

	srv.FailNext(503, "", "")
	err := act.Run(t.Context(), call)
	var apiErr *velaflows.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.True(t, apiErr.Temporary())
	assert.False(t, velaflows.IsValidation(err))

	bad := leadCall("k", map[string]any{"name": "Ada", "email": "not-an-address", "pipelineId": partnerships, "stageId": leadIn}, nil)
	err = act.Run(t.Context(), bad)
	require.Error(t, err)
	assert.True(t, velaflows.IsCode(err, velaflows.CodeValidation), "%v", err)
	assert.True(t, velaflows.IsValidation(err))
}

func TestUpdateCustomerAction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call flow.ActionCall
	}{
		{"by id", flow.ActionCall{Args: map[string]any{"id": velaflowstest.SeedCustomerID, "name": "Augusta Ada King"}}},
		{"by the conversation", flow.ActionCall{Platform: velaflows.Name, Conversation: velaflowstest.SeedConversationID,
			Args: map[string]any{"firstName": "Augusta", "lastName": "Ada King"}}},
		{"by email", flow.ActionCall{Args: map[string]any{"email": "ADA@example.org"}, Values: flow.Values{"name": "Augusta Ada King"}}},
		{"by phone", flow.ActionCall{Args: map[string]any{"phone": "+44 20 7183 8750", "name": "Augusta Ada King"}}},
		{"by the contact", flow.ActionCall{Platform: "sendbee", Contact: bot.User{Phone: "+442071838750"},
			Args: map[string]any{"name": "Augusta Ada King"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newEmulator(t)
			act := velaflows.UpdateCustomerAction(c)
			require.NoError(t, act.Run(t.Context(), tt.call))
			cu, ok := srv.Customer(velaflowstest.SeedCustomerID)
			require.True(t, ok)
			assert.Equal(t, "Augusta", cu.FirstName)
			assert.Equal(t, "Ada King", cu.LastName)
			assert.Equal(t, "ada@example.org", cu.Email)

			n := len(srv.Requests())
			require.NoError(t, act.Run(t.Context(), tt.call), "again")
			for _, r := range routes(srv)[n:] {
				if tt.name != "by id" && tt.name != "by the conversation" {
					assert.NotEqual(t, "PATCH /customers/"+velaflowstest.SeedCustomerID, r, "nothing to change: no update")
				}
			}
		})
	}
}

func TestUpdateCustomerAction_errors(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	act := velaflows.UpdateCustomerAction(c)

	for _, tt := range []struct {
		name  string
		args  map[string]any
		field string
	}{
		{"nothing to set", map[string]any{"id": velaflowstest.SeedCustomerID}, "args"},
		{"no customer named", map[string]any{"name": "Nobody"}, "args.id"},
		{"unknown argument", map[string]any{"email": "ada@example.org", "tags": []string{"vip"}}, "args.tags"},
		{"id not a string", map[string]any{"id": 5, "name": "X"}, "args.id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var ve *velaflows.ValidationError
			require.ErrorAs(t, act.Run(t.Context(), flow.ActionCall{Args: tt.args}), &ve)
			assert.Equal(t, tt.field, ve.Field)
		})
	}
	assert.Empty(t, srv.Requests(), "a bad call sends nothing")

	err := act.Run(t.Context(), flow.ActionCall{Args: map[string]any{"email": "nobody@example.org", "name": "No Body"}})
	assert.ErrorIs(t, err, velaflows.ErrNoCustomer)
	var ve *velaflows.ValidationError
	assert.False(t, errors.As(err, &ve))
}

// ExampleCreateLeadAction registers the CRM actions of a lead
// qualification flow. The flow saves "name", "email" and "phone"; the
// lead action reads them from the flow's values.
func ExampleCreateLeadAction() {
	c, err := velaflows.NewClient(velaflows.Config{}) // VELAFLOWS_API_TOKEN, VELAFLOWS_WORKSPACE_ID
	if err != nil {
		fmt.Println(err)
		return
	}
	actions := map[string]flow.Action{
		"crm.lead": velaflows.CreateLeadAction(c,
			velaflows.WithPipeline("65f0c0ffee0000000000c001", "65f0c0ffee0000000000c002"),
			velaflows.WithDedupWindow(7*24*time.Hour)),
		"crm.customer": velaflows.UpdateCustomerAction(c),
	}
	_ = flow.Flow{
		Name:   "qualify",
		OnDone: []flow.Call{{Action: "crm.lead"}, {Action: "crm.customer"}},
	}
	err = actions["crm.lead"].Run(context.Background(), flow.ActionCall{
		Key:    "qualify/run-1/$done/0",
		Values: flow.Values{"name": "Ada Lovelace", "email": "ada@example.org"},
	})
	_ = err
}

package velaflows_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
)

// An error answer whose message quotes customer data (here a conflict
// naming the lead's e-mail address) gives an error text with the method,
// path, status and code only; the message and the raw body stay readable
// in the fields.
func TestAPIError_Error_noCustomerData(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	const email = "ada@example.com"
	srv.FailNext(http.StatusConflict, velaflows.CodeConflict, "a lead with e-mail "+email+" exists")
	_, _, err := c.CreateLead(t.Context(), velaflows.LeadRequest{
		FirstName: "Ada", Email: email, PipelineID: velaflowstest.SeedPipelineID, StageID: velaflowstest.SeedStageID,
	})
	var apiErr *velaflows.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Contains(t, apiErr.Message, email, "the message is kept for callers who read it")
	assert.Contains(t, string(apiErr.Body), email, "so is the raw body")
	assert.NotContains(t, err.Error(), email)
	assert.Equal(t, "velaflows: POST /crm/leads: 409 Conflict (CONFLICT)", err.Error())
}

func TestAPIError_Error(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *velaflows.APIError
		want string
	}{
		{"validation names the fields, not their problems", &velaflows.APIError{
			Method: "POST", Path: "/crm/leads", StatusCode: 400, Code: velaflows.CodeValidation,
			Message: "Request body failed validation",
			Details: []byte(`{"errors":[{"path":"phone","message":"+44 20 7183 8750 is not a mobile number"},{"path":"email","message":"Invalid email"}]}`),
		}, "velaflows: POST /crm/leads: 400 Bad Request (VALIDATION_ERROR; fields: email, phone)"},
		{"no code", &velaflows.APIError{Method: "GET", Path: "/crm/leads/x", StatusCode: 404},
			"velaflows: GET /crm/leads/x: 404 Not Found"},
		{"a code that is not one is left out", &velaflows.APIError{Method: "GET", Path: "/inbox/conversations", StatusCode: 502, Code: "<html>Bad gateway</html>"},
			"velaflows: GET /inbox/conversations: 502 Bad Gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.err.Error())
		})
	}
}

package flowdock_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
)

// An error answer whose message or field problems quote what was sent
// (here a customer's phone number bridged into the team's flow) gives an
// error text with the method, path, status and field names only; the
// message, the problems and the raw body stay readable in the fields.
func TestAPIError_Error_noCustomerData(t *testing.T) {
	t.Parallel()
	const phone = "+385911234567"
	f := newFakeAPI(t)
	f.reply("POST", "/flows/acme/ops/messages", http.StatusBadRequest,
		`{"message":"Validation error: `+phone+`","errors":{"content":["`+phone+` looks like a phone number"],"tags":["is invalid"]}}`)
	c := f.newClient(t)
	_, _, err := c.SendMessage(t.Context(), flowdock.FlowChat("acme", "ops"), flowdock.NewMessage{Content: "call " + phone})
	var apiErr *flowdock.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Contains(t, apiErr.Message, phone, "the message is kept for callers who read it")
	assert.Contains(t, apiErr.Errors["content"][0], phone, "so are the field problems")
	assert.Contains(t, string(apiErr.Body), phone, "and the raw body")
	assert.NotContains(t, err.Error(), phone)
	assert.Equal(t, "flowdock: POST /flows/acme/ops/messages: 400 Bad Request (fields: content, tags)", err.Error())
}

// A refused stream connect keeps the body for callers, out of its text.
func TestStreamError_Error(t *testing.T) {
	t.Parallel()
	e := &flowdock.StreamError{StatusCode: http.StatusForbidden, Body: `{"message":"no access for ana@example.com"}`}
	assert.Equal(t, "flowdock: stream: 403 Forbidden", e.Error())
}

package sendbee_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// A Sendbee validation error quotes the customer's phone number in its
// detail. The error's text, which is what gets logged, carries the method,
// path, status and error type only; the detail and the raw body stay
// readable in the fields.
func TestAPIError_Error_noCustomerData(t *testing.T) {
	t.Parallel()
	_, c := newEmulator(t)
	const phone = "+0385911234567" // a leading 0 after the +: invalid
	_, _, err := c.SendMessage(t.Context(), sendbee.SendMessageRequest{Phone: phone, Text: "hi"})
	apiErr := requireAPIError(t, err, http.StatusBadRequest, "validation_error")
	assert.Contains(t, apiErr.Detail, phone, "the detail is kept for callers who read it")
	assert.Contains(t, string(apiErr.Body), phone, "so is the raw body")
	assert.NotContains(t, err.Error(), phone)
	assert.Equal(t, "sendbee: POST /conversations/messages/send: 400 Bad Request (validation_error)", err.Error())
}

func TestAPIError_Error(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *sendbee.APIError
		want string
	}{
		{"type", &sendbee.APIError{Method: "POST", Path: "/contacts/subscribe", StatusCode: 400, Type: "validation_error", Detail: "phone +385911234567 belongs to another contact"},
			"sendbee: POST /contacts/subscribe: 400 Bad Request (validation_error)"},
		{"no type", &sendbee.APIError{Method: "GET", Path: "/contacts", StatusCode: 502, Detail: "ana@example.com"},
			"sendbee: GET /contacts: 502 Bad Gateway"},
		{"a type that is not a code is left out", &sendbee.APIError{Method: "GET", Path: "/teams/teams", StatusCode: 403, Type: "no access for Ana Horvat"},
			"sendbee: GET /teams/teams: 403 Forbidden"},
		{"unknown status", &sendbee.APIError{Method: "GET", Path: "/contacts", StatusCode: 599, Type: "odd"},
			"sendbee: GET /contacts: 599 (odd)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.err.Error())
		})
	}
}

// lockedBuffer is a log destination that the test reads while the Bot
// writes to it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A reply the platform refuses with a body that quotes the customer's
// phone number is dead-lettered and logged at Error without it.
func TestAdapter_Send_refusedLogsNoCustomerData(t *testing.T) {
	var logs lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newSetup(t, nil, bot.WithLogger(logger))
	const phone = "+385911234567"
	conv, _ := s.emu.CustomerMessage(phone, "Ana", "hello")
	stop := bottest.Run(t, s.b)

	s.emu.FailNext(http.StatusBadRequest, `{"error":{"detail":"phone `+phone+` cannot receive messages","type":"validation_error"}}`)
	require.NoError(t, s.b.Send(t.Context(), &bot.Message{Platform: sendbee.Name, Conversation: conv, Text: "are you there?"}))
	require.Eventually(t, func() bool { return s.b.Stats().DeadLettered == 1 }, 5*time.Second, time.Millisecond)
	require.NoError(t, stop())
	assert.Contains(t, logs.String(), `"level":"ERROR"`)
	assert.Contains(t, logs.String(), "400 Bad Request (validation_error)")
	assert.NotContains(t, logs.String(), phone)
}

package sendbee

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// onePassCases are bodies on which decoding in one pass could differ from
// decoding the envelope, then the data: repeated data keys in any spelling,
// data of the wrong type for handled and ignored events, and escapes.
var onePassCases = []string{
	`{"id":"e","type":"message.received","data":{"conversation_id":"c","message_id":"m","body":"a"},"data":{"conversation_id":"d"}}`,
	`{"id":"e","type":"message.received","data":{"conversation_id":"c","message_id":"m","body":"a"},"DATA":{"conversation_id":"d"}}`,
	`{"id":"e","type":"message.received","data":{"conversation_id":"c","message_id":"m","body":"a"},"d\u0061ta":{"conversation_id":"d"}}`,
	`{"id":"e","type":"message.received","data":null,"data":{"conversation_id":"c","message_id":"m"}}`,
	`{"id":"e","type":"message.received","data":{"conversation_id":"c","message_id":"m"},"data":null}`,
	`{"id":"e","type":"message.received","data":{"conversation_id":"c","message_id":"m","contact":{"id":"k","name":"A"}},"data":{"contact":{"phone":"+1"}}}`,
	`{"id":"e","type":"message.received","data":{"conversation_id":"c","message_id":"m","body":"data"}}`,
	`{"id":"e","type":"message.received","data":{"conversation_id":"c","message_id":"m","body":"he said \"hi\"\n\u00e9"}}`,
	`{"id":"e","type":"contact.created","data":"not an object"}`,
	`{"id":"e","type":"contact.created","data":{"conversation_id":5}}`,
	`{"id":"e","type":"message.received","data":{"conversation_id":5,"message_id":"m"}}`,
	`{"id":5,"type":"message.received","data":{"conversation_id":"c","message_id":"m"}}`,
	`{"id":"e","type":"message.received","data":[]}`,
	`{"id":"e","type":"message.received","created_at":"x","data":{"conversation_id":"c","message_id":"m"}}`,
	`{"type":"","data":{"conversation_id":"c"}}`,
	`{"id":"e","type":"chatbot.status","data":{"conversation_id":"c","chatbot_active":false}}`,
	`{"id":"e","type":"message.received","data":{"conversation_id":"c","message_id":"m"}} trailing`,
}

// TestWebhookToMessage_OnePassAsTwo checks that webhookToMessage, which
// decodes a body in one pass where it can, gives what decoding the
// envelope, then the data gives: the same message or the same error, on the
// golden bodies and on bodies chosen to tell the two apart.
func TestWebhookToMessage_OnePassAsTwo(t *testing.T) {
	files, err := filepath.Glob("testdata/inbound/*.json")
	require.NoError(t, err)
	var bodies []string
	for _, in := range files {
		if !strings.HasSuffix(in, ".golden.json") {
			b, err := os.ReadFile(in)
			require.NoError(t, err)
			bodies = append(bodies, string(b))
		}
	}
	require.NotEmpty(t, bodies)
	for _, body := range append(bodies, onePassCases...) {
		requireSameConversion(t, []byte(body))
	}
}

// FuzzWebhookToMessage_OnePassAsTwo checks on any body that webhookToMessage
// gives what decoding the envelope, then the data gives.
func FuzzWebhookToMessage_OnePassAsTwo(f *testing.F) {
	for _, body := range onePassCases {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		requireSameConversion(t, body)
	})
}

func requireSameConversion(t *testing.T, body []byte) {
	t.Helper()
	got, gotErr := webhookToMessage(body, Name)
	want, wantErr := webhookToMessageTwoPass(body, Name)
	require.Equal(t, want, got, "body %s", body)
	if wantErr == nil {
		require.NoError(t, gotErr, "body %s", body)
		return
	}
	require.EqualError(t, gotErr, wantErr.Error(), "body %s", body)
	require.Equal(t, errors.Is(wantErr, errIgnored), errors.Is(gotErr, errIgnored), "body %s", body)
}

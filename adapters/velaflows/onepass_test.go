package velaflows

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
	`{"eventId":"e","eventType":"conversation.message.received","data":{"conversationId":"c","message":{"_id":"m","text":"a"}},"data":{"conversationId":"d"}}`,
	`{"eventId":"e","eventType":"conversation.message.received","data":{"conversationId":"c","message":{"_id":"m","text":"a"}},"Data":{"conversationId":"d"}}`,
	`{"eventId":"e","eventType":"conversation.message.received","data":{"conversationId":"c","message":{"_id":"m","text":"a"}},"\u0064ata":{"conversationId":"d"}}`,
	`{"eventId":"e","eventType":"conversation.assigned","data":{"conversation":{"_id":"c","assignedAgentId":"a"}},"data":{"conversation":{"_id":"c"}}}`,
	`{"eventId":"e","eventType":"conversation.assigned","data":null,"data":{"conversation":{"_id":"c"}}}`,
	`{"eventId":"e","eventType":"conversation.assigned","data":{"conversation":{"_id":"c"}},"data":null}`,
	`{"eventId":"e","eventType":"conversation.message.received","timestamp":"2026-03-24T09:00:01.000Z","data":{"conversationId":"c","message":{"_id":"m","text":"data"}}}`,
	`{"eventId":"e","eventType":"conversation.message.received","data":{"conversationId":"c","message":{"_id":"m","text":"he said \"hi\"\n\u00e9"}}}`,
	`{"eventId":"e","eventType":"contact.created","data":"not an object"}`,
	`{"eventId":"e","eventType":"contact.created","data":{"conversationId":5}}`,
	`{"eventId":"e","eventType":"conversation.message.received","data":{"conversationId":5}}`,
	`{"eventId":5,"eventType":"conversation.assigned","data":{"conversation":{"_id":"c"}}}`,
	`{"eventId":"e","eventType":"conversation.assigned","data":[]}`,
	`{"eventType":"conversation.assigned","data":{"conversation":{"_id":"c"}}}`,
	`{"eventId":"e","data":{"conversation":{"_id":"c"}}}`,
	`{"eventId":"e","eventType":"lead.stage_changed","timestamp":"yesterday","data":{"lead":{"_id":"l"}}}`,
	`{"eventId":"e","eventType":"conversation.assigned","data":{"conversation":{"_id":"c"}}} trailing`,
}

// TestDeliveryToMessage_OnePassAsTwo checks that deliveryToMessage, which
// decodes a body in one pass where it can, gives what decoding the
// envelope, then the data gives: the same message, timestamp or error, on
// the golden bodies and on bodies chosen to tell the two apart.
func TestDeliveryToMessage_OnePassAsTwo(t *testing.T) {
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

// FuzzDeliveryToMessage_OnePassAsTwo checks on any body that
// deliveryToMessage gives what decoding the envelope, then the data gives.
func FuzzDeliveryToMessage_OnePassAsTwo(f *testing.F) {
	for _, body := range onePassCases {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		requireSameConversion(t, body)
	})
}

func requireSameConversion(t *testing.T, body []byte) {
	t.Helper()
	got, gotAt, gotErr := deliveryToMessage(body, Name)
	want, wantAt, wantErr := deliveryToMessageTwoPass(body, Name)
	require.Equal(t, want, got, "body %s", body)
	require.Equal(t, wantAt, gotAt, "body %s", body)
	if wantErr == nil {
		require.NoError(t, gotErr, "body %s", body)
		return
	}
	require.EqualError(t, gotErr, wantErr.Error(), "body %s", body)
	require.Equal(t, errors.Is(wantErr, errIgnored), errors.Is(gotErr, errIgnored), "body %s", body)
}

package velaflows

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

var update = flag.Bool("update", false, "rewrite the golden files of convert tests")

// TestDeliveryToMessage_Golden converts each testdata/inbound/<case>.json
// and compares the message (without Raw, checked separately) with
// <case>.golden.json.
func TestDeliveryToMessage_Golden(t *testing.T) {
	n := bottest.Golden(t, "testdata/inbound/*.json", *update, func(t *testing.T, raw []byte) *bot.Message {
		m, _, err := deliveryToMessage(raw, Name)
		require.NoError(t, err)
		return m
	})
	require.GreaterOrEqual(t, n, 7)
}

func TestDeliveryToMessage_Errors(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		ignored bool
		want    string
	}{
		{name: "not json", body: `{"eventType":`, want: "velaflows: delivery"},
		{name: "no type", body: `{"eventId":"e","data":{}}`, want: "no eventType"},
		{name: "no event id", body: `{"eventType":"conversation.created","data":{}}`, want: "no eventId"},
		{name: "unknown type", body: `{"eventId":"e","eventType":"broadcast.sent","data":{}}`, ignored: true},
		{name: "customer event", body: `{"eventId":"e","eventType":"customer.created","data":{"customer":{"_id":"c"}}}`, ignored: true},
		{name: "agent message", body: `{"eventId":"e","eventType":"inbox.message.received","data":{"conversationId":"c","message":{"_id":"m","text":"hi","sender":{"type":"agent"}}}}`, ignored: true},
		{name: "bot message", body: `{"eventId":"e","eventType":"conversation.message.received","data":{"conversationId":"c","message":{"_id":"m","text":"hi","sender":{"type":"bot"}}}}`, ignored: true},
		{name: "no data", body: `{"eventId":"e","eventType":"conversation.created"}`, want: "no data"},
		{name: "data not an object", body: `{"eventId":"e","eventType":"conversation.created","data":[1]}`, want: "conversation.created"},
		{name: "message without message", body: `{"eventId":"e","eventType":"conversation.message.received","data":{"conversationId":"c"}}`, want: "no message"},
		{name: "message without conversation", body: `{"eventId":"e","eventType":"conversation.message.received","data":{"message":{"_id":"m"}}}`, want: "no conversationId"},
		{name: "assignment without conversation", body: `{"eventId":"e","eventType":"conversation.assigned","data":{}}`, want: "no conversation"},
		{name: "stage change without lead", body: `{"eventId":"e","eventType":"lead.stage_changed","data":{}}`, want: "no lead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, at, err := deliveryToMessage([]byte(tt.body), Name)
			assert.Nil(t, m)
			assert.Zero(t, at)
			require.Error(t, err)
			if tt.ignored {
				assert.ErrorIs(t, err, errIgnored)
				return
			}
			assert.NotErrorIs(t, err, errIgnored)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// FuzzDeliveryToMessage checks that no body makes the parser panic, and that
// whatever it accepts is a usable message.
func FuzzDeliveryToMessage(f *testing.F) {
	files, _ := filepath.Glob("testdata/inbound/*.json")
	for _, in := range files {
		if b, err := os.ReadFile(in); err == nil && !strings.HasSuffix(in, ".golden.json") {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"eventId":"e","eventType":"conversation.assigned","data":{"conversation":{"_id":"c","assignedAgentId":null}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, _, err := deliveryToMessage(body, Name)
		if err != nil {
			if m != nil {
				t.Fatal("message returned with an error")
			}
			return
		}
		if m.ID == "" || m.Conversation == "" || m.Platform != Name {
			t.Fatalf("accepted a message without identity: %+v", m)
		}
	})
}

package velaflows_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows"
)

func TestTimestamp_UnmarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want time.Time
	}{
		{"api form", `"2026-03-24T14:30:00.000Z"`, time.Date(2026, 3, 24, 14, 30, 0, 0, time.UTC)},
		{"offset", `"2026-03-24T16:30:00+02:00"`, time.Date(2026, 3, 24, 14, 30, 0, 0, time.UTC)},
		{"no zone", `"2026-03-24T14:30:00"`, time.Date(2026, 3, 24, 14, 30, 0, 0, time.UTC)},
		{"date", `"2026-03-24"`, time.Date(2026, 3, 24, 0, 0, 0, 0, time.UTC)},
		{"unix seconds", `1774362600`, time.Unix(1774362600, 0)},
		{"unix milliseconds", `1774362600123`, time.UnixMilli(1774362600123)},
		{"unix string", `"1774362600"`, time.Unix(1774362600, 0)},
		{"null", `null`, time.Time{}},
		{"empty", `""`, time.Time{}},
		{"garbage", `"yesterday"`, time.Time{}},
		{"negative", `-5`, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var ts velaflows.Timestamp
			require.NoError(t, json.Unmarshal([]byte(tt.in), &ts))
			assert.True(t, tt.want.Equal(ts.Time), "got %v, want %v", ts.Time, tt.want)
		})
	}
	var ts velaflows.Timestamp
	assert.Error(t, json.Unmarshal([]byte(`"unterminated`), &ts))
}

func TestTimestamp_MarshalJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(velaflows.Timestamp{Time: time.Date(2026, 3, 24, 16, 30, 0, 5e6, time.FixedZone("x", 2*3600))})
	require.NoError(t, err)
	assert.Equal(t, `"2026-03-24T14:30:00.005Z"`, string(b))
	b, err = json.Marshal(velaflows.Timestamp{})
	require.NoError(t, err)
	assert.Equal(t, `null`, string(b))

	// A lead survives a round trip, for exports.
	in := velaflows.Lead{ID: "l1", FirstName: "Ada", CreatedAt: velaflows.Timestamp{Time: time.Date(2026, 3, 24, 14, 30, 0, 0, time.UTC)}}
	b, err = json.Marshal(in)
	require.NoError(t, err)
	assert.JSONEq(t, `{"_id":"l1","firstName":"Ada","createdAt":"2026-03-24T14:30:00.000Z","updatedAt":null}`, string(b))
	var out velaflows.Lead
	require.NoError(t, json.Unmarshal(b, &out))
	assert.True(t, in.CreatedAt.Equal(out.CreatedAt.Time))
}

func TestMessageSender_UnmarshalJSON(t *testing.T) {
	t.Parallel()
	var m velaflows.Message
	require.NoError(t, json.Unmarshal([]byte(`{"_id":"m1","sender":{"type":"contact","name":null,"phone":"+1"}}`), &m))
	assert.Equal(t, velaflows.MessageSender{Type: "contact", Phone: "+1"}, m.Sender)
	require.NoError(t, json.Unmarshal([]byte(`{"_id":"m1","sender":"agent"}`), &m))
	assert.Equal(t, velaflows.MessageSender{Type: "agent"}, m.Sender)
	require.NoError(t, json.Unmarshal([]byte(`{"_id":"m1","sender":null}`), &m))
	assert.Error(t, json.Unmarshal([]byte(`{"_id":"m1","sender":42}`), &m))
}

func TestConversation_ChannelName(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "whatsapp", (&velaflows.Conversation{ChannelType: "whatsapp", Channel: "sms"}).ChannelName())
	assert.Equal(t, "sms", (&velaflows.Conversation{Channel: "sms"}).ChannelName())
	assert.Equal(t, "", (&velaflows.Conversation{}).ChannelName())
}

func TestConversationUpdate_MarshalJSON(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		u    velaflows.ConversationUpdate
		want string
	}{
		{velaflows.ConversationUpdate{}, `{}`},
		{velaflows.ConversationUpdate{Unassign: true, Status: "open"}, `{"assignedAgentId":null,"status":"open"}`},
		{velaflows.ConversationUpdate{AssignedAgentID: "a1", Priority: "urgent"}, `{"assignedAgentId":"a1","priority":"urgent"}`},
	} {
		b, err := json.Marshal(tt.u)
		require.NoError(t, err)
		assert.JSONEq(t, tt.want, string(b))
	}
}

func TestTagNames_UnmarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want velaflows.TagNames
	}{
		{`{"_id":"c1","tags":["vip","billing"]}`, velaflows.TagNames{"vip", "billing"}},
		{`{"_id":"c1","tags":[{"_id":"t1","name":"vip"},{"_id":"t2"}]}`, velaflows.TagNames{"vip"}},
		{`{"_id":"c1","tags":[]}`, velaflows.TagNames{}},
		{`{"_id":"c1","tags":null}`, nil},
		{`{"_id":"c1","tags":"vip"}`, nil},
		{`{"_id":"c1"}`, nil},
	}
	for _, tt := range tests {
		var c velaflows.Conversation
		require.NoError(t, json.Unmarshal([]byte(tt.in), &c), tt.in)
		assert.Equal(t, tt.want, c.Tags, tt.in)
	}
}

package sendbee_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
)

func TestTimestamp_UnmarshalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    time.Time
		wantRaw string
	}{
		{"API layout", `"2020-02-29 23:36:55"`, time.Date(2020, 2, 29, 23, 36, 55, 0, time.UTC), "2020-02-29 23:36:55"},
		{"RFC 3339", `"2024-05-02T10:15:03+02:00"`, time.Date(2024, 5, 2, 8, 15, 3, 0, time.UTC), "2024-05-02T10:15:03+02:00"},
		{"date only", `"2024-05-02"`, time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC), "2024-05-02"},
		{"unix float", `1714644903.12`, time.Date(2024, 5, 2, 10, 15, 3, 120000000, time.UTC), "1714644903.12"},
		{"unix int", `1714644903`, time.Date(2024, 5, 2, 10, 15, 3, 0, time.UTC), "1714644903"},
		{"unix in a string", `"1714644903"`, time.Date(2024, 5, 2, 10, 15, 3, 0, time.UTC), "1714644903"},
		{"null", `null`, time.Time{}, ""},
		{"empty", `""`, time.Time{}, ""},
		{"unknown format kept raw", `"yesterday"`, time.Time{}, "yesterday"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var ts sendbee.Timestamp
			require.NoError(t, json.Unmarshal([]byte(tt.in), &ts))
			assert.True(t, tt.want.Equal(ts.Time), "got %v", ts.Time)
			assert.Equal(t, tt.wantRaw, ts.Raw)
		})
	}
}

func TestTimestamp_MarshalJSON(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`"2020-02-29 23:36:55"`, `1714644903.12`, `null`, `"yesterday"`} {
		var ts sendbee.Timestamp
		require.NoError(t, json.Unmarshal([]byte(in), &ts))
		out, err := json.Marshal(ts)
		require.NoError(t, err)
		assert.JSONEq(t, in, string(out))
	}
	out, err := json.Marshal(sendbee.Timestamp{Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)})
	require.NoError(t, err)
	assert.JSONEq(t, `"2024-01-02 03:04:05"`, string(out))
}

func TestFieldType_Valid(t *testing.T) {
	t.Parallel()
	for _, ft := range []sendbee.FieldType{sendbee.FieldText, sendbee.FieldNumber, sendbee.FieldList, sendbee.FieldDate, sendbee.FieldBoolean} {
		assert.True(t, ft.Valid(), ft)
	}
	for _, ft := range []sendbee.FieldType{"", "Text", "float", "select"} {
		assert.False(t, ft.Valid(), ft)
	}
}

func TestRequests_preventBotOffTriState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    *bool
		want string
	}{
		{"unset", nil, `{"phone": "+1", "text": "t"}`},
		{"true", sendbee.Bool(true), `{"phone": "+1", "text": "t", "prevent_bot_off": true}`},
		{"false", sendbee.Bool(false), `{"phone": "+1", "text": "t", "prevent_bot_off": false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(sendbee.SendMessageRequest{Phone: "+1", Text: "t", PreventBotOff: tt.v})
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, string(b))
		})
	}
}

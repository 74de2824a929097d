package sendbee

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRate(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	assert.Equal(t, Rate{}, parseRate(h))
	h.Set("X-RateLimit-Limit", "60")
	h.Set("X-RateLimit-Remaining", "12")
	h.Set("X-RateLimit-Reset", "1714645000")
	assert.Equal(t, Rate{Limit: 60, Remaining: 12, Reset: time.Unix(1714645000, 0)}, parseRate(h))
	h.Set("X-RateLimit-Reset", "tomorrow")
	assert.True(t, parseRate(h).Reset.IsZero())
}

func TestQueryNames(t *testing.T) {
	t.Parallel()
	assert.Empty(t, queryNames(nil))
	assert.Equal(t, "limit,page,search_query", queryNames(url.Values{"search_query": {"secret words"}, "page": {"2"}, "limit": {"5"}}))
}

func TestEnvelope_errorFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name               string
		body               string
		wantDetail, wantTy string
		wantOK             bool
	}{
		{"object", `{"error": {"detail": "d", "type": "t"}}`, "d", "t", true},
		{"flat", `{"detail": "d", "error": true, "type": "t"}`, "d", "t", true},
		{"detail only", `{"detail": "d"}`, "d", "", true},
		{"error string", `{"error": "bad"}`, "bad", "", true},
		{"object without detail", `{"error": {"type": "t"}}`, "", "t", true},
		{"non-string detail", `{"error": {"detail": {"phone": ["required"]}}}`, `{"phone":["required"]}`, "", true},
		{"nothing", `{"data": null}`, "", "", false},
		{"error false", `{"error": false}`, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, err := decodeEnvelope([]byte(tt.body))
			require.NoError(t, err)
			d, ty, ok := env.errorFields()
			assert.Equal(t, tt.wantDetail, d)
			assert.Equal(t, tt.wantTy, ty)
			assert.Equal(t, tt.wantOK, ok)
		})
	}
}

func TestEnvelope_warning(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{}`:                         "",
		`{"warning": null}`:          "",
		`{"warning": "w"}`:           "w",
		`{"warning": ["a", "b"]}`:    `["a","b"]`,
		`{"warning": {"code": 1 } }`: `{"code":1}`,
	} {
		env, err := decodeEnvelope([]byte(body))
		require.NoError(t, err)
		assert.Equal(t, want, env.warning(), body)
	}
}

func TestDecodeList(t *testing.T) {
	t.Parallel()
	type item struct {
		ID string `json:"id"`
	}
	tests := []struct {
		name string
		raw  string
		want []item
		err  bool
	}{
		{"absent", ``, []item{}, false},
		{"null", `null`, []item{}, false},
		{"empty", `[]`, []item{}, false},
		{"items", `[{"id":"a"},{"id":"b"}]`, []item{{"a"}, {"b"}}, false},
		{"object", `{"id":"a"}`, []item{{"a"}}, false},
		{"string", `"x"`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := decodeList[item](json.RawMessage(tt.raw))
			if tt.err {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestFlexBool(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		`true`: true, `false`: false, `"true"`: true, `"False"`: false, `1`: true, `0`: false,
		`"1"`: true, `""`: false, `null`: false,
	} {
		var v flexBool
		require.NoError(t, json.Unmarshal([]byte(in), &v), in)
		assert.Equal(t, want, bool(v), in)
	}
	var v flexBool
	assert.Error(t, json.Unmarshal([]byte(`"maybe"`), &v))
}

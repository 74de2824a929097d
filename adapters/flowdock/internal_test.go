package flowdock

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNextLink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []string
		want string
	}{
		{"none", nil, ""},
		{"next", []string{`<https://api.flowdock.com/flows/a/b/threads?until=x>; rel="next"`}, "https://api.flowdock.com/flows/a/b/threads?until=x"},
		{"among others", []string{`<https://h/p?page=1>; rel="prev", <https://h/p?page=3>; rel="next"`}, "https://h/p?page=3"},
		{"several rels", []string{`<https://h/n>; rel="next last"`}, "https://h/n"},
		{"unquoted", []string{`<https://h/n>; rel=next`}, "https://h/n"},
		{"second header", []string{`<https://h/c>; rel="comments"`, `<https://h/n>; rel="next"`}, "https://h/n"},
		{"comments only", []string{`<https://h/m/1/comments>; rel="comments"`}, ""},
		{"malformed", []string{`https://h/n; rel="next"`}, ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, nextLink(tt.in), tt.name)
	}
}

func TestParseErrorBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		in         string
		wantMsg    string
		wantFields map[string][]string
	}{
		{"empty", ``, "", nil},
		{"html", `<h1>oops</h1>`, "", nil},
		{"message", `{"message":"not found"}`, "not found", nil},
		{"fields", `{"message":"Validation error","errors":{"content":["can't be blank"]}}`, "Validation error", map[string][]string{"content": {"can't be blank"}}},
		{"odd field value", `{"errors":{"n":5}}`, "", map[string][]string{"n": {"5"}}},
		{"errors not an object", `{"message":"x","errors":["a"]}`, "x", nil},
		{"message not a string", `{"message":5}`, "", nil},
	}
	for _, tt := range tests {
		msg, fields := parseErrorBody([]byte(tt.in))
		assert.Equal(t, tt.wantMsg, msg, tt.name)
		assert.Equal(t, tt.wantFields, fields, tt.name)
	}
}

func TestWithFlowToken(t *testing.T) {
	t.Parallel()
	v, err := withFlowToken(map[string]any{"event": "activity", "flow_token": "spoofed"}, "real")
	assert.NoError(t, err)
	assert.Equal(t, `"real"`, string(v.(map[string]json.RawMessage)["flow_token"]), "the client's token wins")
	_, err = withFlowToken([]string{"x"}, "t")
	assert.Error(t, err)
}

package jsonkey

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAtMostOnce(t *testing.T) {
	tests := []struct {
		raw  string
		want bool
	}{
		{`{}`, true},
		{`{"data":{}}`, true},
		{`{"id":"x","data":{"body":"hi"}}`, true},
		{`{"data":{},"data":{}}`, false},
		{`{"data":{},"DATA":{}}`, false},
		{`{"data":{},"Data":{}}`, false},
		{`{"data":{"data":1}}`, false},       // at any depth
		{`{"data":{},"body":"data"}`, false}, // values count too
		{`{"data":{},"d\u0061ta":{}}`, false},
		{`{"data":{},"\u0064\u0061\u0074\u0061":{}}`, false},
		{`{"data":{},"datà":{}}`, false},                 // not ASCII: not ruled out
		{`{"data":{},"x":"a\"data\""}`, true},            // the escaped quotes are in one string
		{`{"data":{},"x":"\\","data2":1}`, true},         // an escaped backslash ends no string
		{`{"data":{},"x":"he said \u00e9 to me"}`, true}, // too long to spell data
		{`{"data":{},"dat":1,"datas":2}`, true},
		{`{"data":"unterminated`, true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, AtMostOnce([]byte(tt.raw), "data"), tt.raw)
	}
}

// FuzzAtMostOnce checks that whenever AtMostOnce says at most one string
// could match, encoding/json finds at most one key matching the field.
func FuzzAtMostOnce(f *testing.F) {
	f.Add([]byte(`{"data":{},"d\u0061ta":{}}`))
	f.Add([]byte(`{"a":{"DATA":1},"b":[{"data":2}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) || !AtMostOnce(raw, "data") {
			return
		}
		if n := matches(t, raw); n > 1 {
			t.Fatalf("AtMostOnce said true for %s, which has %d matching keys", raw, n)
		}
	})
}

// matches counts the strings in raw, keys and values, that encoding/json
// would match to a field named data were they keys.
func matches(t *testing.T, raw []byte) int {
	var probe struct {
		Data json.RawMessage `json:"data"`
	}
	n := 0
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := tok.(string); ok {
			b, _ := json.Marshal(map[string]int{s: 1})
			probe.Data = nil
			if err := json.Unmarshal(b, &probe); err == nil && probe.Data != nil {
				n++
			}
		}
	}
}

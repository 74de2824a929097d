package actionargs

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestString(t *testing.T) {
	args := map[string]any{"a": "  x ", "n": nil, "i": 3}
	for _, tt := range []struct {
		name, want string
		problem    *Problem
	}{
		{"a", "x", nil},
		{"missing", "", nil},
		{"n", "", nil},
		{"i", "", &Problem{"i", "must be a string, not int"}},
	} {
		got, p := String(args, tt.name)
		assert.Equal(t, tt.want, got, tt.name)
		assert.Equal(t, tt.problem, p, tt.name)
	}
}

func TestList(t *testing.T) {
	args := map[string]any{
		"csv": " a, b ,,a ", "strings": []string{"x", " y", "x"}, "anys": []any{"p", " q "},
		"bad": []any{"p", 2}, "num": 7,
	}
	for _, tt := range []struct {
		name    string
		want    []string
		problem *Problem
	}{
		{"csv", []string{"a", "b"}, nil},
		{"strings", []string{"x", "y"}, nil},
		{"anys", []string{"p", "q"}, nil},
		{"missing", nil, nil},
		{"bad", nil, &Problem{"bad[1]", "must be a string, not int"}},
		{"num", nil, &Problem{"num", "must be a list of strings or a string, not int"}},
	} {
		got, p := List(args, tt.name)
		assert.Equal(t, tt.want, got, tt.name)
		assert.Equal(t, tt.problem, p, tt.name)
	}
}

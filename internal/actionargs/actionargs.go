// Package actionargs reads the arguments of flow action calls
// (flow.ActionCall.Args) for the platform actions of the adapters, so
// that every action accepts the same shapes and says the same of a bad
// one. Each adapter turns a *Problem into its own validation error.
package actionargs

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A Problem is an argument an action cannot take: Arg names it (with an
// index for an item of a list, "tags[2]"), Text says what is wrong.
type Problem struct {
	Arg, Text string
}

func (p *Problem) Error() string { return p.Arg + " " + p.Text }

// String returns the string argument name, trimmed; "" when it is absent
// or nil.
func String(args map[string]any, name string) (string, *Problem) {
	v, ok := args[name]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", &Problem{name, fmt.Sprintf("must be a string, not %T", v)}
	}
	return strings.TrimSpace(s), nil
}

// List returns the list argument name: a []string, a []any of strings,
// or a comma-separated string. Items are trimmed; blank and repeated ones
// are dropped.
func List(args map[string]any, name string) ([]string, *Problem) {
	var items []string
	switch v := args[name].(type) {
	case nil:
		return nil, nil
	case string:
		items = strings.Split(v, ",")
	case []string:
		items = v
	case []any:
		for i, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, &Problem{name + "[" + strconv.Itoa(i) + "]", fmt.Sprintf("must be a string, not %T", x)}
			}
			items = append(items, s)
		}
	default:
		return nil, &Problem{name, fmt.Sprintf("must be a list of strings or a string, not %T", v)}
	}
	var out []string
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

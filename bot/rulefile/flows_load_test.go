package rulefile_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// flowFile is a one-flow file whose step "b" is given by step (indented
// by six spaces), after a step "a".
func flowFile(step ...string) string {
	head := []string{
		"flows:",
		"  f:",
		"    steps:",
		"      - name: a",
		"        ask: A?",
	}
	return lines(append(head, step...)...)
}

func TestParse_flowProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "unknown_goto",
			src:  flowFile("        goto: c", "      - name: b", "        ask: B?"),
			want: []string{`rules.yaml:6:15: flow "f": step "a": goto: unknown step "c" (did you mean "a"?) (or end, handoff, cancel)`},
		},
		{
			name: "unknown_retry_then_with_suggestion",
			src:  flowFile("        retry: {then: bb}", "      - name: b", "        ask: B?"),
			want: []string{`rules.yaml:6:23: flow "f": step "a": retry: then: unknown step "bb" (did you mean "b"?) (or end, handoff, cancel)`},
		},
		{
			name: "unknown_timeout_then",
			src:  flowFile("        timeout: {after: 1h, then: nowhere}"),
			want: []string{`rules.yaml:6:36: flow "f": step "a": timeout: then: unknown step "nowhere" (or end, handoff, cancel)`},
		},
		{
			name: "unknown_next_goto",
			src:  flowFile("        next:", "          - when: values.x == 1", "            goto: z"),
			want: []string{`rules.yaml:8:19: flow "f": step "a": next: goto: unknown step "z" (did you mean "a"?) (or end, handoff, cancel)`},
		},
		{
			name: "unreachable_step",
			src:  flowFile("        goto: end", "      - name: b", "        ask: B?"),
			want: []string{`rules.yaml:7:15: flow "f": step "b": unreachable: no step leads to it`},
		},
		{
			name: "loop_with_no_exit",
			src:  flowFile("        goto: b", "      - name: b", "        ask: B?", "        goto: a"),
			want: []string{`rules.yaml:4:15: flow "f": step "a": a loop with no exit: from steps a, b the flow never reaches end, handoff or cancel`},
		},
		{
			name: "number_min_over_max",
			src:  flowFile("        expect: {number: {min: 10, max: 1}}"),
			want: []string{`rules.yaml:6:32: flow "f": step "a": expect: number: min 10 is more than max 1`},
		},
		{
			name: "bad_regexp",
			src:  flowFile(`        expect: {regexp: "a(b"}`),
			want: []string{"rules.yaml:6:26: flow \"f\": step \"a\": expect: regexp: flow: regexp: error parsing regexp: missing closing ): `a(b`"},
		},
		{
			name: "bad_expr_in_check",
			src:  flowFile(`        expect: {expr: "len(Txt) > 2"}`),
			want: []string{`rules.yaml:6:29: flow "f": step "a": expect: expr: unknown name Txt (column 5 of the expression)`},
		},
		{
			name: "bad_expr_in_next",
			src:  flowFile("        next:", "          - when: values.n > > 2", "            goto: end"),
			want: []string{`rules.yaml:7:30: flow "f": step "a": next 1: when: unexpected token Operator(">") (column 12 of the expression)`},
		},
		{
			name: "unknown_check",
			src:  flowFile("        expect: emial"),
			want: []string{`rules.yaml:6:17: flow "f": step "a": expect: unknown check "emial" (did you mean "email"?)`},
		},
		{
			name: "two_checks",
			src:  flowFile("        expect: {email: , yesno: }"),
			want: []string{`rules.yaml:6:27: flow "f": step "a": expect: one check per step; email and yesno are two (combine them with expr)`},
		},
		{
			name: "bad_region",
			src:  flowFile(`        expect: {phone: {region: "+0"}}`),
			want: []string{`rules.yaml:6:34: flow "f": step "a": expect: phone: region: "+0" is not a country calling code (one to three digits, such as "385")`},
		},
		{
			name: "duplicate_choice",
			src:  flowFile("        expect: {choice: [Zagreb, zagreb]}"),
			want: []string{`rules.yaml:6:26: flow "f": step "a": expect: choice: flow: OneOf: "zagreb" names choices 1 and 2`},
		},
		{
			name: "reserved_step_name",
			src:  flowFile("      - name: end", "        ask: B?"),
			want: []string{`rules.yaml:6:15: flow "f": step "end": "end" is a word for where a step goes; name the step otherwise`},
		},
		{
			name: "bad_duration",
			src:  flowFile("        remind: {after: soon}"),
			want: []string{`rules.yaml:6:25: flow "f": step "a": remind: after: want a positive duration such as 90s, 10m, 1h30m or 7d, got the string "soon"`},
		},
		{
			name: "bad_template",
			src:  flowFile(`        save: x`, `        actions: [{call: crm, args: {t: "{{.Value.x}}"}}]`),
			want: []string{`rules.yaml:7:50: flow "f": step "a": actions: call 1: args: t: bad template: the flow data has no field Value`},
		},
		{
			name: "ask_unknown_message_field",
			src:  flowFile(`      - name: b`, `        ask: "Hi {{.Author.Nmae}}!"`),
			want: []string{`rules.yaml:7:27: flow "f": step "b": ask: bad template: bot.User has no field Nmae`},
		},
		{
			name: "retry_message_unknown_field",
			src:  flowFile(`        retry: {message: "{{.Txt}} is not a name"}`),
			want: []string{`rules.yaml:6:29: flow "f": step "a": retry: message: bad template: the prompt data has no field Txt`},
		},
		{
			name: "reask_bad_template",
			src:  flowFile(`        expect: {email: , reask: "{{.Text"}`),
			want: []string{`rules.yaml:6:35: flow "f": step "a": expect: reask: bad template: unclosed action`},
		},
		{
			name: "args_do_not_see_the_message",
			src:  flowFile(`        save: x`, `        actions: [{call: crm, args: {t: "{{.Text}}"}}]`),
			want: []string{`rules.yaml:7:44: flow "f": step "a": actions: call 1: args: t: bad template: the flow data has no field Text`},
		},
		{
			name: "call_and_set_in_one_item",
			src:  flowFile(`        save: x`, `        actions: [{call: crm, set: {y: "1"}}]`),
			want: []string{`rules.yaml:7:31: flow "f": step "a": actions: call 1: an item is one of call, set and clear, got call and set`},
		},
		{
			name: "set_with_args",
			src:  flowFile(`        save: x`, `        actions: [{set: {y: "1"}, args: {z: 2}}]`),
			want: []string{`rules.yaml:7:35: flow "f": step "a": actions: action 1 (set): args go with call`},
		},
		{
			name: "set_bad_name_and_template",
			src:  flowFile(`        save: x`, `        actions: [{set: {1y: "1", z: "{{.Text}}"}}]`),
			want: []string{
				`rules.yaml:7:26: flow "f": step "a": actions: action 1 (set): bad variable name "1y": use letters, digits and _, not starting with a digit`,
				`rules.yaml:7:41: flow "f": step "a": actions: action 1 (set): z: bad template: the flow data has no field Text`,
			},
		},
		{
			name: "clear_bad_name",
			src:  flowFile(`        save: x`, `        actions: [{clear: [ok, "no way"]}]`),
			want: []string{`rules.yaml:7:32: flow "f": step "a": actions: action 1 (clear): bad variable name "no way": use letters, digits and _, not starting with a digit`},
		},
		{
			name: "empty_item",
			src:  lines("flows:", "  f:", "    steps: [{name: a, ask: \"A\"}]", "    on_done: [{args: {x: 1}}]"),
			want: []string{`rules.yaml:4:15: flow "f": on_done: call 1: missing key "call" (or set: or clear: of conversation variables)`},
		},
		{
			name: "global_not_a_boolean",
			src:  lines("rules:", "  - name: a", "    global: yes", `    when: Text == "x"`, "    actions: [{reply: hi}]"),
			want: []string{`rules.yaml:3:13: rule "a": global: want true or false, got the string "yes"`},
		},
		{
			name: "unknown_flow_in_start_flow",
			src: lines(
				"flows:",
				"  lead:",
				`    steps: [{name: a, ask: "A"}]`,
				"rules:",
				"  - name: go",
				`    when: Text == "go"`,
				"    actions:",
				"      - start_flow: laed",
			),
			want: []string{`rules.yaml:8:21: start_flow: unknown flow "laed" (did you mean "lead"?)`},
		},
		{
			name: "unknown_flow_key",
			src:  lines("flows:", "  f:", "    stepz: []"),
			want: []string{
				`rules.yaml:2:3: flow "f": missing key "steps"`,
				`rules.yaml:3:5: flow "f": unknown key "stepz" (did you mean "steps"?)`,
			},
		},
		{
			name: "unknown_name_in_when",
			src:  lines("rules:", "  - name: a", "    when: varz.x == 1", "    actions: [{reply: hi}]"),
			want: []string{`rules.yaml:3:11: rule "a": when: unknown name varz (column 1 of the expression)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := problems(t, tt.src)
			assert.Equal(t, tt.want, got, "\n%s", strings.Join(got, "\n"))
		})
	}
}

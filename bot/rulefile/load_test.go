package rulefile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/rulefile"
)

// problems parses src as "rules.yaml" and returns its problems as
// "file:line:col: msg" lines; it fails the test if src parses.
func problems(t *testing.T, src string) []string {
	t.Helper()
	set, err := rulefile.Parse("rules.yaml", []byte(src))
	require.Error(t, err)
	assert.Nil(t, set, "a file with problems gives no Set")
	var le *rulefile.LoadError
	require.ErrorAs(t, err, &le)
	out := make([]string, len(le.Problems))
	for i, p := range le.Problems {
		out[i] = p.String()
	}
	return out
}

// lines joins lines with newlines, so that test files keep their
// indentation visible.
func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

func TestParse_problems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "unknown_key",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: Text == "x"`,
				"    prioirty: 3",
				"    actions:",
				"      - reply: hi",
			),
			want: []string{`rules.yaml:4:5: rule "a": unknown key "prioirty" (did you mean "priority"?)`},
		},
		{
			name: "handoff_team_problems",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: Text == "x"`,
				"    actions:",
				"      - handoff: {team: {platform: flowdock}}",
				"      - handoff: {text: hi, notify: there}",
				`      - handoff: {team: {platform: flowdock, conversation: acme/main}, notify: "{{.Txt}}"}`,
				"      - resume: {}",
				"      - resume: {team: {platform: flowdock, conversation: acme/main}, back: hi}",
			),
			want: []string{
				`rules.yaml:5:25: rule "a": action 1 (handoff): team: missing key "conversation"`,
				`rules.yaml:6:29: rule "a": action 2 (handoff): notify goes with team, the conversation it is posted to`,
				`rules.yaml:7:83: rule "a": action 3 (handoff): notify: bad template: the notification data has no field Txt`,
				`rules.yaml:8:17: rule "a": action 4 (resume): missing key "team" (or write resume: true to give this conversation back)`,
				`rules.yaml:9:71: rule "a": action 5 (resume): unknown key "back"`,
			},
		},
		{
			name: "unknown_top_level_key",
			src:  lines("rule:", "  - name: a"),
			want: []string{`rules.yaml:1:1: rules file: unknown key "rule" (did you mean "rules"?)`},
		},
		{
			name: "unknown_key_in_an_action",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: Text == "x"`,
				"    actions:",
				"      - forward: {platform: flowdock, conversation: main, txt: hi}",
			),
			want: []string{
				`rules.yaml:5:18: rule "a": action 1 (forward): missing key "text"`,
				`rules.yaml:5:59: rule "a": action 1 (forward): unknown key "txt" (did you mean "text"?)`,
			},
		},
		{
			name: "missing_name",
			src: lines(
				"rules:",
				`  - when: Text == "x"`,
				"    actions:",
				"      - reply: hi",
			),
			want: []string{`rules.yaml:2:5: rule 1: missing key "name"`},
		},
		{
			name: "duplicate_name",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: Text == "x"`,
				"    actions: [reply: one]",
				"  - name: a",
				`    when: Text == "y"`,
				"    actions: [reply: two]",
			),
			want: []string{`rules.yaml:5:11: rule "a": duplicate rule name (first at line 2)`},
		},
		{
			name: "duplicate_key",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: Text == "x"`,
				`    when: Text == "y"`,
				"    actions: [reply: one]",
			),
			want: []string{`rules.yaml:4:5: rule "a": duplicate key "when" (first at line 3)`},
		},
		{
			name: "bad_expression_plain",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: Platform == "sendbee" && Txt contains "x"`,
				"    actions: [reply: hi]",
			),
			want: []string{`rules.yaml:3:36: rule "a": when: unknown name Txt (column 26 of the expression)`},
		},
		{
			name: "bad_expression_double_quoted_with_escapes",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: "Text == \"a\" && Foo"`,
				"    actions: [reply: hi]",
			),
			want: []string{`rules.yaml:3:29: rule "a": when: unknown name Foo (column 16 of the expression)`},
		},
		{
			name: "bad_expression_single_quoted",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: 'Text == ''it\''s'' && Foo'`,
				"    actions: [reply: hi]",
			),
			want: []string{`rules.yaml:3:34: rule "a": when: unknown name Foo (column 20 of the expression)`},
		},
		{
			name: "bad_expression_literal_block",
			src: lines(
				"rules:",
				"  - name: a",
				"    when: |",
				`      Platform == "sendbee" &&`,
				`        Tetx contains "x"`,
				"    actions: [reply: hi]",
			),
			want: []string{`rules.yaml:5:9: rule "a": when: unknown name Tetx (line 2, column 3 of the expression)`},
		},
		{
			name: "bad_expression_folded_block",
			src: lines(
				"rules:",
				"  - name: a",
				"    when: >-",
				`      Platform == "sendbee"`,
				`      && Tetx == "x"`,
				"    actions: [reply: hi]",
			),
			want: []string{`rules.yaml:5:10: rule "a": when: unknown name Tetx (column 26 of the expression)`},
		},
		{
			name: "bad_expression_plain_multi_line",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: Platform == "sendbee" &&`,
				`      Tetx == "x"`,
				"    actions: [reply: hi]",
			),
			want: []string{`rules.yaml:4:7: rule "a": when: unknown name Tetx (column 26 of the expression)`},
		},
		{
			name: "bad_expression_after_non_ascii",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: Text contains "café" && Foo`,
				"    actions: [reply: hi]",
			),
			want: []string{`rules.yaml:3:35: rule "a": when: unknown name Foo (column 25 of the expression)`},
		},
		{
			name: "syntax_error_in_expression",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: Platform == "sendbee" &&`,
				"    actions: [reply: hi]",
			),
			want: []string{`rules.yaml:3:34: rule "a": when: unexpected token EOF (column 24 of the expression)`},
		},
		{
			name: "bad_clock_time",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: between("9am", "17:00")`,
				"    actions: [reply: hi]",
			),
			want: []string{`rules.yaml:3:19: rule "a": when: between: invalid clock time "9am" (want HH:MM or HH:MM:SS) (column 9 of the expression)`},
		},
		{
			name: "non_bool_expression",
			src: lines(
				"rules:",
				"  - name: a",
				"    when: Text",
				"    actions: [reply: hi]",
			),
			want: []string{`rules.yaml:3:11: rule "a": when: expected bool, but got string`},
		},
		{
			name: "bad_template",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: Text == "x"`,
				"    actions:",
				`      - reply: "Hi {{.Author.Name"`,
			),
			want: []string{`rules.yaml:5:17: rule "a": action 1 (reply): bad template: unclosed action`},
		},
		{
			name: "template_with_unknown_function",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: Text == "x"`,
				"    actions:",
				"      - reply: |",
				"          Hello",
				"          {{shout .Text}}",
			),
			want: []string{`rules.yaml:7:11: rule "a": action 1 (reply): bad template: function "shout" not defined (line 2 of the template)`},
		},
		{
			name: "template_with_unknown_field",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: Text == "x"`,
				"    actions:",
				`      - reply: "Hi {{.Author.Nmae}}, {{.Vars.x}}"`,
			),
			want: []string{`rules.yaml:5:29: rule "a": action 1 (reply): bad template: bot.User has no field Nmae`},
		},
		{
			name: "bad_cron_spec",
			src: lines(
				"schedules:",
				"  - name: morning",
				`    cron: "61 * * * *"`,
				"    actions:",
				"      - send: {platform: flowdock, conversation: main, text: hi}",
			),
			want: []string{`rules.yaml:3:11: schedule "morning": cron: bad spec "61 * * * *": end of range (61) above maximum (59): 61`},
		},
		{
			name: "cron_spec_that_never_fires",
			src: lines(
				"schedules:",
				"  - name: never",
				`    cron: "0 0 30 2 *"`,
				"    actions:",
				"      - send: {platform: flowdock, conversation: main, text: hi}",
			),
			want: []string{`rules.yaml:3:11: schedule "never": cron: bad spec "0 0 30 2 *": the schedule never fires`},
		},
		{
			name: "unknown_action",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: Text == "x"`,
				"    actions:",
				"      - replly: hi",
			),
			want: []string{`rules.yaml:5:9: rule "a": action 1: unknown action "replly" (did you mean "reply"?)`},
		},
		{
			name: "two_keys_in_one_action",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: Text == "x"`,
				"    actions:",
				"      - reply: hi",
				"        tag: [vip]",
			),
			want: []string{`rules.yaml:5:9: rule "a": action 1: an action has exactly one key, got 2 (reply, tag)`},
		},
		{
			name: "send_in_a_rule_and_reply_in_a_schedule",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: Text == "x"`,
				"    actions:",
				"      - send: {platform: flowdock, conversation: main, text: hi}",
				"schedules:",
				"  - name: s",
				"    cron: '@daily'",
				"    actions:",
				"      - reply: hi",
			),
			want: []string{
				`rules.yaml:5:9: rule "a": action 1: send is a schedule action; a rule sends elsewhere with forward`,
				`rules.yaml:10:9: schedule "s": action 1: reply is not a schedule action; a schedule has no message to act on, its only action is send`,
			},
		},
		{
			name: "continue_not_last_and_false",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: Text == "x"`,
				"    actions:",
				"      - continue: true",
				"      - reply: hi",
				"  - name: b",
				`    when: Text == "y"`,
				"    actions:",
				"      - stop: false",
			),
			want: []string{
				`rules.yaml:5:9: rule "a": action 1 (continue): must be the last action`,
				`rules.yaml:10:15: rule "b": action 1 (stop): the only value is true; leave the action out instead of writing false`,
			},
		},
		{
			name: "handoff_true_after_a_reply",
			src: lines(
				"rules:",
				"  - name: a",
				`    when: Text == "agent"`,
				"    actions:",
				"      - reply: One moment",
				"      - handoff: true",
			),
			want: []string{`rules.yaml:6:9: rule "a": action 2 (handoff): handoff: true hands the conversation to humans at once, ` +
				`so the reply of action 1 would be suppressed; write the reply as handoff: "<text>" instead`},
		},
		{
			name: "wrong_types",
			src: lines(
				"rules:",
				"  - name: [a]",
				`    when: Text == "x"`,
				"    priority: high",
				"    observer: maybe",
				"    actions: [tag: []]",
			),
			want: []string{
				`rules.yaml:2:11: rule 1: name: want a string, got a sequence`,
				`rules.yaml:4:15: rule 1: priority: want an integer, got the string "high"`,
				`rules.yaml:5:15: rule 1: observer: want true or false, got the string "maybe"`,
				`rules.yaml:6:20: rule 1: action 1 (tag): the list is empty`,
			},
		},
		{
			name: "bad_variable_names",
			src: lines(
				"vars:",
				"  1st: x",
				"rules:",
				"  - name: a",
				`    when: Text == "x"`,
				"    actions:",
				"      - set: {my-name: x}",
				"      - clear: [ok, 'bad name']",
			),
			want: []string{
				`rules.yaml:2:3: vars: bad variable name "1st": use letters, digits and _, not starting with a digit`,
				`rules.yaml:7:15: rule "a": action 1 (set): bad variable name "my-name": use letters, digits and _, not starting with a digit`,
				`rules.yaml:8:21: rule "a": action 2 (clear): bad variable name "bad name": use letters, digits and _, not starting with a digit`,
			},
		},
		{
			name: "missing_when_and_actions",
			src: lines(
				"rules:",
				"  - name: a",
			),
			want: []string{
				`rules.yaml:2:5: rule "a": missing key "when" (or "command")`,
				`rules.yaml:2:5: rule "a": missing key "actions"`,
			},
		},
		{
			name: "command_with_its_prefix",
			src: lines(
				"commands: {prefixes: ['/']}",
				"rules:",
				"  - name: a",
				"    command: /help",
				"    actions: [reply: hi]",
			),
			want: []string{`rules.yaml:4:14: rule "a": command: write the name without the prefix "/"`},
		},
		{
			name: "bad_command_syntax",
			src: lines(
				"commands: {prefixes: ['', '> '], names: []}",
				"rules:",
				"  - name: a",
				"    command: help",
				"    actions: [reply: hi]",
			),
			want: []string{
				`rules.yaml:1:23: commands: prefixes[0]: must not be empty`,
				`rules.yaml:1:27: commands: prefixes: "> " contains white space`,
				`rules.yaml:1:41: commands: names: the list is empty`,
			},
		},
		{
			name: "yaml_syntax_error",
			src: lines(
				"rules:",
				"  - name: a",
				"    when: x: y",
			),
			want: []string{`rules.yaml:3: bad YAML: mapping values are not allowed in this context`},
		},
		{
			name: "two_documents",
			src:  lines("rules: []", "---", "rules: []"),
			want: []string{`rules.yaml:2:1: a rules file holds one YAML document; this is a second one`},
		},
		{
			name: "every_problem_is_reported",
			src: lines(
				"rules:",
				"  - name: a",
				"    when: Txt == 1",
				"    actions: [reply: '{{.Nope}}']",
				"  - name: b",
				`    when: Text == "b"`,
				"    actions: [tag: vip, handoff: false]",
				"schedules:",
				"  - name: s",
				"    cron: '@every 500ms'",
				"    actions: [send: {platform: x, conversation: y, text: z}]",
			),
			want: []string{
				`rules.yaml:3:11: rule "a": when: unknown name Txt (column 1 of the expression)`,
				`rules.yaml:4:25: rule "a": action 1 (reply): bad template: the message data has no field Nope`,
				`rules.yaml:7:34: rule "b": action 2 (handoff): the only value is true; leave the action out instead of writing false`,
				`rules.yaml:10:11: schedule "s": cron: bad spec "@every 500ms": @every needs a duration of at least 1s`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, problems(t, tt.src))
		})
	}
}

func TestParse_errorsUnwrap(t *testing.T) {
	t.Parallel()
	_, err := rulefile.Parse("r.yaml", []byte(lines(
		"rules:",
		"  - name: a",
		"    when: Txt == 1",
		"    actions: [reply: hi]",
	)))
	var ee *bot.ExprError
	require.ErrorAs(t, err, &ee, "the LoadError unwraps to the expression's error")
	assert.Equal(t, 1, ee.Column)
	assert.EqualError(t, err, `rulefile: r.yaml:3:11: rule "a": when: unknown name Txt (column 1 of the expression)`)

	_, err = rulefile.Parse("r.yaml", []byte("rules: 3\nschedules: x\n"))
	assert.EqualError(t, err, "rulefile: 2 problems:\n"+
		"\tr.yaml:1:8: rules: want a list, got the integer 3\n"+
		"\tr.yaml:2:12: schedules: want a list, got the string \"x\"")
}

func TestParse_valid(t *testing.T) {
	t.Parallel()
	set, err := rulefile.Parse("rules.yaml", []byte(lines(
		"commands:",
		"  prefixes: ['/']",
		"  names: [parley]",
		"vars: {greeting: Hello}",
		"rules:",
		"  - name: low",
		`    when: Text contains "a"`,
		"    priority: -1",
		"    actions: [reply: low]",
		"  - name: help",
		"    command: help",
		"    help: {usage: /help, description: list the commands}",
		"    actions: [reply: help]",
		"  - name: urgent",
		"    when: hasTag('urgent')",
		"    priority: 10",
		"    observer: true",
		"    help: escalates urgent conversations",
		"    actions: [tag: [escalated]]",
		"schedules:",
		"  - name: standup",
		"    cron: CRON_TZ=Europe/Zagreb 0 9 * * MON-FRI",
		"    actions:",
		"      - send: {platform: flowdock, conversation: team, text: 'Stand-up, {{.Vars.greeting}}'}",
	)))
	require.NoError(t, err)
	assert.Equal(t, []rulefile.RuleInfo{
		{Name: "urgent", When: "hasTag('urgent')", Priority: 10, Observer: true, Line: 14},
		{Name: "help", Command: "help", Line: 10},
		{Name: "low", When: `Text contains "a"`, Priority: -1, Line: 6},
	}, set.Rules())
	assert.Equal(t, []rulefile.ScheduleInfo{{Name: "standup", Spec: "CRON_TZ=Europe/Zagreb 0 9 * * MON-FRI", Line: 21}}, set.Schedules())
	routes := set.Routes()
	require.Len(t, routes, 3)
	assert.Equal(t, "", routes[0].Usage)
	assert.Equal(t, "escalates urgent conversations", routes[0].Description)
	assert.Equal(t, "/help", routes[1].Usage)
	assert.Equal(t, "list the commands", routes[1].Description)
}

func TestParse_empty(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"", "# nothing\n", "---\n", "rules:\nschedules:\n"} {
		set, err := rulefile.Parse("empty.yaml", []byte(src))
		require.NoError(t, err, "%q", src)
		assert.Empty(t, set.Rules())
		assert.Empty(t, set.Schedules())
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yaml")
	require.NoError(t, os.WriteFile(path, []byte("rules:\n  - name: a\n    when: Txt\n    actions: [reply: hi]\n"), 0o600))
	_, err := rulefile.Load(path)
	var le *rulefile.LoadError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, path, le.Problems[0].File)
	assert.Equal(t, 3, le.Problems[0].Line)

	_, err = rulefile.Load(filepath.Join(dir, "missing.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.False(t, errors.As(err, &le))
}

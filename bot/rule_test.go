package bot_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
)

// ruleMsg is a message in a group conversation of the "test" platform.
func ruleMsg(text string) *bot.Message {
	return &bot.Message{ID: "m1", Platform: "test", Conversation: "c1", Text: text}
}

func direct(m *bot.Message) *bot.Message { m.Direct = true; return m }

func ofKind(m *bot.Message, k bot.Kind) *bot.Message { m.Kind = k; return m }

var errRule = errors.New("rule broke")

func failing() bot.Rule {
	return bot.RuleFunc(func(context.Context, *bot.Message) (bool, error) { return false, errRule })
}

func TestRules_Match(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rule bot.Rule
		msg  *bot.Message
		want bool
	}{
		{"Always", bot.Always(), ruleMsg(""), true},

		{"Prefix/match", bot.Prefix("!"), ruleMsg("!deploy now"), true},
		{"Prefix/after leading space", bot.Prefix("hey"), ruleMsg(" \t hey you"), true},
		{"Prefix/case-sensitive", bot.Prefix("hey"), ruleMsg("Hey you"), false},
		{"Prefix/not at start", bot.Prefix("hey"), ruleMsg("oh hey"), false},

		{"Regexp/match", bot.Regexp(regexp.MustCompile(`order #(\d+)`)), ruleMsg("where is order #42?"), true},
		{"Regexp/no match", bot.Regexp(regexp.MustCompile(`order #(\d+)`)), ruleMsg("where is order 42?"), false},
		{"Regexp/fold case", bot.Regexp(regexp.MustCompile(`(?i)kelvin`)), ruleMsg("\u212Aelvin"), true},

		{"Platform/one", bot.Platform("test"), ruleMsg("x"), true},
		{"Platform/several", bot.Platform("a", "test"), ruleMsg("x"), true},
		{"Platform/other", bot.Platform("sendbee"), ruleMsg("x"), false},
		{"Platform/exact", bot.Platform("Test"), ruleMsg("x"), false},

		{"Direct/direct", bot.Direct(), direct(ruleMsg("x")), true},
		{"Direct/group", bot.Direct(), ruleMsg("x"), false},

		{"OfKind/empty kind is message", bot.OfKind(bot.KindMessage), ruleMsg("x"), true},
		{"OfKind/empty argument is message", bot.OfKind(""), ofKind(ruleMsg("x"), bot.KindMessage), true},
		{"OfKind/one of several", bot.OfKind(bot.KindEdit, bot.KindDelete), ofKind(ruleMsg("x"), bot.KindDelete), true},
		{"OfKind/other", bot.OfKind(bot.KindEdit), ruleMsg("x"), false},
		{"OfKind/platform-specific", bot.OfKind("typing"), ofKind(ruleMsg("x"), "typing"), true},

		{"All/all match", bot.All(bot.Platform("test"), bot.Prefix("!")), ruleMsg("!x"), true},
		{"All/one fails", bot.All(bot.Platform("test"), bot.Prefix("!")), ruleMsg("x"), false},
		{"Any/one matches", bot.Any(bot.Platform("a"), bot.Prefix("!")), ruleMsg("!x"), true},
		{"Any/none matches", bot.Any(bot.Platform("a"), bot.Prefix("!")), ruleMsg("x"), false},
		{"Any/error then match", bot.Any(failing(), bot.Always()), ruleMsg("x"), true},
		{"Not/negates", bot.Not(bot.Direct()), ruleMsg("x"), true},
		{"Not/negates match", bot.Not(bot.Always()), ruleMsg("x"), false},

		{"RuleFunc", bot.RuleFunc(func(_ context.Context, m *bot.Message) (bool, error) { return m.Text == "x", nil }), ruleMsg("x"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.rule.Match(t.Context(), tt.msg)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRules_errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rule    bot.Rule
		want    bool
		wantErr error
	}{
		{"All stops at error", bot.All(bot.Always(), failing(), bot.Always()), false, errRule},
		{"All stops at first non-match", bot.All(bot.Not(bot.Always()), failing()), false, nil},
		{"Any returns error when nothing matches", bot.Any(failing(), bot.Not(bot.Always())), false, errRule},
		{"Any ignores error when something matches", bot.Any(failing(), bot.Always()), true, nil},
		{"Not passes error", bot.Not(failing()), false, errRule},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.rule.Match(t.Context(), ruleMsg("x"))
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			} else {
				assert.NoError(t, err)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRules_panic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"Prefix empty", func() { bot.Prefix("") }, "bot: empty Prefix"},
		{"Regexp nil", func() { bot.Regexp(nil) }, "bot: nil regexp"},
		{"Platform none", func() { bot.Platform() }, "bot: Platform needs at least one name"},
		{"Platform empty", func() { bot.Platform("a", "") }, "bot: empty platform name"},
		{"OfKind none", func() { bot.OfKind() }, "bot: OfKind needs at least one kind"},
		{"All none", func() { bot.All() }, "bot: All needs at least one rule"},
		{"All nil", func() { bot.All(bot.Always(), nil) }, "bot: nil rule in All"},
		{"Any none", func() { bot.Any() }, "bot: Any needs at least one rule"},
		{"Any nil", func() { bot.Any(nil) }, "bot: nil rule in Any"},
		{"Not nil", func() { bot.Not(nil) }, "bot: nil rule in Not"},
		{"Command empty", func() { bot.Command("") }, "bot: empty command name"},
		{"Command with space", func() { bot.Command("say hi") }, `bot: command name "say hi" contains white space`},
		{"Command with tab", func() { bot.Command("say\thi") }, `bot: command name "say\thi" contains white space`},
		{"Command with prefix", func() { bot.Command("/help") }, `bot: command name "/help" starts with the prefix "/"`},
		{"Command with custom prefix", func() { bot.CommandSyntax{Prefixes: []string{"."}}.Command(".help") }, `bot: command name ".help" starts with the prefix "."`},
		{"CommandSyntax empty prefix", func() { bot.CommandSyntax{Prefixes: []string{""}}.Command("help") }, "bot: empty command prefix"},
		{"CommandSyntax empty name", func() { bot.CommandSyntax{Names: []string{""}}.Command("help") }, "bot: empty bot name in CommandSyntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.PanicsWithValue(t, tt.want, tt.f)
		})
	}
}

func TestRules_String(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule bot.Rule
		want string
	}{
		{bot.Always(), "Always()"},
		{bot.Prefix("!"), `Prefix("!")`},
		{bot.Regexp(regexp.MustCompile(`^a+$`)), `Regexp("^a+$")`},
		{bot.Platform("a", "b"), `Platform("a", "b")`},
		{bot.Direct(), "Direct()"},
		{bot.OfKind("", bot.KindEdit), `OfKind("message", "edit")`},
		{bot.Command("Echo"), `Command("echo")`},
		{bot.All(bot.Direct(), bot.Not(bot.Command("x"))), `All(Direct(), Not(Command("x")))`},
		{bot.Any(bot.Direct(), bot.Always()), "Any(Direct(), Always())"},
		{bot.MustExpr(`Text == "x"`), `Expr("Text == \"x\"")`},
		{bot.Any(bot.RuleFunc(nil)), "Any(bot.RuleFunc)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, fmt.Sprint(tt.rule))
		})
	}
}

func TestCommandSyntax_Parse(t *testing.T) {
	t.Parallel()
	named := bot.CommandSyntax{Names: []string{"parley"}}
	tests := []struct {
		name     string
		syn      bot.CommandSyntax
		text     string
		direct   bool
		wantName string
		wantArgs string
		wantOK   bool
	}{
		{"slash", bot.CommandSyntax{}, "/echo hello  world ", false, "echo", "hello  world", true},
		{"bang", bot.CommandSyntax{}, "!echo", false, "echo", "", true},
		{"leading space", bot.CommandSyntax{}, "  /echo hi", false, "echo", "hi", true},
		{"upper case word", bot.CommandSyntax{}, "/ECHO Hi", false, "echo", "Hi", true},
		{"args after newline", bot.CommandSyntax{}, "/echo\nline two", false, "echo", "line two", true},
		{"no prefix in group", bot.CommandSyntax{}, "echo hi", false, "", "", false},
		{"no prefix in direct", bot.CommandSyntax{}, "echo hi", true, "echo", "hi", true},
		{"prefix in direct", bot.CommandSyntax{}, "/echo hi", true, "echo", "hi", true},
		{"prefix only", bot.CommandSyntax{}, "/", false, "", "", false},
		{"prefix then space", bot.CommandSyntax{}, "/ echo", false, "", "", false},
		{"empty", bot.CommandSyntax{}, "   ", true, "", "", false},
		{"prefix not at start", bot.CommandSyntax{}, "say /echo", false, "", "", false},

		{"name and space", named, "parley echo hi", false, "echo", "hi", true},
		{"name and comma", named, "Parley, echo hi", false, "echo", "hi", true},
		{"name and colon", named, "PARLEY: echo", false, "echo", "", true},
		{"name and colon no space", named, "parley:echo hi", false, "echo", "hi", true},
		{"mention", named, "@parley echo hi", false, "echo", "hi", true},
		{"mention and prefix", named, "@Parley: /echo hi", false, "echo", "hi", true},
		{"name is a word", named, "parleybot echo", false, "", "", false},
		{"name only", named, "parley", false, "", "", false},
		{"name and comma only", named, "parley,", false, "", "", false},
		{"prefix without name", named, "/echo hi", false, "echo", "hi", true},
		{"at-name configured", bot.CommandSyntax{Names: []string{"@bot"}}, "@bot help", false, "help", "", true},
		{"at-name configured, bare name", bot.CommandSyntax{Names: []string{"@bot"}}, "bot help", false, "", "", false},
		{"second name", bot.CommandSyntax{Names: []string{"parley", "pb"}}, "pb: help", false, "help", "", true},

		{"custom prefix", bot.CommandSyntax{Prefixes: []string{"."}}, ".help", false, "help", "", true},
		{"custom prefix excludes default", bot.CommandSyntax{Prefixes: []string{"."}}, "/help", false, "", "", false},
		{"longest prefix", bot.CommandSyntax{Prefixes: []string{"!", "!!"}}, "!!help", false, "help", "", true},
		{"no prefixes, group", bot.CommandSyntax{Prefixes: []string{}}, "/help", false, "", "", false},
		{"no prefixes, direct", bot.CommandSyntax{Prefixes: []string{}}, "help me", true, "help", "me", true},
		{"no prefixes, addressed", bot.CommandSyntax{Prefixes: []string{}, Names: []string{"parley"}}, "parley help", false, "help", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name, args, ok := tt.syn.Parse(tt.text, tt.direct)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.wantName, name)
			assert.Equal(t, tt.wantArgs, args)
		})
	}
}

func TestCommand_Match(t *testing.T) {
	t.Parallel()
	named := bot.CommandSyntax{Names: []string{"parley"}}
	tests := []struct {
		name string
		rule bot.Rule
		msg  *bot.Message
		want bool
	}{
		{"slash", bot.Command("echo"), ruleMsg("/echo hi"), true},
		{"bang", bot.Command("echo"), ruleMsg("!echo"), true},
		{"case-insensitive word", bot.Command("echo"), ruleMsg("/EcHo"), true},
		{"case-insensitive name", bot.Command("Echo"), ruleMsg("/echo"), true},
		{"Unicode folding", bot.Command("kelvin"), ruleMsg("/\u212Aelvin"), true},
		{"other command", bot.Command("echo"), ruleMsg("/echoes"), false},
		{"longer word", bot.Command("echo"), ruleMsg("/echox hi"), false},
		{"plain text in group", bot.Command("help"), ruleMsg("help"), false},
		{"plain text in direct chat", bot.Command("help"), direct(ruleMsg("help")), true},
		{"addressed by name", named.Command("help"), ruleMsg("parley, help"), true},
		{"addressed by mention", named.Command("help"), ruleMsg("@PARLEY help me"), true},
		{"not addressed", named.Command("help"), ruleMsg("help"), false},
		{"other name", named.Command("help"), ruleMsg("bob, help"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.rule.Match(t.Context(), tt.msg)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCommandSyntax_Command_copiesSyntax(t *testing.T) {
	t.Parallel()
	syn := bot.CommandSyntax{Prefixes: []string{"."}, Names: []string{"parley"}}
	rule := syn.Command("help")
	syn.Prefixes[0], syn.Names[0] = "#", "bob"
	ok, err := rule.Match(t.Context(), ruleMsg(".help"))
	require.NoError(t, err)
	assert.True(t, ok, "the rule must not see later changes to the syntax")
	ok, err = rule.Match(t.Context(), ruleMsg("parley help"))
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestCommandArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  *bot.Message
		want string
	}{
		{"args", ruleMsg("/echo  hello world "), "hello world"},
		{"no args", ruleMsg("/echo"), ""},
		{"not a command", ruleMsg("echo hello"), ""},
		{"direct", direct(ruleMsg("echo hello")), "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, bot.CommandArgs(tt.msg))
		})
	}
}

func TestCapturesOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rule bot.Rule
		msg  *bot.Message
		want bot.Captures
	}{
		{"Command", bot.Command("echo"), ruleMsg("/ECHO  hello there "), bot.Captures{Command: "echo", Args: "hello there"}},
		{"Command addressed", bot.CommandSyntax{Names: []string{"parley"}}.Command("echo"), ruleMsg("parley: echo x"), bot.Captures{Command: "echo", Args: "x"}},
		{"Prefix", bot.Prefix("!"), ruleMsg("  !deploy prod "), bot.Captures{Args: "deploy prod"}},
		{
			"Regexp", bot.Regexp(regexp.MustCompile(`order #(\d+)(?: for (?P<who>\w+))?`)), ruleMsg("order #42 for ann!"),
			bot.Captures{Groups: []string{"order #42 for ann", "42", "ann"}, Named: map[string]string{"who": "ann"}},
		},
		{"Regexp without groups", bot.Regexp(regexp.MustCompile(`hi`)), ruleMsg("oh hi"), bot.Captures{Groups: []string{"hi"}}},
		{
			"All merges", bot.All(bot.Platform("test"), bot.Regexp(regexp.MustCompile(`(?P<n>\d+)`)), bot.Command("order")), ruleMsg("/order 7"),
			bot.Captures{Command: "order", Args: "7", Groups: []string{"7", "7"}, Named: map[string]string{"n": "7"}},
		},
		{"All prefers the Command's args", bot.All(bot.Prefix("/"), bot.Command("x")), ruleMsg("/x y"), bot.Captures{Command: "x", Args: "y"}},
		{"Any uses the first capturing rule", bot.Any(bot.Command("a"), bot.Command("b")), ruleMsg("/b c"), bot.Captures{Command: "b", Args: "c"}},
		{"Not captures nothing", bot.Not(bot.Command("a")), ruleMsg("/b"), bot.Captures{}},
		{"Expr captures nothing", bot.MustExpr(`isCommand("b")`), ruleMsg("/b c"), bot.Captures{}},
		{"RuleFunc captures nothing", bot.RuleFunc(func(context.Context, *bot.Message) (bool, error) { return true, nil }), ruleMsg("/b"), bot.Captures{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got bot.Captures
			called := false
			r := bot.NewRouter()
			r.HandleFunc(tt.rule, func(ctx context.Context, _ bot.Sender, _ *bot.Message) error {
				called = true
				got = bot.CapturesOf(ctx)
				return nil
			})
			require.NoError(t, r.HandleMessage(t.Context(), nil, tt.msg))
			require.True(t, called, "the route must match")
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCapturesOf_outsideRoute(t *testing.T) {
	t.Parallel()
	assert.Equal(t, bot.Captures{}, bot.CapturesOf(t.Context()))

	var got bot.Captures
	r := bot.NewRouter()
	r.Handle(bot.Command("x"), bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error { return nil }))
	r.NotFound(bot.HandlerFunc(func(ctx context.Context, _ bot.Sender, _ *bot.Message) error {
		got = bot.CapturesOf(ctx)
		return nil
	}))
	require.NoError(t, r.HandleMessage(t.Context(), nil, ruleMsg("/y z")))
	assert.Equal(t, bot.Captures{}, got)
}

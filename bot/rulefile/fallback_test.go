package rulefile_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/rulefile"
)

const fallbackRules = `commands: {prefixes: ["/"], names: [parley]}
rules:
  - name: hello
    when: lower(Text) == "hello"
    actions:
      - reply: Hello!
  - name: audit
    when: Text contains "audit"
    actions:
      - tag: audited
      - continue: true
fallback:
  - reply: 'Sorry {{.Author.Name}}, I did not get "{{.Text}}"{{with .Captures.Command}} ({{.}} is no command of mine){{end}}.'
  - tag: [unknown]
`

// TestEngine_fallback drives the fallback through a Bot: it answers the
// messages no rule handled, and only those a user addressed to the bot.
func TestEngine_fallback(t *testing.T) {
	h := newHarness(t, fallbackRules)
	bottest.Run(t, h.b)
	ana := bot.User{ID: "u1", Name: "Ana"}
	say := func(text string, opts ...bottest.MessageOption) {
		t.Helper()
		opts = append([]bottest.MessageOption{bottest.In("sendbee", "c1"), bottest.From(ana), bottest.Direct()}, opts...)
		require.NoError(t, h.sb.Inject(t.Context(), bottest.NewMessage(text, opts...)))
	}
	notDirect := func(m *bot.Message) { m.Direct = false }

	// Messages of one conversation are handled in order, so the replies
	// to the messages that expect one come in this order, and none of the
	// others slip in between.
	say("hello")                                                  // a rule
	say("what?")                                                  // the fallback
	say("please audit this")                                      // a rule that continues: the fallback too
	say("edited", bottest.WithKind(bot.KindEdit))                 // not a message
	say("from a bot", bottest.From(bot.User{ID: "b", Bot: true})) // a bot
	say("from an agent", bottest.From(bot.User{ID: "a", Agent: true, Name: "Dana"}))
	say("chatter in a group", notDirect)  // not addressed to the bot
	say("/frobnicate now", notDirect)     // a command in the file's syntax
	say("parley, how are you", notDirect) // addressed by name
	say("done")                           // the fallback again
	want := []string{
		"Hello!",
		`Sorry Ana, I did not get "what?".`,
		`Sorry Ana, I did not get "please audit this".`,
		`Sorry Ana, I did not get "/frobnicate now" (frobnicate is no command of mine).`,
		`Sorry Ana, I did not get "parley, how are you" (how is no command of mine).`,
		`Sorry Ana, I did not get "done".`,
	}
	assert.Equal(t, want, texts(h.sb.WaitSent(t, len(want))))
	assert.Equal(t, []string{"unknown"}, h.sb.Tags("c1", ""), "the fallback's tag action ran last")
	for _, m := range h.sb.Sent() {
		assert.NotEmpty(t, m.ReplyTo, "the fallback replies to the message")
	}
}

// TestEngine_fallbackHumanOwner checks that the fallback, like a Router's
// NotFound handler, does not run while humans own the conversation.
func TestEngine_fallbackHumanOwner(t *testing.T) {
	// An observer rule that continues shows when the message was routed.
	h := newHarness(t, strings.Replace(fallbackRules, "fallback:\n", lines(
		"  - name: seen",
		"    observer: true",
		`    when: Owner == "human"`,
		"    actions: [forward: {platform: flowdock, conversation: log, text: '{{.Text}}'}, continue: true]",
		"fallback:",
	), 1))
	bottest.Run(t, h.b)
	ctx := t.Context()
	require.NoError(t, h.b.Handoff(ctx, "sendbee", "c1"))
	require.NoError(t, h.sb.Inject(ctx, bottest.NewMessage("anyone?", bottest.In("sendbee", "c1"), bottest.Direct())))
	assert.Equal(t, []string{"anyone?"}, texts(h.fd.WaitSent(t, 1)))
	require.NoError(t, h.b.Resume(ctx, "sendbee", "c1"))
	require.NoError(t, h.sb.Inject(ctx, bottest.NewMessage("back", bottest.In("sendbee", "c1"), bottest.Direct())))
	assert.Equal(t, []string{`Sorry Test User, I did not get "back".`}, texts(h.sb.WaitSent(t, 1)))
}

// TestEngine_fallbackAfterOtherRoutes checks that the fallback runs after
// every other route of the Bot declined a message, whatever their
// priority, and before the Bot's NotFound handler; and that without a
// fallback in the file the NotFound handler answers as before.
func TestEngine_fallbackAfterOtherRoutes(t *testing.T) {
	for _, withFallback := range []bool{true, false} {
		t.Run(map[bool]string{true: "with_fallback", false: "without_fallback"}[withFallback], func(t *testing.T) {
			sb := bottest.NewFakeAdapter("sendbee")
			b, err := bot.New(bot.WithAdapters(sb), bot.WithLogger(bottest.Logger(t)))
			require.NoError(t, err)
			src := "rules: [{name: hello, when: 'Text == \"hello\"', actions: [reply: Hello!]}]\n"
			if withFallback {
				src += "fallback: [reply: 'Sorry?']\n"
			}
			set, err := rulefile.Parse("rules.yaml", []byte(src))
			require.NoError(t, err)
			require.NoError(t, rulefile.NewEngine(set).Install(b, bot.Priority(50)))
			b.HandleFunc(bot.Command("help"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
				return w.Send(ctx, m.Reply("Commands: hello"))
			})
			b.HandleFunc(bot.Command("low"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
				return w.Send(ctx, m.Reply("low"))
			}, bot.Priority(math.MinInt+1))
			b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
				return w.Send(ctx, m.Reply("not found"))
			}))
			bottest.Run(t, b)
			for _, text := range []string{"hello", "help", "low", "what?"} {
				require.NoError(t, sb.Inject(t.Context(), bottest.NewMessage(text, bottest.In("sendbee", "c1"), bottest.Direct())))
			}
			last := "Sorry?"
			if !withFallback {
				last = "not found"
			}
			assert.Equal(t, []string{"Hello!", "Commands: hello", "low", last}, texts(sb.WaitSent(t, 4)))
		})
	}
}

// TestEngine_fallbackReload checks that a reload adds and removes the
// fallback of a running Engine.
func TestEngine_fallbackReload(t *testing.T) {
	const ping = "rules: [{name: ping, when: 'Text == \"ping\"', actions: [reply: pong]}]\n"
	path := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(path, []byte(ping), 0o644))
	set, err := rulefile.Load(path)
	require.NoError(t, err)
	sb := bottest.NewFakeAdapter("sendbee")
	b, err := bot.New(bot.WithAdapters(sb), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	e := rulefile.NewEngine(set)
	require.NoError(t, e.Install(b))
	bottest.Run(t, b)
	say := func(text string) {
		require.NoError(t, sb.Inject(t.Context(), bottest.NewMessage(text, bottest.In("sendbee", "c1"), bottest.Direct())))
	}

	// Messages of one conversation are handled in order: the answer to
	// ping shows that the message before it was handled.
	say("one") // no fallback: silence
	say("ping")
	sb.WaitSent(t, 1)
	require.NoError(t, os.WriteFile(path, []byte(ping+"fallback: [reply: 'Sorry, {{.Text}}?']\n"), 0o644))
	require.NoError(t, e.Reload(path))
	say("two")
	sb.WaitSent(t, 2)
	require.NoError(t, os.WriteFile(path, []byte(ping), 0o644))
	require.NoError(t, e.Reload(path))
	say("three") // no fallback again
	say("ping")
	assert.Equal(t, []string{"pong", "Sorry, two?", "pong"}, texts(sb.WaitSent(t, 3)))
}

// TestEngine_fallbackHandler uses the fallback without Install: as the
// NotFound handler of an application's own Router.
func TestEngine_fallbackHandler(t *testing.T) {
	t.Parallel()
	set, err := rulefile.Parse("rules.yaml", []byte(lines(
		"rules: [{name: hello, when: 'Text == \"hello\"', actions: [reply: Hello!]}]",
		"fallback: [reply: 'Sorry {{.Author.Name}}, I did not get \"{{.Text}}\".']",
	)))
	require.NoError(t, err)
	e := rulefile.NewEngine(set)
	r := bot.NewRouter()
	r.Handle(bot.Always(), e)
	r.NotFound(e.Fallback())
	var rec bottest.Recorder
	require.NoError(t, r.HandleMessage(t.Context(), &rec, bottest.NewMessage("hello", bottest.Direct())))
	require.NoError(t, r.HandleMessage(t.Context(), &rec, bottest.NewMessage("huh", bottest.Direct())))
	assert.Equal(t, []string{"Hello!", `Sorry Test User, I did not get "huh".`}, rec.Texts())

	err = e.Fallback().HandleMessage(t.Context(), &rec, bottest.NewMessage("status", bottest.WithKind(bot.KindStatus)))
	assert.ErrorIs(t, err, bot.ErrContinue, "a message the fallback does not answer goes on")
	empty := rulefile.NewEngine(nil)
	err = empty.Fallback().HandleMessage(t.Context(), &rec, bottest.NewMessage("x", bottest.Direct()))
	assert.ErrorIs(t, err, bot.ErrContinue, "a file without a fallback")
}

func TestParse_fallbackProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "empty",
			src:  lines("fallback:"),
			want: []string{`rules.yaml:1:10: fallback: the list of actions is empty (leave fallback out for a bot that stays silent)`},
		},
		{
			name: "not_a_list",
			src:  lines("fallback:", "  reply: hi"),
			want: []string{`rules.yaml:2:3: fallback: want a list of actions, got a mapping`},
		},
		{
			name: "continue",
			src:  lines("fallback:", "  - reply: hi", "  - continue: true"),
			want: []string{`rules.yaml:3:5: fallback: action 2 (continue): the fallback runs after every rule; continue and stop are for rules`},
		},
		{
			name: "unknown_action_and_bad_template",
			src:  lines("fallback:", "  - replly: hi", "  - reply: 'Hi {{.Author.Nmae}}'"),
			want: []string{
				`rules.yaml:2:5: fallback: action 1: unknown action "replly" (did you mean "reply"?)`,
				`rules.yaml:3:25: fallback: action 2 (reply): bad template: bot.User has no field Nmae`,
			},
		},
		{
			name: "send",
			src:  lines("fallback:", "  - send: {platform: p, conversation: c, text: t}"),
			want: []string{`rules.yaml:2:5: fallback: action 1: send is a schedule action; a rule sends elsewhere with forward`},
		},
		{
			name: "reply_before_handoff_true",
			src:  lines("fallback:", "  - reply: hi", "  - handoff: true"),
			want: []string{`rules.yaml:3:5: fallback: action 2 (handoff): handoff: true hands the conversation to humans at once, so the reply of action 1 would be suppressed; write the reply as handoff: "<text>" instead`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := rulefile.Parse("rules.yaml", []byte(tt.src))
			var le *rulefile.LoadError
			require.ErrorAs(t, err, &le)
			var got []string
			for _, p := range le.Problems {
				got = append(got, p.String())
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestEngine_fallbackInstallCheck checks that a forward of the fallback
// names an adapter of the Bot, like a rule's.
func TestEngine_fallbackInstallCheck(t *testing.T) {
	t.Parallel()
	set, err := rulefile.Parse("rules.yaml", []byte(lines(
		"fallback:",
		"  - forward: {platform: slack, conversation: c, text: t}",
	)))
	require.NoError(t, err)
	b, err := bot.New(bot.WithAdapters(bottest.NewFakeAdapter("sendbee")), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	err = rulefile.NewEngine(set).Install(b)
	var le *rulefile.LoadError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, `rules.yaml:2:25: fallback: action 1 (forward): platform: no adapter named "slack" on the Bot`, le.Problems[0].String())
	assert.Empty(t, b.Routes(), "nothing registered")
}

package rulefile_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/rulefile"
)

// harness is a Bot with two fake platforms, "sendbee" (where customers
// write) and "flowdock" (the team's chat), running a rules file.
type harness struct {
	b      *bot.Bot
	sb, fd *bottest.FakeAdapter
	e      *rulefile.Engine
}

func newHarness(t *testing.T, src string, opts ...rulefile.Option) *harness {
	t.Helper()
	h := &harness{sb: bottest.NewFakeAdapter("sendbee"), fd: bottest.NewFakeAdapter("flowdock")}
	var err error
	h.b, err = bot.New(bot.WithAdapters(h.sb, h.fd), bot.WithLogger(bottest.Logger(t)), bot.WithLocation(time.UTC))
	require.NoError(t, err)
	set, err := rulefile.Parse("rules.yaml", []byte(src))
	require.NoError(t, err)
	h.e = rulefile.NewEngine(set, opts...)
	require.NoError(t, h.e.Install(h.b))
	return h
}

// say injects a customer message in conversation c1 of sendbee.
func (h *harness) say(t *testing.T, text string) {
	t.Helper()
	require.NoError(t, h.sb.Inject(t.Context(), bottest.NewMessage(text, bottest.In("sendbee", "c1"),
		bottest.From(bot.User{ID: "u1", Name: "Ana"}))))
}

func texts(ms []*bot.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Text
	}
	return out
}

func TestEngine_reply(t *testing.T) {
	h := newHarness(t, lines(
		"rules:",
		"  - name: greet",
		`    when: lower(Text) startsWith "hello"`,
		"    actions:",
		`      - reply: "Hi {{.Author.Name}}! You wrote {{.Text | upper | printf \"%q\"}} on {{.Platform}}/{{.Conversation}}."`,
	))
	bottest.Run(t, h.b)
	h.say(t, "Hello there")
	sent := h.sb.WaitSent(t, 1)
	assert.Equal(t, `Hi Ana! You wrote "HELLO THERE" on sendbee/c1.`, sent[0].Text)
	assert.Equal(t, "c1", sent[0].Conversation)
	assert.NotEmpty(t, sent[0].ReplyTo, "a reply to the message")
}

func TestEngine_template(t *testing.T) {
	h := newHarness(t, lines(
		"rules:",
		"  - name: order-status",
		`    when: Text contains "order"`,
		"    actions:",
		"      - template:",
		"          keyword: order_status",
		"          language: en",
		"          tags: {'1': '{{.Author.Name}}', '2': shipped}",
		"          button_tags: {track: '{{.Conversation}}'}",
	))
	bottest.Run(t, h.b)
	h.say(t, "where is my order?")
	sent := h.sb.WaitSent(t, 1)
	assert.Equal(t, bot.Template{
		Keyword: "order_status", Language: "en",
		Tags:       map[string]string{"1": "Ana", "2": "shipped"},
		ButtonTags: map[string]string{"track": "c1"},
	}, sent[0].Payload)
	assert.Empty(t, sent[0].Text)
}

func TestEngine_tag(t *testing.T) {
	h := newHarness(t, lines(
		"rules:",
		"  - name: vip",
		`    when: Text contains "premium"`,
		"    actions:",
		"      - tag: [vip, lead]",
		"      - reply: tagged",
	))
	bottest.Run(t, h.b)
	h.say(t, "I have a premium plan")
	h.sb.WaitSent(t, 1)
	assert.Equal(t, []string{"vip", "lead"}, h.sb.Tags("c1", ""))
}

func TestEngine_handoffAndResume(t *testing.T) {
	h := newHarness(t, lines(
		"rules:",
		"  - name: agent",
		`    when: Text == "agent"`,
		"    actions:",
		"      - handoff: 'Connecting you to a person, {{.Author.Name}}.'",
		"  - name: quiet-agent",
		`    when: Text == "quiet agent"`,
		"    actions:",
		"      - handoff: true",
		"  - name: bot-back",
		"    observer: true",
		`    when: Owner == "human" && Text == "#bot"`,
		"    actions:",
		"      - resume: true",
		"      - reply: The bot is back.",
	))
	bottest.Run(t, h.b)
	ctx := t.Context()

	h.say(t, "agent")
	sent := h.sb.WaitSent(t, 1)
	assert.Equal(t, "Connecting you to a person, Ana.", sent[0].Text)
	assert.True(t, sent[0].Handoff)
	require.Eventually(t, func() bool {
		o, err := h.b.Owner(ctx, "sendbee", "c1")
		return err == nil && o == bot.OwnerHuman
	}, 2*time.Second, 5*time.Millisecond)

	// While humans own the conversation only the observer rule runs.
	h.say(t, "#bot")
	sent = h.sb.WaitSent(t, 2)
	assert.Equal(t, "The bot is back.", sent[1].Text)
	o, err := h.b.Owner(ctx, "sendbee", "c1")
	require.NoError(t, err)
	assert.Equal(t, bot.OwnerBot, o)
	assert.Equal(t, bot.OwnerBot, h.sb.PlatformOwner("c1"), "mirrored to the platform")

	h.say(t, "quiet agent")
	require.Eventually(t, func() bool {
		o, err := h.b.Owner(ctx, "sendbee", "c1")
		return err == nil && o == bot.OwnerHuman
	}, 2*time.Second, 5*time.Millisecond)
	assert.Equal(t, bot.OwnerHuman, h.sb.PlatformOwner("c1"))
}

func TestEngine_forward(t *testing.T) {
	h := newHarness(t, lines(
		"rules:",
		"  - name: complaint",
		`    when: Platform == "sendbee" && lower(Text) contains "complaint"`,
		"    actions:",
		"      - forward:",
		"          platform: flowdock",
		"          conversation: support-flow",
		"          text: 'Complaint from {{.Author.Name}} in {{.Conversation}}: {{.Text}}'",
		"      - reply: We forwarded your complaint.",
	))
	bottest.Run(t, h.b)
	h.say(t, "I have a complaint")
	fwd := h.fd.WaitSent(t, 1)
	assert.Equal(t, "flowdock", fwd[0].Platform)
	assert.Equal(t, "support-flow", fwd[0].Conversation)
	assert.Equal(t, "Complaint from Ana in c1: I have a complaint", fwd[0].Text)
	assert.Equal(t, []string{"We forwarded your complaint."}, texts(h.sb.WaitSent(t, 1)))
}

func TestEngine_vars(t *testing.T) {
	h := newHarness(t, lines(
		"commands: {prefixes: ['/']}",
		"vars: {name: stranger, lang: en}",
		"rules:",
		"  - name: call-me",
		"    command: callme",
		"    actions:",
		"      - set: {name: '{{.Captures.Args}}', last: '{{.Captures.Command}}'}",
		"      - reply: 'Noted, {{.Vars.name}}.'",
		"  - name: whoami",
		"    command: whoami",
		"    actions:",
		"      - reply: '{{.Vars.name}} ({{.Vars.lang}}, {{.Vars.last | default \"-\"}})'",
		"  - name: forget",
		"    command: forget",
		"    actions:",
		"      - clear: [name, last]",
		"      - reply: 'Forgotten, {{.Vars.name}}.'",
	))
	bottest.Run(t, h.b)
	ctx := t.Context()

	h.say(t, "/whoami")
	h.say(t, "/callme Ana Maria")
	h.say(t, "/whoami")
	assert.Equal(t, []string{"stranger (en, -)", "Noted, Ana Maria.", "Ana Maria (en, callme)"}, texts(h.sb.WaitSent(t, 3)))
	raw, err := h.b.Store().Get(ctx, "rulefile:vars:sendbee:c1")
	require.NoError(t, err)
	assert.JSONEq(t, `{"name": "Ana Maria", "last": "callme"}`, string(raw))

	h.say(t, "/forget")
	h.say(t, "/whoami")
	assert.Equal(t, []string{"Forgotten, stranger.", "stranger (en, -)"}, texts(h.sb.WaitSent(t, 5)[3:]))
	_, err = h.b.Store().Get(ctx, "rulefile:vars:sendbee:c1")
	assert.ErrorIs(t, err, bot.ErrNotFound, "no variables left: the entry is gone")
}

func TestEngine_continueAndStop(t *testing.T) {
	h := newHarness(t, lines(
		"rules:",
		"  - name: log",
		`    when: Text contains "ping"`,
		"    priority: 10",
		"    actions:",
		"      - forward: {platform: flowdock, conversation: log, text: 'seen: {{.Text}}'}",
		"      - continue: true",
		"  - name: pong",
		`    when: Text contains "ping"`,
		"    actions:",
		"      - reply: pong",
		"  - name: never",
		`    when: Text contains "ping"`,
		"    actions:",
		"      - reply: never",
		"  - name: done",
		`    when: Text == "done"`,
		"    actions:",
		"      - reply: done",
		"      - stop: true",
	))
	// The application's own routes come after the engine's.
	h.b.HandleFunc(bot.Command("app"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("app route"))
	})
	h.b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("fallback"))
	}))
	bottest.Run(t, h.b)

	h.say(t, "ping")
	h.say(t, "/app")
	h.say(t, "nothing matches")
	h.say(t, "done")
	assert.Equal(t, []string{"pong", "app route", "fallback", "done"}, texts(h.sb.WaitSent(t, 4)))
	assert.Equal(t, []string{"seen: ping"}, texts(h.fd.WaitSent(t, 1)))
}

func TestEngine_withoutBot(t *testing.T) {
	t.Parallel()
	set, err := rulefile.Parse("rules.yaml", []byte(lines(
		"rules:",
		"  - name: tagger",
		`    when: Text == "tag me"`,
		"    actions: [tag: x]",
		"  - name: hi",
		`    when: Text == "hi"`,
		"    actions: [reply: 'hello ({{.Kind}})']",
		"  - name: third-tag",
		`    when: Text == "third tag"`,
		"    actions: [reply: '{{index .Tags 2}}']",
	)))
	require.NoError(t, err)
	e := rulefile.NewEngine(set, rulefile.WithLogger(slog.New(slog.DiscardHandler)))
	var rec bottest.Recorder
	ctx := t.Context()

	hi := bottest.NewMessage("hi")
	hi.Kind = ""
	require.NoError(t, e.HandleMessage(ctx, &rec, hi))
	assert.Equal(t, []string{"hello (message)"}, rec.Texts(), "an empty Kind is a message")

	err = e.HandleMessage(ctx, &rec, bottest.NewMessage("third tag", bottest.WithTags("a")))
	assert.ErrorContains(t, err, `rulefile: rule "third-tag": action 1 (reply): template: t:1:2: executing "t" at <index .Tags 2>: error calling index: index out of range: 2`)

	err = e.HandleMessage(ctx, &rec, bottest.NewMessage("tag me"))
	assert.ErrorIs(t, err, errors.ErrUnsupported)
	assert.ErrorContains(t, err, `rulefile: rule "tagger": action 1 (tag): the engine is not installed on a Bot`)

	assert.ErrorIs(t, e.HandleMessage(ctx, &rec, bottest.NewMessage("other")), bot.ErrContinue,
		"a message no rule handles goes on to the next route")
}

func TestEngine_Install_checksFirst(t *testing.T) {
	t.Parallel()
	set, err := rulefile.Parse("rules.yaml", []byte(lines(
		"rules:",
		"  - name: fwd",
		`    when: Text == "x"`,
		"    actions:",
		"      - forward: {platform: flowdok, conversation: main, text: hi}",
		"schedules:",
		"  - name: taken",
		"    cron: '@daily'",
		"    actions:",
		"      - send: {platform: flowdock, conversation: main, text: hi}",
		"  - name: free",
		"    cron: '@hourly'",
		"    actions:",
		"      - send: {platform: flowdock, conversation: main, text: hi}",
	)))
	require.NoError(t, err)
	b, err := bot.New(bot.WithAdapters(bottest.NewFakeAdapter("sendbee"), bottest.NewFakeAdapter("flowdock")),
		bot.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	require.NoError(t, b.Schedule("rulefile:taken", "@daily", bot.JobFunc(func(context.Context, bot.Sender) error { return nil })))

	err = set.Install(b)
	var le *rulefile.LoadError
	require.ErrorAs(t, err, &le)
	assert.EqualError(t, err, "rulefile: 2 problems:\n"+
		"\trules.yaml:5:29: rule \"fwd\": action 1 (forward): platform: no adapter named \"flowdok\" on the Bot\n"+
		"\trules.yaml:7: schedule \"taken\": the Bot already has a job named \"rulefile:taken\"")
	assert.Empty(t, b.Routes(), "nothing was registered")
	assert.Len(t, b.Jobs(), 1)

	set, err = rulefile.Parse("rules.yaml", []byte(lines(
		"schedules:",
		"  - name: taken",
		"    cron: '@daily'",
		"    actions:",
		"      - send: {platform: flowdock, conversation: main, text: hi}",
	)))
	require.NoError(t, err)
	err = set.Install(b)
	assert.EqualError(t, err, `rulefile: rules.yaml:2: schedule "taken": the Bot already has a job named "rulefile:taken"`)
	assert.Empty(t, b.Routes())
	assert.Len(t, b.Jobs(), 1)
}

func TestEngine_schedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, lines(
			"vars: {who: team}",
			"schedules:",
			"  - name: tick",
			"    cron: '@every 1m'",
			"    actions:",
			"      - send:",
			"          platform: flowdock",
			"          conversation: main",
			`          text: 'Good morning, {{.Vars.who}}, from {{.Schedule}} at {{.Now.Format "15:04"}}'`,
		))
		stop := bottest.Run(t, h.b)
		time.Sleep(90 * time.Second)
		synctest.Wait()
		require.NoError(t, stop())
		sent := h.fd.Sent()
		require.Len(t, sent, 1)
		assert.Equal(t, "Good morning, team, from tick at 00:01", sent[0].Text)
		assert.Equal(t, "main", sent[0].Conversation)
		assert.True(t, slices.ContainsFunc(h.b.Jobs(), func(j bot.ScheduledJob) bool { return j.Name == "rulefile:tick" }))
	})
}

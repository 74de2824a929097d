package rulefile_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/rulefile"
)

// teamFile hands off with a notification to the team flow, where
// "/resume <platform> <conversation>" gives the conversation back.
var teamFile = lines(
	"rules:",
	"  - name: agent",
	`    when: Platform == "sendbee" && lower(Text) == "agent"`,
	"    actions:",
	"      - handoff:",
	`          text: "Connecting you, {{.Author.Name}}…"`,
	"          team: &team {platform: flowdock, conversation: acme/main}",
	"  - name: vip",
	`    when: Platform == "sendbee" && lower(Text) == "vip"`,
	"    actions:",
	"      - set: {tier: gold}",
	"      - handoff:",
	"          team: *team",
	`          notify: "{{.Vars.tier}} customer {{.Author.Name}}: {{.Resume}}"`,
	"  - name: resume",
	"    command: resume",
	"    observer: true",
	"    actions:",
	"      - resume: {team: *team}",
)

// seenRule tells the team flow what the customer writes while a human
// owns the conversation.
var seenRule = lines(
	"  - name: seen",
	"    observer: true",
	`    when: Platform == "sendbee" && Owner == "human"`,
	"    actions:",
	`      - forward: {platform: flowdock, conversation: acme/main, text: "seen {{.Text}}"}`,
)

func (h *harness) owner(t *testing.T) bot.Owner {
	t.Helper()
	o, err := h.b.Owner(t.Context(), "sendbee", "c1")
	require.NoError(t, err)
	return o
}

// team posts text in the team flow, as the agent Dana.
func (h *harness) team(t *testing.T, text string) {
	t.Helper()
	require.NoError(t, h.fd.Inject(t.Context(), bottest.NewMessage(text, bottest.In("flowdock", "acme/main"),
		bottest.From(bot.User{ID: "d1", Name: "Dana"}))))
}

// A handoff with a team tells the team flow, with the command that gives
// the conversation back; that command typed in the team flow resumes it.
func TestEngine_handoffTellsTheTeam(t *testing.T) {
	h := newHarness(t, teamFile+seenRule)
	bottest.Run(t, h.b)

	h.say(t, "agent")
	sent := h.sb.WaitSent(t, 1)
	assert.Equal(t, "Connecting you, Ana…", sent[0].Text)
	assert.True(t, sent[0].Handoff)
	told := h.fd.WaitSent(t, 1)
	assert.Equal(t, "acme/main", told[0].Conversation)
	assert.Equal(t, "Ana asks for a person on sendbee (c1): agent\n"+
		"Answer them there. To give the conversation back to the bot, type: /resume sendbee c1", told[0].Text)
	require.Eventually(t, func() bool { return h.owner(t) == bot.OwnerHuman }, 5*time.Second, time.Millisecond)

	// The customer's own "/resume" is not obeyed: the rule declines it,
	// and routing goes on.
	h.say(t, "/resume")
	assert.Equal(t, "seen /resume", h.fd.WaitSent(t, 2)[1].Text)
	assert.Equal(t, bot.OwnerHuman, h.owner(t))
	h.team(t, "/resume sendbee c1")
	told = h.fd.WaitSent(t, 3)
	assert.Equal(t, "The bot is answering sendbee c1 again.", told[2].Text)
	assert.Equal(t, "acme/main", told[2].Conversation)
	assert.Equal(t, bot.OwnerBot, h.owner(t))
	assert.Len(t, h.sb.Sent(), 1)

	// notify is a template over the message, the variables and .Resume;
	// the reply defaults to the handoff package's.
	h.say(t, "vip")
	sent = h.sb.WaitSent(t, 2)
	assert.Equal(t, "Connecting you to a colleague…", sent[1].Text)
	assert.Equal(t, "gold customer Ana: /resume sendbee c1", h.fd.WaitSent(t, 4)[3].Text)
}

// resolvingAdapter is a fake adapter whose conversations have names
// besides their IDs, as Flowdock's flows do ("org/flow").
type resolvingAdapter struct {
	*bottest.FakeAdapter
	ids map[string]string
}

func (a resolvingAdapter) ResolveConversation(_ context.Context, name string) (string, error) {
	if id, ok := a.ids[name]; ok {
		return id, nil
	}
	return name, nil
}

// The team is named as its people know it; the engine finds its ID
// through the adapter, to post to it and to know the commands typed there.
func TestEngine_teamByName(t *testing.T) {
	sb := bottest.NewFakeAdapter("sendbee")
	fd := resolvingAdapter{FakeAdapter: bottest.NewFakeAdapter("flowdock"), ids: map[string]string{"acme/main": "f-123"}}
	b, err := bot.New(bot.WithAdapters(sb, fd), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	require.NoError(t, rulefile.NewEngine(mustParse(t, teamFile)).Install(b))
	bottest.Run(t, b)

	require.NoError(t, sb.Inject(t.Context(), bottest.NewMessage("agent", bottest.In("sendbee", "c1"),
		bottest.From(bot.User{ID: "u1", Name: "Ana"}))))
	told := fd.WaitSent(t, 1)
	assert.Equal(t, "f-123", told[0].Conversation)
	require.Eventually(t, func() bool {
		o, _ := b.Owner(t.Context(), "sendbee", "c1")
		return o == bot.OwnerHuman
	}, 5*time.Second, time.Millisecond)

	require.NoError(t, fd.Inject(t.Context(), bottest.NewMessage("/resume sendbee c1", bottest.In("flowdock", "f-123"),
		bottest.From(bot.User{ID: "d1", Name: "Dana"}))))
	assert.Equal(t, "The bot is answering sendbee c1 again.", fd.WaitSent(t, 2)[1].Text)
	o, err := b.Owner(t.Context(), "sendbee", "c1")
	require.NoError(t, err)
	assert.Equal(t, bot.OwnerBot, o)
}

// A team on a platform the Bot does not have is left out, with a warning,
// so that a file runs where that platform is not configured: the handoff
// only replies.
func TestEngine_teamOfAnotherPlatform(t *testing.T) {
	sb := bottest.NewFakeAdapter("sendbee")
	logs := &strings.Builder{}
	b, err := bot.New(bot.WithAdapters(sb), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	require.NoError(t, rulefile.NewEngine(mustParse(t, teamFile), rulefile.WithLogger(textLogger(logs))).Install(b))
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "platform=flowdock")
	bottest.Run(t, b)
	require.NoError(t, sb.Inject(t.Context(), bottest.NewMessage("agent", bottest.In("sendbee", "c1"),
		bottest.From(bot.User{ID: "u1", Name: "Ana"}))))
	assert.Equal(t, "Connecting you, Ana…", sb.WaitSent(t, 1)[0].Text)
	require.Eventually(t, func() bool {
		o, _ := b.Owner(t.Context(), "sendbee", "c1")
		return o == bot.OwnerHuman
	}, 5*time.Second, time.Millisecond)
}

// textLogger returns a logger that writes text lines to w.
func textLogger(w *strings.Builder) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

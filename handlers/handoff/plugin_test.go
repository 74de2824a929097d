package handoff_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/handlers/handoff"
)

// supportBot is a Bot on two fake platforms, a customer platform
// ("sendbee") and the agents' team flow ("flowdock", "support"), with the
// handoff plugin installed and a fallback that answers "bot: <text>".
func supportBot(t *testing.T, p handoff.Plugin) (*bot.Bot, *bottest.FakeAdapter, *bottest.FakeAdapter) {
	t.Helper()
	sb, fd := bottest.NewFakeAdapter("sendbee"), bottest.NewFakeAdapter("flowdock")
	b, err := bot.New(bot.WithAdapters(sb, fd), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	require.NoError(t, p.Install(b))
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("bot: "+m.Text))
	}))
	bottest.Run(t, b)
	return b, sb, fd
}

func owner(t *testing.T, b *bot.Bot, platform, conv string) bot.Owner {
	t.Helper()
	o, err := b.Owner(t.Context(), platform, conv)
	require.NoError(t, err)
	return o
}

// handled waits until the Bot has finished routing n inbound messages.
func handled(t *testing.T, b *bot.Bot, n int64) {
	t.Helper()
	require.Eventually(t, func() bool { return b.Stats().Handled >= n }, 2*time.Second, time.Millisecond)
}

func TestPlugin_handoffAndResumeFromTheTeamFlow(t *testing.T) {
	b, sb, fd := supportBot(t, handoff.Plugin{
		Handler: handoff.Handler{Tags: []string{"handoff"}, Team: team},
		Resume:  handoff.ResumeHandler{Back: "You are chatting with the bot again."},
	})
	ctx := t.Context()
	ann := bottest.From(bot.User{ID: "u-1", Name: "Ann"})
	customer := func(text string, opts ...bottest.MessageOption) *bot.Message {
		return bottest.NewMessage(text, append([]bottest.MessageOption{bottest.In("sendbee", "c-1"), ann}, opts...)...)
	}

	require.NoError(t, sb.Inject(ctx, customer("hello")))
	assert.Equal(t, "bot: hello", sb.WaitSent(t, 1)[0].Text)

	// The customer asks for a person.
	require.NoError(t, sb.Inject(ctx, customer("Can I talk to a person?", bottest.WithTags("vip"))))
	reply := sb.WaitSent(t, 2)[1]
	assert.Equal(t, handoff.DefaultReply, reply.Text)
	assert.True(t, reply.Handoff)
	note := fd.WaitSent(t, 1)[0]
	assert.Equal(t, "support", note.Conversation)
	assert.Equal(t, "Ann asks for a person on sendbee (c-1): Can I talk to a person?\n"+
		"Answer them there. To give the conversation back to the bot, type: /resume sendbee c-1", note.Text)
	require.Eventually(t, func() bool { return owner(t, b, "sendbee", "c-1") == bot.OwnerHuman }, 2*time.Second, time.Millisecond)
	assert.Equal(t, bot.OwnerHuman, sb.PlatformOwner("c-1"), "the handoff is mirrored to the platform")
	assert.Equal(t, []string{"vip", "handoff"}, sb.Tags("c-1", ""))

	// While humans own it, the bot stays quiet, and a customer's "/resume"
	// is not obeyed.
	require.NoError(t, sb.Inject(ctx, customer("are you there?")))
	require.NoError(t, sb.Inject(ctx, customer("/resume")))
	handled(t, b, 4)
	assert.Len(t, sb.Sent(), 2)
	assert.Equal(t, bot.OwnerHuman, owner(t, b, "sendbee", "c-1"))

	// An agent copies the command from the notification into the team flow.
	require.NoError(t, fd.Inject(ctx, bottest.NewMessage("/resume sendbee c-1",
		bottest.In("flowdock", "support"), bottest.From(bot.User{ID: "fd-3", Name: "Bo"}))))
	confirm := fd.WaitSent(t, 2)[1]
	assert.Equal(t, "The bot is answering sendbee c-1 again.", confirm.Text)
	assert.Equal(t, "You are chatting with the bot again.", sb.WaitSent(t, 3)[2].Text)
	assert.Equal(t, bot.OwnerBot, owner(t, b, "sendbee", "c-1"))
	assert.Equal(t, bot.OwnerBot, sb.PlatformOwner("c-1"))

	require.NoError(t, sb.Inject(ctx, customer("hello again")))
	assert.Equal(t, "bot: hello again", sb.WaitSent(t, 4)[3].Text)
	st := b.Stats()
	assert.Equal(t, int64(1), st.Handoffs)
	assert.Equal(t, int64(1), st.Resumes)
	assert.Zero(t, st.HandlerErrors)
}

func TestPlugin_resumeByAnAgentInTheConversation(t *testing.T) {
	b, sb, fd := supportBot(t, handoff.Plugin{Handler: handoff.Handler{Team: team}})
	ctx := t.Context()

	require.NoError(t, sb.Inject(ctx, bottest.NewMessage("/agent", bottest.In("sendbee", "c-2"))))
	fd.WaitSent(t, 1)
	require.Eventually(t, func() bool { return owner(t, b, "sendbee", "c-2") == bot.OwnerHuman }, 2*time.Second, time.Millisecond)

	// The agent answers from the platform's dashboard, then hands back.
	agent := bot.User{ID: "agent-7", Name: "Ana", Agent: true}
	require.NoError(t, sb.Inject(ctx, bottest.NewMessage("Hi, Ana here. Solved!", bottest.In("sendbee", "c-2"),
		bottest.From(agent), bottest.WithOwner(bot.OwnerHuman))))
	require.NoError(t, sb.Inject(ctx, bottest.NewMessage("/resume", bottest.In("sendbee", "c-2"),
		bottest.From(agent), bottest.WithOwner(bot.OwnerHuman))))
	assert.Equal(t, "The bot is answering sendbee c-2 again.", fd.WaitSent(t, 2)[1].Text)
	assert.Equal(t, bot.OwnerBot, owner(t, b, "sendbee", "c-2"))

	require.NoError(t, sb.Inject(ctx, bottest.NewMessage("thanks", bottest.In("sendbee", "c-2"))))
	sent := sb.WaitSent(t, 2)
	assert.Equal(t, []string{handoff.DefaultReply, "bot: thanks"}, []string{sent[0].Text, sent[1].Text})
}

func TestPlugin_Install(t *testing.T) {
	newBot := func(t *testing.T) *bot.Bot {
		b, err := bot.New(bot.WithAdapters(bottest.NewFakeAdapter("")), bot.WithLogger(slog.New(slog.DiscardHandler)))
		require.NoError(t, err)
		return b
	}

	t.Run("routes", func(t *testing.T) {
		b := newBot(t)
		require.NoError(t, handoff.Plugin{}.Install(b))
		assert.Equal(t, []bot.RouteInfo{
			{Usage: "resume [<platform> <conversation>]", Description: "agents: give a conversation back to the bot",
				Priority: handoff.ResumePriority, Observer: true, Rule: `Command("resume")`},
			{Usage: "agent", Description: "talk to a person", Priority: handoff.Priority,
				Rule: `Any(Command("agent"), Command("human"), Regexp("(?i)\\b(?:talk|speak|chat)\\s+(?:to|with)\\s+(?:(?:a|an|the)\\s+)?(?:(?:real|live)\\s+)?(?:person|human|agent|operator|representative|someone|somebody)\\b"))`},
		}, b.Routes())
	})

	tests := []struct {
		name string
		p    handoff.Plugin
		want string
	}{
		{name: "bad Notify", p: handoff.Plugin{Handler: handoff.Handler{Team: team, Notify: "{{"}},
			want: "handoff: parse Notify: template: notify:1: unclosed action"},
		{name: "bad resume Reply", p: handoff.Plugin{Resume: handoff.ResumeHandler{Reply: "{{end}}"}},
			want: "handoff: parse Reply: template: resume:1: unexpected {{end}}"},
		{name: "half a Team", p: handoff.Plugin{Handler: handoff.Handler{Team: handoff.Flow{Conversation: "support"}}},
			want: `handoff: Team needs both Platform and Conversation, got "" and "support"`},
		{name: "half a resume Team", p: handoff.Plugin{Resume: handoff.ResumeHandler{Team: handoff.Flow{Platform: "flowdock"}}},
			want: `handoff: Team needs both Platform and Conversation, got "flowdock" and ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBot(t)
			assert.EqualError(t, tt.p.Install(b), tt.want)
			assert.Empty(t, b.Routes(), "nothing is registered")
		})
	}
}

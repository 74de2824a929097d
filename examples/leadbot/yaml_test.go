package main

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/adapters/fromenv"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/flow"
	"github.com/parleybot/parley/bot/rulefile"
)

// yamlFile is the rules-file twin of this program.
const yamlFile = "leadbot.yaml"

// TestYAML_loads checks the rules file as "parley rules check" does:
// every problem would be a *rulefile.LoadError with positions.
func TestYAML_loads(t *testing.T) {
	set, err := rulefile.Load(yamlFile)
	if le := (*rulefile.LoadError)(nil); errors.As(err, &le) {
		for _, p := range le.Problems {
			t.Error(p.String())
		}
	}
	require.NoError(t, err)
	assert.Equal(t, []string{"lead"}, set.Flows())
	var names []string
	for _, r := range set.Rules() {
		names = append(names, r.Name)
		assert.Positive(t, r.Line, r.Name)
	}
	assert.Equal(t, []string{"help", "agent", "agent-console", "stop", "resume", "greet", "qualified", "start"}, names)
}

// calls records the action calls of the flow, by action name.
type calls struct {
	mu sync.Mutex
	m  map[string][]map[string]any
}

func (c *calls) action(name string) flow.Action {
	return flow.ActionFunc(func(_ context.Context, call flow.ActionCall) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.m[name] = append(c.m[name], call.Args)
		return nil
	})
}

func (c *calls) get(name string) []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[name]
}

// TestYAML_story runs the rules file on a Bot with a console-named fake
// adapter and recording actions, through the whole conversation: the
// texts are those of the Go flow, and each action is called once with its
// arguments rendered from the answers.
func TestYAML_story(t *testing.T) {
	set, err := rulefile.Load(yamlFile)
	require.NoError(t, err)

	rec := &calls{m: map[string][]map[string]any{}}
	actions := []string{fromenv.ActionSendbeeUpdateContact, fromenv.ActionVelaflowsCreateLead, fromenv.ActionFlowdockPresent}
	var opts []rulefile.Option
	for _, name := range actions {
		opts = append(opts, rulefile.WithAction(name, rec.action(name)))
	}
	fake := bottest.NewFakeAdapter(consoleName)
	b, err := bot.New(bot.WithAdapters(fake), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	require.NoError(t, rulefile.NewEngine(set, opts...).Install(b))
	bottest.Run(t, b)

	ctx := t.Context()
	sent := 0
	say := func(text string, want ...string) {
		t.Helper()
		require.NoError(t, fake.Inject(ctx, bottest.NewMessage(text, bottest.Direct(),
			bottest.In(consoleName, "c1"),
			bottest.From(bot.User{ID: "u1", Name: "Ana", Phone: "+385911234567"}))))
		got := fake.WaitSent(t, sent+len(want))
		var texts []string
		for _, m := range got[sent:] {
			texts = append(texts, m.Text)
		}
		sent += len(want)
		require.Equal(t, want, texts, "after %q", text)
	}

	say("hi",
		"Hello Ana! I'm the Acme assistant. A few quick questions, and I'll pass you on to the right person on our team.",
		"What's your name?")
	say("Ana <Horvat>", "Thanks, Ana <Horvat>! What's your e-mail address?")
	say("ana@", `That doesn't look like an e-mail address. Please type it like ana@example.com. Or type "agent" to talk to a person.`)
	say("ana@example.com", "How many people work at your company?\n"+sizes.List())
	say("help",
		`I'm collecting a few details so that the right person on our team can help you. Type "agent" at any time to talk to a person, or "stop" to stop.`,
		"How many people work at your company?\n"+sizes.List())
	say("talk to a person",
		"On the terminal there is no colleague to hand you over to, so let's go on.",
		"How many people work at your company?\n"+sizes.List())
	say("7", "Please pick one of these, by its number:\n"+sizes.List())
	say("3", "Last one: what do you need help with?")
	say("A CRM & <more>", "Thank you, Ana <Horvat>! Someone from our team will get back to you shortly.")

	require.Eventually(t, func() bool { return len(rec.get(fromenv.ActionFlowdockPresent)) > 0 }, wait, tick)
	assert.Equal(t, []map[string]any{{
		"tags":   []any{"lead"},
		"values": []any{"email", "company_size", "need"},
	}}, rec.get(fromenv.ActionSendbeeUpdateContact))
	assert.Equal(t, []map[string]any{{
		"name":       "Ana <Horvat>",
		"email":      "ana@example.com",
		"pipelineId": simPipeline,
		"stageId":    simStage,
	}}, rec.get(fromenv.ActionVelaflowsCreateLead))
	assert.Equal(t, []map[string]any{{
		"title":  "Lead: Ana &lt;Horvat&gt;",
		"status": "new lead, 51-200",
		"color":  "orange",
		"fields": []any{
			map[string]any{"label": "Name", "value": "Ana &lt;Horvat&gt;"},
			map[string]any{"label": "E-mail", "value": "ana@example.com"},
			map[string]any{"label": "Phone", "value": "+385911234567"},
			map[string]any{"label": "Company size", "value": "51-200"},
			map[string]any{"label": "Need", "value": "A CRM &amp; &lt;more&gt;"},
			map[string]any{"label": "Conversation", "value": "console c1"},
		},
		"activity": "qualified a lead",
		"comment":  "<p>A CRM &amp; &lt;more&gt;</p>",
		"tags":     []any{"lead"},
	}}, rec.get(fromenv.ActionFlowdockPresent))

	// A later message gets a short answer, not the questions again.
	say("hello again", `Thanks! Our team has your details and will be in touch soon. Type "agent" to talk to a person now.`)
	say("stop", "OK, I've stopped. Write to us any time to start again.")
	assert.Len(t, rec.get(fromenv.ActionFlowdockPresent), 1)
}

// TestYAML_presentsInOrder runs the file's flowdock.present with the real
// action against the Flowdock emulator, as parley run wires it: the rows
// are those of the Go bot, in its order, and a customer without a phone
// number gets no Phone row.
func TestYAML_presentsInOrder(t *testing.T) {
	set, err := rulefile.Load(yamlFile)
	require.NoError(t, err)
	fd := flowdocktest.NewServer(t)
	c, err := flowdock.NewClient(flowdock.Config{Token: fd.Token(), FlowToken: fd.FlowToken("acme/main"), BaseURL: fd.URL()})
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	nop := flow.ActionFunc(func(context.Context, flow.ActionCall) error { return nil })
	fake := bottest.NewFakeAdapter(consoleName)
	b, err := bot.New(bot.WithAdapters(fake), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	require.NoError(t, rulefile.NewEngine(set,
		rulefile.WithAction(fromenv.ActionSendbeeUpdateContact, nop),
		rulefile.WithAction(fromenv.ActionVelaflowsCreateLead, nop),
		rulefile.WithAction(fromenv.ActionFlowdockPresent, flowdock.PresentAction(c, flowdock.FlowChat("acme", "main"))),
	).Install(b))
	bottest.Run(t, b)

	for i, text := range []string{"hi", "Ivana Kovač", "Ivana@example.com", "2", "A booking system for our <clinic> & spa"} {
		require.NoError(t, fake.Inject(t.Context(), bottest.NewMessage(text, bottest.Direct(),
			bottest.In(consoleName, "c2"), bottest.From(bot.User{ID: "u2", Name: "Ivana"}))))
		fake.WaitSent(t, i+2)
	}
	th := leadThread(t, fd, "Lead: Ivana Kovač")
	assert.Equal(t, &flowdock.Status{Color: flowdock.ColorGreen, Value: "new lead, 11-50"}, th.Status)
	assert.Equal(t, []flowdock.Field{
		{Label: "Name", Value: "Ivana Kovač"},
		{Label: "E-mail", Value: "Ivana@example.com"},
		{Label: "Company size", Value: "11-50"},
		{Label: "Need", Value: "A booking system for our &lt;clinic&gt; &amp; spa"},
		{Label: "Conversation", Value: "console c2"},
	}, th.Fields)
}

// TestYAML_handoffAndBack: "agent" during the questions hands the Sendbee
// conversation to a person and tells the team in its Flowdock flow, acme/main,
// with the command that gives it back; that command typed in the team
// flow gives it back, and the bot asks the current question again.
func TestYAML_handoffAndBack(t *testing.T) {
	set, err := rulefile.Load(yamlFile)
	require.NoError(t, err)
	nop := flow.ActionFunc(func(context.Context, flow.ActionCall) error { return nil })
	sb, fd := bottest.NewFakeAdapter("sendbee"), bottest.NewFakeAdapter("flowdock")
	b, err := bot.New(bot.WithAdapters(sb, fd), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	var opts []rulefile.Option
	for _, name := range []string{fromenv.ActionSendbeeUpdateContact, fromenv.ActionVelaflowsCreateLead, fromenv.ActionFlowdockPresent} {
		opts = append(opts, rulefile.WithAction(name, nop))
	}
	require.NoError(t, rulefile.NewEngine(set, opts...).Install(b))
	bottest.Run(t, b)

	ctx := t.Context()
	owner := func() bot.Owner {
		o, err := b.Owner(ctx, "sendbee", "c1")
		require.NoError(t, err)
		return o
	}
	sent := 0
	say := func(text string, want ...string) {
		t.Helper()
		require.NoError(t, sb.Inject(ctx, bottest.NewMessage(text, bottest.In("sendbee", "c1"),
			bottest.From(bot.User{ID: "u1", Name: "Luka", Phone: "+385924443322"}))))
		got := sb.WaitSent(t, sent+len(want))
		var texts []string
		for _, m := range got[sent:] {
			texts = append(texts, m.Text)
		}
		sent += len(want)
		require.Equal(t, want, texts, "after %q", text)
	}
	say("hi", "Hello Luka! I'm the Acme assistant. A few quick questions, and I'll pass you on to the right person on our team.",
		"What's your name?")
	say("Luka", "Thanks, Luka! What's your e-mail address?")
	say("can I talk to a person?", "Connecting you to a colleague… They can see your answers so far.")
	assert.True(t, sb.Sent()[sent-1].Handoff)
	told := fd.WaitSent(t, 1)
	assert.Equal(t, "acme/main", told[0].Conversation)
	assert.Equal(t, "Luka asks for a person on sendbee (c1): can I talk to a person?\n"+
		"Answer them there. To give the conversation back to the bot, type: /resume sendbee c1", told[0].Text)
	require.Eventually(t, func() bool { return owner() == bot.OwnerHuman }, wait, tick)

	require.NoError(t, fd.Inject(ctx, bottest.NewMessage("/resume sendbee c1", bottest.In("flowdock", "acme/main"),
		bottest.From(bot.User{ID: "d1", Name: "Dana"}))))
	assert.Equal(t, "The bot is answering sendbee c1 again.", fd.WaitSent(t, 2)[1].Text)
	assert.Equal(t, bot.OwnerBot, owner())
	say("hello?", "Thanks, Luka! What's your e-mail address?")
	say("luka@example.com", "How many people work at your company?\n"+sizes.List())
}

// TestYAML_teamOnFlowdock runs the file's handoff and resume with the
// Flowdock adapter as parley run builds it (FLOWDOCK_FLOWS=acme/main)
// against the emulator: the team flow named acme/main in the file is the
// flow the adapter knows by its ID, where the team is told and where
// "/resume" is typed.
func TestYAML_teamOnFlowdock(t *testing.T) {
	set, err := rulefile.Load(yamlFile)
	require.NoError(t, err)
	fd := flowdocktest.NewServer(t)
	logger := bottest.Logger(t)
	platforms, err := fromenv.Build(t.Context(), env(
		"FLOWDOCK_API_TOKEN", fd.Token(), "FLOWDOCK_API_URL", fd.URL(), "FLOWDOCK_STREAM_URL", fd.StreamURL(),
		"FLOWDOCK_FLOWS", "acme/main", "FLOWDOCK_FLOW_TOKEN", fd.FlowToken("acme/main")), logger)
	require.NoError(t, err)
	sb := bottest.NewFakeAdapter("sendbee")
	b, err := bot.New(bot.WithAdapters(append(platforms.Adapters, sb)...), bot.WithLogger(logger))
	require.NoError(t, err)
	nop := flow.ActionFunc(func(context.Context, flow.ActionCall) error { return nil })
	opts := []rulefile.Option{
		rulefile.WithAction(fromenv.ActionSendbeeUpdateContact, nop),
		rulefile.WithAction(fromenv.ActionVelaflowsCreateLead, nop),
	}
	for name, a := range platforms.Actions() {
		opts = append(opts, rulefile.WithAction(name, a))
	}
	require.NoError(t, rulefile.NewEngine(set, opts...).Install(b))
	bottest.Run(t, b)
	fd.WaitConnections(t, 1)

	ctx := t.Context()
	say := func(text string) {
		require.NoError(t, sb.Inject(ctx, bottest.NewMessage(text, bottest.In("sendbee", "c1"),
			bottest.From(bot.User{ID: "u1", Name: "Luka"}))))
	}
	say("hi")
	sb.WaitSent(t, 2)
	say("agent")
	assert.Equal(t, "Connecting you to a colleague… They can see your answers so far.", sb.WaitSent(t, 3)[2].Text)
	require.Eventually(t, func() bool {
		for _, m := range fd.Sent() {
			if m.Flow == "acme/main" && strings.HasSuffix(m.Content, "type: /resume sendbee c1") {
				return true
			}
		}
		return false
	}, wait, tick, "the team is told in acme/main")
	require.Eventually(t, func() bool { o, _ := b.Owner(ctx, "sendbee", "c1"); return o == bot.OwnerHuman }, wait, tick)

	_, err = fd.Post("acme/main", "dana", "/resume sendbee c1")
	require.NoError(t, err)
	require.Eventually(t, func() bool { o, _ := b.Owner(ctx, "sendbee", "c1"); return o == bot.OwnerBot }, wait, tick, "given back")
	require.Eventually(t, func() bool {
		for _, m := range fd.Sent() {
			if m.Flow == "acme/main" && m.Content == "The bot is answering sendbee c1 again." {
				return true
			}
		}
		return false
	}, wait, tick, "confirmed in acme/main")
}

// TestYAML_reminderThenClosed: a question is asked again once after 10
// minutes of silence, and the conversation is closed after an hour, as
// the Go bot does.
func TestYAML_reminderThenClosed(t *testing.T) {
	set, err := rulefile.Load(yamlFile)
	require.NoError(t, err)
	fake := bottest.NewFakeAdapter(consoleName)
	b, err := bot.New(bot.WithAdapters(fake), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	clk := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	fe := flow.New(b, flow.WithClock(clk.Now), flow.WithSweepInterval(tick))
	nop := flow.ActionFunc(func(context.Context, flow.ActionCall) error { return nil })
	opts := []rulefile.Option{rulefile.WithFlows(fe)}
	for _, name := range []string{fromenv.ActionSendbeeUpdateContact, fromenv.ActionVelaflowsCreateLead, fromenv.ActionFlowdockPresent} {
		opts = append(opts, rulefile.WithAction(name, nop))
	}
	require.NoError(t, rulefile.NewEngine(set, opts...).Install(b))
	fe.Install()
	bottest.Run(t, b)

	for i, text := range []string{"hi", "Sara"} {
		require.NoError(t, fake.Inject(t.Context(), bottest.NewMessage(text, bottest.Direct(),
			bottest.In(consoleName, "c3"), bottest.From(bot.User{ID: "u3", Name: "Sara"}))))
		fake.WaitSent(t, i+2)
	}
	clk.Add(10 * time.Minute)
	assert.Equal(t, "Still there? Thanks, Sara! What's your e-mail address?", fake.WaitSent(t, 4)[3].Text)
	clk.Add(50 * time.Minute)
	assert.Equal(t, "I haven't heard from you in a while, so I'm closing this for now. Write to us any time to pick up again.",
		fake.WaitSent(t, 5)[4].Text)
}

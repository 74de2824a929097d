// Leadbot qualifies a sales lead on WhatsApp (Sendbee) and hands it to the
// team. It is a conversation (package bot/flow) of four questions:
//
//  1. the customer's name (2 to 80 characters);
//  2. their e-mail address;
//  3. the size of their company: 1–10, 11–50, 51–200 or 200+ (a number from
//     the list, or the range typed out);
//  4. what they need (3 to 500 characters).
//
// A new contact is greeted, then asked; an answer that does not fit is
// asked again, with what is wrong, as often as it takes. Each question is
// asked again once after 10 minutes of silence, and the conversation is
// closed after an hour without an answer (a later message starts again).
// "agent", "human" or "talk to a person" hands the conversation to a
// person at any step: Sendbee's own chatbot is switched off, the team is
// told in its Flowdock flow, and when the bot gets the conversation back
// (an agent switches the chatbot on in Sendbee, or types "/resume sendbee
// <conversation>" in the team flow) it asks the current question again.
// "help" explains; "stop" ends the conversation.
//
// When the four answers are in, the bot
//
//   - stores them in the Sendbee contact's fields email, company_size and
//     need, and tags the contact "lead" (it creates the three fields at
//     start-up when Sendbee has none of that name);
//   - creates a VelaFlows CRM lead with the name, e-mail and phone number
//     (VelaFlows' lead takes no other fields), in the pipeline and stage of
//     LEADBOT_PIPELINE_ID and LEADBOT_STAGE_ID, by default those the
//     VelaFlows emulator of "parley sim" seeds (Sales, New): set both for a
//     real workspace;
//   - presents the lead in the team's Flowdock flow (the first of
//     FLOWDOCK_FLOWS) as a discussion thread titled with the name, with a
//     row per answer and a status whose colour says the company's size;
//     this posts with the integration's flow token, FLOWDOCK_FLOW_TOKEN,
//     which leadbot requires when Flowdock is configured.
//
// Platforms are configured as for the other examples (package
// adapters/fromenv): run it against the emulators of "parley sim" with
//
//	eval "$(parley sim env)"
//	go run ./examples/leadbot
//
// The questions run on any platform configured, and each of the three
// actions runs when its platform is configured and is skipped (with an Info
// log line) when it is not: the contact is updated only for Sendbee
// conversations. With no platform configured at all, leadbot chats on the
// terminal, where the questions work and every action is skipped; there is
// no person to hand over to there, so "agent" only says so.
//
// The flows' state lives in the Bot's Store: in memory, or on JetStream with
// NATS_URL or PARLEY_DATA_DIR set (package storage/jetstream), where it
// survives a restart. PARLEY_LOG_LEVEL is debug, info, warn (the default) or
// error; logs go to standard error and never hold what customers wrote.
package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/parleybot/parley/adapters/console"
	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/fromenv"
	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
	"github.com/parleybot/parley/handlers/handoff"
	"github.com/parleybot/parley/handlers/welcome"
	"github.com/parleybot/parley/storage/jetstream"
)

// The environment variables of leadbot, beside those of fromenv and
// storage/jetstream.
const (
	envPipeline = "LEADBOT_PIPELINE_ID" // the VelaFlows pipeline of new leads
	envStage    = "LEADBOT_STAGE_ID"    // and its stage
)

// The pipeline and stage the VelaFlows emulator seeds ("Sales", stage
// "New"), the defaults of envPipeline and envStage.
const (
	simPipeline = "65a1b2c3d4e5f6a7b8c9d0e1"
	simStage    = "65a1b2c3d4e5f6a7b8c9d0e2"
)

// qualifiedTTL is how long a conversation that finished the questions is
// remembered: a message within it gets a short answer, not the questions
// again. It is the time parley run keeps a rules file's conversation
// variables, so that leadbot.yaml remembers as long.
const qualifiedTTL = 30 * 24 * time.Hour

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // after the first signal, a second one kills at once
	err := run(ctx, os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "leadbot:", err)
		os.Exit(1)
	}
}

// run builds the bot from the environment and runs it until ctx is done or
// every adapter's input has ended. opts configure the flow engine (tests
// give it a clock).
func run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, opts ...flow.Option) error {
	logger, err := fromenv.Logger(stderr, getenv("PARLEY_LOG_LEVEL"))
	if err != nil {
		return err
	}
	platforms, err := fromenv.Build(ctx, getenv, logger)
	if err != nil {
		return err
	}
	platforms.Out = stderr // the start-up summary
	adapters := platforms.Adapters
	if len(adapters) == 0 { // nothing configured: chat on the terminal
		c, err := console.New(console.Config{In: stdin, Out: stdout, Logger: logger})
		if err != nil {
			return err
		}
		adapters = append(adapters, c)
	}

	// With NATS_URL or PARLEY_DATA_DIR set, the queues and state (the
	// flows' included) are durable on JetStream; otherwise in memory.
	durable, err := jetstream.FromEnv(ctx, getenv, logger)
	if err != nil {
		return err
	}
	defer durable.Close()
	platforms.Collectors = append(platforms.Collectors, durable.Collectors...)
	platforms.Checks = append(platforms.Checks, durable.Checks...)

	b, err := bot.New(append(durable.Options, bot.WithAdapters(adapters...), bot.WithLogger(logger),
		bot.WithHooks(platforms.Metrics.Hooks()), bot.WithTracerProvider(platforms.Tracer))...)
	if err != nil {
		return err
	}
	if err := install(ctx, b, getenv, logger, opts...); err != nil {
		return err
	}
	return fromenv.Run(ctx, b, platforms, getenv, logger)
}

// install defines the lead flow on b, with its actions for the platforms
// b has, and the routes around it.
func install(ctx context.Context, b *bot.Bot, getenv func(string) string, logger *slog.Logger, opts ...flow.Option) error {
	sb, _ := b.Adapter(sendbee.Name).(*sendbee.Adapter)
	vf, _ := b.Adapter(velaflows.Name).(*velaflows.Adapter)
	fd, _ := b.Adapter(flowdock.Name).(*flowdock.Adapter)

	var team handoff.Flow // where the team hears of handoffs; zero without Flowdock
	var teamChat flowdock.Chat
	if fd != nil {
		org, name, ok := strings.Cut(strings.TrimSpace(strings.Split(getenv(flowdock.EnvFlows), ",")[0]), "/")
		if !ok {
			return fmt.Errorf("%s: want the team flow first, as org/flow", flowdock.EnvFlows)
		}
		if getenv(flowdock.EnvFlowToken) == "" {
			return fmt.Errorf("%s: leadbot presents leads in %s/%s with the flow token of an integration of that flow", flowdock.EnvFlowToken, org, name)
		}
		f, _, err := fd.Client().GetFlow(ctx, org, name)
		if err != nil {
			return fmt.Errorf("the team flow %s/%s: %w", org, name, err)
		}
		team = handoff.Flow{Platform: flowdock.Name, Conversation: f.ID}
		teamChat = flowdock.FlowChat(org, name)
	}
	if sb != nil {
		if err := ensureContactFields(ctx, sb.Client()); err != nil {
			return err
		}
	}

	e := flow.New(b, opts...)
	skip := func(platform, what string) flow.Action {
		return flow.ActionFunc(func(ctx context.Context, c flow.ActionCall) error {
			logger.LogAttrs(ctx, slog.LevelInfo, "leadbot: "+platform+" is not configured; "+what,
				slog.String("platform", c.Platform), slog.String("conversation", c.Conversation))
			return nil
		})
	}
	actions := map[string]flow.Action{
		"remember": flow.ActionFunc(func(ctx context.Context, c flow.ActionCall) error {
			return b.Store().Set(ctx, qualifiedKey(c.Platform, c.Conversation), []byte{1}, qualifiedTTL)
		}),
		"sendbee.contact":  skip("Sendbee", "the contact is not updated"),
		"velaflows.lead":   skip("VelaFlows", "no CRM lead is created"),
		"flowdock.present": skip("Flowdock", "the lead is not presented to the team"),
	}
	if sb != nil {
		actions["sendbee.contact"] = onlyOn(sendbee.Name, sendbee.UpdateContactAction(sb.Client()),
			skip("Sendbee", "the contact is not updated (not a Sendbee conversation)"))
	}
	if vf != nil {
		actions["velaflows.lead"] = velaflows.CreateLeadAction(vf.Client(),
			velaflows.WithPipeline(or(getenv(envPipeline), simPipeline), or(getenv(envStage), simStage)))
	}
	if fd != nil {
		actions["flowdock.present"] = presentLead(flowdock.PresentAction(fd.Client(), teamChat))
	}
	for name, a := range actions {
		if err := e.RegisterAction(name, a); err != nil {
			return err
		}
	}
	if err := e.Define(leadFlow()); err != nil {
		return err
	}
	e.Install()

	customers := bot.Platform(sendbee.Name, consoleName)
	g := e.Global()
	b.Handle(bot.All(bot.Platform(sendbee.Name), handoff.DefaultRule()), handoff.Handler{
		Reply: "Connecting you to a colleague… They can see your answers so far.",
		Team:  team, Bot: b, Logger: logger,
	}, g)
	if !team.IsZero() {
		b.Handle(handoff.ResumeRule(), handoff.ResumeHandler{Team: team, Bot: b, Logger: logger}, bot.Observer())
	}
	b.HandleFunc(bot.All(bot.Platform(consoleName), handoff.DefaultRule()), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("On the terminal there is no colleague to hand you over to, so let's go on."))
	}, g)
	b.HandleFunc(bot.All(customers, bot.Command("help")), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("I'm collecting a few details so that the right person on our team can help you. "+
			"Type \"agent\" at any time to talk to a person, or \"stop\" to stop."))
	}, g)
	b.HandleFunc(bot.All(customers, bot.Any(bot.Command("stop"), bot.Command("cancel"))), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		if err := e.Cancel(ctx, m.Platform, m.Conversation); err != nil && !errors.Is(err, flow.ErrNoFlow) {
			return err
		}
		return w.Send(ctx, m.Reply("OK, I've stopped. Write to us any time to start again."))
	}, g)

	// A message of a conversation without a waiting flow: greet a new
	// contact, then ask the questions, unless they were answered already.
	b.Handle(bot.All(customers, welcome.DefaultRule()), welcome.Handler{
		Text:  "Hello{{with .Author.Name}} {{.}}{{end}}! I'm the Acme assistant. A few quick questions, and I'll pass you on to the right person on our team.",
		Store: b.Store(),
	}, bot.Priority(welcome.Priority))
	b.HandleFunc(customers, func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		if m.Kind.Or() != bot.KindMessage || m.Author.Bot || m.Author.Agent {
			return nil
		}
		_, err := b.Store().Get(ctx, qualifiedKey(m.Platform, m.Conversation))
		switch {
		case err == nil:
			return w.Send(ctx, m.Reply("Thanks! Our team has your details and will be in touch soon. Type \"agent\" to talk to a person now."))
		case !errors.Is(err, bot.ErrNotFound):
			return err
		}
		values := flow.Values{}
		if m.Author.Phone != "" {
			values["phone"] = m.Author.Phone // for the CRM lead
		}
		return e.StartFrom(ctx, m, leadFlowName, values)
	})
	return nil
}

// consoleName is the platform of the terminal chat.
const consoleName = "console"

// leadFlowName is the name of the lead flow.
const leadFlowName = "lead"

// The company sizes, the choices of the third question. Each is saved as
// its Value, which is also the option of the Sendbee list field.
var sizes = flow.OneOfChoices(
	flow.Choice{Value: "1-10", Label: "1–10"},
	flow.Choice{Value: "11-50", Label: "11–50"},
	flow.Choice{Value: "51-200", Label: "51–200"},
	flow.Choice{Value: "200+", Label: "200+", Synonyms: []string{"more than 200", "over 200"}},
)

// sizeColors are the colours of a presented lead's status, by company size.
var sizeColors = map[string]flowdock.Color{
	"1-10": flowdock.ColorBlue, "11-50": flowdock.ColorGreen, "51-200": flowdock.ColorOrange, "200+": flowdock.ColorRed,
}

// leadFlow returns the lead flow: four questions, then the actions.
func leadFlow() flow.Flow {
	const agent = ` Or type "agent" to talk to a person.`
	// Every question reminds once after 10 minutes and closes the
	// conversation after an hour.
	step := func(s flow.Step) flow.Step {
		s.Retry = flow.Retry{Max: -1} // ask again as often as it takes
		s.Remind = &flow.Reminder{After: 10 * time.Minute, Ask: remind(s.Ask)}
		s.Timeout = &flow.Timeout{After: time.Hour, Then: flow.Cancel,
			Say: flow.Text("I haven't heard from you in a while, so I'm closing this for now. Write to us any time to pick up again.")}
		return s
	}
	return flow.Flow{
		Name: leadFlowName,
		Steps: []flow.Step{
			step(flow.Step{Name: "name", Ask: flow.Text("What's your name?"), Save: "name",
				Check: flow.Reask(flow.FreeText(2, 80), "Please tell me your name (2 to 80 characters)."+agent)}),
			step(flow.Step{Name: "email", Ask: withName("Thanks, %s! What's your e-mail address?"), Save: "email",
				Check: flow.Reask(flow.Email(), "That doesn't look like an e-mail address. Please type it like ana@example.com."+agent)}),
			step(flow.Step{Name: "size", Ask: flow.Text("How many people work at your company?\n" + sizes.List()), Save: "company_size",
				Check: flow.Reask(sizes, "Please pick one of these, by its number:\n"+sizes.List())}),
			step(flow.Step{Name: "need", Ask: flow.Text("Last one: what do you need help with?"), Save: "need",
				Check: flow.Reask(flow.FreeText(3, 500), "Please tell me in a few words (3 to 500 characters)."+agent)}),
		},
		OnDone: []flow.Call{
			{Action: "remember"},
			{Action: "sendbee.contact", Args: map[string]any{
				"tags":   []string{"lead"},
				"values": []string{"email", "company_size", "need"},
			}},
			{Action: "velaflows.lead"},
			{Action: "flowdock.present"},
		},
		Done: withName("Thank you, %s! Someone from our team will get back to you shortly."),
	}
}

// withName returns a prompt of format with the saved name for its %s.
func withName(format string) flow.Prompt {
	return flow.PromptFunc(func(_ context.Context, s *flow.State) (*bot.Message, error) {
		name, _ := s.Values.String("name")
		return &bot.Message{Text: fmt.Sprintf(format, name)}, nil
	})
}

// remind returns the reminder of a question: the question after "Still
// there?".
func remind(ask flow.Prompt) flow.Prompt {
	return flow.PromptFunc(func(ctx context.Context, s *flow.State) (*bot.Message, error) {
		m, err := ask.Prompt(ctx, s)
		if err != nil || m == nil {
			return m, err
		}
		m.Text = "Still there? " + m.Text
		return m, nil
	})
}

// presentLead returns an action that presents the lead with present (a
// flowdock.PresentAction): the call's arguments are made from the flow's
// values, since a flow.Call's Args are fixed when the flow is defined.
// What the customer typed is HTML-escaped, as titles, rows and the
// discussion's body are HTML.
func presentLead(present flow.Action) flow.Action {
	return flow.ActionFunc(func(ctx context.Context, c flow.ActionCall) error {
		v := func(name string) string { s, _ := c.Values.String(name); return s }
		size := v("company_size")
		color, ok := sizeColors[size]
		if !ok {
			color = flowdock.ColorGrey
		}
		fields := []flowdock.Field{
			{Label: "Name", Value: html.EscapeString(v("name"))},
			{Label: "E-mail", Value: html.EscapeString(v("email"))},
		}
		if p := v("phone"); p != "" {
			fields = append(fields, flowdock.Field{Label: "Phone", Value: html.EscapeString(p)})
		}
		fields = append(fields,
			flowdock.Field{Label: "Company size", Value: html.EscapeString(size)},
			flowdock.Field{Label: "Need", Value: html.EscapeString(v("need"))},
			flowdock.Field{Label: "Conversation", Value: html.EscapeString(c.Platform + " " + c.Conversation)},
		)
		c.Args = map[string]any{
			"title":    "Lead: " + html.EscapeString(v("name")),
			"status":   "new lead, " + size,
			"color":    string(color),
			"fields":   fields,
			"activity": "qualified a lead",
			"comment":  "<p>" + html.EscapeString(v("need")) + "</p>",
			"tags":     []string{"lead"},
		}
		return present.Run(ctx, c)
	})
}

// onlyOn returns an action that runs a for calls from conversations on
// platform, and otherwise for the others.
func onlyOn(platform string, a, otherwise flow.Action) flow.Action {
	return flow.ActionFunc(func(ctx context.Context, c flow.ActionCall) error {
		if c.Platform != platform {
			return otherwise.Run(ctx, c)
		}
		return a.Run(ctx, c)
	})
}

// contactFields are the Sendbee contact fields the answers are stored in.
var contactFields = []sendbee.CreateContactFieldRequest{
	{Name: "email", Type: sendbee.FieldText},
	{Name: "company_size", Type: sendbee.FieldList, Options: []string{"1-10", "11-50", "51-200", "200+"}},
	{Name: "need", Type: sendbee.FieldText},
}

// ensureContactFields creates the contact fields of contactFields that
// Sendbee does not have: it ignores values for fields it does not know.
func ensureContactFields(ctx context.Context, c *sendbee.Client) error {
	have := map[string]bool{}
	for f, err := range c.AllContactFields(ctx, sendbee.ContactFieldsOptions{}) {
		if err != nil {
			return fmt.Errorf("leadbot: list the Sendbee contact fields: %w", err)
		}
		have[f.Name] = true
	}
	for _, f := range contactFields {
		if have[f.Name] {
			continue
		}
		if _, _, err := c.CreateContactField(ctx, f); err != nil {
			return fmt.Errorf("leadbot: create the Sendbee contact field %q: %w", f.Name, err)
		}
	}
	return nil
}

// qualifiedKey is the Store key that says a conversation answered the
// questions.
func qualifiedKey(platform, conversation string) string {
	return "leadbot:qualified:" + platform + ":" + conversation
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

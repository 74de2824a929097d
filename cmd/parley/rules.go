package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleybot/parley/adapters/console"
	"github.com/parleybot/parley/adapters/fromenv"
	"github.com/parleybot/parley/admin"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
	"github.com/parleybot/parley/bot/rulefile"
	"github.com/parleybot/parley/handlers/help"
	"github.com/parleybot/parley/storage/jetstream"
)

const runLong = `Runs a bot whose behaviour is the rules file FILE (see the package
documentation of github.com/parleybot/parley/bot/rulefile for the format).
Its platforms come from the environment, as for the example bots
(SENDBEE_API_KEY…, VELAFLOWS_API_TOKEN…, FLOWDOCK_API_TOKEN…); with none
configured it chats on the terminal. The file is reloaded when it changes
and on SIGHUP; a broken edit is reported and the last good rules keep
running. "help" lists the rules that have help. PARLEY_LOG_LEVEL sets the
level of the log (debug, info, warn or error; warn by default).

The file may be given as the argument or with --rules, as before.`

const runExample = `  parley run examples/supportbot/rules.yaml
  parley run --rules examples/supportbot/rules.yaml
  PARLEY_LOG_LEVEL=debug parley run rules.yaml`

func newRunCmd(s *streams) *cobra.Command {
	var path string
	c := &cobra.Command{
		Use:     "run FILE",
		Short:   "run a bot from a rules file (platforms from the environment)",
		Long:    runLong,
		Example: runExample,
		Args: func(c *cobra.Command, args []string) error {
			switch {
			case len(args) > 1:
				return usageErrorf(c, "unexpected argument %q", args[1])
			case len(args) == 1 && path != "" && path != args[0]:
				return usageErrorf(c, "two rules files: %q and --rules %q", args[0], path)
			case len(args) == 0 && path == "":
				return usageErrorf(c, "missing the rules FILE")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				path = args[0]
			}
			return runRules(c.Context(), path, s.stdin, s.stdout, s.stderr, s.getenv)
		},
	}
	c.ValidArgsFunction = rulesFileArg
	c.Flags().StringVar(&path, "rules", "", "the rules `FILE` (or give it as the argument)")
	c.MarkFlagFilename("rules", "yaml", "yml")
	return c
}

// runRules runs the bot of the rules file path until ctx is done.
func runRules(ctx context.Context, path string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	logger, err := fromenv.Logger(stderr, getenv("PARLEY_LOG_LEVEL"))
	if err != nil {
		return err
	}
	set, err := rulefile.Load(path)
	if err != nil {
		return fmt.Errorf("%w\n(fix the file and run again; parley rules check %s lists every problem)", err, path)
	}
	platforms, err := fromenv.Build(ctx, getenv, logger)
	if err != nil {
		return err
	}
	platforms.Out = stderr // the start-up summary
	adapters := platforms.Adapters
	if len(adapters) == 0 {
		c, err := console.New(console.Config{In: stdin, Out: stdout, Logger: logger})
		if err != nil {
			return err
		}
		adapters = append(adapters, c)
	}
	// With NATS_URL or PARLEY_DATA_DIR set, the queues and state are
	// durable on JetStream; otherwise they are in memory.
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
	// The flows of the file call the actions of the configured platforms
	// by name (sendbee.update_contact, velaflows.create_lead, …); those of
	// a platform that is not configured are skipped with a warning, so
	// that a file can be tried on the console.
	opts := []rulefile.Option{rulefile.WithLogger(logger), rulefile.WithStore(b.Store())}
	for name, a := range withSkippedActions(platforms.Actions(), logger) {
		opts = append(opts, rulefile.WithAction(name, a))
	}
	engine := rulefile.NewEngine(set, append(opts,
		rulefile.WithReloadHook(func(err error) {
			if err != nil {
				fmt.Fprintf(stderr, "parley: %s not reloaded, the previous rules keep running:\n%v\n", path, err)
				return
			}
			fmt.Fprintf(stderr, "parley: %s reloaded\n", path)
		}))...)
	if err := engine.Install(b); err != nil {
		return err
	}
	b.Handle(bot.Command("help"), help.Handler{Routes: engine}, bot.Help("help", "list the commands"))
	// The admin API explains a text with the rules running now, and shows
	// the flow of a conversation.
	platforms.Admin = append(platforms.Admin, admin.WithExplainer(rulesExplainer(engine)), admin.WithFlows(engine.Flows()))

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan error, 1)
	go func() { watched <- engine.Watch(watchCtx, path, hup) }()
	defer func() { stopWatch(); <-watched }()
	return fromenv.Run(ctx, b, platforms, getenv, logger)
}

const rulesLong = `The rules commands check a rules file (see the package documentation of
github.com/parleybot/parley/bot/rulefile for the format) and show how its
rules decide on a message.`

func newRulesCmd(s *streams) *cobra.Command {
	c := &cobra.Command{
		Use:         "rules",
		Short:       "check a rules file, or show how its rules decide on a message",
		Long:        rulesLong,
		Example:     "  parley rules check rules.yaml\n  parley rules explain rules.yaml --text \"I want a refund\"",
		Annotations: map[string]string{group: "true"},
		Args:        commandArgs("command"),
		RunE:        groupRun,
	}
	check := &cobra.Command{
		Use:   "check FILE",
		Short: "check a rules file and report every problem",
		Long: `Loads FILE and reports every problem with its line and column: syntax,
unknown fields, conditions and templates that do not compile, and those
too costly to run on any message. It exits with status 1 when there is
a problem.`,
		Example: "  parley rules check examples/supportbot/rules.yaml",
		Args:    exactArgs("FILE"),
		RunE: func(c *cobra.Command, args []string) error {
			set, err := rulefile.Load(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(s.stdout, "%s: ok, %d rules, %d flows, %d schedules\n", args[0], len(set.Rules()), len(set.Flows()), len(set.Schedules()))
			return nil
		},
	}
	var o explainOptions
	explain := &cobra.Command{
		Use:   "explain FILE (--text TEXT [flags] | --json MESSAGE)",
		Short: "show how each rule decides on a message",
		Long: `Shows, for one message, each rule of FILE in order: matched, not matched
or failed, and the part of its condition that decided it. Describe the
message with --text and the flags that go with it, or give it whole as
JSON with --json (the fields of bot.Message).

To see what a flow waiting in the conversation does with the message,
name it with --flow and --step, and give the values it saved with
--value NAME=VALUE (a whole number, a decimal number, true or false are
read as such; anything else is text), the conversation's variables with
--var NAME=VALUE, and the answers the step refused so far with --attempts.`,
		Example: `  parley rules explain rules.yaml --text "where is my order" --platform sendbee
  parley rules explain --text thanks --direct rules.yaml
  parley rules explain rules.yaml --json '{"Platform":"console","Text":"/order 7","Direct":true}'
  parley rules explain rules.yaml --text "120" --flow lead --step size --value name=Ana`,
		DisableFlagsInUseLine: true,
		Args:                  exactArgs("FILE"),
		RunE: func(c *cobra.Command, args []string) error {
			return explainRules(c, args[0], o, s.stdout)
		},
	}
	f := explain.Flags()
	f.StringVar(&o.text, "text", "", "the message `TEXT`")
	f.StringVar(&o.platform, "platform", "console", "the message's platform")
	f.StringVar(&o.conv, "conversation", "explain", "the message's conversation")
	f.StringVar(&o.kind, "kind", "message", "the message's kind")
	f.BoolVar(&o.direct, "direct", false, "a one-to-one conversation with the bot")
	f.BoolVar(&o.human, "human", false, "a human owns the conversation")
	f.StringVar(&o.raw, "json", "", "the message as JSON (the fields of bot.Message), instead of the flags above")
	f.StringVar(&o.flow, "flow", "", "the `FLOW` waiting in the conversation")
	f.StringVar(&o.step, "step", "", "the `STEP` the flow waits at (with --flow)")
	f.IntVar(&o.attempts, "attempts", 0, "the answers the step refused so far (with --flow)")
	f.StringArrayVar(&o.values, "value", nil, "a value the flow saved, `NAME=VALUE` (repeatable; with --flow)")
	f.StringArrayVar(&o.vars, "var", nil, "a conversation variable, `NAME=VALUE` (repeatable)")
	check.ValidArgsFunction, explain.ValidArgsFunction = rulesFileArg, rulesFileArg
	c.AddCommand(check, explain)
	return c
}

// rulesFileArg completes the one argument of a command, a rules file.
func rulesFileArg(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return []cobra.Completion{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
}

// explainOptions are the flags of "parley rules explain".
type explainOptions struct {
	text, platform, conv, kind, raw string
	direct, human                   bool
	flow, step                      string
	attempts                        int
	values, vars                    []string
}

// explainRules runs "parley rules explain".
func explainRules(c *cobra.Command, path string, o explainOptions, stdout io.Writer) error {
	var m *bot.Message
	switch {
	case o.raw != "":
		m = &bot.Message{}
		if err := json.Unmarshal([]byte(o.raw), m); err != nil {
			return usageErrorf(c, "--json: %w", err)
		}
	case o.text == "":
		return usageErrorf(c, "give the message with --text or --json")
	default:
		m = &bot.Message{ID: "explain", Platform: o.platform, Conversation: o.conv, Text: o.text, Kind: bot.Kind(o.kind),
			Direct: o.direct, Time: time.Now(), Author: bot.User{ID: "someone", Name: "Someone"}}
	}
	if o.human {
		m.Owner = bot.OwnerHuman
	}
	conv, err := explainConversation(c, m, o)
	if err != nil {
		return err
	}
	set, err := rulefile.Load(path)
	if err != nil {
		return err
	}
	return rulefile.Format(stdout, set.ExplainIn(c.Context(), m, conv))
}

// rulesExplainer returns the admin API's explainer of the rules engine
// runs: the current rules file's explanation of a message, with the flow
// waiting in the message's conversation (its variables are unknown: the
// templates that read them are shown as written).
func rulesExplainer(engine *rulefile.Engine) admin.Explainer {
	return func(ctx context.Context, m *bot.Message) (*admin.Explanation, error) {
		var conv rulefile.Conversation
		if flows := engine.Flows(); flows != nil {
			st, err := flows.State(ctx, m.Platform, m.Conversation)
			switch {
			case err == nil:
				conv.Flow = st
			case !errors.Is(err, flow.ErrNoFlow):
				return nil, err
			}
		}
		ex := engine.Set().ExplainIn(ctx, m, conv)
		var table strings.Builder
		if err := rulefile.Format(&table, ex); err != nil {
			return nil, err
		}
		out := &admin.Explanation{Rules: make([]admin.ExplainedRule, len(ex)), Table: table.String()}
		for i, x := range ex {
			r := admin.ExplainedRule{Rule: x.Rule, Priority: x.Priority, Result: x.Result.String(), Runs: x.Runs,
				DecidedBy: x.Decider, Observer: x.Observer, Global: x.Global, Flow: x.Flow, Step: x.Step, Fallback: x.Fallback}
			if x.Err != nil {
				r.Error = x.Err.Error()
			}
			for _, a := range x.Actions {
				r.Actions = append(r.Actions, admin.ExplainedAction{Kind: a.Kind, Detail: a.Detail})
			}
			out.Rules[i] = r
		}
		return out, nil
	}
}

// explainConversation builds what "parley rules explain" is told of the
// message's conversation from --flow, --step, --attempts, --value and --var.
func explainConversation(c *cobra.Command, m *bot.Message, o explainOptions) (rulefile.Conversation, error) {
	var conv rulefile.Conversation
	if len(o.vars) > 0 {
		conv.Vars = make(map[string]string, len(o.vars))
		for _, kv := range o.vars {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return conv, usageErrorf(c, "--var %q: want NAME=VALUE", kv)
			}
			conv.Vars[k] = v
		}
	}
	if o.flow == "" {
		if o.step != "" || o.attempts != 0 || len(o.values) > 0 {
			return conv, usageErrorf(c, "--step, --attempts and --value describe a waiting flow: name it with --flow")
		}
		return conv, nil
	}
	if o.step == "" {
		return conv, usageErrorf(c, "--flow needs the --step it waits at")
	}
	st := &flow.State{Platform: m.Platform, Conversation: m.Conversation, Flow: o.flow, Step: o.step,
		Attempts: o.attempts, Values: flow.Values{}}
	for _, kv := range o.values {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return conv, usageErrorf(c, "--value %q: want NAME=VALUE", kv)
		}
		st.Values[k] = explainValue(v)
	}
	conv.Flow = st
	return conv, nil
}

// explainValue reads a --value as the type a flow's check would have saved:
// a whole number, a decimal number, a bool, or text.
func explainValue(s string) any {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	if b, err := strconv.ParseBool(s); err == nil && (s == "true" || s == "false") {
		return b
	}
	return s
}

// platformActions names what configures each platform action that
// fromenv offers.
var platformActions = map[string]string{
	fromenv.ActionSendbeeUpdateContact:    "Sendbee is not configured (SENDBEE_API_KEY, SENDBEE_API_SECRET)",
	fromenv.ActionVelaflowsCreateLead:     "VelaFlows is not configured (VELAFLOWS_API_TOKEN, VELAFLOWS_WORKSPACE_ID)",
	fromenv.ActionVelaflowsUpdateCustomer: "VelaFlows is not configured (VELAFLOWS_API_TOKEN, VELAFLOWS_WORKSPACE_ID)",
	fromenv.ActionFlowdockPresent:         "Flowdock is not configured with a flow (FLOWDOCK_API_TOKEN, FLOWDOCK_FLOWS)",
}

// withSkippedActions adds to actions, for each platform action it lacks,
// one that does nothing but log at Warn why it was skipped.
func withSkippedActions(actions map[string]flow.Action, logger *slog.Logger) map[string]flow.Action {
	for name, why := range platformActions {
		if _, ok := actions[name]; ok {
			continue
		}
		actions[name] = flow.ActionFunc(func(ctx context.Context, c flow.ActionCall) error {
			logger.LogAttrs(ctx, slog.LevelWarn, "flow action skipped: "+why, slog.String("action", name),
				slog.String("flow", c.Flow), slog.String("platform", c.Platform), slog.String("conversation", c.Conversation))
			return nil
		})
	}
	return actions
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/parleybot/parley/adapters/console"
	"github.com/parleybot/parley/adapters/fromenv"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/rulefile"
	"github.com/parleybot/parley/handlers/help"
	"github.com/parleybot/parley/storage/jetstream"
)

const runUsage = `usage: parley run -rules FILE

Runs a bot whose behaviour is the rules file FILE (see the package
documentation of github.com/parleybot/parley/bot/rulefile for the format).
Its platforms come from the environment, as for the example bots
(SENDBEE_API_KEY…, VELAFLOWS_API_TOKEN…, FLOWDOCK_API_TOKEN…); with none
configured it chats on the terminal. The file is reloaded when it changes
and on SIGHUP; a broken edit is reported and the last good rules keep
running. "help" lists the rules that have help.

flags:
`

// runRules runs "parley run".
func runRun(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("parley run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("rules", "", "the rules file (required)")
	fs.Usage = func() { fmt.Fprint(stderr, runUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *path == "" || fs.NArg() > 0 {
		fs.Usage()
		return usageError{errors.New("run: give the rules file with -rules FILE")}
	}
	logger, err := fromenv.Logger(stderr, getenv("PARLEY_LOG_LEVEL"))
	if err != nil {
		return err
	}
	set, err := rulefile.Load(*path)
	if err != nil {
		return fmt.Errorf("%w\n(fix the file and run again; parley rules check %s lists every problem)", err, *path)
	}
	platforms, err := fromenv.Build(ctx, getenv, logger)
	if err != nil {
		return err
	}
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
		bot.WithHooks(platforms.Metrics.Hooks()))...)
	if err != nil {
		return err
	}
	engine := rulefile.NewEngine(set, rulefile.WithLogger(logger), rulefile.WithStore(b.Store()),
		rulefile.WithReloadHook(func(err error) {
			if err != nil {
				fmt.Fprintf(stderr, "parley: %s not reloaded, the previous rules keep running:\n%v\n", *path, err)
				return
			}
			fmt.Fprintf(stderr, "parley: %s reloaded\n", *path)
		}))
	if err := engine.Install(b); err != nil {
		return err
	}
	b.Handle(bot.Command("help"), help.Handler{Routes: engine}, bot.Help("help", "list the commands"))

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan error, 1)
	go func() { watched <- engine.Watch(watchCtx, *path, hup) }()
	defer func() { stopWatch(); <-watched }()
	return fromenv.Run(ctx, b, platforms, getenv, logger)
}

const rulesUsage = `usage:
  parley rules check FILE
      loads FILE and reports every problem with its line and column
  parley rules explain FILE -text TEXT [-platform P] [-conversation C] [-kind K] [-direct] [-human]
  parley rules explain FILE -json MESSAGE
      shows, for one message, each rule in order: matched, not matched or
      failed, and the part of its condition that decided it

flags of explain:
`

// runRulesCmd runs "parley rules ...".
func runRulesCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("parley rules explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	text := fs.String("text", "", "the message text")
	platform := fs.String("platform", "console", "the message's platform")
	conv := fs.String("conversation", "explain", "the message's conversation")
	kind := fs.String("kind", "message", "the message's kind")
	direct := fs.Bool("direct", false, "a one-to-one conversation with the bot")
	human := fs.Bool("human", false, "a human owns the conversation")
	raw := fs.String("json", "", "the message as JSON (the fields of bot.Message), instead of the flags above")
	fs.Usage = func() { fmt.Fprint(stderr, rulesUsage); fs.PrintDefaults() }
	if len(args) < 2 || (args[0] != "check" && args[0] != "explain") {
		fs.Usage()
		if len(args) == 0 {
			return usageError{errors.New("rules: give a command: check or explain")}
		}
		return usageError{fmt.Errorf("rules: want check FILE or explain FILE, got %q", strings.Join(args, " "))}
	}
	cmd, path := args[0], args[1]
	if err := fs.Parse(args[2:]); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageError{fmt.Errorf("rules: unexpected argument %q", fs.Arg(0))}
	}
	set, err := rulefile.Load(path)
	if err != nil {
		return err
	}
	if cmd == "check" {
		fmt.Fprintf(stdout, "%s: ok, %d rules, %d schedules\n", path, len(set.Rules()), len(set.Schedules()))
		return nil
	}
	m := &bot.Message{ID: "explain", Platform: *platform, Conversation: *conv, Text: *text, Kind: bot.Kind(*kind),
		Direct: *direct, Time: time.Now(), Author: bot.User{ID: "someone", Name: "Someone"}}
	if *raw != "" {
		m = &bot.Message{}
		if err := json.Unmarshal([]byte(*raw), m); err != nil {
			return usageError{fmt.Errorf("rules explain: -json: %w", err)}
		}
	} else if *text == "" {
		fs.Usage()
		return usageError{errors.New("rules explain: give the message with -text or -json")}
	}
	if *human {
		m.Owner = bot.OwnerHuman
	}
	return rulefile.Format(stdout, set.Explain(ctx, m))
}

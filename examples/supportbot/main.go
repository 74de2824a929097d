// Supportbot is a customer-support bot made of a rules file and the
// handlers of the handlers/ directory:
//
//   - welcome greets the first message of every customer conversation;
//   - the rules of rules.yaml answer orders, refunds and thanks;
//   - faq answers the questions of faq.yaml;
//   - handoff hands a conversation to a person when the customer asks for
//     one ("agent", "talk to a person");
//   - bridge mirrors every Sendbee and VelaFlows conversation into its own
//     thread of the team's Flowdock flow, and sends the agents' answers back;
//   - hours answers out of hours (SUPPORTBOT_HOURS, default Mon-Fri
//     09:00-17:00, in the local time zone).
//
// Run it against the emulators of "parley sim" (see the README), or against
// the real platforms with their variables (package adapters/fromenv). The
// team flow is the first of FLOWDOCK_FLOWS.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/fromenv"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/rulefile"
	"github.com/parleybot/parley/handlers/bridge"
	"github.com/parleybot/parley/handlers/faq"
	"github.com/parleybot/parley/handlers/handoff"
	"github.com/parleybot/parley/handlers/help"
	"github.com/parleybot/parley/handlers/hours"
	"github.com/parleybot/parley/handlers/welcome"
	"github.com/parleybot/parley/storage/jetstream"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv, "examples/supportbot")
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "supportbot:", err)
		os.Exit(1)
	}
}

// run builds the bot from the environment and the files in dir.
func run(ctx context.Context, getenv func(string) string, dir string) error {
	logger, err := fromenv.Logger(os.Stderr, getenv("PARLEY_LOG_LEVEL"))
	if err != nil {
		return err
	}
	platforms, err := fromenv.Build(ctx, getenv, logger)
	if err != nil {
		return err
	}
	var fd *flowdock.Adapter
	for _, a := range platforms.Adapters {
		if a, ok := a.(*flowdock.Adapter); ok {
			fd = a
		}
	}
	if fd == nil || len(platforms.Adapters) < 2 {
		return errors.New("the support bot needs Flowdock (the team) and Sendbee or VelaFlows (the customers): run parley sim and export what it prints")
	}
	org, name, ok := strings.Cut(strings.Split(getenv(flowdock.EnvFlows), ",")[0], "/")
	if !ok {
		return fmt.Errorf("%s: want the team flow first, as org/flow", flowdock.EnvFlows)
	}
	team, _, err := fd.Client().GetFlow(ctx, org, name)
	if err != nil {
		return fmt.Errorf("the team flow %s/%s: %w", org, name, err)
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

	b, err := bot.New(append(durable.Options, bot.WithAdapters(platforms.Adapters...), bot.WithLogger(logger),
		bot.WithHooks(platforms.Metrics.Hooks()), bot.WithTracerProvider(platforms.Tracer))...)
	if err != nil {
		return err
	}
	customers := bot.Platform("sendbee", "velaflows")

	entries, err := faq.Load(dir + "/faq.yaml")
	if err != nil {
		return err
	}
	rules, err := rulefile.Load(dir + "/rules.yaml")
	if err != nil {
		return err
	}
	engine := rulefile.NewEngine(rules, rulefile.WithLogger(logger), rulefile.WithStore(b.Store()))
	week, err := hours.ParseWeek(or(getenv("SUPPORTBOT_HOURS"), "Mon-Fri 09:00-17:00"))
	if err != nil {
		return fmt.Errorf("SUPPORTBOT_HOURS: %w", err)
	}

	if err := (bridge.Handler{Team: bridge.Team{Platform: flowdock.Name, Conversation: team.ID}}).Install(b); err != nil {
		return err
	}
	// The team sees the request in the conversation's bridged thread, so the
	// handoff needs no notification of its own.
	if err := (handoff.Plugin{Handler: handoff.Handler{Tags: []string{"handoff"}}}).Install(b); err != nil {
		return err
	}
	b.Handle(customers, welcome.Handler{Store: b.Store()}, bot.Priority(welcome.Priority))
	b.Handle(customers, hours.Handler{Schedule: week, Store: b.Store(), Location: b.Location()}, bot.Priority(hours.Priority))
	if err := engine.Install(b, bot.Priority(50)); err != nil {
		return err
	}
	b.Handle(bot.Command("help"), help.Handler{Routes: b}, bot.Help("help", "list the commands"))
	b.Handle(customers, faq.Handler{Entries: entries})
	// What nothing above answers gets the rules file's fallback.
	return fromenv.Run(ctx, b, platforms, getenv, logger)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
)

// simVelaflowsPrefix is the path of the VelaFlows emulator's API, that of
// the real base URL.
const simVelaflowsPrefix = "/api/v1"

// simVelaflowsEvents are the events of the subscription the sim presets:
// those the adapter registers (velaflows.Adapter.EnsureWebhook), so that a
// bot that registers again changes nothing.
var simVelaflowsEvents = []string{
	velaflows.EventConversationMessageReceived, velaflows.EventConversationCreated, velaflows.EventConversationAssigned,
	velaflows.EventConversationUnassigned, velaflows.EventConversationClosed, velaflows.EventConversationReopened,
}

func startVelaflows(set *simSetup, out *lockedWriter) (*simPlatform, error) {
	public, from := strings.TrimSpace(set.getenv("PARLEY_PUBLIC_URL")), "PARLEY_PUBLIC_URL"
	if public == "" {
		root, f, err := botURL(set.getenv)
		if err != nil {
			return nil, err
		}
		public, from = root, f
	}
	target := strings.TrimSuffix(public, "/") + velaflows.WebhookPath
	retries := []time.Duration{simRetry, 2 * simRetry}
	rep := newDeliveryReporter(out)
	emu, err := velaflowstest.Start(set.addrs.velaflows,
		velaflowstest.WithPrefix(simVelaflowsPrefix),
		velaflowstest.WithCredentials(set.creds.VelaFlows.APIToken, set.creds.VelaFlows.WorkspaceID),
		velaflowstest.WithAllowHTTPWebhooks(),
		velaflowstest.WithSubscription(target, set.creds.VelaFlows.WebhookSecret, simVelaflowsEvents...),
		velaflowstest.WithRetrySchedule(retries...),
		velaflowstest.WithRedeliveryWindow(0),
		velaflowstest.WithAutoDeactivate(0),
		velaflowstest.WithDeliveryObserver(func(d velaflowstest.Delivery) {
			rep.observe(deliveryAttempt{
				key: fmt.Sprintf("%s/%s/%d", d.SubscriptionID, d.EventID, d.Copy), event: d.EventType, n: d.Attempt,
				cause: failureCause(d.OK(), string(d.Outcome), d.StatusCode), explain: set.hint(d.Explain()),
				final: d.Attempt > len(retries) || d.StatusCode == 410, // 410 deactivates the subscription
			})
		}))
	if err != nil {
		return nil, fmt.Errorf("sim velaflows: %w", err)
	}
	overriding := set.overriding("VELAFLOWS_")
	if from == "PARLEY_PUBLIC_URL" {
		overriding = append(overriding, "PARLEY_PUBLIC_URL")
	}
	c := &vfCustomer{emu: emu, out: out, contact: "+442071838750"}
	return &simPlatform{
		name: "velaflows",
		intro: fmt.Sprintf("VelaFlows emulator on %s\nIts webhook subscription delivers to %s (%s); a bot that registers its own at another URL adds one",
			emu.URL(), target, from),
		urls:       func(u *simURLs) { u.VelaFlows, u.Public = emu.URL(), public },
		envArgs:    addrArg("velaflows-addr", emu.URL(), simVelaflowsAddr),
		overriding: overriding,
		usage:      "VelaFlows: type a line to write to the bot as a customer; :assign [agent], :unassign, :close, :as <phone or email>.",
		commands: []simCommand{
			{"assign", "[agent]", "give the conversation to an agent (the bot goes quiet)", c.assign},
			{"unassign", "", "give the conversation back to the bot", c.unassign},
			{"close", "", "close the conversation", c.close},
			{"as", "<phone or email>", "write as another customer", c.as},
		},
		text:  c.say,
		watch: func(ctx context.Context) { printVelaflowsSent(ctx, emu, out) },
		close: emu.Close,
	}, nil
}

// vfCustomer plays a VelaFlows customer and the inbox's agents.
type vfCustomer struct {
	emu     *velaflowstest.Server
	out     *lockedWriter
	contact string
	conv    string
}

func (c *vfCustomer) as(contact string) {
	c.contact, c.conv = contact, ""
	c.out.printf("now writing as %s\n", c.contact)
}

// inbox runs an agent's action on the conversation, if there is one yet.
func (c *vfCustomer) inbox(name string, act func(conv string) error, done string) {
	if c.conv == "" {
		c.out.printf("no conversation yet: write as the customer first\n")
		return
	}
	if err := act(c.conv); err != nil {
		c.out.printf(":%s: %v\n", name, err)
		return
	}
	c.out.printf("inbox: conversation %s\n", done)
}

func (c *vfCustomer) assign(agent string) {
	c.inbox("assign", func(conv string) error { return c.emu.Assign(conv, agent) }, "assigned to an agent")
}

func (c *vfCustomer) unassign(string) { c.inbox("unassign", c.emu.Unassign, "unassigned") }

func (c *vfCustomer) close(string) { c.inbox("close", c.emu.CloseConversation, "closed") }

func (c *vfCustomer) say(line string) {
	channel := "whatsapp"
	if strings.Contains(c.contact, "@") {
		channel = "email"
	}
	if !strings.HasPrefix(c.contact, "+") && channel != "email" {
		c.out.printf("the contact must be a +phone number or an email address\n")
		return
	}
	if !slices.ContainsFunc(c.emu.Subscriptions(), func(s velaflowstest.Subscription) bool { return s.Active }) {
		c.out.printf("! no active webhook subscription: the bot does not get this; restart the bot with PARLEY_PUBLIC_URL set to register one\n")
	}
	c.conv, _ = c.emu.CustomerMessage(channel, "Customer", c.contact, line)
}

// printVelaflowsSent prints each message the bot posts through the
// emulator's API until ctx is done, looking every 100ms.
func printVelaflowsSent(ctx context.Context, emu *velaflowstest.Server, out *lockedWriter) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	seen := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sent := emu.Sent()
		for _, m := range sent[seen:] {
			out.printf("bot → %s: %s\n", m.ConversationID, m.Content)
		}
		seen = len(sent)
	}
}

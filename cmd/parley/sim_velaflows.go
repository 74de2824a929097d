package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
)

func startVelaflows(addr string, getenv func(string) string, out *lockedWriter) (*simPlatform, error) {
	token, workspace := getenv("VELAFLOWS_API_TOKEN"), getenv("VELAFLOWS_WORKSPACE_ID")
	if token == "" {
		token = "sk_test_sim" + randomHex(16)
	}
	if workspace == "" {
		workspace = randomHex(12)
	}
	emu, err := velaflowstest.Start(addr, velaflowstest.WithCredentials(token, workspace))
	if err != nil {
		return nil, fmt.Errorf("sim velaflows: %w", err)
	}
	out.printf("VelaFlows emulator on %s\n\n", emu.URL())
	out.printf("Point a bot at it (for example in another terminal, then run go run ./examples/echobot):\n\n")
	out.printf("export VELAFLOWS_API_TOKEN=%s\n", token)
	out.printf("export VELAFLOWS_WORKSPACE_ID=%s\n", workspace)
	out.printf("export VELAFLOWS_BASE_URL=%s\n", emu.URL())
	out.printf("export PARLEY_PUBLIC_URL=http://127.0.0.1:8080\n\n")
	out.printf("The bot registers its webhook when it starts. Type a line to write as a customer;\n")
	out.printf("/assign [agent], /unassign, /close, /as <phone or email>. Ctrl-C stops.\n")

	c := &vfCustomer{emu: emu, out: out, contact: "+442071838750"}
	return &simPlatform{name: "velaflows", do: c.do, watch: func(ctx context.Context) { printVelaflowsSent(ctx, emu, out) }, close: emu.Close}, nil
}

// vfCustomer plays a VelaFlows customer and the inbox's agents.
type vfCustomer struct {
	emu     *velaflowstest.Server
	out     *lockedWriter
	contact string
	conv    string
}

func (c *vfCustomer) do(line string) {
	cmd, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	needConv := func() bool {
		if c.conv == "" {
			c.out.printf("no conversation yet: write as the customer first\n")
		}
		return c.conv != ""
	}
	var err error
	switch {
	case line == "":
		return
	case cmd == "/as":
		c.contact, c.conv = rest, ""
		c.out.printf("now writing as %s\n", c.contact)
		return
	case cmd == "/assign":
		if !needConv() {
			return
		}
		if err = c.emu.Assign(c.conv, rest); err == nil {
			c.out.printf("inbox: conversation assigned to an agent\n")
		}
	case cmd == "/unassign":
		if !needConv() {
			return
		}
		if err = c.emu.Unassign(c.conv); err == nil {
			c.out.printf("inbox: conversation unassigned\n")
		}
	case cmd == "/close":
		if !needConv() {
			return
		}
		if err = c.emu.CloseConversation(c.conv); err == nil {
			c.out.printf("inbox: conversation closed\n")
		}
	case strings.HasPrefix(cmd, "/") && cmd != "/":
		c.out.printf("unknown command %s (known: /assign, /unassign, /close, /as)\n", cmd)
		return
	default:
		channel := "whatsapp"
		if strings.Contains(c.contact, "@") {
			channel = "email"
		}
		if !strings.HasPrefix(c.contact, "+") && channel != "email" {
			c.out.printf("the contact must be a +phone number or an email address\n")
			return
		}
		c.conv, _ = c.emu.CustomerMessage(channel, "Customer", c.contact, line)
		return
	}
	if err != nil {
		c.out.printf("%s: %v\n", cmd, err)
	}
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

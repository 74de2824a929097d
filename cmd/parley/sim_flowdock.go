package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
)

func startFlowdock(addr string, getenv func(string) string, out *lockedWriter) (*simPlatform, error) {
	var opts []flowdocktest.Option
	if token := getenv("FLOWDOCK_API_TOKEN"); token != "" {
		opts = append(opts, flowdocktest.WithUser(flowdocktest.User{Token: token}))
	}
	emu, err := flowdocktest.Start(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("sim flowdock: %w", err)
	}

	const flow = "acme/main"
	out.printf("Flowdock emulator: REST on %s, stream on %s\n\n", emu.URL(), emu.StreamURL())
	out.printf("Point a bot at it (for example in another terminal, then run go run ./examples/echobot):\n\n")
	out.printf("export FLOWDOCK_API_TOKEN=%s\n", emu.Token())
	out.printf("export FLOWDOCK_FLOW_TOKEN=%s\n", emu.FlowToken(flow))
	out.printf("export FLOWDOCK_API_URL=%s\n", emu.URL())
	out.printf("export FLOWDOCK_STREAM_URL=%s\n", emu.StreamURL())
	out.printf("export FLOWDOCK_FLOWS=%s\n\n", flow)
	out.printf("Type a line to post it in %s as dana; /as <nick> (dana, mike, Ray_), /private <text>,\n", flow)
	out.printf("/reply <text> (in the thread of the bot's latest post), /flow <org/flow>, /drop (cut the stream).\n")

	c := &fdUser{emu: emu, out: out, nick: "dana", flow: flow}
	return &simPlatform{name: "flowdock", do: c.do, watch: func(ctx context.Context) { printFlowdockSent(ctx, emu, out) }, close: emu.Close}, nil
}

// fdUser plays the other users of a Flowdock organization.
type fdUser struct {
	emu  *flowdocktest.Server
	out  *lockedWriter
	nick string
	flow string
}

func (u *fdUser) do(line string) {
	cmd, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	var err error
	switch {
	case line == "":
		return
	case cmd == "/as":
		u.nick = rest
		u.out.printf("now posting as %s\n", u.nick)
		return
	case cmd == "/flow":
		u.flow = rest
		u.out.printf("now posting in %s\n", u.flow)
		return
	case cmd == "/drop":
		u.emu.DropConnections()
		u.out.printf("stream connections dropped\n")
		return
	case cmd == "/private":
		_, err = u.emu.PrivateMessage(u.nick, rest)
	case cmd == "/reply":
		// Answer in the thread of the bot's latest post in this flow, as
		// an agent answers a customer thread the bot opened.
		thread := ""
		for _, m := range u.emu.Sent() {
			if m.Flow == u.flow && m.ThreadID != "" {
				thread = m.ThreadID
			}
		}
		if thread == "" {
			u.out.printf("the bot has posted no thread in %s yet\n", u.flow)
			return
		}
		_, err = u.emu.Post(u.flow, u.nick, rest, flowdocktest.InThread(thread))
	case strings.HasPrefix(cmd, "/") && cmd != "/":
		u.out.printf("unknown command %s (known: /as, /flow, /private, /reply, /drop)\n", cmd)
		return
	default:
		_, err = u.emu.Post(u.flow, u.nick, line)
	}
	if err != nil {
		u.out.printf("%v\n", err)
	}
}

// printFlowdockSent prints what the bot posts, looking every 100ms.
func printFlowdockSent(ctx context.Context, emu *flowdocktest.Server, out *lockedWriter) {
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
			where := m.Flow
			if m.PrivateTo != 0 {
				where = fmt.Sprintf("private chat with %d", m.PrivateTo)
			}
			out.printf("bot → %s: %s\n", where, m.Content)
		}
		seen = len(sent)
	}
}

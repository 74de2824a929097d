package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
)

// simFlow is the flow the sim posts in and the bot follows.
const simFlow = "acme/main"

func startFlowdock(set *simSetup, out *lockedWriter) (*simPlatform, error) {
	streams := &fdStreams{out: out, hint: set.hint, flows: map[string]int{}}
	opts := []flowdocktest.Option{
		flowdocktest.WithUser(flowdocktest.User{Token: set.creds.Flowdock.APIToken}),
		// The demo's acme/main, with the stored flow token.
		flowdocktest.WithFlows(flowdocktest.Flow{Org: "acme", OrgName: "Acme", Name: "main", DisplayName: "Main", FlowToken: set.creds.Flowdock.FlowToken}),
		flowdocktest.WithConnectionObserver(streams.observe),
	}
	if set.addrs.flowdockStream != "" {
		opts = append(opts, flowdocktest.WithStreamAddr(set.addrs.flowdockStream))
	}
	emu, err := flowdocktest.Start(set.addrs.flowdock, opts...)
	if le, ok := errors.AsType[*flowdocktest.StreamListenError](err); ok {
		// The emulator's advice names its Go option; a sim user has a flag.
		where := "on --flowdock-stream-addr"
		if set.addrs.flowdockStream == "" {
			where = "on the port after --flowdock-addr's; choose its address with --flowdock-stream-addr"
		}
		return nil, fmt.Errorf("sim flowdock: %w (the streaming API, %s)", le.Err, where)
	}
	if err != nil {
		return nil, fmt.Errorf("sim flowdock: %w", err)
	}
	args := addrArg("flowdock-addr", emu.URL(), simFlowdockAddr)
	if want := nextPort(hostPort(emu.URL())); hostPort(emu.StreamURL()) != want {
		args = append(args, "--flowdock-stream-addr", hostPort(emu.StreamURL()))
	}
	u := &fdUser{emu: emu, out: out, streams: streams, nick: "dana", flow: simFlow}
	return &simPlatform{
		name:  "flowdock",
		intro: fmt.Sprintf("Flowdock emulator: REST on %s, stream on %s", emu.URL(), emu.StreamURL()),
		urls: func(su *simURLs) {
			su.Flowdock, su.FlowdockStream, su.FlowdockFlows = emu.URL(), emu.StreamURL(), simFlow
		},
		envArgs:    args,
		overriding: set.overriding("FLOWDOCK_"),
		usage: fmt.Sprintf("Flowdock: type a line to post it in %s as dana; :as <nick> (dana, mike, Ray_), :private <text>,\n"+
			":reply <text> (in the thread of the bot's latest post), :flow <org/flow>, :drop (cut the streams).", simFlow),
		commands: []simCommand{
			{"as", "<nick>", "post as another member (dana, mike, Ray_)", u.as},
			{"private", "<text>", "write to the bot in a private chat", u.private},
			{"reply", "<text>", "answer in the thread of the bot's latest post in the flow", u.reply},
			{"flow", "<org/flow>", "post in another flow", u.setFlow},
			{"drop", "", "cut every stream connection (the bot reconnects)", u.drop},
		},
		text:  u.post,
		watch: func(ctx context.Context) { printFlowdockSent(ctx, emu, out) },
		close: emu.Close,
	}, nil
}

// nextPort returns host:port with the port after port's.
func nextPort(hp string) string {
	i := strings.LastIndexByte(hp, ':')
	var n int
	if _, err := fmt.Sscan(hp[i+1:], &n); err != nil {
		return ""
	}
	return fmt.Sprintf("%s:%d", hp[:i], n+1)
}

// fdStreams follows the bot's stream connections from the emulator's
// reports, and prints each change: a stream connected or ended, and a
// refused one (a run of identical refusals once, until a stream
// connects). Its methods are safe for concurrent use.
type fdStreams struct {
	out  *lockedWriter
	hint func(line string) string // see simSetup.hint

	mu          sync.Mutex
	flows       map[string]int // flow → open bot streams that follow it
	private     int            // open bot streams with private messages
	open        int            // open bot streams
	lastRefusal string
}

func (s *fdStreams) observe(e flowdocktest.ConnectionEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := s.hint(e.Explain())
	switch e.State {
	case flowdocktest.ConnRefused:
		if line == s.lastRefusal {
			return
		}
		s.lastRefusal = line
		s.out.printf("! %s\n", line)
		return
	case flowdocktest.ConnConnected, flowdocktest.ConnDisconnected:
		s.lastRefusal = ""
		if e.Bot {
			d := 1
			if e.State == flowdocktest.ConnDisconnected {
				d = -1
			}
			s.open += d
			for _, f := range e.Flows {
				s.flows[f] += d
			}
			if e.Private {
				s.private += d
			}
		}
	}
	s.out.printf("%s\n", line)
}

// follows returns a line saying why the bot does not see a post in flow
// (a private message for flow ""), or "" when it does.
func (s *fdStreams) follows(flow, streamURL string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.open == 0:
		return "no bot stream is connected, so the bot does not see this: is it running with FLOWDOCK_STREAM_URL=" + streamURL + "?"
	case flow == "" && s.private == 0:
		return "the bot's stream has no private messages, so the bot does not see this"
	case flow != "" && s.flows[flow] == 0:
		return "the bot's stream does not follow " + flow + ", so the bot does not see this: check FLOWDOCK_FLOWS"
	}
	return ""
}

// fdUser plays the other users of a Flowdock organization.
type fdUser struct {
	emu     *flowdocktest.Server
	out     *lockedWriter
	streams *fdStreams
	nick    string
	flow    string
}

func (u *fdUser) as(nick string) {
	u.nick = nick
	u.out.printf("now posting as %s\n", u.nick)
}

func (u *fdUser) setFlow(flow string) {
	u.flow = flow
	u.out.printf("now posting in %s\n", u.flow)
}

func (u *fdUser) drop(string) {
	u.emu.DropConnections()
	u.out.printf("stream connections dropped\n")
}

// warn prints why the bot will not see a post in flow ("" for private).
func (u *fdUser) warn(flow string) {
	if why := u.streams.follows(flow, u.emu.StreamURL()); why != "" {
		u.out.printf("! %s\n", why)
	}
}

func (u *fdUser) private(text string) {
	u.warn("")
	if _, err := u.emu.PrivateMessage(u.nick, text); err != nil {
		u.out.printf("%v\n", err)
	}
}

// reply answers in the thread of the bot's latest post in this flow, as
// an agent answers a customer thread the bot opened.
func (u *fdUser) reply(text string) {
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
	u.warn(u.flow)
	if _, err := u.emu.Post(u.flow, u.nick, text, flowdocktest.InThread(thread)); err != nil {
		u.out.printf("%v\n", err)
	}
}

func (u *fdUser) post(line string) {
	u.warn(u.flow)
	if _, err := u.emu.Post(u.flow, u.nick, line); err != nil {
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

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parleybot/parley/adapters/flowdock"
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
// an agent answers a customer thread the bot opened or an item it
// presented with the flow token.
func (u *fdUser) reply(text string) {
	thread, at := "", time.Time{}
	for _, m := range u.emu.Sent() {
		if m.Flow == u.flow && m.ThreadID != "" {
			thread, at = m.ThreadID, m.Time
		}
	}
	for _, m := range u.emu.IntegrationPosts() {
		if m.Flow == u.flow && m.ThreadID != "" && !m.Sent.Before(at) {
			thread, at = m.ThreadID, m.Sent
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

// printFlowdockSent prints what the bot posts, with its own token and
// with the flow token, in the order posted, looking every 100ms.
func printFlowdockSent(ctx context.Context, emu *flowdocktest.Server, out *lockedWriter) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	seenSent, seenPosts := 0, 0
	type post struct {
		at   time.Time
		text string
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sent, posts := emu.Sent(), emu.IntegrationPosts()
		var news []post
		for _, m := range sent[seenSent:] {
			where := m.Flow
			if m.PrivateTo != 0 {
				where = fmt.Sprintf("private chat with %d", m.PrivateTo)
			}
			news = append(news, post{m.Time, fmt.Sprintf("bot → %s: %s\n", where, m.Content)})
		}
		for _, m := range posts[seenPosts:] {
			news = append(news, post{m.Sent, flowTokenPost(m)})
		}
		slices.SortStableFunc(news, func(a, b post) int { return a.at.Compare(b.at) })
		for _, p := range news {
			out.printf("%s", p.text)
		}
		seenSent, seenPosts = len(sent), len(posts)
	}
}

// flowTokenPost returns the lines that show m, a post the bot made with
// the flow token: a chat message as the bot's other posts, with who it
// says it is from; an activity or a discussion as the item's thread (its
// title and status, then its link, description and rows, indented) and
// what the author did, with the discussion's body. HTML is shown as text.
func flowTokenPost(m flowdocktest.Message) string {
	var w flowdock.Message
	if err := json.Unmarshal(m.JSON, &w); err != nil {
		return fmt.Sprintf("bot → %s: [%s] (unreadable: %v)\n", m.Flow, m.Event, err)
	}
	if m.Event == flowdock.EventMessage {
		as := ""
		if w.ExternalUserName != "" {
			as = ", as " + w.ExternalUserName
		}
		return fmt.Sprintf("bot → %s: %s   (with the flow token%s)\n", m.Flow, w.Text(), as)
	}
	const indent = "    "
	var b strings.Builder
	th := w.Thread
	if th == nil {
		th = &flowdock.Thread{}
	}
	fmt.Fprintf(&b, "bot → %s: [%s] %s", m.Flow, m.Event, htmlLine(th.Title))
	if th.Status != nil {
		fmt.Fprintf(&b, " — %s (%s)", htmlLine(th.Status.Value), th.Status.Color)
	}
	b.WriteString("\n")
	if th.ExternalURL != "" {
		b.WriteString(indent + th.ExternalURL + "\n")
	}
	for _, l := range htmlText(th.Body) {
		b.WriteString(indent + l + "\n")
	}
	for _, f := range th.Fields {
		fmt.Fprintf(&b, "%s%s: %s\n", indent, htmlLine(f.Label), htmlLine(f.Value))
	}
	did := strings.TrimSpace(htmlLine(w.Title))
	if w.Author != nil && w.Author.Name != "" {
		did = htmlLine(w.Author.Name) + " " + did
	}
	switch body := htmlText(w.Body); {
	case m.Event != flowdock.EventDiscussion || len(body) == 0:
		b.WriteString(indent + did + "\n")
	case len(body) == 1:
		b.WriteString(indent + did + ": " + body[0] + "\n")
	default:
		b.WriteString(indent + did + ":\n")
		for _, l := range body {
			b.WriteString(indent + "  " + l + "\n")
		}
	}
	return b.String()
}

// htmlLine returns the HTML s as one line of text (see htmlText).
func htmlLine(s string) string { return strings.Join(htmlText(s), " ") }

// htmlText returns the HTML s as lines of text for a terminal: tags are
// dropped, a line ends at a line break and around a block (a paragraph, a
// list item, a heading…), entities are decoded, and the spaces of each
// line are collapsed; empty lines are left out. A "<" that starts no tag
// is text.
func htmlText(s string) []string {
	var (
		lines []string
		line  strings.Builder
	)
	flush := func() {
		if l := strings.Join(strings.Fields(line.String()), " "); l != "" {
			lines = append(lines, l)
		}
		line.Reset()
	}
	for s != "" {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			i = len(s)
		}
		line.WriteString(html.UnescapeString(s[:i]))
		s = s[i:]
		if s == "" {
			break
		}
		name, n := htmlTag(s)
		if n == 0 {
			line.WriteByte('<')
			s = s[1:]
			continue
		}
		s = s[n:]
		if htmlBreaks[name] {
			flush()
		}
	}
	flush()
	return lines
}

// htmlBreaks are the elements whose tags end a line of text.
var htmlBreaks = map[string]bool{
	"br": true, "p": true, "div": true, "li": true, "ul": true, "ol": true, "tr": true, "table": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "blockquote": true, "pre": true, "hr": true,
}

// htmlTag reads the tag (or comment, or declaration) at the start of s:
// it returns the element's name in lower case ("" for a comment or
// declaration) and the tag's length, 0 when s starts no tag.
func htmlTag(s string) (name string, n int) {
	if strings.HasPrefix(s, "<!--") {
		if end := strings.Index(s[4:], "-->"); end >= 0 {
			return "", 4 + end + 3
		}
		return "", 0
	}
	i := 1
	if i < len(s) && (s[i] == '/' || s[i] == '!' || s[i] == '?') {
		i++
	}
	start := i
	for i < len(s) && ('a' <= s[i] && s[i] <= 'z' || 'A' <= s[i] && s[i] <= 'Z' || i > start && '0' <= s[i] && s[i] <= '9') {
		i++
	}
	if i == start {
		return "", 0
	}
	name = strings.ToLower(s[start:i])
	var quote byte
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return name, i + 1
		}
	}
	return "", 0
}

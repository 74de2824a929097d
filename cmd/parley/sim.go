package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

const simLong = `With no platform, parley sim runs all three emulators at once; type
"/use sendbee", "/use velaflows" or "/use flowdock" to choose whom your
lines play (Sendbee first).

` + simSendbeeLong + `

` + simVelaflowsLong + `

` + simFlowdockLong

const simSendbeeLong = `parley sim sendbee runs the Sendbee emulator on loopback until interrupted. It takes its
credentials from SENDBEE_API_KEY and SENDBEE_API_SECRET (or invents them),
delivers webhooks to SENDBEE_WEBHOOK_URL (default
http://127.0.0.1:8080/webhooks/sendbee), and prints the export lines that
point a bot at it.

Each line typed on standard input is sent as a customer's WhatsApp message.
Commands:
  /agent <text>   answer as a human agent from the dashboard (switches the chatbot off)
  /bot on|off     switch the conversation's chatbot from the dashboard
  /as <phone>     write as another customer (default +385911234567)
What the bot sends back is printed as it arrives.`

const simVelaflowsLong = `parley sim velaflows runs the VelaFlows emulator the same way. Its
credentials come from VELAFLOWS_API_TOKEN and VELAFLOWS_WORKSPACE_ID (or are
invented); the bot registers its own webhook subscription at
$PARLEY_PUBLIC_URL/webhooks/velaflows. Typed lines are a customer's messages;
commands: /assign [agent], /unassign, /close, /as <phone or email>.`

const simFlowdockLong = `parley sim flowdock runs the Flowdock emulator (REST and streaming API).
Its token comes from FLOWDOCK_API_TOKEN (or is invented). Typed lines are
posted by another member of the flow; commands: /as <nick>, /private <text>,
/reply <text> (in the thread of the bot's latest post), /flow <org/flow>, /drop.`

// simAddrs are the addresses the emulators listen on.
type simAddrs struct {
	sendbee, velaflows, flowdock string
}

// addSimFlags adds the address flags of the emulators to c, those of the
// platforms other than shown hidden (they are accepted, as they always
// were, and do nothing); shown "" shows them all.
func addSimFlags(c *cobra.Command, a *simAddrs, shown string) {
	f := c.Flags()
	f.StringVar(&a.sendbee, "sendbee-addr", "127.0.0.1:8701", "address of the Sendbee emulator")
	f.StringVar(&a.velaflows, "velaflows-addr", "127.0.0.1:8702", "address of the VelaFlows emulator")
	f.StringVar(&a.flowdock, "flowdock-addr", "127.0.0.1:8703", "address of the Flowdock emulator")
	for _, p := range []string{"sendbee", "velaflows", "flowdock"} {
		if shown != "" && p != shown {
			_ = f.MarkHidden(p + "-addr") // the flag exists: cannot fail
		}
	}
}

func newSimCmd(s *streams) *cobra.Command {
	var addrs simAddrs
	c := &cobra.Command{
		Use:   "sim",
		Short: "run the Sendbee, VelaFlows and Flowdock emulators on loopback",
		Long:  simLong,
		Example: `  parley sim
  parley sim sendbee
  parley sim --sendbee-addr 127.0.0.1:9701 --velaflows-addr 127.0.0.1:9702 --flowdock-addr 127.0.0.1:9703`,
		Args: commandArgs("platform"),
		RunE: func(c *cobra.Command, _ []string) error {
			return runSim(c.Context(), "", addrs, s.stdin, s.stdout, s.getenv)
		},
	}
	addSimFlags(c, &addrs, "")
	for _, p := range []struct{ name, short, long string }{
		{"sendbee", "run the Sendbee emulator on loopback", simSendbeeLong},
		{"velaflows", "run the VelaFlows emulator on loopback", simVelaflowsLong},
		{"flowdock", "run the Flowdock emulator on loopback", simFlowdockLong},
	} {
		var addrs simAddrs
		sub := &cobra.Command{
			Use:     p.name,
			Short:   p.short,
			Long:    p.long,
			Example: fmt.Sprintf("  parley sim %[1]s\n  parley sim %[1]s --%[1]s-addr 127.0.0.1:0", p.name),
			Args:    exactArgs(),
			RunE: func(c *cobra.Command, _ []string) error {
				return runSim(c.Context(), p.name, addrs, s.stdin, s.stdout, s.getenv)
			},
		}
		addSimFlags(sub, &addrs, p.name)
		c.AddCommand(sub)
	}
	return c
}

// runSim runs the emulator of platform with its console, or all three for
// platform "", until ctx is done.
func runSim(ctx context.Context, platform string, addrs simAddrs, stdin io.Reader, stdout io.Writer, getenv func(string) string) error {
	starts := map[string]func(*lockedWriter) (*simPlatform, error){
		"sendbee":   func(out *lockedWriter) (*simPlatform, error) { return startSendbee(addrs.sendbee, getenv, out) },
		"velaflows": func(out *lockedWriter) (*simPlatform, error) { return startVelaflows(addrs.velaflows, getenv, out) },
		"flowdock":  func(out *lockedWriter) (*simPlatform, error) { return startFlowdock(addrs.flowdock, getenv, out) },
	}
	if platform == "" {
		return simAll(ctx, []func(*lockedWriter) (*simPlatform, error){starts["sendbee"], starts["velaflows"], starts["flowdock"]}, stdin, stdout)
	}
	return simOne(ctx, starts[platform], stdin, stdout)
}

// A simPlatform is one running emulator with its console: do handles a
// typed line, watch prints what the bot sends until its context ends.
type simPlatform struct {
	name  string
	do    func(line string)
	watch func(ctx context.Context)
	close func()
}

// simOne runs one platform's emulator with its console.
func simOne(ctx context.Context, start func(*lockedWriter) (*simPlatform, error), stdin io.Reader, stdout io.Writer) error {
	out := &lockedWriter{w: stdout}
	p, err := start(out)
	if err != nil {
		return err
	}
	defer p.close()
	return interact(ctx, stdin, out, p.do, p.watch)
}

func startSendbee(addr string, getenv func(string) string, out *lockedWriter) (*simPlatform, error) {
	key, secret := getenv("SENDBEE_API_KEY"), getenv("SENDBEE_API_SECRET")
	if key == "" {
		key = "sim-key-" + randomHex(6)
	}
	if secret == "" {
		secret = "sim-secret-" + randomHex(16)
	}
	webhook := getenv("SENDBEE_WEBHOOK_URL")
	if webhook == "" {
		webhook = "http://127.0.0.1:8080/webhooks/sendbee"
	}
	emu, err := sendbeetest.Start(addr, sendbeetest.WithCredentials(key, secret), sendbeetest.WithWebhook(webhook))
	if err != nil {
		return nil, fmt.Errorf("sim sendbee: %w", err)
	}
	out.printf("Sendbee emulator on %s, delivering webhooks to %s\n\n", emu.URL(), webhook)
	out.printf("Point a bot at it (for example in another terminal, then run go run ./examples/echobot):\n\n")
	out.printf("export SENDBEE_API_KEY=%s\n", key)
	out.printf("export SENDBEE_API_SECRET=%s\n", secret)
	out.printf("export SENDBEE_BASE_URL=%s\n\n", emu.URL())
	out.printf("Type a line to write to the bot as a customer; /agent <text>, /bot on|off, /as <phone>. Ctrl-C stops.\n")
	c := &customer{emu: emu, out: out, phone: "+385911234567"}
	return &simPlatform{name: "sendbee", do: c.do, watch: func(ctx context.Context) { printSent(ctx, emu, out) }, close: emu.Close}, nil
}

// interact feeds each line of stdin to do and runs watch beside it, until
// ctx is done; the end of stdin does not stop it.
func interact(ctx context.Context, stdin io.Reader, out *lockedWriter, do func(line string), watch func(ctx context.Context)) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() { watch(ctx) })

	lines := make(chan string)
	// The reader may stay blocked in a read of a terminal after we return;
	// it holds nothing and gives up once ctx is done.
	go readLines(ctx, stdin, lines)
	for {
		select {
		case <-ctx.Done():
			out.printf("\nstopping\n")
			return nil
		case line, ok := <-lines:
			if !ok {
				lines = nil // input ended: keep serving until interrupted
				continue
			}
			do(strings.TrimSpace(line))
		}
	}
}

// customer plays the customer and the dashboard from typed lines.
type customer struct {
	emu   *sendbeetest.Server
	out   *lockedWriter
	phone string
	conv  string
}

func (c *customer) do(line string) {
	switch cmd, rest, _ := strings.Cut(line, " "); {
	case line == "":
	case cmd == "/as":
		c.phone, c.conv = strings.TrimSpace(rest), ""
		if conv, ok := c.emu.ConversationByPhone(c.phone); ok {
			c.conv = conv.ID
		}
		c.out.printf("now writing as %s\n", c.phone)
	case cmd == "/agent":
		if c.conv == "" {
			c.out.printf("no conversation yet: write as the customer first\n")
			return
		}
		if _, err := c.emu.AgentReply(c.conv, "", rest); err != nil {
			c.out.printf("agent: %v\n", err)
			return
		}
		c.out.printf("agent → %s: %s   (the chatbot is off now)\n", c.phone, rest)
	case cmd == "/bot":
		if c.conv == "" {
			c.out.printf("no conversation yet: write as the customer first\n")
			return
		}
		on := strings.TrimSpace(rest) == "on"
		if !on && strings.TrimSpace(rest) != "off" {
			c.out.printf("usage: /bot on|off\n")
			return
		}
		if err := c.emu.SetChatbot(c.conv, on); err != nil {
			c.out.printf("bot: %v\n", err)
			return
		}
		c.out.printf("dashboard: chatbot %s for %s\n", strings.TrimSpace(rest), c.phone)
	case strings.HasPrefix(cmd, "/") && cmd != "/":
		c.out.printf("unknown command %s (known: /agent, /bot, /as)\n", cmd)
	default:
		if !strings.HasPrefix(c.phone, "+") {
			c.out.printf("the customer's phone must be international, like +385911234567\n")
			return
		}
		c.conv, _ = c.emu.CustomerMessage(c.phone, "Customer", line)
	}
}

// printSent prints each message the bot sends through the emulator's API,
// and each change of a conversation's chatbot, until ctx is done. The
// emulator has no change feed, so it looks every 100ms.
func printSent(ctx context.Context, emu *sendbeetest.Server, out *lockedWriter) {
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
			flag := "prevent_bot_off absent"
			if m.PreventBotOff != nil {
				flag = fmt.Sprintf("prevent_bot_off=%v", *m.PreventBotOff)
			}
			body := m.Text
			if m.MediaURL != "" {
				body += " [" + m.MediaURL + "]"
			}
			state := "on"
			if !m.ChatbotActive {
				state = "off"
			}
			out.printf("bot → %s: %s   (%s; chatbot %s)\n", m.Phone, body, flag, state)
		}
		seen = len(sent)
	}
}

func readLines(ctx context.Context, r io.Reader, lines chan<- string) {
	defer close(lines)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		select {
		case lines <- sc.Text():
		case <-ctx.Done():
			return
		}
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("crypto/rand failed")) // cannot happen on supported platforms
	}
	return hex.EncodeToString(b)
}

// simAll runs every platform's emulator; "/use <platform>" chooses which
// console typed lines go to.
func simAll(ctx context.Context, starts []func(*lockedWriter) (*simPlatform, error), stdin io.Reader, stdout io.Writer) error {
	out := &lockedWriter{w: stdout}
	var platforms []*simPlatform
	defer func() {
		for _, p := range platforms {
			p.close()
		}
	}()
	for _, start := range starts {
		p, err := start(out)
		if err != nil {
			return err
		}
		platforms = append(platforms, p)
		out.printf("\n")
	}
	cur := platforms[0]
	out.printf("All emulators run. Lines go to %s; /use sendbee|velaflows|flowdock switches.\n", cur.name)
	do := func(line string) {
		if name, ok := strings.CutPrefix(line, "/use "); ok {
			for _, p := range platforms {
				if p.name == strings.TrimSpace(name) {
					cur = p
					out.printf("lines now go to %s\n", p.name)
					return
				}
			}
			out.printf("unknown platform %q\n", strings.TrimSpace(name))
			return
		}
		cur.do(line)
	}
	watch := func(ctx context.Context) {
		var wg sync.WaitGroup
		for _, p := range platforms {
			wg.Go(func() { p.watch(ctx) })
		}
		wg.Wait()
	}
	return interact(ctx, stdin, out, do, watch)
}

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleybot/parley/adapters/fromenv"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

const simLong = `With no platform, parley sim runs all three emulators at once; type
":use sendbee", ":use velaflows" or ":use flowdock" to choose whom your
lines play (Sendbee first).

` + simCredsLong + `

` + simConsoleLong + `

` + simSendbeeLong + `

` + simVelaflowsLong + `

` + simFlowdockLong

const simCredsLong = `The emulators' credentials are made on the first start and kept in
sim.json in parley's configuration directory ($PARLEY_CONFIG_DIR, or
"parley" in the user's configuration directory, such as ~/.config/parley),
so a bot keeps working when the sim restarts. "parley sim env" prints the
lines that point a bot at the emulators; in the bot's terminal run
eval "$(parley sim env)" (or "parley sim env sendbee" for one platform,
which also unsets the other platforms' variables). "parley sim rotate",
or --rotate-credentials, makes new credentials. A credential variable set
in the sim's own environment (SENDBEE_API_SECRET, for example) overrides
the stored value for that run.`

const simConsoleLong = `Each line typed on standard input is a message to the bot, commands like
/help and !help included. Lines starting with ":" and a letter are the
sim's own commands; ":help" lists them. A failed webhook delivery, or a
bot stream that is refused or missing, is printed with what to check: the
first failed attempt of an event, a retry only when it fails differently,
and the last attempt when the emulator gives up on the event.`

const simSendbeeLong = `parley sim sendbee runs the Sendbee emulator on loopback until interrupted.
It delivers webhooks to SENDBEE_WEBHOOK_URL, by default to
/webhooks/sendbee on the bot's address PARLEY_ADDR (127.0.0.1:8080 when
unset; an empty host, 0.0.0.0 or :: is reached at 127.0.0.1), and retries
a failed delivery twice within a second before giving up on it.

Typed lines are a customer's WhatsApp messages. Commands:
  :agent <text>   answer as a human agent from the dashboard (switches the chatbot off)
  :bot on|off     switch the conversation's chatbot from the dashboard
  :as <phone>     write as another customer (default +385911234567)
What the bot sends back is printed as it arrives.`

const simVelaflowsLong = `parley sim velaflows runs the VelaFlows emulator the same way. It starts
with the bot's webhook subscription at $PARLEY_PUBLIC_URL/webhooks/velaflows
(PARLEY_PUBLIC_URL defaults to the http address of PARLEY_ADDR), signed with
the stored webhook secret, so a bot started with the exports receives
deliveries even when it registered before the emulator restarted. A failed
delivery is retried twice within a second, then given up. Typed lines are a
customer's messages; commands: :assign [agent], :unassign, :close,
:as <phone or email>.`

const simFlowdockLong = `parley sim flowdock runs the Flowdock emulator: the REST API on
--flowdock-addr and the streaming API on --flowdock-stream-addr (by default
the next port). Typed lines are posted in acme/main by another member of
the flow; the sim says when no bot stream follows the flow. Commands:
:as <nick> (dana, mike, Ray_), :private <text>, :reply <text> (in the
thread of the bot's latest post), :flow <org/flow>, :drop (cut the streams).
What the bot posts is printed as it arrives, and so is what it posts with
the flow token: an item it presents (an activity or a discussion) as its
thread's title and status, its rows indented, and the discussion's body,
all as text.`

// The default addresses of the emulators.
const (
	simSendbeeAddr   = "127.0.0.1:8701"
	simVelaflowsAddr = "127.0.0.1:8702"
	simFlowdockAddr  = "127.0.0.1:8703"
)

// simAddrs are the addresses the emulators listen on.
type simAddrs struct {
	sendbee, velaflows, flowdock string
	flowdockStream               string // "" for the port after flowdock's
}

// addSimAddrFlags adds the address flags of the emulators to c, those of
// the platforms other than shown hidden (they are accepted, as they always
// were, and do nothing); shown "" shows them all.
func addSimAddrFlags(c *cobra.Command, a *simAddrs, shown string) {
	f := c.Flags()
	f.StringVar(&a.sendbee, "sendbee-addr", simSendbeeAddr, "address of the Sendbee emulator")
	f.StringVar(&a.velaflows, "velaflows-addr", simVelaflowsAddr, "address of the VelaFlows emulator")
	f.StringVar(&a.flowdock, "flowdock-addr", simFlowdockAddr, "address of the Flowdock emulator's REST API")
	f.StringVar(&a.flowdockStream, "flowdock-stream-addr", "", "address of the Flowdock emulator's streaming API (default: the port after --flowdock-addr's)")
	for _, name := range []string{"sendbee-addr", "velaflows-addr", "flowdock-addr", "flowdock-stream-addr"} {
		if shown != "" && !strings.HasPrefix(name, shown+"-") {
			_ = f.MarkHidden(name) // the flag exists: cannot fail
		}
	}
}

// simFlags are the flags of parley sim and its platform commands.
type simFlags struct {
	addrs  simAddrs
	rotate bool
}

func addSimFlags(c *cobra.Command, f *simFlags, shown string) {
	addSimAddrFlags(c, &f.addrs, shown)
	c.Flags().BoolVar(&f.rotate, "rotate-credentials", false, "make new credentials before starting (as parley sim rotate does)")
}

func newSimCmd(s *streams) *cobra.Command {
	var flags simFlags
	c := &cobra.Command{
		Use:   "sim",
		Short: "run the Sendbee, VelaFlows and Flowdock emulators on loopback",
		Long:  simLong,
		Example: `  parley sim
  parley sim sendbee
  eval "$(parley sim env sendbee)"    # in the bot's terminal
  parley sim --sendbee-addr 127.0.0.1:9701 --velaflows-addr 127.0.0.1:9702 --flowdock-addr 127.0.0.1:9703`,
		Args: commandArgs("command"),
		RunE: func(c *cobra.Command, _ []string) error {
			return runSim(c.Context(), simPlatforms, flags, s)
		},
	}
	addSimFlags(c, &flags, "")
	for _, p := range []struct{ name, short, long string }{
		{"sendbee", "run the Sendbee emulator on loopback", simSendbeeLong},
		{"velaflows", "run the VelaFlows emulator on loopback", simVelaflowsLong},
		{"flowdock", "run the Flowdock emulator on loopback", simFlowdockLong},
	} {
		var flags simFlags
		sub := &cobra.Command{
			Use:     p.name,
			Short:   p.short,
			Long:    p.long,
			Example: fmt.Sprintf("  parley sim %[1]s\n  parley sim %[1]s --%[1]s-addr 127.0.0.1:0\n  eval \"$(parley sim env %[1]s)\"    # in the bot's terminal", p.name),
			Args:    exactArgs(),
			RunE: func(c *cobra.Command, _ []string) error {
				return runSim(c.Context(), []string{p.name}, flags, s)
			},
		}
		addSimFlags(sub, &flags, p.name)
		c.AddCommand(sub)
	}
	c.AddCommand(newSimEnvCmd(s), newSimRotateCmd(s))
	return c
}

// runSim runs the emulators of platforms with their console until ctx is
// done. With more than one, ":use" chooses the console typed lines go to.
func runSim(ctx context.Context, platforms []string, flags simFlags, s *streams) error {
	set, err := newSimSetup(flags, s.getenv)
	if err != nil {
		return err
	}
	out := &lockedWriter{w: s.stdout}
	starts := map[string]func(*simSetup, *lockedWriter) (*simPlatform, error){
		"sendbee": startSendbee, "velaflows": startVelaflows, "flowdock": startFlowdock,
	}
	var started []*simPlatform
	defer func() {
		for _, p := range started {
			p.close()
		}
	}()
	for _, name := range platforms {
		p, err := starts[name](set, out)
		if err != nil {
			return err
		}
		started = append(started, p)
	}
	if err := printSimIntro(out, set, started); err != nil {
		return err
	}
	if len(started) == 1 {
		p := started[0]
		return interact(ctx, s.stdin, out, func(line string) { dispatch(out, line, p.commands, p.text) }, p.watch)
	}
	cur := started[0] // used by do only, on interact's goroutine
	use := simCommand{name: "use", args: "sendbee|velaflows|flowdock", help: "choose whom your lines play", run: func(arg string) {
		for _, p := range started {
			if p.name == arg {
				cur = p
				out.printf("lines now go to %s\n", p.name)
				return
			}
		}
		out.printf("unknown platform %q (known: %s)\n", arg, strings.Join(platforms, ", "))
	}}
	do := func(line string) {
		dispatch(out, line, append([]simCommand{use}, cur.commands...), cur.text)
	}
	watch := func(ctx context.Context) {
		var wg sync.WaitGroup
		for _, p := range started {
			wg.Go(func() { p.watch(ctx) })
		}
		wg.Wait()
	}
	return interact(ctx, s.stdin, out, do, watch)
}

// simSetup is what the emulators of a parley sim run start from.
type simSetup struct {
	addrs     simAddrs
	creds     simCreds // the stored credentials with the environment's overrides
	credsPath string
	rotated   bool
	// noStore says why the credentials could not be stored: they are
	// made for this run only. nil when they are stored at credsPath.
	noStore error
	// overrides are the credential variables of the sim's environment
	// that replace stored values.
	overrides []string
	getenv    func(string) string
	// how says how the bot gets this run's variables, in the emulators'
	// explanations (see hint); set by printSimIntro.
	how atomic.Pointer[string]
}

// emulatorHint is how the emulators' explanations tell a person to give
// the bot the sim's variables.
const emulatorHint = `run: eval "$(parley sim env)"`

// hint returns line, an emulator's explanation, with its advice to run
// parley sim env made true for this run: the command with this run's
// platforms and addresses, or pasting the lines printed when parley sim
// env cannot print them.
func (set *simSetup) hint(line string) string {
	if how := set.how.Load(); how != nil {
		return strings.Replace(line, emulatorHint, *how, 1)
	}
	return line
}

func newSimSetup(flags simFlags, getenv func(string) string) (*simSetup, error) {
	set := &simSetup{addrs: flags.addrs, rotated: flags.rotate, getenv: getenv}
	dir, err := simConfigDir(getenv)
	var stored simCreds
	switch {
	case err != nil:
		// Nowhere to keep them: credentials for this run only, which
		// parley sim env cannot print.
		set.noStore = err
		stored, err = newSimCreds()
	case flags.rotate:
		stored, err = rotateSimCreds(dir)
	default:
		stored, err = loadSimCreds(dir)
	}
	if err != nil {
		return nil, err
	}
	if set.noStore == nil {
		set.credsPath = simCredsPath(dir)
	}
	set.creds = stored.withEnv(getenv)
	for _, f := range stored.fields() {
		if v := strings.TrimSpace(getenv(f.env)); v != "" {
			set.overrides = append(set.overrides, f.env)
		}
	}
	return set, nil
}

// overriding returns the variables of the sim's environment, among those
// whose names start with prefix, that override stored credentials.
func (set *simSetup) overriding(prefix string) []string {
	var vars []string
	for _, v := range set.overrides {
		if strings.HasPrefix(v, prefix) {
			vars = append(vars, v)
		}
	}
	return vars
}

// A simPlatform is one running emulator with its console.
type simPlatform struct {
	name string
	// intro says where the emulator runs and where it delivers.
	intro string
	// urls fills in the emulator's part of the export lines.
	urls func(*simURLs)
	// envArgs are the flags that make parley sim env print the URLs of
	// this run; none for the default addresses.
	envArgs []string
	// overriding are the variables of the sim's environment that make
	// the values of this run differ from what parley sim env prints.
	overriding []string
	// usage says what a typed line does.
	usage string
	// commands are the sim commands of the console; text sends a line
	// that is none to the bot.
	commands []simCommand
	text     func(line string)
	// watch prints what the bot sends until its context ends.
	watch func(ctx context.Context)
	close func()
}

// printSimIntro prints what runs, how to point a bot at it and how to
// play the console.
func printSimIntro(out *lockedWriter, set *simSetup, ps []*simPlatform) error {
	var (
		urls       simURLs
		names      []string
		args       []string
		overriding []string
	)
	for _, p := range ps {
		out.printf("%s\n", p.intro)
		p.urls(&urls)
		names = append(names, p.name)
		args = append(args, p.envArgs...)
		overriding = append(overriding, p.overriding...)
	}
	script, err := simEnvScript(set.creds, names, urls)
	if err != nil {
		return err
	}
	switch {
	case set.noStore != nil:
		out.printf("Credentials: new for this run only (%v)\n\n", set.noStore)
	case set.rotated:
		out.printf("Credentials: %s (new: restart a running bot with the lines below)\n\n", set.credsPath)
	default:
		out.printf("Credentials: %s (the same on every start; parley sim rotate makes new ones)\n\n", set.credsPath)
	}
	switch {
	case len(overriding) == 0 && set.noStore == nil:
		cmd := "parley sim env"
		if len(ps) == 1 {
			cmd += " " + names[0]
		}
		for _, a := range args {
			cmd += " " + a
		}
		how := `run: eval "$(` + cmd + `)"`
		set.how.Store(&how)
		out.printf("In the bot's terminal run\n\n  eval \"$(%s)\"\n\nthen start your bot (go run ./examples/echobot, or your own). That sets:\n\n%s\n", cmd, script)
	case set.noStore != nil:
		how := "paste the lines parley sim printed at its start in the bot's terminal"
		set.how.Store(&how)
		out.printf("Paste these lines in the bot's terminal, then start your bot (go run ./examples/echobot,\nor your own):\n\n%s\n", script)
	default:
		how := "paste the lines parley sim printed at its start in the bot's terminal"
		set.how.Store(&how)
		out.printf("This terminal sets variables that parley sim env does not print (%s): paste\nthese lines in the bot's terminal, then start your bot (go run ./examples/echobot, or your own):\n\n%s\n",
			strings.Join(overriding, ", "), script)
	}
	for _, p := range ps {
		out.printf("%s\n", p.usage)
	}
	if len(ps) > 1 {
		out.printf("All emulators run. Lines go to %s; :use sendbee|velaflows|flowdock switches.\n", ps[0].name)
	}
	out.printf("Lines starting with / or ! go to the bot like any other; :help lists the sim's commands. Ctrl-C stops.\n")
	return nil
}

// A simCommand is a command of a sim's console, typed as ":name args".
type simCommand struct {
	name string
	args string // how its argument is written, for :help
	help string
	run  func(arg string)
}

// simCommandLine splits a typed line into the name and argument of a sim
// command: a line of ":" followed by a letter. ok is false for any other
// line, which is text for the bot: "/help", "!help", ":)", ": x".
func simCommandLine(line string) (name, arg string, ok bool) {
	if len(line) < 2 || line[0] != ':' || !('a' <= line[1] && line[1] <= 'z' || 'A' <= line[1] && line[1] <= 'Z') {
		return "", "", false
	}
	name, arg, _ = strings.Cut(line[1:], " ")
	return name, strings.TrimSpace(arg), true
}

// dispatch runs the sim command of line among commands (and :help, which
// lists them), or gives any other non-empty line to text. An unknown sim
// command prints the known ones and is sent nowhere.
func dispatch(out *lockedWriter, line string, commands []simCommand, text func(string)) {
	name, arg, ok := simCommandLine(line)
	switch {
	case !ok:
		if line != "" {
			text(line)
		}
		return
	case name == "help":
		out.printf("sim commands (any other line goes to the bot as text):\n")
		for _, c := range commands {
			out.printf("  %-28s %s\n", strings.TrimSpace(":"+c.name+" "+c.args), c.help)
		}
		out.printf("  %-28s %s\n", ":help", "list the sim's commands")
		return
	}
	for _, c := range commands {
		if c.name == name {
			c.run(arg)
			return
		}
	}
	known := make([]string, 0, len(commands)+1)
	for _, c := range commands {
		known = append(known, ":"+c.name)
	}
	known = append(known, ":help")
	out.printf("unknown sim command :%s, not sent (sim commands: %s)\n", name, strings.Join(known, ", "))
}

// botURL returns the http root of the bot's webhook server: PARLEY_ADDR
// (default fromenv.DefaultAddr) as a URL, with an empty host, 0.0.0.0 or
// :: (every interface) reached at 127.0.0.1. from says where the address
// came from, for a person.
func botURL(getenv func(string) string) (url, from string, err error) {
	addr := strings.TrimSpace(getenv("PARLEY_ADDR"))
	from = "PARLEY_ADDR=" + addr
	if addr == "" {
		addr, from = fromenv.DefaultAddr, "the bot's default address; PARLEY_ADDR changes it"
	}
	host, port, err := net.SplitHostPort(addr)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
		return "", "", fmt.Errorf("sim: PARLEY_ADDR=%s: want the bot's host:port, such as 127.0.0.1:8080", addr)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port), from, nil
}

// hostPort returns the host:port of an emulator's http URL.
func hostPort(url string) string {
	hp := strings.TrimPrefix(url, "http://")
	if i := strings.IndexByte(hp, '/'); i >= 0 {
		hp = hp[:i]
	}
	return hp
}

// addrArg returns the flag that gives parley sim env the address of url,
// or nothing when it is def.
func addrArg(flag, url, def string) []string {
	if hp := hostPort(url); hp != def {
		return []string{"--" + flag, hp}
	}
	return nil
}

// The sims' webhook redelivery: a failed event is tried simAttempts
// times, simRetry apart (doubling, and at most 2*simRetry when the bot
// asks for more with Retry-After), then given up: within a second, so
// that a person sees at once what became of a line.
const (
	simAttempts = 3
	simRetry    = 250 * time.Millisecond
)

func startSendbee(set *simSetup, out *lockedWriter) (*simPlatform, error) {
	webhook, from := strings.TrimSpace(set.getenv("SENDBEE_WEBHOOK_URL")), "SENDBEE_WEBHOOK_URL"
	if webhook == "" {
		root, f, err := botURL(set.getenv)
		if err != nil {
			return nil, err
		}
		webhook, from = root+"/webhooks/sendbee", f
	}
	rep := newDeliveryReporter(out)
	emu, err := sendbeetest.Start(set.addrs.sendbee,
		sendbeetest.WithCredentials(set.creds.Sendbee.APIKey, set.creds.Sendbee.APISecret),
		sendbeetest.WithWebhook(webhook),
		sendbeetest.WithRedelivery(simAttempts, simRetry),
		sendbeetest.WithRetryAfterCap(2*simRetry), // a bot starting up asks for 5s
		sendbeetest.WithDeliveryObserver(func(d sendbeetest.Delivery) {
			rep.observe(deliveryAttempt{
				key: fmt.Sprintf("%s/%d", d.EventID, d.Copy), event: d.Type, n: d.Attempt,
				cause: failureCause(d.OK(), string(d.Outcome), d.StatusCode), explain: set.hint(d.Explain()),
				final: d.Attempt >= simAttempts,
			})
		}))
	if err != nil {
		return nil, fmt.Errorf("sim sendbee: %w", err)
	}
	c := &customer{emu: emu, out: out, phone: "+385911234567"}
	return &simPlatform{
		name:       "sendbee",
		intro:      fmt.Sprintf("Sendbee emulator on %s\nWebhooks go to %s (%s)", emu.URL(), webhook, from),
		urls:       func(u *simURLs) { u.Sendbee = emu.URL() },
		envArgs:    addrArg("sendbee-addr", emu.URL(), simSendbeeAddr),
		overriding: set.overriding("SENDBEE_"),
		usage:      "Sendbee: type a line to write to the bot as a customer; :agent <text>, :bot on|off, :as <phone>, :later <duration>.",
		commands: []simCommand{
			{"agent", "<text>", "answer as a human agent from the dashboard (switches the chatbot off)", c.agent},
			{"bot", "on|off", "switch the conversation's chatbot from the dashboard", c.bot},
			{"as", "<phone>", "write as another customer", c.as},
			{"later", "<duration>", "move Sendbee's clock forward (25h closes WhatsApp's 24-hour window)", c.later},
			{"window", "", "show the customer's 24-hour window and subscription", c.window},
		},
		text:  c.say,
		watch: func(ctx context.Context) { printSent(ctx, emu, out) },
		close: emu.Close,
	}, nil
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

func (c *customer) as(phone string) {
	c.phone, c.conv = phone, ""
	if conv, ok := c.emu.ConversationByPhone(c.phone); ok {
		c.conv = conv.ID
	}
	c.out.printf("now writing as %s\n", c.phone)
}

func (c *customer) agent(text string) {
	if c.conv == "" {
		c.out.printf("no conversation yet: write as the customer first\n")
		return
	}
	if _, err := c.emu.AgentReply(c.conv, "", text); err != nil {
		c.out.printf("agent: %v\n", err)
		return
	}
	c.out.printf("agent → %s: %s   (the chatbot is off now)\n", c.phone, text)
}

func (c *customer) bot(state string) {
	if c.conv == "" {
		c.out.printf("no conversation yet: write as the customer first\n")
		return
	}
	if state != "on" && state != "off" {
		c.out.printf("usage: :bot on|off\n")
		return
	}
	if err := c.emu.SetChatbot(c.conv, state == "on"); err != nil {
		c.out.printf("bot: %v\n", err)
		return
	}
	c.out.printf("dashboard: chatbot %s for %s\n", state, c.phone)
}

// later moves the emulator's business clock forward, as if time passed:
// Sendbee then refuses the bot's free-form messages to a customer who
// last wrote more than 24 hours before.
func (c *customer) later(arg string) {
	d, err := time.ParseDuration(strings.TrimSpace(arg))
	if err != nil || d <= 0 {
		c.out.printf("usage: :later <duration>, such as :later 25h\n")
		return
	}
	c.emu.Advance(d)
	c.out.printf("Sendbee's clock is now %s\n", c.emu.Now().UTC().Format("2006-01-02 15:04 MST"))
	c.window("")
}

// window prints the customer's service window and subscription status.
func (c *customer) window(string) {
	conv, ok := c.emu.ConversationByPhone(c.phone)
	if !ok {
		c.out.printf("%s has not written yet: only templates can be sent\n", c.phone)
		return
	}
	now := c.emu.Now()
	switch at := conv.WindowClosesAt; {
	case at == nil:
		c.out.printf("%s never wrote: only templates can be sent", c.phone)
	case now.Before(*at):
		c.out.printf("%s's 24-hour window is open for %s", c.phone, roughly(at.Sub(now)))
	default:
		c.out.printf("%s's 24-hour window closed %s ago: only templates can be sent", c.phone, roughly(now.Sub(*at)))
	}
	c.out.printf(" (contact %s)\n", conv.Contact.Status)
}

// roughly returns d to the minute, as "24h0m".
func roughly(d time.Duration) string {
	return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
}

func (c *customer) say(line string) {
	if !strings.HasPrefix(c.phone, "+") {
		c.out.printf("the customer's phone must be international, like +385911234567\n")
		return
	}
	c.conv, _ = c.emu.CustomerMessage(c.phone, "Customer", line)
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

// A deliveryAttempt is one webhook delivery attempt of an emulator, as a
// deliveryReporter reads it.
type deliveryAttempt struct {
	key     string // the event copy the attempt delivers
	event   string // the event's type
	n       int    // the attempt's number, from 1
	cause   string // what failed ("" when it succeeded), to tell failures apart
	explain string // the line that says what failed and what to check
	final   bool   // the emulator makes no further attempt after a failed one
}

// failureCause returns what failed in an attempt with outcome (an
// emulator's Outcome) and status, in a few words: "connection refused",
// "rejected 401"; "" when nothing did.
func failureCause(ok bool, outcome string, status int) string {
	switch {
	case ok:
		return ""
	case outcome == "refused":
		return "connection refused"
	case outcome == "timeout":
		return "timed out"
	case outcome == "rejected" && status != 0:
		return fmt.Sprintf("rejected %d", status)
	case status != 0:
		return fmt.Sprintf("answered %d", status)
	}
	return "failed"
}

// A deliveryReporter prints an emulator's failed webhook deliveries on the
// sim's terminal, one line for each failure a person has to act on rather
// than one for each attempt, so that a bot that is down does not scroll
// the screen:
//
//   - the first failed attempt of an event (copy) prints its explanation,
//     unless the previous explanation printed gave the same cause and no
//     delivery succeeded since;
//   - a retry prints only when it fails differently (the bot came up but
//     rejects the signature, say);
//   - a failed last attempt prints that the emulator gave up on the
//     event, which the bot then never gets;
//   - a retry that succeeds after a printed failure says so.
//
// So while the bot is down, each lost event costs one line, and the first
// two. Its methods are safe for concurrent use.
type deliveryReporter struct {
	out     *lockedWriter
	mu      sync.Mutex
	failing map[string]string // event copy → cause of its last failure
	// explained is the cause of the last explanation printed, "" after a
	// delivery succeeded.
	explained string
}

func newDeliveryReporter(out *lockedWriter) *deliveryReporter {
	return &deliveryReporter{out: out, failing: map[string]string{}}
}

func (r *deliveryReporter) observe(a deliveryAttempt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	last, failed := r.failing[a.key]
	if a.cause == "" {
		r.explained = ""
		if failed {
			r.out.printf("delivered %s on attempt %d\n", a.event, a.n)
			delete(r.failing, a.key)
		}
		return
	}
	if failed && last != a.cause || !failed && a.cause != r.explained {
		r.out.printf("! %s\n", a.explain)
		r.explained = a.cause
	}
	r.failing[a.key] = a.cause
	if a.final {
		attempts := "attempts"
		if a.n == 1 {
			attempts = "attempt"
		}
		r.out.printf("! gave up delivering %s after %d %s (%s): the bot never gets it\n", a.event, a.n, attempts, a.cause)
		delete(r.failing, a.key)
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

// newSimEnvCmd returns parley sim env.
func newSimEnvCmd(s *streams) *cobra.Command {
	var addrs simAddrs
	c := &cobra.Command{
		Use:   "env [sendbee|velaflows|flowdock]...",
		Short: "print the lines that point a bot at the emulators",
		Long: `Prints the shell lines that point a bot at the emulators of parley sim:
the stored credentials and the emulators' addresses, as "export NAME=value".
Run it in the bot's terminal:

  eval "$(parley sim env)"

Without a platform it prints the lines of all three, for parley sim with
no platform. With platforms named, it prints their lines only, after
"unset" lines for the variables of the other platforms, so a shell set up
for another emulator keeps none of its variables. PARLEY_PUBLIC_URL, where VelaFlows
delivers, is the http address of PARLEY_ADDR (127.0.0.1:8080 when unset).
Give it the address flags parley sim was started with; parley sim prints
the whole command line to use.`,
		Example: `  eval "$(parley sim env)"
  eval "$(parley sim env sendbee)"
  parley sim env flowdock --flowdock-addr 127.0.0.1:9703`,
		ValidArgs: simPlatforms,
		Args: func(c *cobra.Command, args []string) error {
			for _, a := range args {
				if !slices.Contains(simPlatforms, a) {
					return usageErrorf(c, "unknown platform %q (known: %s)", a, strings.Join(simPlatforms, ", "))
				}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			script, err := simEnv(args, addrs, s.getenv)
			if err != nil {
				return err
			}
			_, err = io.WriteString(c.OutOrStdout(), script)
			return err
		},
	}
	addSimAddrFlags(c, &addrs, "")
	return c
}

// simEnv returns what parley sim env prints for platforms (every one when
// none is named), for emulators at addrs.
func simEnv(platforms []string, addrs simAddrs, getenv func(string) string) (string, error) {
	if len(platforms) == 0 {
		platforms = simPlatforms
	}
	var urls simURLs
	var err error
	root := func(flag, addr string) string {
		host, port, serr := net.SplitHostPort(addr)
		if n, perr := strconv.Atoi(port); (serr != nil || perr != nil || n < 1 || n > 65535) && err == nil {
			err = &usageError{cmd: "parley sim env", err: fmt.Errorf("--%s %s: want the host:port parley sim listens on (for a port 0, copy the command parley sim printed)", flag, addr)}
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		return "http://" + net.JoinHostPort(host, port)
	}
	urls.Sendbee = root("sendbee-addr", addrs.sendbee)
	urls.VelaFlows = root("velaflows-addr", addrs.velaflows) + simVelaflowsPrefix
	urls.Flowdock = root("flowdock-addr", addrs.flowdock)
	if addrs.flowdockStream != "" {
		urls.FlowdockStream = root("flowdock-stream-addr", addrs.flowdockStream)
	} else if host, port, serr := net.SplitHostPort(addrs.flowdock); serr == nil {
		n, _ := strconv.Atoi(port)
		urls.FlowdockStream = root("flowdock-addr", net.JoinHostPort(host, strconv.Itoa(n+1)))
	}
	urls.FlowdockFlows = simFlow
	if err != nil {
		return "", err
	}
	if slices.Contains(platforms, "velaflows") {
		if urls.Public, _, err = botURL(getenv); err != nil {
			return "", err
		}
	}
	dir, err := simConfigDir(getenv)
	if err != nil {
		return "", err
	}
	creds, err := loadSimCreds(dir)
	if err != nil {
		return "", err
	}
	return simEnvScript(creds, platforms, urls)
}

// newSimRotateCmd returns parley sim rotate.
func newSimRotateCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate",
		Short: "make new credentials for the emulators",
		Long: `Makes new credentials for the emulators of parley sim and stores them in
place of the old ones (a credentials file that cannot be read is replaced
too). A running sim keeps the old ones until it restarts; a bot needs the
new variables: run the eval line parley sim prints in the bot's terminal
(such as eval "$(parley sim env sendbee)") and restart the bot.`,
		Example: "  parley sim rotate",
		Args:    exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			dir, err := simConfigDir(s.getenv)
			if err != nil {
				return err
			}
			if _, err := rotateSimCreds(dir); err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.OutOrStdout(), "New sim credentials are in %s.\nRestart parley sim, run the eval line it prints in the bot's terminal, and restart the bot.\n", simCredsPath(dir))
			return err
		},
	}
}

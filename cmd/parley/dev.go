package main

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/admin"
	"github.com/parleybot/parley/bot"
)

const devLong = `parley dev runs the three emulators, as parley sim does, and a web page on
this machine to play every side of a conversation, watch what the bot does
with each message, break things and operate the bot:

  - Play: chat as a Sendbee (WhatsApp) customer, switch the conversation's
    chatbot and answer as an agent from the dashboard; write in the
    VelaFlows inbox as a customer and assign, unassign or close; post in the
    Flowdock flow as a team member, in threads and private chats.
  - Watch: a live timeline of the bot's event feed, each inbound message
    with what became of it; click one for the platform's raw payload and
    the bot.Message the adapter made of it.
  - Break: redeliver the last webhook, answer the next API request with 429
    or 503, reset its connection, stall the platform, drop the Flowdock
    streams.
  - Operate: dead letters and replay, conversations with handoff and
    resume, jobs with run now, the rules and an explain box.

The page talks to the bot's admin API (/admin/v1/ on PARLEY_ADMIN_ADDR,
127.0.0.1:8081 when it is not set, or --bot), adding
PARLEY_ADMIN_TOKEN when it is set. Run your bot in another terminal with the
lines the page shows (the same as parley sim env prints), or give
--rules FILE and parley dev runs that rules file itself, as parley run does,
with the emulators' variables.

The page answers this machine only: a request whose Host is not a
loopback address, or a change from a page of another site, is refused,
since its proxy acts on the bot with the admin token.

` + simCredsLong

const devExample = `  parley dev                                   # then open http://127.0.0.1:8700
  parley dev --rules examples/supportbot/rules.yaml
  parley dev --addr 127.0.0.1:9700 --bot http://127.0.0.1:9090`

// devBotAdminAddr is where the bot parley dev talks to serves its admin
// API when PARLEY_ADMIN_ADDR is not set: beside the webhooks of
// PARLEY_ADDR a bot serves it only with PARLEY_ADMIN_TOKEN.
const devBotAdminAddr = "127.0.0.1:8081"

// devAddr is the default address of parley dev's page.
const devAddr = "127.0.0.1:8700"

// devFlags are the flags of parley dev.
type devFlags struct {
	sim   simFlags
	addr  string // the page's
	rules string // the rules file to run in-process; "" for a bot elsewhere
	bot   string // the bot's admin API root URL; "" for the environment's
}

func newDevCmd(s *streams) *cobra.Command {
	var f devFlags
	c := &cobra.Command{
		Use:     "dev",
		Short:   "run the emulators and a web page to play, watch, break and operate a bot",
		Long:    devLong,
		Example: devExample,
		Args:    exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			return runDev(c.Context(), f, s)
		},
	}
	addSimFlags(c, &f.sim, "")
	c.Flags().StringVar(&f.addr, "addr", devAddr, "address of the page")
	c.Flags().StringVar(&f.rules, "rules", "", "run the rules `FILE` in this process, as parley run does")
	c.Flags().StringVar(&f.bot, "bot", "", "root `URL` of the bot's admin API (default: PARLEY_ADMIN_ADDR, else "+devBotAdminAddr+")")
	c.MarkFlagFilename("rules", "yaml", "yml")
	return c
}

// runDev runs parley dev until ctx is done (or, with --rules, the bot
// fails).
func runDev(ctx context.Context, f devFlags, s *streams) error {
	// A bot serves its admin API beside its webhooks only with a token:
	// the bot parley dev talks to serves it on an address of its own.
	getenv := func(name string) string {
		if name == "PARLEY_ADMIN_ADDR" && strings.TrimSpace(s.getenv(name)) == "" {
			return devBotAdminAddr
		}
		return s.getenv(name)
	}
	set, err := newSimSetup(f.sim, getenv)
	if err != nil {
		return err
	}
	botRoot, err := devBotURL(f.bot, getenv)
	if err != nil {
		return err
	}
	if !admin.IsLoopbackHost(f.addr) {
		// Its proxy acts on the bot with the admin token: a Host header
		// is no guard against a client that is not a browser.
		return fmt.Errorf("dev: --addr %s: the page listens on a loopback address only (127.0.0.1, localhost, [::1])", f.addr)
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("dev: the page's address: %w", err)
	}
	defer ln.Close()
	notes := newDevNotes()
	emu, err := startDevEmulators(set, notes)
	if err != nil {
		return err
	}
	defer emu.close()
	script, err := simEnvScript(set.creds, simPlatforms, emu.urls)
	if err != nil {
		return err
	}
	// The bot must listen where the emulators deliver and serve its admin
	// API where the page looks: the addresses of this environment.
	for _, name := range []string{"PARLEY_ADDR", "PARLEY_ADMIN_ADDR"} {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			script += "export " + name + "=" + shellQuote(v) + "\n"
		}
	}
	d := newDevServer(emu, notes, botRoot, strings.TrimSpace(getenv("PARLEY_ADMIN_TOKEN")), f.rules, script)
	srv := &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { _ = srv.Serve(ln) }) // ends with Shutdown below
	defer func() {
		d.stop()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			_ = srv.Close()
		}
	}()

	page := "http://" + ln.Addr().String()
	fmt.Fprintf(s.stdout, "parley dev: open %s\n", page)
	fmt.Fprintf(s.stdout, "Sendbee on %s, VelaFlows on %s, Flowdock on %s (stream %s)\n",
		emu.urls.Sendbee, emu.urls.VelaFlows, emu.urls.Flowdock, emu.urls.FlowdockStream)
	if f.rules == "" {
		fmt.Fprintf(s.stdout, "The page talks to the bot's admin API at %s. In the bot's terminal, set:\n\n%s\nthen start the bot (go run ./examples/supportbot, or your own). Ctrl-C stops.\n", botRoot, script)
		<-ctx.Done()
		return nil
	}
	fmt.Fprintf(s.stdout, "Running %s with the emulators' variables; its admin API is at %s. Ctrl-C stops.\n", f.rules, botRoot)
	return runRules(ctx, f.rules, strings.NewReader(""), s.stdout, s.stderr, devBotEnv(set.creds, emu.urls, getenv))
}

// devBotEnv returns the environment of a bot parley dev runs itself: the
// emulators' variables over getenv's.
func devBotEnv(c simCreds, u simURLs, getenv func(string) string) func(string) string {
	vars := map[string]string{}
	for _, p := range simPlatforms {
		vs, _ := simVars(c, p, u)
		for _, v := range vs {
			vars[v.name] = v.value
		}
	}
	return func(name string) string {
		if v, ok := vars[name]; ok {
			return v
		}
		return getenv(name)
	}
}

// devBotURL returns the root URL of the bot's admin API: flag when given,
// else the http address of PARLEY_ADMIN_ADDR, else PARLEY_ADDR's (see
// botURL).
func devBotURL(flag string, getenv func(string) string) (string, error) {
	if flag != "" {
		u, err := url.Parse(flag)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("dev: --bot %s: want the root URL of the bot's admin API, such as http://127.0.0.1:9090", flag)
		}
		return strings.TrimSuffix(flag, "/"), nil
	}
	if admin := strings.TrimSpace(getenv("PARLEY_ADMIN_ADDR")); admin != "" {
		root, _, err := botURL(func(name string) string {
			if name == "PARLEY_ADDR" {
				return admin
			}
			return ""
		})
		return root, err
	}
	root, _, err := botURL(getenv)
	return root, err
}

//go:embed devui
var devUI embed.FS

// devServer serves the page, its API and the proxies to the emulators'
// control endpoints and to the bot's admin API.
type devServer struct {
	emu     *devEmulators
	notes   *devNotes
	botRoot string
	rules   string
	script  string
	mux     *http.ServeMux
	// ctx ends with stop: every request in flight is cancelled, the
	// streams and the proxied requests included.
	ctx  context.Context
	stop context.CancelFunc
}

func newDevServer(emu *devEmulators, notes *devNotes, botRoot, token, rules, script string) *devServer {
	d := &devServer{emu: emu, notes: notes, botRoot: botRoot, rules: rules, script: script,
		mux: http.NewServeMux()}
	d.ctx, d.stop = context.WithCancel(context.Background())
	ui, _ := fs.Sub(devUI, "devui") // devui is embedded: cannot fail
	files := http.FileServerFS(ui)
	d.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		files.ServeHTTP(w, r)
	})
	d.mux.HandleFunc("GET /api/state", d.state)
	d.mux.HandleFunc("GET /api/notes", func(w http.ResponseWriter, r *http.Request) { notes.serveSSE(w, r) })
	d.mux.HandleFunc("POST /api/fault", d.fault)
	d.mux.HandleFunc("POST /api/redeliver", d.redeliver)
	d.mux.HandleFunc("GET /api/inspect", d.inspect)
	for name, root := range map[string]string{
		"sendbee": emu.sendbee.RootURL(), "velaflows": emu.velaflows.RootURL(), "flowdock": emu.flowdock.RootURL(),
	} {
		d.mux.Handle("/sim/"+name+"/_sim/", devProxy(root, "/sim/"+name, ""))
	}
	// Only the admin API: the token is for it, not for the bot's metrics
	// or webhooks.
	d.mux.Handle("/bot/admin/v1/", devProxy(botRoot, "/bot", token))
	return d
}

// ServeHTTP serves the page to this machine only: it refuses a Host that
// is not a loopback name or address (what DNS rebinding sends), and a
// POST or DELETE from another origin or with a body that is not JSON
// (what another site's page can make a browser send), since the page acts
// on the bot with its admin token.
func (d *devServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if status, why := admin.CheckLocal(r); status != 0 {
		http.Error(w, "parley dev: "+why, status)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(d.ctx, cancel)()
	r = r.WithContext(ctx)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if !strings.HasPrefix(r.URL.Path, "/sim/") && !strings.HasPrefix(r.URL.Path, "/bot/") {
		w.Header().Set("Cache-Control", "no-store")
	}
	d.mux.ServeHTTP(w, r)
}

// devProxy returns a reverse proxy to root for the paths under prefix,
// prefix removed, adding token as a bearer token when it is set. The
// request's Origin is dropped: the page's origin was checked, and the
// target answers parley dev. Streams (SSE) are flushed as they come.
func devProxy(root, prefix, token string) http.Handler {
	target, err := url.Parse(root)
	if err != nil {
		panic("parley dev: bad proxy target " + root) // our own URLs
	}
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			// From the escaped path, so that a %2F in a conversation ID
			// stays one.
			escaped := strings.TrimSuffix(target.EscapedPath(), "/") + strings.TrimPrefix(pr.In.URL.EscapedPath(), prefix)
			path, err := url.PathUnescape(escaped)
			if err != nil {
				path = escaped
			}
			pr.Out.URL.Path, pr.Out.URL.RawPath = path, escaped
			pr.Out.Header.Del("Origin")
			pr.Out.Header.Del("Cookie")
			if token != "" {
				pr.Out.Header.Set("Authorization", "Bearer "+token)
			}
		},
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			writeDevJSON(w, http.StatusBadGateway, map[string]string{
				"error": fmt.Sprintf("cannot reach %s: %v", root, err),
			})
		},
	}
	return p
}

func writeDevJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func devError(w http.ResponseWriter, status int, err error) {
	writeDevJSON(w, status, map[string]string{"error": err.Error()})
}

// devState is what the page learns at its start.
type devState struct {
	Rules   string `json:"rules,omitempty"` // the rules file run in-process
	Bot     string `json:"bot"`             // the bot's admin API root
	Exports string `json:"exports"`         // the lines for the bot's terminal
	// Where the emulators deliver and serve.
	SendbeeURL     string   `json:"sendbee_url"`
	SendbeeWebhook string   `json:"sendbee_webhook"`
	VelaflowsURL   string   `json:"velaflows_url"`
	VelaflowsHook  string   `json:"velaflows_webhook"`
	FlowdockURL    string   `json:"flowdock_url"`
	FlowdockStream string   `json:"flowdock_stream"`
	FlowdockFlow   string   `json:"flowdock_flow"`
	FlowdockUsers  []string `json:"flowdock_users"`
}

func (d *devServer) state(w http.ResponseWriter, _ *http.Request) {
	u := d.emu.urls
	writeDevJSON(w, http.StatusOK, devState{
		Rules: d.rules, Bot: d.botRoot, Exports: d.script,
		SendbeeURL: u.Sendbee, SendbeeWebhook: d.emu.sendbeeHook,
		VelaflowsURL: u.VelaFlows, VelaflowsHook: d.emu.velaflowsHook,
		FlowdockURL: u.Flowdock, FlowdockStream: u.FlowdockStream, FlowdockFlow: simFlow,
		FlowdockUsers: devFlowdockUsers,
	})
}

// readDevJSON decodes a small JSON request body into v.
func readDevJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		devError(w, http.StatusBadRequest, fmt.Errorf("invalid JSON body: %w", err))
		return false
	}
	return true
}

func (d *devServer) fault(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Platform string `json:"platform"`
		Fault    string `json:"fault"`
	}
	if !readDevJSON(w, r, &in) {
		return
	}
	what, err := d.emu.fault(in.Platform, in.Fault)
	if err != nil {
		devError(w, http.StatusBadRequest, err)
		return
	}
	writeDevJSON(w, http.StatusOK, map[string]string{"platform": in.Platform, "fault": in.Fault, "detail": what})
}

func (d *devServer) redeliver(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Platform string `json:"platform"`
		Copies   int    `json:"copies"`
	}
	if !readDevJSON(w, r, &in) {
		return
	}
	if in.Platform != "sendbee" && in.Platform != "velaflows" {
		devError(w, http.StatusBadRequest, fmt.Errorf("redelivery is for sendbee and velaflows, not %q", in.Platform))
		return
	}
	if in.Copies < 1 || in.Copies > 10 {
		devError(w, http.StatusBadRequest, errors.New("copies must be 1 to 10"))
		return
	}
	if err := d.emu.redeliver(r.Context(), in.Platform, in.Copies); err != nil {
		devError(w, http.StatusConflict, err)
		return
	}
	writeDevJSON(w, http.StatusOK, map[string]any{"platform": in.Platform, "copies": in.Copies})
}

// inspect answers the raw payload the platform delivered for an inbound
// message and the bot.Message its adapter makes of it.
func (d *devServer) inspect(w http.ResponseWriter, r *http.Request) {
	platform, id := r.URL.Query().Get("platform"), r.URL.Query().Get("message")
	raw, ok := d.emu.payload(platform, id)
	if !ok {
		devError(w, http.StatusNotFound, fmt.Errorf("no %s payload for message %q", platform, id))
		return
	}
	out := map[string]any{"platform": platform, "message_id": id, "raw": json.RawMessage(raw)}
	var m *bot.Message
	var err error
	if platform == "flowdock" {
		out["note"] = "the Flowdock adapter reads this from its stream; the page shows the event as the REST API lists it"
		m, err = flowdock.DecodeEvent(raw, "")
	} else {
		m, err = d.emu.decode(r.Context(), platform, raw)
	}
	if err != nil {
		out["error"] = err.Error()
	} else {
		out["message"] = m
	}
	writeDevJSON(w, http.StatusOK, out)
}

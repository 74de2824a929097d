package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
	"github.com/parleybot/parley/handlers/echo"
)

// A simRun is parley sim running in the test, as main runs it: typed
// lines go to stdin, and out holds what it printed.
type simRun struct {
	stdin  *io.PipeWriter
	out    *syncBuffer
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// startSim runs "parley args" with the variables kv (PARLEY_CONFIG_DIR
// among them, for the credentials) until the test ends or stop is
// called, and waits for its introduction.
func startSim(t *testing.T, args []string, kv ...string) *simRun {
	t.Helper()
	stdinR, stdinW := io.Pipe()
	ctx, cancel := context.WithCancel(t.Context())
	r := &simRun{stdin: stdinW, out: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- run(ctx, args, stdinR, r.out, r.out, env(kv...)) }()
	t.Cleanup(func() { r.stop(t) })
	require.Eventually(t, func() bool {
		select {
		case err := <-r.done:
			r.done <- err
			return true
		default:
		}
		return strings.Contains(r.out.String(), "Ctrl-C stops.\n")
	}, 5*time.Second, 5*time.Millisecond)
	require.Contains(t, r.out.String(), "Ctrl-C stops.\n", "the sim did not start")
	return r
}

// stop stops the sim and checks that it ended well.
func (r *simRun) stop(t *testing.T) {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			assert.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Error("the sim did not stop")
		}
		_ = r.stdin.Close()
	})
}

// typeLines writes lines to the sim's console.
func (r *simRun) typeLines(t *testing.T, lines ...string) {
	t.Helper()
	_, err := io.WriteString(r.stdin, strings.Join(lines, "\n")+"\n")
	require.NoError(t, err)
}

// waitFor waits until the sim printed each of want.
func (r *simRun) waitFor(t *testing.T, want ...string) {
	t.Helper()
	require.Eventually(t, func() bool {
		s := r.out.String()
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	}, 5*time.Second, 5*time.Millisecond, "want %q in:\n%s", want, r.out)
}

// export returns the value of the variable name in the sim's export lines.
func (r *simRun) export(t *testing.T, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^export ` + name + `=(\S+)$`).FindStringSubmatch(r.out.String())
	require.NotNil(t, m, "no export of %s in:\n%s", name, r.out)
	return m[1]
}

// A receiver plays a bot's webhook server: it records each request and
// answers the statuses given, the last one again and again (200 when
// none is).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []received
	statuses []int
	answer   func(r *http.Request, body []byte) int // overrides statuses when set
}

type received struct {
	path string
	body string
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	rc := &receiver{statuses: statuses}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.requests = append(rc.requests, received{r.URL.Path, string(body)})
		status := http.StatusOK
		switch {
		case rc.answer != nil:
			status = rc.answer(r, body)
		case len(rc.statuses) > 1:
			status, rc.statuses = rc.statuses[0], rc.statuses[1:]
		case len(rc.statuses) == 1:
			status = rc.statuses[0]
		}
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// got returns the requests received whose body contains s.
func (rc *receiver) got(s string) []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []received
	for _, r := range rc.requests {
		if strings.Contains(r.body, s) {
			out = append(out, r)
		}
	}
	return out
}

// refusedAddr returns a loopback address where nothing listens.
func refusedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

const anyAddr = "127.0.0.1:0"

func simArgs(platform string) []string {
	return []string{"sim", platform, "--" + platform + "-addr", anyAddr}
}

// A failed delivery is printed on the sim's terminal with what to check:
// the first failed attempt of an event, and the give-up; the next event
// that fails the same way costs one line.
func TestSim_failedDeliveries(t *testing.T) {
	refused := refusedAddr(t)
	tests := []struct {
		name     string
		platform string
		statuses []int    // the bot's answers; nil: nothing listens
		kv       []string // more variables of the sim's environment
		want     []string // {env} stands for this run's parley sim env arguments
		wantNot  string
		gaveUp   bool
	}{
		{"sendbee, bot not running", "sendbee", nil, nil, []string{
			"! delivery of message.received to http://" + refused + "/webhooks/sendbee failed: connection refused — is the bot running and listening on " + refused + " (PARLEY_ADDR)?\n",
		}, "", true},
		{"sendbee, wrong secret", "sendbee", []int{401}, nil, []string{
			"rejected 401 — the bot's SENDBEE_API_SECRET differs from the emulator's (or the clocks differ); run: eval \"$(parley sim env {env})\" and restart the bot\n",
		}, "", true},
		{"sendbee, wrong secret, the sim's own", "sendbee", []int{401}, []string{"SENDBEE_API_SECRET", "s1"}, []string{
			"rejected 401 — the bot's SENDBEE_API_SECRET differs from the emulator's (or the clocks differ); paste the lines parley sim printed at its start in the bot's terminal and restart the bot\n",
		}, "", true},
		{"sendbee, busy then up", "sendbee", []int{503, 200}, nil, []string{
			"! delivery of message.received to ",
			"answered 503 — the bot is busy or stopping; the emulator retries\n",
			"delivered message.received on attempt 2\n",
		}, "gave up", false},
		{"velaflows, bot not running", "velaflows", nil, nil, []string{
			"! delivery of conversation.message.received to http://" + refused + "/webhooks/velaflows failed: connection refused — is the bot running and listening on " + refused + " (PARLEY_ADDR)?\n",
		}, "", true},
		{"velaflows, wrong secret", "velaflows", []int{401}, nil, []string{
			"rejected 401 — the bot's webhook secret (VELAFLOWS_WEBHOOK_SECRET) differs from the subscription's; run: eval \"$(parley sim env {env})\" and restart the bot\n",
		}, "", true},
		{"velaflows, failing then up", "velaflows", []int{500, 200}, nil, []string{
			"answered 500 — the bot failed to handle it; see the bot's log\n",
			"delivered conversation.message.received on attempt 2\n",
		}, "gave up", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := "http://" + refused
			if tt.statuses != nil {
				root = newReceiver(t, tt.statuses...).URL
			}
			kv := append([]string{simConfigDirVar, t.TempDir()}, tt.kv...)
			if tt.platform == "sendbee" {
				kv = append(kv, "SENDBEE_WEBHOOK_URL", root+"/webhooks/sendbee")
			} else {
				kv = append(kv, "PARLEY_ADDR", hostPort(root))
			}
			sim := startSim(t, simArgs(tt.platform), kv...)
			envArgs := tt.platform + " --" + tt.platform + "-addr " + hostPort(sim.export(t, strings.ToUpper(tt.platform)+"_BASE_URL"))
			sim.typeLines(t, "hello")
			for _, w := range tt.want {
				sim.waitFor(t, strings.ReplaceAll(w, "{env}", envArgs))
			}
			if !tt.gaveUp {
				assert.NotContains(t, sim.out.String(), tt.wantNot)
				return
			}
			gaveUp := regexp.MustCompile(`(?m)^! gave up delivering \S*message.received after 3 attempts \(.+\): the bot never gets it$`)
			require.Eventually(t, func() bool { return len(gaveUp.FindAllString(sim.out.String(), -1)) == 1 },
				5*time.Second, 5*time.Millisecond, sim.out.String())
			sim.typeLines(t, "again")
			require.Eventually(t, func() bool { return len(gaveUp.FindAllString(sim.out.String(), -1)) == 2 },
				5*time.Second, 5*time.Millisecond, sim.out.String())
			assert.Equal(t, 1, strings.Count(sim.out.String(), "! delivery of"),
				"the retries, and the next event failing alike, are not explained again:\n%s", sim.out)
		})
	}
}

// The reporter's rules, attempt by attempt.
func TestDeliveryReporter(t *testing.T) {
	fail := func(key string, n int, cause string, final bool) deliveryAttempt {
		return deliveryAttempt{key: key, event: "message.received", n: n, cause: cause, explain: key + " " + cause, final: final}
	}
	ok := func(key string, n int) deliveryAttempt {
		return deliveryAttempt{key: key, event: "message.received", n: n}
	}
	tests := []struct {
		name     string
		attempts []deliveryAttempt
		want     string
	}{
		{"success", []deliveryAttempt{ok("e1", 1)}, ""},
		{"gave up", []deliveryAttempt{fail("e1", 1, "connection refused", false), fail("e1", 2, "connection refused", false), fail("e1", 3, "connection refused", true)},
			"! e1 connection refused\n! gave up delivering message.received after 3 attempts (connection refused): the bot never gets it\n"},
		{"a retry failing differently", []deliveryAttempt{fail("e1", 1, "connection refused", false), fail("e1", 2, "rejected 401", false), fail("e1", 3, "rejected 401", true)},
			"! e1 connection refused\n! e1 rejected 401\n! gave up delivering message.received after 3 attempts (rejected 401): the bot never gets it\n"},
		{"through on a retry", []deliveryAttempt{fail("e1", 1, "answered 503", false), ok("e1", 2)},
			"! e1 answered 503\ndelivered message.received on attempt 2\n"},
		{"the next event alike", []deliveryAttempt{fail("e1", 1, "connection refused", true), fail("e2", 1, "connection refused", true)},
			"! e1 connection refused\n! gave up delivering message.received after 1 attempt (connection refused): the bot never gets it\n" +
				"! gave up delivering message.received after 1 attempt (connection refused): the bot never gets it\n"},
		{"explained again after a success", []deliveryAttempt{fail("e1", 1, "connection refused", true), ok("e2", 1), fail("e3", 1, "connection refused", true)},
			"! e1 connection refused\n! gave up delivering message.received after 1 attempt (connection refused): the bot never gets it\n" +
				"! e3 connection refused\n! gave up delivering message.received after 1 attempt (connection refused): the bot never gets it\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			r := newDeliveryReporter(&lockedWriter{w: &b})
			for _, a := range tt.attempts {
				r.observe(a)
			}
			assert.Equal(t, tt.want, b.String())
			assert.Empty(t, r.failing, "nothing is left once an event is through or given up")
		})
	}
}

// Flowdock: a post that no bot stream sees is flagged, a refused stream
// is explained (once for a run of the same refusal), and the bot's
// streams coming and going are printed.
func TestSimFlowdock_streams(t *testing.T) {
	dir := t.TempDir()
	sim := startSim(t, append(simArgs("flowdock"), "--flowdock-stream-addr", anyAddr), simConfigDirVar, dir)
	creds, err := loadSimCreds(dir)
	require.NoError(t, err)
	streamURL := sim.export(t, "FLOWDOCK_STREAM_URL")
	assert.Equal(t, creds.Flowdock.APIToken, sim.export(t, "FLOWDOCK_API_TOKEN"))
	assert.Equal(t, creds.Flowdock.FlowToken, sim.export(t, "FLOWDOCK_FLOW_TOKEN"))

	sim.typeLines(t, "anyone?")
	sim.waitFor(t, "! no bot stream is connected, so the bot does not see this: is it running with FLOWDOCK_STREAM_URL="+streamURL+"?\n")

	// connect opens a stream of acme/main as token; it ends with ctx.
	connect := func(ctx context.Context, token string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, streamURL+"/flows?filter=acme/main", nil)
		require.NoError(t, err)
		req.SetBasicAuth(token, "")
		return http.DefaultClient.Do(req)
	}
	for range 2 {
		resp, err := connect(t.Context(), "not-the-token")
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
	refusal := "! stream connection refused 401 (bad credentials) — the bot's FLOWDOCK_API_TOKEN is not the emulator's; run: eval \"$(parley sim env flowdock" +
		" --flowdock-addr " + hostPort(sim.export(t, "FLOWDOCK_API_URL")) + " --flowdock-stream-addr " + hostPort(streamURL) + ")\" and restart the bot\n"
	sim.waitFor(t, refusal)

	ctx, cancel := context.WithCancel(t.Context())
	resp, err := connect(ctx, creds.Flowdock.APIToken)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	sim.waitFor(t, "stream: parley connected to acme/main; 1 stream open\n")
	assert.Equal(t, 1, strings.Count(sim.out.String(), refusal), "a run of the same refusal is printed once")

	// The bot sees "/help" as a message of the flow.
	seen := make(chan string, 1)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if strings.Contains(sc.Text(), `"content":"/help"`) {
				seen <- sc.Text()
				return
			}
		}
	}()
	sim.typeLines(t, "/help")
	select {
	case <-seen:
	case <-time.After(5 * time.Second):
		t.Fatal("the bot's stream did not get /help")
	}
	cancel()
	sim.waitFor(t, "no bot stream is open\n")
	assert.Equal(t, 1, strings.Count(sim.out.String(), "! no bot stream is connected"), "no warning while the bot's stream was open")
}

// What the bot presents in a flow with the flow token (an item's thread,
// as flowdock.PresentAction posts it) is printed with the thread's title,
// status and rows and the discussion's body, as text: entities decoded,
// tags dropped. So is a chat message the bot posts with the flow token.
func TestSimFlowdock_presented(t *testing.T) {
	sim := startSim(t, append(simArgs("flowdock"), "--flowdock-stream-addr", anyAddr), simConfigDirVar, t.TempDir())
	c, err := flowdock.NewClient(flowdock.Config{
		Token: sim.export(t, "FLOWDOCK_API_TOKEN"), FlowToken: sim.export(t, "FLOWDOCK_FLOW_TOKEN"),
		BaseURL: sim.export(t, "FLOWDOCK_API_URL"),
	})
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	present := flowdock.PresentAction(c, flowdock.FlowChat("acme", "main"))

	// A lead, as examples/leadbot presents it: a discussion.
	require.NoError(t, present.Run(t.Context(), flow.ActionCall{Key: "lead-1", Args: map[string]any{
		"title":  "Lead: Ivana Kova&#269;",
		"status": "new lead, 11-50",
		"color":  "green",
		"fields": []flowdock.Field{
			{Label: "Name", Value: "Ivana Kovač"},
			{Label: "Need", Value: "A booking system for our &lt;clinic&gt; &amp; spa"},
			{Label: "Site", Value: `<a href="https://clinic.example">clinic.example</a>`},
		},
		"activity": "qualified a lead",
		"comment":  "<p>A booking system for our &lt;clinic&gt; &amp; spa</p>",
		"thread":   "lead-ivana",
	}}))
	sim.waitFor(t, "bot → acme/main: [discussion] Lead: Ivana Kovač — new lead, 11-50 (green)\n"+
		"    Name: Ivana Kovač\n"+
		"    Need: A booking system for our <clinic> & spa\n"+
		"    Site: clinic.example\n"+
		"    Parley qualified a lead: A booking system for our <clinic> & spa\n")

	// The same thread again, as an activity with a description, a link
	// and a body of two paragraphs.
	require.NoError(t, present.Run(t.Context(), flow.ActionCall{Key: "lead-2", Args: map[string]any{
		"title":    "Lead: Ivana Kovač",
		"body":     "<p>From the <b>web</b> form.</p>\n<p>Second&nbsp;visit.</p>",
		"url":      "https://crm.example/leads/7",
		"status":   "contacted",
		"color":    "blue",
		"activity": "called back",
		"thread":   "lead-ivana",
	}}))
	sim.waitFor(t, "bot → acme/main: [activity] Lead: Ivana Kovač — contacted (blue)\n"+
		"    https://crm.example/leads/7\n"+
		"    From the web form.\n"+
		"    Second visit.\n"+
		"    Parley called back\n")

	// :reply answers in the thread of the item, the bot's latest post.
	sim.typeLines(t, ":reply on it")
	var item string
	require.Eventually(t, func() bool {
		ms, _, err := c.ListMessages(t.Context(), flowdock.FlowChat("acme", "main"), flowdock.ListOptions{})
		require.NoError(t, err)
		for _, m := range ms {
			if m.Event == flowdock.EventActivity {
				item = m.ThreadID
			}
			if m.Text() == "on it" {
				return assert.Equal(t, item, m.ThreadID, "the reply is in the item's thread")
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond, "no reply in:\n%s", sim.out)
	assert.NotContains(t, sim.out.String(), "the bot has posted no thread")

	// A chat message with the flow token.
	_, _, err = c.PostMessage(t.Context(), flowdock.IntegrationMessage{
		NewMessage: flowdock.NewMessage{Content: "a <new> lead", ExternalUserName: "Leads"},
	})
	require.NoError(t, err)
	sim.waitFor(t, "bot → acme/main: a <new> lead   (with the flow token, as Leads)\n")
	assert.NotContains(t, sim.out.String(), "&lt;")
	assert.NotContains(t, sim.out.String(), "<p>")
}

// The sims' own commands start with ":"; /help, !help and ":)" reach the
// bot as text, and an unknown ":word" is not sent.
func TestSim_commandPrefix(t *testing.T) {
	tests := []struct {
		platform string
		as       string // a :as argument
		asProof  string // in what the bot gets from that sender
	}{
		{"sendbee", "+385910000001", "385910000001"},
		{"velaflows", "ana@example.com", "ana@example.com"},
		{"flowdock", "mike", `"user":"1310"`},
	}
	for _, tt := range tests {
		t.Run(tt.platform, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			rc := newReceiver(t)
			sim := startSim(t, simArgs(tt.platform), simConfigDirVar, dir,
				"SENDBEE_WEBHOOK_URL", rc.URL+"/webhooks/sendbee", "PARLEY_PUBLIC_URL", rc.URL)
			// got returns what the bot got that holds text.
			got := func(text string) []string {
				var bodies []string
				for _, r := range rc.got(text) {
					bodies = append(bodies, r.body)
				}
				return bodies
			}
			if tt.platform == "flowdock" {
				creds, err := loadSimCreds(dir)
				require.NoError(t, err)
				api := sim.export(t, "FLOWDOCK_API_URL")
				got = func(text string) []string {
					req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, api+"/flows/acme/main/messages?event=message", nil)
					require.NoError(t, err)
					req.SetBasicAuth(creds.Flowdock.APIToken, "")
					resp, err := http.DefaultClient.Do(req)
					require.NoError(t, err)
					defer resp.Body.Close()
					var msgs []json.RawMessage
					require.NoError(t, json.NewDecoder(resp.Body).Decode(&msgs))
					var out []string
					for _, m := range msgs {
						if strings.Contains(string(m), text) {
							out = append(out, string(m))
						}
					}
					return out
				}
			}

			sim.typeLines(t, ":as "+tt.as, "/help", "!help", ":)", ":bogus x", ":help", "after")
			sim.waitFor(t, "unknown sim command :bogus, not sent (sim commands: ", "sim commands (any other line goes to the bot as text):\n")
			require.Eventually(t, func() bool { return len(got(`after`)) > 0 }, 5*time.Second, 10*time.Millisecond, sim.out.String())
			for _, text := range []string{`"/help"`, `"!help"`, `":)"`} {
				bodies := got(text)
				if assert.Len(t, bodies, 1, "%s reaches the bot as text", text) {
					assert.Contains(t, bodies[0], tt.asProof, ":as is a sim command")
				}
			}
			assert.Empty(t, got(":bogus"), "an unknown sim command is not sent")
			assert.Empty(t, got(":as"), ":as is not sent")
			assert.NotContains(t, sim.out.String(), "unknown command /help")
		})
	}
}

// parley sim keeps its credentials across starts, in the configuration
// directory; --rotate-credentials and parley sim rotate make new ones.
func TestSim_stableCredentials(t *testing.T) {
	dir := t.TempDir()
	secret := func(extra ...string) string {
		sim := startSim(t, append(simArgs("sendbee"), extra...), simConfigDirVar, dir)
		defer sim.stop(t)
		assert.Contains(t, sim.out.String(), "Credentials: "+simCredsPath(dir))
		return sim.export(t, "SENDBEE_API_SECRET")
	}
	first := secret()
	assert.Equal(t, first, secret(), "the same credentials on the next start")
	rotated := secret("--rotate-credentials")
	assert.NotEqual(t, first, rotated)
	assert.Equal(t, rotated, secret(), "rotated credentials are kept")

	var out, errOut strings.Builder
	require.NoError(t, run(t.Context(), []string{"sim", "rotate"}, strings.NewReader(""), &out, &errOut, env(simConfigDirVar, dir)))
	assert.Contains(t, out.String(), "New sim credentials are in "+simCredsPath(dir)+".\n")
	again := secret()
	assert.NotEqual(t, rotated, again)

	out.Reset()
	require.NoError(t, run(t.Context(), []string{"sim", "env", "sendbee"}, strings.NewReader(""), &out, &errOut, env(simConfigDirVar, dir)))
	assert.Contains(t, out.String(), "export SENDBEE_API_SECRET="+again+"\n", "parley sim env prints what the sim uses")

	// A bad file is reported with the way out, which works.
	require.NoError(t, os.WriteFile(simCredsPath(dir), []byte("{"), 0o600))
	_, err := newSimSetup(simFlags{}, env(simConfigDirVar, dir))
	require.ErrorContains(t, err, `make new credentials with "parley sim rotate"`)
	require.NoError(t, run(t.Context(), []string{"sim", "rotate"}, strings.NewReader(""), &out, &errOut, env(simConfigDirVar, dir)))
	secret()
}

// The VelaFlows sim presets the bot's subscription with the stored
// secret: a bot that verifies with it gets the deliveries of every start.
func TestSimVelaflows_subscriptionAcrossStarts(t *testing.T) {
	dir := t.TempDir()
	creds, err := loadSimCreds(dir)
	require.NoError(t, err)
	rc := newReceiver(t)
	rc.answer = func(r *http.Request, body []byte) int {
		if r.URL.Path != "/webhooks/velaflows" || r.Header.Get("X-Webhook-Signature") != velaflowstest.Sign(creds.VelaFlows.WebhookSecret, body) {
			return http.StatusUnauthorized
		}
		return http.StatusOK
	}
	for i, text := range []string{"first start", "second start"} {
		sim := startSim(t, simArgs("velaflows"), simConfigDirVar, dir, "PARLEY_ADDR", strings.TrimPrefix(rc.URL, "http://"))
		assert.Equal(t, creds.VelaFlows.WebhookSecret, sim.export(t, "VELAFLOWS_WEBHOOK_SECRET"))
		assert.Equal(t, rc.URL, sim.export(t, "PARLEY_PUBLIC_URL"))
		sim.typeLines(t, text)
		require.Eventually(t, func() bool { return len(rc.got(text)) == 1 }, 5*time.Second, 10*time.Millisecond, "start %d:\n%s", i+1, sim.out)
		sim.stop(t)
		assert.NotContains(t, sim.out.String(), "\n! ", "no failed delivery on start %d", i+1)
	}
}

func TestSimEnv(t *testing.T) {
	dir := t.TempDir()
	creds, err := loadSimCreds(dir)
	require.NoError(t, err)
	tests := []struct {
		name    string
		args    []string
		kv      []string
		want    []string
		wantNot []string
		err     string
	}{
		{"every platform", nil, nil, []string{
			"export SENDBEE_API_KEY=" + creds.Sendbee.APIKey + "\n",
			"export SENDBEE_BASE_URL=http://127.0.0.1:8701\n",
			"export VELAFLOWS_WEBHOOK_SECRET=" + creds.VelaFlows.WebhookSecret + "\n",
			"export VELAFLOWS_BASE_URL=http://127.0.0.1:8702/api/v1\n",
			"export PARLEY_PUBLIC_URL=http://127.0.0.1:8080\n",
			"export FLOWDOCK_API_URL=http://127.0.0.1:8703\n",
			"export FLOWDOCK_STREAM_URL=http://127.0.0.1:8704\n",
			"export FLOWDOCK_FLOWS=acme/main\n",
		}, []string{"unset"}, ""},
		{"one platform unsets the others", []string{"sendbee"}, nil, []string{
			"unset VELAFLOWS_API_TOKEN VELAFLOWS_WORKSPACE_ID VELAFLOWS_WEBHOOK_SECRET VELAFLOWS_BASE_URL PARLEY_PUBLIC_URL\n" +
				"unset FLOWDOCK_API_TOKEN FLOWDOCK_FLOW_TOKEN FLOWDOCK_API_URL FLOWDOCK_STREAM_URL FLOWDOCK_FLOWS\n" +
				"export SENDBEE_API_KEY=" + creds.Sendbee.APIKey + "\n",
		}, []string{"export VELAFLOWS", "export FLOWDOCK"}, ""},
		{"two platforms", []string{"flowdock", "velaflows"}, nil, []string{
			"unset SENDBEE_API_KEY SENDBEE_API_SECRET SENDBEE_BASE_URL\nexport FLOWDOCK_API_TOKEN=",
		}, []string{"unset VELAFLOWS", "unset FLOWDOCK", "export SENDBEE"}, ""},
		{"addresses", []string{"--sendbee-addr", "0.0.0.0:9701", "--flowdock-addr", "localhost:9703"}, nil, []string{
			"export SENDBEE_BASE_URL=http://127.0.0.1:9701\n",
			"export FLOWDOCK_API_URL=http://localhost:9703\n",
			"export FLOWDOCK_STREAM_URL=http://localhost:9704\n",
		}, nil, ""},
		{"stream address", []string{"flowdock", "--flowdock-stream-addr", "127.0.0.1:9999"}, nil, []string{
			"export FLOWDOCK_STREAM_URL=http://127.0.0.1:9999\n",
		}, nil, ""},
		{"PARLEY_ADDR", []string{"velaflows"}, []string{"PARLEY_ADDR", ":9090"}, []string{
			"export PARLEY_PUBLIC_URL=http://127.0.0.1:9090\n",
		}, nil, ""},
		{"a stale PARLEY_PUBLIC_URL is replaced", []string{"velaflows"}, []string{"PARLEY_PUBLIC_URL", "http://127.0.0.1:1"}, []string{
			"export PARLEY_PUBLIC_URL=http://127.0.0.1:8080\n",
		}, nil, ""},
		{"credential variables are not read", []string{"sendbee"}, []string{"SENDBEE_API_SECRET", "old"}, []string{
			"export SENDBEE_API_SECRET=" + creds.Sendbee.APISecret + "\n",
		}, nil, ""},
		{"unknown platform", []string{"myspace"}, nil, nil, nil,
			"parley: unknown platform \"myspace\" (known: sendbee, velaflows, flowdock)\nRun 'parley sim env --help' for usage."},
		{"port 0", []string{"--sendbee-addr", "127.0.0.1:0"}, nil, nil, nil,
			"parley: --sendbee-addr 127.0.0.1:0: want the host:port parley sim listens on (for a port 0, copy the command parley sim printed)\nRun 'parley sim env --help' for usage."},
		{"bad PARLEY_ADDR", []string{"velaflows"}, []string{"PARLEY_ADDR", "8080"}, nil, nil,
			"parley: sim: PARLEY_ADDR=8080: want the bot's host:port, such as 127.0.0.1:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut strings.Builder
			err := run(t.Context(), append([]string{"sim", "env"}, tt.args...), strings.NewReader(""), &out, &errOut,
				env(append([]string{simConfigDirVar, dir}, tt.kv...)...))
			if tt.err != "" {
				_, msg := exitStatus(err, nil)
				assert.Equal(t, tt.err, msg)
				assert.Empty(t, out.String())
				return
			}
			require.NoError(t, err)
			for _, w := range tt.want {
				assert.Contains(t, out.String(), w)
			}
			for _, w := range tt.wantNot {
				assert.NotContains(t, out.String(), w)
			}
		})
	}
}

// eval "$(parley sim env sendbee)" in a shell that was set up for the
// other emulators leaves only Sendbee's variables.
func TestSimEnv_evalInShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	creds, err := loadSimCreds(dir)
	require.NoError(t, err)
	var script strings.Builder
	require.NoError(t, run(t.Context(), []string{"sim", "env", "sendbee"}, strings.NewReader(""), &script, io.Discard, env(simConfigDirVar, dir)))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cmd := exec.CommandContext(ctx, sh, "-c", `eval "$1"; printf '%s|%s|%s|%s|%s' "$SENDBEE_API_SECRET" "$SENDBEE_BASE_URL" "${VELAFLOWS_BASE_URL-unset}" "${PARLEY_PUBLIC_URL-unset}" "${FLOWDOCK_API_TOKEN-unset}"`, "sh", script.String())
	cmd.Env = []string{"VELAFLOWS_BASE_URL=http://127.0.0.1:8702/api/v1", "PARLEY_PUBLIC_URL=http://127.0.0.1:8080", "FLOWDOCK_API_TOKEN=old"}
	got, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Logf("stderr: %s", ee.Stderr)
	}
	require.NoError(t, err)
	assert.Equal(t, creds.Sendbee.APISecret+"|http://127.0.0.1:8701|unset|unset|unset", string(got))
}

func TestBotURL(t *testing.T) {
	tests := []struct {
		addr, want, err string
	}{
		{"", "http://127.0.0.1:8080", ""},
		{"127.0.0.1:9090", "http://127.0.0.1:9090", ""},
		{":9090", "http://127.0.0.1:9090", ""},
		{"0.0.0.0:9090", "http://127.0.0.1:9090", ""},
		{"[::]:9090", "http://127.0.0.1:9090", ""},
		{"[::1]:9090", "http://[::1]:9090", ""},
		{"localhost:81", "http://localhost:81", ""},
		{" bot.lan:8080 ", "http://bot.lan:8080", ""},
		{"8080", "", "sim: PARLEY_ADDR=8080: want the bot's host:port, such as 127.0.0.1:8080"},
		{"host:", "", "sim: PARLEY_ADDR=host:: want the bot's host:port, such as 127.0.0.1:8080"},
		{"host:0", "", "sim: PARLEY_ADDR=host:0: want the bot's host:port, such as 127.0.0.1:8080"},
		{"host:http", "", "sim: PARLEY_ADDR=host:http: want the bot's host:port, such as 127.0.0.1:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			got, _, err := botURL(env("PARLEY_ADDR", tt.addr))
			if tt.err != "" {
				assert.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// Without SENDBEE_WEBHOOK_URL or PARLEY_PUBLIC_URL, the sims deliver to
// the bot's PARLEY_ADDR, and say so.
func TestSim_parleyAddr(t *testing.T) {
	rc := newReceiver(t)
	port := rc.URL[strings.LastIndexByte(rc.URL, ':')+1:]
	for _, addr := range []string{"127.0.0.1:" + port, ":" + port, "0.0.0.0:" + port} {
		for _, platform := range []string{"sendbee", "velaflows"} {
			t.Run(platform+" "+addr, func(t *testing.T) {
				sim := startSim(t, simArgs(platform), simConfigDirVar, t.TempDir(), "PARLEY_ADDR", addr)
				target := "http://127.0.0.1:" + port + "/webhooks/" + platform
				if platform == "sendbee" {
					assert.Contains(t, sim.out.String(), "Webhooks go to "+target+" (PARLEY_ADDR="+addr+")\n")
				} else {
					assert.Contains(t, sim.out.String(), "Its webhook subscription delivers to "+target+" (PARLEY_ADDR="+addr+")")
					assert.Equal(t, "http://127.0.0.1:"+port, sim.export(t, "PARLEY_PUBLIC_URL"))
				}
				text := "to " + platform + " at " + addr
				sim.typeLines(t, text)
				require.Eventually(t, func() bool { return len(rc.got(text)) == 1 }, 5*time.Second, 10*time.Millisecond, sim.out.String())
				assert.Equal(t, "/webhooks/"+platform, rc.got(text)[0].path)
			})
		}
	}
}

func TestSimCommandLine(t *testing.T) {
	tests := []struct {
		line, name, arg string
		ok              bool
	}{
		{":as +385911234567", "as", "+385911234567", true},
		{":help", "help", "", true},
		{":bot  off ", "bot", "off", true},
		{":Use flowdock", "Use", "flowdock", true},
		{"/help", "", "", false},
		{"!help", "", "", false},
		{":)", "", "", false},
		{":", "", "", false},
		{": as", "", "", false},
		{":1", "", "", false},
		{"hello :as", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			t.Parallel()
			name, arg, ok := simCommandLine(tt.line)
			assert.Equal(t, []any{tt.name, tt.arg, tt.ok}, []any{name, arg, ok})
		})
	}
}

// HTML posted with the flow token is shown as lines of text.
func TestHTMLText(t *testing.T) {
	tests := []struct {
		html string
		want []string
	}{
		{"", nil},
		{"plain", []string{"plain"}},
		{"<p>one</p>\n<p>two &amp; <b>three</b></p>", []string{"one", "two & three"}},
		{"a<br>b<BR/>c", []string{"a", "b", "c"}},
		{"&lt;p&gt; stays text", []string{"<p> stays text"}},
		{"1 < 2 and 3 <4", []string{"1 < 2 and 3 <4"}},
		{"<b unterminated", []string{"<b unterminated"}},
		{`<a href="https://x.example/?a>b">link</a>`, []string{"link"}},
		{"x<!-- a <p> comment -->y", []string{"xy"}},
		{"  spaced\t  out&nbsp;here  ", []string{"spaced out here"}},
		{"<ul><li>one</li><li>two</li></ul>", []string{"one", "two"}},
		{"<p> </p>", nil},
	}
	for _, tt := range tests {
		t.Run(tt.html, func(t *testing.T) {
			assert.Equal(t, tt.want, htmlText(tt.html))
		})
	}
}

// The local walk-through: the simulator plays Sendbee and the customer, a
// bot on the Sendbee adapter answers, and the simulator prints the answers.
func TestSimSendbee_withABot(t *testing.T) {
	// The bot's side: a webhook receiver whose adapter is set once the
	// simulator has printed its address.
	var (
		mu sync.Mutex
		sb *sendbee.Adapter
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		a := sb
		mu.Unlock()
		if a == nil {
			w.WriteHeader(503)
			return
		}
		a.ServeHTTP(w, r)
	}))
	defer rcv.Close()

	sim := startSim(t, simArgs("sendbee"), simConfigDirVar, t.TempDir(),
		"SENDBEE_API_KEY", "k1", "SENDBEE_API_SECRET", "s1", "SENDBEE_WEBHOOK_URL", rcv.URL+"/webhooks/sendbee")
	base := sim.export(t, "SENDBEE_BASE_URL")
	assert.Equal(t, "k1", sim.export(t, "SENDBEE_API_KEY"))
	assert.Equal(t, "s1", sim.export(t, "SENDBEE_API_SECRET"))
	assert.Contains(t, sim.out.String(), "This terminal sets variables that parley sim env does not print (SENDBEE_API_KEY, SENDBEE_API_SECRET)")

	a, err := sendbee.New(sendbee.AdapterConfig{Config: sendbee.Config{APIKey: "k1", APISecret: "s1", BaseURL: base}})
	require.NoError(t, err)
	b, err := bot.New(bot.WithAdapters(a))
	require.NoError(t, err)
	b.NotFound(echo.Handler{Prefix: "echo: "})
	mu.Lock()
	sb = a
	mu.Unlock()
	botCtx, stopBot := context.WithCancel(context.Background())
	botDone := make(chan error, 1)
	go func() { botDone <- b.Run(botCtx) }()

	sim.typeLines(t, "hello")
	sim.waitFor(t, "bot → +385911234567: echo: hello   (prevent_bot_off=true; chatbot on)")

	sim.typeLines(t, ":bogus", ":bot maybe", "/help")
	sim.waitFor(t, "unknown sim command :bogus", "usage: :bot on|off", "bot → +385911234567: echo: /help")

	// A day later the window is closed: Sendbee refuses the bot's free
	// text, and the bot does not send it.
	sim.typeLines(t, ":window", ":later soon", ":later 25h")
	sim.waitFor(t, "+385911234567's 24-hour window is open for 24h0m (contact subscribed)",
		"usage: :later <duration>, such as :later 25h",
		"+385911234567's 24-hour window closed 1h0m ago: only templates can be sent (contact subscribed)")
	sim.typeLines(t, "STOP")
	sim.waitFor(t, "bot → +385911234567: "+bot.DefaultOptOutReply)
	sim.typeLines(t, ":window")
	sim.waitFor(t, "(contact unsubscribed)")

	stopBot()
	require.NoError(t, <-botDone)
	sim.stop(t)
}

// parley sim with no platform runs the three emulators; :use switches the
// console between them.
func TestSimAll(t *testing.T) {
	sim := startSim(t, []string{"sim", "-sendbee-addr", anyAddr, "-velaflows-addr", anyAddr, "-flowdock-addr", anyAddr},
		simConfigDirVar, t.TempDir())
	out := sim.out.String()
	assert.Contains(t, out, "All emulators run")
	assert.Regexp(t, `eval "\$\(parley sim env --sendbee-addr 127\.0\.0\.1:\d+ --velaflows-addr 127\.0\.0\.1:\d+ --flowdock-addr 127\.0\.0\.1:\d+ --flowdock-stream-addr 127\.0\.0\.1:\d+\)"`, out)
	assert.NotContains(t, out, "unset")
	for _, v := range []string{"SENDBEE_BASE_URL", "VELAFLOWS_BASE_URL", "FLOWDOCK_STREAM_URL"} {
		assert.Contains(t, out, "export "+v+"=")
	}
	sim.typeLines(t, ":use flowdock", ":use myspace", ":help")
	sim.waitFor(t, "lines now go to flowdock", `unknown platform "myspace"`, "  :use sendbee|velaflows|flowdock", "  :drop ")
}

// When the streaming API cannot listen, the sim's error says so in one
// line, with the flag that moves it.
func TestSimFlowdock_streamPortTaken(t *testing.T) {
	var restAddr, streamAddr string
	for range 20 { // a free port whose next one can be taken
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := ln.Addr().(*net.TCPAddr).Port
		next, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+1)))
		ln.Close()
		if err != nil {
			continue
		}
		t.Cleanup(func() { next.Close() })
		restAddr, streamAddr = ln.Addr().String(), next.Addr().String()
		break
	}
	require.NotEmpty(t, restAddr, "no free port with a free next port")

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"the port after --flowdock-addr's", []string{"--flowdock-addr", restAddr},
			` \(the streaming API, on the port after --flowdock-addr's; choose its address with --flowdock-stream-addr\)$`},
		{"--flowdock-stream-addr", []string{"--flowdock-addr", "127.0.0.1:0", "--flowdock-stream-addr", streamAddr},
			` \(the streaming API, on --flowdock-stream-addr\)$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut strings.Builder
			err := run(t.Context(), append([]string{"sim", "flowdock"}, tt.args...), strings.NewReader(""), &out, &errOut,
				env(simConfigDirVar, t.TempDir()))
			_, msg := exitStatus(err, nil)
			assert.Regexp(t, `^parley: sim flowdock: listen tcp `+regexp.QuoteMeta(streamAddr)+`: [^\n]+`+tt.want, msg)
			assert.NotContains(t, msg, "WithStreamAddr")
			assert.Empty(t, out.String())
		})
	}
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// devRules is the rules file parley dev runs in the tests.
const devRules = "testdata/dev/rules.yaml"

// devHarness is a parley dev running the test rules in-process, on ports
// of its own.
type devHarness struct {
	page   string // the page's root URL
	bot    string // the root URL of the bot's admin API (PARLEY_ADMIN_ADDR)
	out    *syncBuffer
	client *http.Client
}

// freeAddrs returns n loopback addresses free at the time of the call.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	for _, ln := range lns {
		ln.Close()
	}
	return addrs
}

// startDev runs parley dev --rules devRules until the test ends, with the
// variables kv in its environment beside its own, and waits for the page
// and the bot's admin API through it.
func startDev(t *testing.T, kv ...string) *devHarness {
	t.Helper()
	return startDevRules(t, devRules, kv...)
}

// startDevRules is startDev with the rules file given, or none: then it
// waits for the page alone.
func startDevRules(t *testing.T, rules string, kv ...string) *devHarness {
	t.Helper()
	a := freeAddrs(t, 7)
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	getenv := env(append([]string{"PARLEY_CONFIG_DIR", t.TempDir(), "PARLEY_ADDR", a[0], "PARLEY_ADMIN_ADDR", a[6],
		"PARLEY_LOG_LEVEL", "error"}, kv...)...)
	go func() {
		args := []string{"dev", "--addr", a[1], "--sendbee-addr", a[2],
			"--velaflows-addr", a[3], "--flowdock-addr", a[4], "--flowdock-stream-addr", a[5]}
		if rules != "" {
			args = append(args, "--rules", rules)
		}
		done <- run(ctx, args, strings.NewReader(""), out, out, getenv)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(15 * time.Second):
			t.Error("parley dev did not stop within 15s")
		}
	})
	h := &devHarness{page: "http://" + a[1], bot: "http://" + a[6], out: out, client: &http.Client{Timeout: 10 * time.Second}}
	path := "/bot/admin/v1/stats" // the bot, through the page
	if rules == "" {
		path = "/api/state"
	}
	require.Eventually(t, func() bool {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("parley dev ended: %v\n%s", err, out.String())
		default:
		}
		resp, err := h.client.Get(h.page + path)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond, "%s through parley dev; output:\n%s", path, out)
	return h
}

// do sends a request to the page's server and decodes the JSON answer
// into out (when not nil); it returns the status.
func (h *devHarness) do(t *testing.T, method, path, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, h.page+path, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil && resp.StatusCode/100 == 2 {
		require.NoError(t, json.Unmarshal(data, out), "%s", data)
	}
	return resp.StatusCode
}

// feed follows the bot's event feed through the page's proxy until the
// test ends; events come on the channel.
func (h *devHarness) feed(t *testing.T) <-chan map[string]any {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.page+"/bot/admin/v1/events", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	ch := make(chan map[string]any, 256)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var e map[string]any
			if json.Unmarshal([]byte(data), &e) == nil {
				ch <- e
			}
		}
	}()
	t.Cleanup(func() { cancel(); resp.Body.Close(); <-stopped })
	return ch
}

// waitEvents collects the feed's events of message id until one of type
// last arrives.
func waitEvents(t *testing.T, ch <-chan map[string]any, id, last string) []string {
	t.Helper()
	var types []string
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-ch:
			require.True(t, ok, "the feed ended; saw %v", types)
			if e["message"] != id {
				continue
			}
			types = append(types, e["type"].(string))
			if e["type"] == last {
				return types
			}
		case <-timeout:
			t.Fatalf("no %s event for %s within 10s; saw %v", last, id, types)
		}
	}
}

// A customer's message sent through the page's Sendbee proxy reaches the
// bot run from the rules file; its answer is in the emulator, the feed
// shows each step, and inspect shows the payload and the bot.Message.
func TestDev_chatEndToEnd(t *testing.T) {
	h := startDev(t)
	feed := h.feed(t)
	var sent struct {
		MessageID string `json:"message_id"`
	}
	require.Equal(t, http.StatusOK, h.do(t, "POST", "/sim/sendbee/_sim/customer", `{"phone":"+385919999001","name":"Iva","text":"hello"}`, &sent))
	types := waitEvents(t, feed, sent.MessageID, "sent")
	assert.Equal(t, []string{"received", "owner"}, types[:2])
	assert.Contains(t, types, "routed")
	assert.Contains(t, types, "queued")

	var convs []struct {
		Contact  struct{ Phone string }
		Messages []struct{ Direction, Body string }
	}
	require.Equal(t, http.StatusOK, h.do(t, "GET", "/sim/sendbee/_sim/conversations", "", &convs))
	var bodies []string
	for _, c := range convs {
		if c.Contact.Phone == "+385919999001" {
			for _, m := range c.Messages {
				bodies = append(bodies, m.Direction+": "+m.Body)
			}
		}
	}
	assert.Equal(t, []string{"inbound: hello", "outbound: Hello! Ask about an order or a refund."}, bodies)

	var ins struct {
		Raw     map[string]any `json:"raw"`
		Message struct{ ID, Platform, Text string }
	}
	require.Equal(t, http.StatusOK, h.do(t, "GET", "/api/inspect?platform=sendbee&message="+sent.MessageID, "", &ins))
	assert.Equal(t, "message.received", ins.Raw["type"])
	assert.Equal(t, sent.MessageID, ins.Message.ID)
	assert.Equal(t, "hello", ins.Message.Text)
	assert.Equal(t, "sendbee", ins.Message.Platform)
}

// Delivering the last webhook twice more gives two duplicates and no
// second answer.
func TestDev_redeliver(t *testing.T) {
	h := startDev(t)
	feed := h.feed(t)
	var sent struct {
		MessageID string `json:"message_id"`
	}
	require.Equal(t, http.StatusOK, h.do(t, "POST", "/sim/sendbee/_sim/customer", `{"phone":"+385919999002","text":"order 7"}`, &sent))
	waitEvents(t, feed, sent.MessageID, "sent")
	require.Equal(t, http.StatusOK, h.do(t, "POST", "/api/redeliver", `{"platform":"sendbee","copies":2}`, nil))
	assertDuplicate(t, waitEvents(t, feed, sent.MessageID, "duplicate"))
	assertDuplicate(t, waitEvents(t, feed, sent.MessageID, "duplicate"))

	var stats map[string]any
	require.Equal(t, http.StatusOK, h.do(t, "GET", "/bot/admin/v1/stats", "", &stats))
	assert.EqualValues(t, 2, stats["duplicates"])
}

// Redelivering a VelaFlows webhook, signed as VelaFlows signs it, is a
// duplicate to the bot.
func TestDev_redeliverVelaflows(t *testing.T) {
	h := startDev(t)
	feed := h.feed(t)
	require.Equal(t, http.StatusOK, h.do(t, "POST", "/sim/velaflows/_sim/customer", `{"channelType":"whatsapp","name":"Bo","contact":"+442071830001","text":"hello"}`, nil))
	var id string
	timeout := time.After(10 * time.Second)
	for id == "" {
		select {
		case e, ok := <-feed:
			require.True(t, ok, "the feed ended")
			if e["platform"] == "velaflows" && e["type"] == "sent" {
				id = e["message"].(string)
			}
		case <-timeout:
			t.Fatal("no reply sent on velaflows within 10s")
		}
	}
	// The emulator records a delivery once its answer is in, which may be
	// after the bot's reply: until then there is nothing to redeliver.
	require.Eventually(t, func() bool {
		return h.do(t, "POST", "/api/redeliver", `{"platform":"velaflows","copies":1}`, nil) == http.StatusOK
	}, 5*time.Second, 10*time.Millisecond)
	assertDuplicate(t, waitEvents(t, feed, id, "duplicate"))
}

// assertDuplicate checks that the events of a message seen since its
// reply are a redelivery received and dropped as a duplicate (the end of
// the first delivery's handling may come first).
func assertDuplicate(t *testing.T, types []string) {
	t.Helper()
	if len(types) > 0 && types[0] == "handled" {
		types = types[1:]
	}
	assert.Equal(t, []string{"received", "duplicate"}, types)
}

// A refused send becomes a dead letter, which Replay sends.
func TestDev_faultDeadLetterReplay(t *testing.T) {
	h := startDev(t)
	feed := h.feed(t)
	require.Equal(t, http.StatusOK, h.do(t, "POST", "/api/fault", `{"platform":"sendbee","fault":"4xx"}`, nil))
	var sent struct {
		MessageID string `json:"message_id"`
	}
	require.Equal(t, http.StatusOK, h.do(t, "POST", "/sim/sendbee/_sim/customer", `{"phone":"+385919999003","text":"refund"}`, &sent))
	waitEvents(t, feed, sent.MessageID, "dead_lettered")
	var dl struct {
		DeadLetters []struct{ ID string } `json:"dead_letters"`
	}
	require.Equal(t, http.StatusOK, h.do(t, "GET", "/bot/admin/v1/dead-letters", "", &dl))
	require.Len(t, dl.DeadLetters, 1)
	require.Equal(t, http.StatusOK, h.do(t, "POST", "/bot/admin/v1/dead-letters/"+dl.DeadLetters[0].ID+"/replay", "", nil))
	waitEvents(t, feed, sent.MessageID, "sent")
}

// The page's server refuses what another site's page could make a browser
// send, and bad requests change nothing.
func TestDev_refuses(t *testing.T) {
	h := startDev(t)
	tests := []struct {
		name   string
		method string
		path   string
		header map[string]string
		body   string
		want   int
	}{
		{"foreign host", "GET", "/api/state", map[string]string{"Host": "evil.example:80"}, "", http.StatusForbidden},
		{"cross-origin post", "POST", "/bot/admin/v1/dead-letters/1/replay", map[string]string{"Origin": "http://evil.example", "Content-Type": "application/json"}, "{}", http.StatusForbidden},
		{"through a proxy", "GET", "/api/state", map[string]string{"X-Forwarded-For": "203.0.113.7"}, "", http.StatusForbidden},
		{"form post", "POST", "/api/fault", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "platform=sendbee", http.StatusUnsupportedMediaType},
		{"unknown fault", "POST", "/api/fault", map[string]string{"Content-Type": "application/json"}, `{"platform":"sendbee","fault":"meteor"}`, http.StatusBadRequest},
		{"unknown field", "POST", "/api/fault", map[string]string{"Content-Type": "application/json"}, `{"platform":"sendbee","fault":"429","x":1}`, http.StatusBadRequest},
		{"redeliver flowdock", "POST", "/api/redeliver", map[string]string{"Content-Type": "application/json"}, `{"platform":"flowdock","copies":2}`, http.StatusBadRequest},
		{"redeliver too many", "POST", "/api/redeliver", map[string]string{"Content-Type": "application/json"}, `{"platform":"sendbee","copies":99}`, http.StatusBadRequest},
		{"nothing to redeliver", "POST", "/api/redeliver", map[string]string{"Content-Type": "application/json"}, `{"platform":"velaflows","copies":1}`, http.StatusConflict},
		{"inspect unknown", "GET", "/api/inspect?platform=sendbee&message=nope", nil, "", http.StatusNotFound},
		{"post to the page", "POST", "/index.html", map[string]string{"Content-Type": "application/json"}, "{}", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, h.page+tt.path, strings.NewReader(tt.body))
			require.NoError(t, err)
			for k, v := range tt.header {
				if k == "Host" {
					req.Host = v
				} else {
					req.Header.Set(k, v)
				}
			}
			resp, err := h.client.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode)
		})
	}
	var dl struct{ Total int }
	require.Equal(t, http.StatusOK, h.do(t, "GET", "/bot/admin/v1/dead-letters", "", &dl))
	assert.Zero(t, dl.Total)
}

// With PARLEY_ADMIN_TOKEN, the bot's admin API wants the token, which the
// page's proxy adds: the page needs none.
func TestDev_adminToken(t *testing.T) {
	h := startDev(t, "PARLEY_ADMIN_TOKEN", "s3cret-token")
	resp, err := h.client.Get(h.bot + "/admin/v1/stats")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the bot itself wants the token")
	var dl struct{ Total int }
	assert.Equal(t, http.StatusOK, h.do(t, "GET", "/bot/admin/v1/dead-letters", "", &dl), "through the page")
	var st devState
	require.Equal(t, http.StatusOK, h.do(t, "GET", "/api/state", "", &st))
	assert.NotContains(t, st.Exports, "s3cret-token", "the page never shows the token")
}

// A bot run from another terminal with the lines the page shows gets the
// customer's messages, and the page follows its feed.
func TestDev_botInAnotherTerminal(t *testing.T) {
	h := startDevRules(t, "")
	var st devState
	require.Equal(t, http.StatusOK, h.do(t, "GET", "/api/state", "", &st))
	require.Equal(t, http.StatusBadGateway, h.do(t, "GET", "/bot/admin/v1/stats", "", nil), "no bot yet")

	vars := []string{"PARLEY_LOG_LEVEL", "error"}
	for line := range strings.Lines(st.Exports) {
		kv, ok := strings.CutPrefix(strings.TrimSpace(line), "export ")
		if !ok {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		vars = append(vars, k, strings.Trim(v, "'"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	out := &syncBuffer{}
	go func() { done <- run(ctx, []string{"run", devRules}, strings.NewReader(""), out, out, env(vars...)) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	require.Eventually(t, func() bool {
		return h.do(t, "GET", "/bot/admin/v1/stats", "", nil) == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond, "the bot's admin API; its output:\n%s", out)

	feed := h.feed(t)
	var sent struct {
		MessageID string `json:"message_id"`
	}
	require.Equal(t, http.StatusOK, h.do(t, "POST", "/sim/sendbee/_sim/customer", `{"phone":"+385919999020","text":"hello"}`, &sent))
	waitEvents(t, feed, sent.MessageID, "sent")
}

// The page and its scripts are served from the binary.
func TestDev_page(t *testing.T) {
	h := startDev(t)
	for _, p := range []string{"/", "/app.js", "/app.css"} {
		resp, err := h.client.Get(h.page + p)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, p)
		assert.NotContains(t, string(body), "https://", "%s loads nothing from elsewhere", p)
	}
	var st devState
	require.Equal(t, http.StatusOK, h.do(t, "GET", "/api/state", "", &st))
	assert.Contains(t, st.Exports, "export SENDBEE_API_KEY=")
	assert.Contains(t, st.Exports, "export PARLEY_ADDR=127.0.0.1:", "the bot listens where the emulators deliver")
	assert.Equal(t, devRules, st.Rules)
}

// Each fault the page injects shows its effect on the bot's feed: the
// reply is retried or waited for, and sent once.
func TestDev_faultsShowOnTheFeed(t *testing.T) {
	h := startDev(t)
	feed := h.feed(t)
	tests := []struct {
		fault string
		want  string // an event type before the reply is delivered
	}{
		{"429", "retry"},
		{"5xx", "retry"},
		{"reset", "retry"},
	}
	for i, tt := range tests {
		require.Equal(t, http.StatusOK, h.do(t, "POST", "/api/fault", `{"platform":"sendbee","fault":"`+tt.fault+`"}`, nil))
		var sent struct {
			MessageID string `json:"message_id"`
		}
		phone := "+38591999910" + string(rune('0'+i))
		require.Equal(t, http.StatusOK, h.do(t, "POST", "/sim/sendbee/_sim/customer", `{"phone":"`+phone+`","text":"order 1"}`, &sent))
		types := waitEventsAny(t, feed, sent.MessageID, "sent", "confirmed")
		t.Logf("%s: %v", tt.fault, types)
		assert.Contains(t, types, tt.want, tt.fault)
	}
}

// waitEventsAny is waitEvents until an event of any of the types last.
func waitEventsAny(t *testing.T, ch <-chan map[string]any, id string, last ...string) []string {
	t.Helper()
	var types []string
	timeout := time.After(15 * time.Second)
	for {
		select {
		case e, ok := <-ch:
			require.True(t, ok, "the feed ended; saw %v", types)
			if e["message"] != id {
				continue
			}
			types = append(types, e["type"].(string))
			for _, l := range last {
				if e["type"] == l {
					return types
				}
			}
		case <-timeout:
			t.Fatalf("no %v event for %s within 15s; saw %v", last, id, types)
		}
	}
}

// The page listens on loopback only: its proxy acts on the bot with the
// admin token, and a Host header is no guard against a client that is
// not a browser.
func TestDev_addrLoopbackOnly(t *testing.T) {
	out := &syncBuffer{}
	err := run(t.Context(), []string{"dev", "--addr", "0.0.0.0:0"}, strings.NewReader(""), out, out,
		env("PARLEY_CONFIG_DIR", t.TempDir()))
	require.ErrorContains(t, err, "--addr 0.0.0.0:0: the page listens on a loopback address only")
}

// The proxy passes an escaped slash of a conversation ID on as one, and
// passes on nothing of the bot but its admin API.
func TestDev_proxyPaths(t *testing.T) {
	h := startDev(t)
	var conv struct{ Conversation string }
	require.Equal(t, http.StatusOK, h.do(t, "GET", "/bot/admin/v1/conversations/sendbee/a%2Fb", "", &conv))
	assert.Equal(t, "a/b", conv.Conversation)
	assert.Equal(t, http.StatusNotFound, h.do(t, "GET", "/bot/metrics", "", nil), "not the bot's metrics")
}

// On JetStream (PARLEY_DATA_DIR) the page works as in memory: the
// customer's message is answered, its journey is on the feed, and a
// redelivery is a duplicate that gets no second answer.
func TestDev_durable(t *testing.T) {
	h := startDev(t, "PARLEY_DATA_DIR", t.TempDir())
	feed := h.feed(t)
	var sent struct {
		MessageID string `json:"message_id"`
	}
	require.Equal(t, http.StatusOK, h.do(t, "POST", "/sim/sendbee/_sim/customer", `{"phone":"+385919999009","text":"hello"}`, &sent))
	types := waitEvents(t, feed, sent.MessageID, "sent")
	assert.Equal(t, []string{"received", "owner"}, types[:2])
	require.Equal(t, http.StatusOK, h.do(t, "POST", "/api/redeliver", `{"platform":"sendbee","copies":1}`, nil))
	assertDuplicate(t, waitEvents(t, feed, sent.MessageID, "duplicate"))
	var stats map[string]any
	require.Equal(t, http.StatusOK, h.do(t, "GET", "/bot/admin/v1/stats", "", &stats))
	assert.EqualValues(t, 1, stats["sent"], "one answer")
	assert.Contains(t, h.out.String(), "durable on JetStream")
}

// The inspector shows a Flowdock message as the adapter turns it into a
// bot.Message, beside the event as the platform lists it.
func TestDev_inspectFlowdock(t *testing.T) {
	h := startDev(t)
	feed := h.feed(t)
	// The bot is ready once its Flowdock stream is connected: a message
	// posted before would reach it only by a later backfill.
	require.Eventually(t, func() bool {
		resp, err := h.client.Get(h.bot + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, http.StatusCreated, h.do(t, "POST", "/sim/flowdock/_sim/post", `{"flow":"acme/main","user":"dana","text":"deploy done"}`, nil))
	var id string
	timeout := time.After(10 * time.Second)
	for id == "" {
		select {
		case e, ok := <-feed:
			require.True(t, ok, "the feed ended")
			if e["platform"] == "flowdock" && e["type"] == "received" {
				id = e["message"].(string)
			}
		case <-timeout:
			t.Fatal("no flowdock message on the feed")
		}
	}
	var ins struct {
		Raw     map[string]any `json:"raw"`
		Message struct{ ID, Platform, Text string }
		Error   string
	}
	require.Equal(t, http.StatusOK, h.do(t, "GET", "/api/inspect?platform=flowdock&message="+url.QueryEscape(id), "", &ins))
	require.Empty(t, ins.Error)
	assert.Equal(t, "deploy done", ins.Raw["content"])
	assert.Equal(t, id, ins.Message.ID, "the bot's message ID")
	assert.Equal(t, "flowdock", ins.Message.Platform)
	assert.Equal(t, "deploy done", ins.Message.Text)
}

// Stalling the platform holds the bot's next API request for 8 seconds:
// the reply comes that much after the message, once.
func TestDev_faultStall(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out an 8-second stall; run without -short")
	}
	h := startDev(t)
	feed := h.feed(t)
	require.Equal(t, http.StatusOK, h.do(t, "POST", "/api/fault", `{"platform":"sendbee","fault":"stall"}`, nil))
	var sent struct {
		MessageID string `json:"message_id"`
	}
	require.Equal(t, http.StatusOK, h.do(t, "POST", "/sim/sendbee/_sim/customer", `{"phone":"+385919999120","text":"order 2"}`, &sent))
	var received, replied time.Time
	timeout := time.After(30 * time.Second)
	for replied.IsZero() {
		select {
		case e, ok := <-feed:
			require.True(t, ok, "the feed ended")
			if e["message"] != sent.MessageID {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, e["time"].(string))
			require.NoError(t, err)
			switch e["type"] {
			case "received":
				received = at
			case "sent":
				replied = at
			}
		case <-timeout:
			t.Fatal("no reply within 30s")
		}
	}
	require.False(t, received.IsZero())
	assert.GreaterOrEqual(t, replied.Sub(received), 8*time.Second, "the reply waited out the stall")
	var stats map[string]any
	require.Equal(t, http.StatusOK, h.do(t, "GET", "/bot/admin/v1/stats", "", &stats))
	assert.EqualValues(t, 1, stats["sent"], "sent once")
}

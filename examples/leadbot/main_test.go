package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/bot/flow"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// env is a getenv over a fixed set of variables.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// clock is a settable clock for the flow engine's timers.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a bytes.Buffer safe for the bot's log writes and the
// test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const wait, tick = 10 * time.Second, 5 * time.Millisecond

// rig is leadbot against the three emulators over real HTTP and SSE: run
// by its own run function in the test's process (newRig), or built and
// run as a process (newEmulators, then startProcess).
type rig struct {
	t     *testing.T
	sb    *sendbeetest.Server
	vf    *velaflowstest.Server
	fd    *flowdocktest.Server
	clock *clock
	hook  string // the bot's Sendbee webhook URL
	admin string // the bot's /metrics
}

// newRig starts the emulators and leadbot, with the flow engine on a
// clock the test moves, and stops them when the test ends.
func newRig(t *testing.T) *rig {
	t.Helper()
	r := newEmulators(t)
	r.use(r.startInProcess(nil))
	return r
}

// newEmulators starts the three emulators, with no bot yet.
func newEmulators(t *testing.T, sbOpts ...sendbeetest.Option) *rig {
	t.Helper()
	r := &rig{t: t, clock: &clock{now: time.Now()}}
	r.sb = sendbeetest.NewServer(t, append([]sendbeetest.Option{sendbeetest.WithCredentials("k", "s"),
		sendbeetest.WithWebhookEvents(sendbeetest.EventMessageReceived, sendbeetest.EventChatbotStatus),
		sendbeetest.WithRedelivery(50, 20*time.Millisecond), sendbeetest.WithRetryAfterCap(50 * time.Millisecond),
		sendbeetest.WithRateLimit(0, time.Minute)}, sbOpts...)...)
	r.vf = velaflowstest.NewServer(t)
	r.fd = flowdocktest.NewServer(t)
	// Sendbee goes first at the end, with the connections of its webhook
	// deliveries: an unused one left in its pool would hold up the
	// shutdown of the bot's HTTP server. (Cleanups run last first.)
	t.Cleanup(r.sb.Close)
	return r
}

// env returns the environment of leadbot against the emulators, with
// extra (pairs of name and value) added.
func (r *rig) env(extra ...string) []string {
	return append([]string{
		"SENDBEE_API_KEY", "k", "SENDBEE_API_SECRET", "s", "SENDBEE_BASE_URL", r.sb.URL(), "PARLEY_ADDR", "127.0.0.1:0",
		// The emulator has no rate limit here; at Sendbee's 60 a minute
		// each reply after the first would wait a second.
		"SENDBEE_RATE_LIMIT", "6000000",
		"VELAFLOWS_API_TOKEN", r.vf.Token(), "VELAFLOWS_WORKSPACE_ID", r.vf.WorkspaceID(),
		"VELAFLOWS_BASE_URL", r.vf.URL(), "VELAFLOWS_WEBHOOK_SECRET", "whsec-leadbot-test",
		"FLOWDOCK_API_TOKEN", r.fd.Token(), "FLOWDOCK_API_URL", r.fd.URL(), "FLOWDOCK_STREAM_URL", r.fd.StreamURL(),
		"FLOWDOCK_FLOWS", "acme/main", "FLOWDOCK_FLOW_TOKEN", r.fd.FlowToken("acme/main"), "PARLEY_LOG_LEVEL", "debug",
	}, extra...)
}

// instance is one running leadbot: its addresses and its log.
type instance struct {
	hook  string // its Sendbee webhook URL
	admin string // its /metrics
	logs  interface{ String() string }
}

// use makes the Sendbee webhook go to in, and the rig's metrics come
// from it.
func (r *rig) use(in *instance) {
	r.t.Helper()
	r.hook, r.admin = in.hook, in.admin
	require.NoError(r.t, r.sb.SetWebhook(r.hook))
}

// startInProcess runs leadbot's run function with the environment of
// r.env(extra...), the flow engine on the rig's clock, until the test
// ends.
func (r *rig) startInProcess(extra []string) *instance {
	t := r.t
	t.Helper()
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, strings.NewReader(""), io.Discard, logs, env(r.env(extra...)...),
			flow.WithClock(r.clock.Now), flow.WithSweepInterval(tick))
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(15 * time.Second):
			t.Error("leadbot did not stop")
		}
		if t.Failed() {
			t.Logf("leadbot's log:\n%s", logs.String())
			r.logEmulators()
		}
	})
	return r.started(logs, r.fd.Connections()+1, func() error {
		select {
		case err := <-done:
			done <- err
			return err
		default:
			return nil
		}
	})
}

// started waits until the bot writing logs says where it listens, and
// until streams Flowdock streams are open, the bot's among them; exited
// reports an early exit.
func (r *rig) started(logs interface{ String() string }, streams int, exited func() error) *instance {
	t := r.t
	t.Helper()
	// The start-up summary says where the bot listens.
	listening := regexp.MustCompile(`listening on (\S+) \(PARLEY_ADDR\)`)
	var addr []string
	require.Eventually(t, func() bool {
		require.NoError(t, exited(), "leadbot exited; its log:\n%s", logs.String())
		addr = listening.FindStringSubmatch(logs.String())
		return addr != nil
	}, 3*wait, tick, "leadbot does not start; its log:\n%s", logs)
	r.fd.WaitConnections(t, streams) // the bot runs
	return &instance{hook: "http://" + addr[1] + "/webhooks/sendbee", admin: "http://" + addr[1] + "/metrics", logs: logs}
}

// logEmulators logs what Sendbee received and sent, for a failed test.
func (r *rig) logEmulators() {
	for _, q := range r.sb.Requests() {
		r.t.Logf("sendbee request %s %s %s %d %s", q.Time.Format("05.000"), q.Method, q.Path, q.Status, q.Body)
	}
	for _, ev := range r.sb.Events() {
		r.t.Logf("sendbee event %s %s %s", ev.CreatedAt.Format("05.000"), ev.Type, ev.Payload)
	}
}

// say sends text as the customer with the phone number.
func (r *rig) say(phone, text string) {
	r.sb.CustomerMessage(phone, "", text)
}

// sent returns the texts the bot sent to the phone number's conversation.
func (r *rig) sent(phone string) []string {
	var out []string
	for _, m := range r.sb.Sent() {
		if m.Phone == phone {
			out = append(out, m.Text)
		}
	}
	return out
}

// waitSent waits until the bot has sent exactly want to the phone number.
func (r *rig) waitSent(phone string, want ...string) {
	r.t.Helper()
	require.Eventually(r.t, func() bool { return equal(r.sent(phone), want) }, wait, tick,
		"sent to %s: %q\nwant %q", phone, r.sent(phone), want)
}

// metric returns the sum of the series of the bot's metric (on /metrics)
// that have all the labels, such as `platform="sendbee"`.
func (r *rig) metric(name string, labels ...string) int {
	r.t.Helper()
	req, err := http.NewRequestWithContext(r.t.Context(), http.MethodGet, r.admin, nil)
	require.NoError(r.t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(r.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(r.t, err)
	sum := 0
	for line := range strings.Lines(string(body)) {
		line = strings.TrimSpace(line)
		i := strings.LastIndexByte(line, ' ')
		series, value := line[:max(i, 0)], line[i+1:]
		if !strings.HasPrefix(series, name+"{") {
			continue
		}
		all := true
		for _, l := range labels {
			all = all && strings.Contains(series, l)
		}
		if all {
			n, err := strconv.ParseFloat(value, 64)
			require.NoError(r.t, err)
			sum += int(n)
		}
	}
	return sum
}

// handled returns how many Sendbee events the bot has finished routing.
func (r *rig) handled() int { return r.metric("parley_handled_total", `platform="sendbee"`) }

// handedOff waits until the bot has recorded n handoffs of Sendbee
// conversations in all.
func (r *rig) handedOff(n int) {
	r.t.Helper()
	require.Eventually(r.t, func() bool {
		return r.metric("parley_ownership_changes_total", `platform="sendbee"`, `owner="human"`, `source="handoff reply"`) >= n
	}, wait, tick, "%d handoffs: %d", n, r.metric("parley_ownership_changes_total"))
}

// settle waits until the bot has routed every event Sendbee emitted to it
// so far. (The flow engine's timer events count too; settle is for tests
// whose clock stands still.)
func (r *rig) settle() {
	r.t.Helper()
	want := 0
	for _, ev := range r.sb.Events() {
		if ev.Type == sendbeetest.EventMessageReceived || ev.Type == sendbeetest.EventChatbotStatus {
			want++
		}
	}
	require.Eventually(r.t, func() bool { return r.handled() >= want }, wait, tick, "the bot routed %d Sendbee events", want)
}

// conversation returns the Sendbee conversation of the phone number.
func (r *rig) conversation(phone string) sendbeetest.Conversation {
	r.t.Helper()
	c, ok := r.sb.ConversationByPhone(phone)
	require.True(r.t, ok, "no conversation of %s", phone)
	return c
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The texts of the lead flow.
const (
	greeting = "Hello! I'm the Acme assistant. A few quick questions, and I'll pass you on to the right person on our team."
	askName  = "What's your name?"
	askSize  = "How many people work at your company?\n1. 1–10\n2. 11–50\n3. 51–200\n4. 200+"
	askNeed  = "Last one: what do you need help with?"
	agent    = ` Or type "agent" to talk to a person.`
)

func askEmail(name string) string { return "Thanks, " + name + "! What's your e-mail address?" }
func done(name string) string {
	return "Thank you, " + name + "! Someone from our team will get back to you shortly."
}

// The whole story on the happy path: the answers are stored in the Sendbee
// contact, which is tagged; a VelaFlows lead is created with them in the
// configured pipeline; the team's Flowdock flow gets a discussion thread
// with the lead's title, rows and status colour; and a later message is
// not asked the questions again.
func TestLeadbot_happyPath(t *testing.T) {
	bothBots(t, func(t *testing.T, r *rig) {
		const ivana = "+385981112233"
		r.say(ivana, "Hi, I saw your ad")
		r.waitSent(ivana, greeting, askName)
		r.say(ivana, "Ivana Kovač")
		r.waitSent(ivana, greeting, askName, askEmail("Ivana Kovač"))
		r.say(ivana, "Ivana@Example.COM")
		r.waitSent(ivana, greeting, askName, askEmail("Ivana Kovač"), askSize)
		r.say(ivana, "2")
		r.waitSent(ivana, greeting, askName, askEmail("Ivana Kovač"), askSize, askNeed)
		r.say(ivana, "A booking system for our <clinic> & spa")
		story := []string{greeting, askName, askEmail("Ivana Kovač"), askSize, askNeed, done("Ivana Kovač")}
		r.waitSent(ivana, story...)

		// Sendbee: the contact's fields and tag.
		contact := r.conversation(ivana).Contact
		assert.Equal(t, "Ivana Kovač", contact.Name)
		assert.Contains(t, contact.Tags, "lead")
		assert.Equal(t, "Ivana@example.com", contact.Fields["email"], "the domain in lower case")
		assert.Equal(t, "11-50", contact.Fields["company_size"])
		assert.Equal(t, "A booking system for our <clinic> & spa", contact.Fields["need"])

		// VelaFlows: one lead, in the emulator's Sales pipeline, stage New.
		var leads []velaflowstest.Lead
		for _, l := range r.vf.Leads() {
			if l.Phone == ivana {
				leads = append(leads, l)
			}
		}
		require.Len(t, leads, 1)
		assert.Equal(t, "Ivana", leads[0].FirstName)
		assert.Equal(t, "Kovač", leads[0].LastName)
		assert.Equal(t, "Ivana@example.com", leads[0].Email)
		assert.Equal(t, velaflowstest.SeedPipelineID, leads[0].PipelineID)
		assert.Equal(t, velaflowstest.SeedStageID, leads[0].StageID)

		// Flowdock: a discussion in its own thread, with the lead's rows.
		th := leadThread(t, r.fd, "Lead: Ivana Kovač")
		assert.Equal(t, &flowdock.Status{Color: flowdock.ColorGreen, Value: "new lead, 11-50"}, th.Status)
		assert.Equal(t, []flowdock.Field{
			{Label: "Name", Value: "Ivana Kovač"},
			{Label: "E-mail", Value: "Ivana@example.com"},
			{Label: "Phone", Value: ivana},
			{Label: "Company size", Value: "11-50"},
			{Label: "Need", Value: "A booking system for our &lt;clinic&gt; &amp; spa"},
			{Label: "Conversation", Value: "sendbee " + r.conversation(ivana).ID},
		}, th.Fields)
		var items []flowdocktest.Message
		for _, m := range r.fd.Messages("acme/main") {
			if m.ThreadID == th.ID && m.Event == flowdock.EventDiscussion {
				items = append(items, m)
			}
		}
		require.Len(t, items, 1, "one discussion in the lead's thread")
		assert.Equal(t, "<p>A booking system for our &lt;clinic&gt; &amp; spa</p>", items[0].Body)

		// Later: no questions again.
		r.say(ivana, "hello again")
		r.waitSent(ivana, append(story, `Thanks! Our team has your details and will be in touch soon. Type "agent" to talk to a person now.`)...)
	})
}

// leadThread returns the thread of the team flow with the title, waiting
// for it.
func leadThread(t *testing.T, fd *flowdocktest.Server, title string) flowdock.Thread {
	t.Helper()
	c, err := flowdock.NewClient(flowdock.Config{Token: fd.Token(), BaseURL: fd.URL()})
	require.NoError(t, err)
	defer c.CloseIdleConnections()
	var found []flowdock.Thread
	require.Eventually(t, func() bool {
		threads, _, err := c.ListThreads(t.Context(), "acme", "main", flowdock.ThreadListOptions{})
		require.NoError(t, err)
		found = found[:0]
		for _, th := range threads {
			if th.Title == title {
				found = append(found, th)
			}
		}
		return len(found) > 0
	}, wait, tick)
	require.Len(t, found, 1, "one thread titled %q", title)
	return found[0]
}

// Answers that do not fit are asked again, with what is wrong, as often as
// it takes; the flow goes on with the first answer that fits.
func TestLeadbot_invalidAnswersAskedAgain(t *testing.T) {
	bothBots(t, func(t *testing.T, r *rig) {
		const marko = "+385915556677"
		badName := "Please tell me your name (2 to 80 characters)." + agent
		badEmail := "That doesn't look like an e-mail address. Please type it like ana@example.com." + agent
		badSize := "Please pick one of these, by its number:\n1. 1–10\n2. 11–50\n3. 51–200\n4. 200+"
		badNeed := "Please tell me in a few words (3 to 500 characters)." + agent

		r.say(marko, "hello")
		want := []string{greeting, askName}
		r.waitSent(marko, want...)
		steps := []struct {
			answer string
			reply  string
		}{
			{"M", badName},
			{strings.Repeat("m", 81), badName},
			{"Marko", askEmail("Marko")},
			{"marko at example dot com", badEmail},
			{"Marko <marko@example.com>", badEmail},
			{"marko@example", badEmail},
			{"marko@example.com.", askSize},
			{"7", badSize},
			{"a few", badSize},
			{"51–200", askNeed},
			{"ok", badNeed},
			{"A CRM for 60 people", done("Marko")},
		}
		for _, s := range steps {
			r.say(marko, s.answer)
			want = append(want, s.reply)
			r.waitSent(marko, want...)
		}
		contact := r.conversation(marko).Contact
		assert.Equal(t, "marko@example.com", contact.Fields["email"])
		assert.Equal(t, "51-200", contact.Fields["company_size"])
		th := leadThread(t, r.fd, "Lead: Marko")
		assert.Equal(t, &flowdock.Status{Color: flowdock.ColorOrange, Value: "new lead, 51-200"}, th.Status)
	})
}

// A redelivered answer advances the flow once: the same webhook delivered
// again after it was handled, and every later event delivered three times,
// give one question each, one lead and one item.
func TestLeadbot_redeliveredAnswer(t *testing.T) {
	bothBots(t, func(t *testing.T, r *rig) {
		const ana = "+385917778899"
		r.say(ana, "hi")
		r.waitSent(ana, greeting, askName)
		r.say(ana, "Ana")
		r.waitSent(ana, greeting, askName, askEmail("Ana"))

		// The answer "Ana" again, as Sendbee would redeliver it.
		var last sendbeetest.Event
		for _, ev := range r.sb.Events() {
			if ev.Type == sendbeetest.EventMessageReceived && ev.ConversationID == r.conversation(ana).ID {
				last = ev
			}
		}
		var body struct {
			Data struct {
				Body string `json:"body"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(last.Payload, &body))
		require.Equal(t, "Ana", body.Data.Body)
		require.Equal(t, 200, r.sb.Deliver(t, r.hook, last.Payload))

		r.sb.DuplicateDeliveries(2)
		r.say(ana, "ana@example.com")
		// Had "Ana" advanced the flow again, "ana@example.com" would have been
		// refused as a name, or taken for the company size.
		r.waitSent(ana, greeting, askName, askEmail("Ana"), askSize)
		r.say(ana, "1")
		r.waitSent(ana, greeting, askName, askEmail("Ana"), askSize, askNeed)
		r.say(ana, "A web shop")
		story := []string{greeting, askName, askEmail("Ana"), askSize, askNeed, done("Ana")}
		r.waitSent(ana, story...)

		leadThread(t, r.fd, "Lead: Ana") // exactly one thread
		r.say(ana, "thanks")             // after the duplicates of every earlier event
		r.waitSent(ana, append(story, `Thanks! Our team has your details and will be in touch soon. Type "agent" to talk to a person now.`)...)
		var leads int
		for _, l := range r.vf.Leads() {
			if l.Phone == ana {
				leads++
			}
		}
		assert.Equal(t, 1, leads, "one VelaFlows lead")
		assert.Len(t, leadThreadItems(r.fd, "Lead: Ana"), 1, "one Flowdock item")
	})
}

// leadThreadItems returns the integration's posts in the threads titled
// title.
func leadThreadItems(fd *flowdocktest.Server, title string) []flowdocktest.Message {
	var out []flowdocktest.Message
	for _, m := range fd.Messages("acme/main") {
		if m.Event == flowdock.EventDiscussion && strings.Contains(string(m.JSON), `"title":"`+title+`"`) {
			out = append(out, m)
		}
	}
	return out
}

// "agent" in the middle of the flow hands the conversation to a person:
// Sendbee's chatbot is switched off, the team is told, and the bot stays
// quiet. When the chatbot is switched on again from the dashboard, the bot
// asks the current question again; the same when an agent gives the
// conversation back from the team flow; and the flow goes on to the end.
func TestLeadbot_agentAndBack(t *testing.T) {
	bothBots(t, func(t *testing.T, r *rig) {
		const luka = "+385924443322"
		r.say(luka, "hi")
		r.waitSent(luka, greeting, askName)
		r.say(luka, "Luka")
		r.waitSent(luka, greeting, askName, askEmail("Luka"))
		r.say(luka, "luka@example.com")
		want := []string{greeting, askName, askEmail("Luka"), askSize}
		r.waitSent(luka, want...)

		const connecting = "Connecting you to a colleague… They can see your answers so far."
		r.say(luka, "can I talk to a person?")
		want = append(want, connecting)
		r.waitSent(luka, want...)
		conv := r.conversation(luka).ID
		require.Eventually(t, func() bool { return !r.sb.ChatbotActive(conv) }, wait, tick, "the chatbot is off")
		r.handedOff(1)
		require.Eventually(t, func() bool {
			for _, m := range r.fd.Sent() {
				if m.Flow == "acme/main" && strings.Contains(m.Content, "/resume sendbee "+conv) {
					return true
				}
			}
			return false
		}, wait, tick, "the team is told")

		_, err := r.sb.AgentReply(conv, "", "Hi Luka, Ivana here. How big is the team?")
		require.NoError(t, err)
		// The customer answers the agent: the bot neither answers nor takes it
		// as the answer to its question.
		r.say(luka, "about 30 people")
		r.settle()
		assert.Len(t, r.sent(luka), len(want), "the bot is quiet")
		// The dashboard switch brings the question back.
		require.NoError(t, r.sb.SetChatbot(conv, true))
		want = append(want, askSize)
		r.waitSent(luka, want...)
		assert.True(t, r.sb.ChatbotActive(conv))

		// Again, given back from the team flow this time.
		r.say(luka, "/human")
		want = append(want, connecting)
		r.waitSent(luka, want...)
		require.Eventually(t, func() bool { return !r.sb.ChatbotActive(conv) }, wait, tick, "the chatbot is off")
		r.handedOff(2)
		r.settle()
		_, err = r.fd.Post("acme/main", "dana", "/resume sendbee "+conv)
		require.NoError(t, err)
		want = append(want, askSize)
		r.waitSent(luka, want...)
		require.Eventually(t, func() bool { return r.sb.ChatbotActive(conv) }, wait, tick, "the chatbot is on again")

		r.say(luka, "2")
		want = append(want, askNeed)
		r.waitSent(luka, want...)
		r.say(luka, "Hiring software")
		r.waitSent(luka, append(want, done("Luka"))...)
		assert.Equal(t, "11-50", r.conversation(luka).Contact.Fields["company_size"])
		assert.Zero(t, r.metric("parley_outbound_suppressed_total"), "no bot message was held back")
	})
}

// A question waits: after 10 minutes of silence it is asked again once,
// and after an hour the conversation is closed; a later message starts the
// questions again.
func TestLeadbot_reminderOnceThenClosed(t *testing.T) {
	r := newRig(t)
	const sara = "+385956667788"
	r.say(sara, "hi")
	r.waitSent(sara, greeting, askName)
	r.say(sara, "Sara")
	want := []string{greeting, askName, askEmail("Sara")}
	r.waitSent(sara, want...)

	quiet := func() {
		t.Helper()
		n := len(want) // not want itself: Never's last check may still run after it returned
		assert.Never(t, func() bool { return len(r.sent(sara)) > n }, 100*time.Millisecond, tick, "%q", r.sent(sara))
	}
	r.clock.Add(9*time.Minute + 59*time.Second)
	quiet()
	r.clock.Add(time.Second)
	want = append(want, "Still there? "+askEmail("Sara"))
	r.waitSent(sara, want...)
	r.clock.Add(20 * time.Minute) // no second reminder
	quiet()
	r.clock.Add(30 * time.Minute) // an hour since the question
	want = append(want, "I haven't heard from you in a while, so I'm closing this for now. Write to us any time to pick up again.")
	r.waitSent(sara, want...)
	r.clock.Add(2 * time.Hour)
	quiet()

	r.say(sara, "sara@example.com") // too late for the question: the questions start again
	want = append(want, askName)
	r.waitSent(sara, want...)
	for _, l := range r.vf.Leads() {
		assert.NotEqual(t, sara, l.Phone, "no lead")
	}
}

// With no platform configured leadbot chats on the terminal: the questions
// work, and the platform actions are skipped.
func TestRun_console(t *testing.T) {
	in := "hi\nAna Horvat\nana@example\nana@example.com\n4\nhelp\nagent\nA warehouse system\nhello again\n"
	var stdout bytes.Buffer
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(t.Context(), strings.NewReader(in), &stdout, stderr, env("PARLEY_LOG_LEVEL", "info"))
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return within 10s")
	}
	// The greeting names the user of the terminal ($USER).
	first, rest, _ := strings.Cut(stdout.String(), "\n")
	assert.Regexp(t, `^bot: Hello .+! I'm the Acme assistant\. A few quick questions, and I'll pass you on to the right person on our team\.$`, first)
	assert.Equal(t, "bot: What's your name?\n"+
		"bot: Thanks, Ana Horvat! What's your e-mail address?\n"+
		"bot: That doesn't look like an e-mail address. Please type it like ana@example.com. Or type \"agent\" to talk to a person.\n"+
		"bot: How many people work at your company?\n"+
		"     1. 1–10\n     2. 11–50\n     3. 51–200\n     4. 200+\n"+
		"bot: Last one: what do you need help with?\n"+
		"bot: I'm collecting a few details so that the right person on our team can help you. Type \"agent\" at any time to talk to a person, or \"stop\" to stop.\n"+
		"bot: Last one: what do you need help with?\n"+
		"bot: On the terminal there is no colleague to hand you over to, so let's go on.\n"+
		"bot: Last one: what do you need help with?\n"+
		"bot: Thank you, Ana Horvat! Someone from our team will get back to you shortly.\n"+
		"bot: Thanks! Our team has your details and will be in touch soon. Type \"agent\" to talk to a person now.\n",
		rest)
	for _, skipped := range []string{"Sendbee is not configured", "VelaFlows is not configured", "Flowdock is not configured"} {
		assert.Contains(t, stderr.String(), skipped)
	}
}

// Flowdock without the flow token that presents leads is a start-up error
// naming the variable; nothing is served.
func TestRun_flowdockNeedsFlowToken(t *testing.T) {
	fd := flowdocktest.NewServer(t)
	var stdout bytes.Buffer
	err := run(t.Context(), strings.NewReader(""), &stdout, io.Discard, env(
		"FLOWDOCK_API_TOKEN", fd.Token(), "FLOWDOCK_API_URL", fd.URL(), "FLOWDOCK_STREAM_URL", fd.StreamURL(),
		"FLOWDOCK_FLOWS", "acme/main"))
	require.EqualError(t, err, "FLOWDOCK_FLOW_TOKEN: leadbot presents leads in acme/main with the flow token of an integration of that flow")
	assert.Empty(t, stdout.String())
	assert.Zero(t, fd.Connections())
}

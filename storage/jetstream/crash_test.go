package jetstream_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/internal/testbin"
	"github.com/parleybot/parley/storage/jetstream"
)

// Shape of the crash test.
const (
	crashMessages    = 2000 // customer messages, each delivered twice
	crashPhones      = 50   // conversations
	crashKills       = 6    // SIGKILLs before the last run
	crashMinRun      = 200 * time.Millisecond
	crashMaxRun      = 1500 * time.Millisecond
	crashInjectBatch = 500                   // messages injected at once…
	crashInjectEvery = time.Second           // …this often (2,000 in 3s)
	crashFirstKill   = 50 * time.Millisecond // the first kill, at most this long after the first reply

	// The last run fails when its progress stands still for crashStall
	// (a message in hand when its process died comes back after the ack
	// wait), or when it has not finished within crashFinalDeadline, a
	// bound for hangs that still make progress.
	crashStall         = jetstream.DefaultAckWait + 30*time.Second
	crashFinalDeadline = 5 * time.Minute
)

// TestCrash proves the durable bot's exactly-once promise across crashes
// of the whole process, embedded NATS server included: every message the
// bot acknowledged to the platform is answered exactly once — none lost,
// none doubled — even when the process is killed at random moments and the
// platform delivers every event twice.
//
// The bot (examples/echobot on Sendbee, built as it is, with
// SENDBEE_RATE_LIMIT raised so that 2,000 replies take seconds) runs as a
// subprocess with PARLEY_DATA_DIR set, so that its queues, deduplication
// records and outbound claims live in an embedded nats-server with file
// storage in a directory that outlives the process. The Sendbee emulator
// plays 50 customers who write 2,000 messages with distinct texts, in
// bursts while the bot is being killed; it delivers every message.received
// event twice (DuplicateDeliveries) and redelivers any attempt that fails
// while the bot is down. The test kills the bot with SIGKILL several times
// — the first time within 50ms of its first reply, then after random run
// times (the seed is logged; PARLEY_CRASH_SEED replays the times, not the
// scheduling) — restarting it on the same address and data directory, then
// lets a last run finish the work and stops it with SIGTERM, expecting a
// clean exit.
//
// The kills catch messages at every stage: delivered by the platform but
// not yet acknowledged, stored but not handled, handled but the reply not
// sent, sent but not recorded as sent (which the restarted bot resolves by
// asking Sendbee, bot.Confirmer). A message in hand when its process died
// is taken again after the ack wait (30s by default), so the last run
// takes at least about that long. The last run must keep making progress:
// it fails when no event is acknowledged and no reply sent for the ack
// wait and 30s more, or when it has not finished within 5 minutes. Its
// speed is not checked: built with -race on a busy 2-core machine the bot
// answers a few dozen messages a second, and a fixed deadline of 60s
// failed there with two thirds of the replies still to send.
//
// The test then checks at the emulator that every event that got a 2xx
// answer was answered by exactly one message with its text in its
// conversation, that no text was sent twice and that nothing was sent that
// no customer wrote; that duplicates were delivered and acknowledged, and
// that at least one kill hit the bot with acknowledged events unanswered.
// Finally it opens the data directory itself and checks that no consumer
// of the inbound and outbound streams has messages left to deliver or
// awaiting acknowledgement: nothing was left that could still be answered.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test builds and kills a bot process; skipped with -short")
	}
	started := time.Now()
	bin := testbin.Build(t, "github.com/parleybot/parley/examples/echobot")
	t.Logf("built the bot in %v", time.Since(started).Round(time.Millisecond))

	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PARLEY_CRASH_SEED"); s != "" {
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "PARLEY_CRASH_SEED")
	}
	t.Logf("seed %d (PARLEY_CRASH_SEED=%d replays the kill moments)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	addr := freeLoopbackAddr(t)
	const apiKey, apiSecret = "crash-key", "crash-secret"
	emu := sendbeetest.NewServer(t,
		sendbeetest.WithoutDemoData(),
		sendbeetest.WithCredentials(apiKey, apiSecret),
		sendbeetest.WithWebhook("http://"+addr+"/webhooks/sendbee"),
		// Only customer messages: the echoes of the bot's own sends would
		// be acknowledged and dropped by the adapter, and only slow the
		// conversations' delivery lanes down.
		sendbeetest.WithWebhookEvents(sendbeetest.EventMessageReceived),
		// The interval doubles per failed attempt (no cap): 15 attempts
		// from 20ms span 20ms·(2¹⁴−1) ≈ 5.5 minutes, far more than any
		// down time here, while the waits that matter — a down time of a
		// second or two — stay under a second or two.
		sendbeetest.WithRedelivery(15, 20*time.Millisecond),
		// The adapter answers 503 with Retry-After: 5 before its Run.
		sendbeetest.WithRetryAfterCap(100*time.Millisecond),
		sendbeetest.WithRateLimit(1_000_000, time.Minute),
	)
	emu.DuplicateDeliveries(1)

	dataDir := t.TempDir()
	env := []string{
		"PATH=/usr/bin:/bin",
		"HOME=" + t.TempDir(),
		"SENDBEE_API_KEY=" + apiKey,
		"SENDBEE_API_SECRET=" + apiSecret,
		"SENDBEE_BASE_URL=" + emu.URL(),
		"SENDBEE_RATE_LIMIT=600000",
		"PARLEY_ADDR=" + addr,
		"PARLEY_DATA_DIR=" + dataDir,
		"PARLEY_LOG_LEVEL=warn",
	}
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bot's standard error:\n%s", logs.tail(256<<10))
		}
	})
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}

	// The customers write while the bot is being killed and restarted.
	injected := make(chan struct{})
	go func() {
		defer close(injected)
		tick := time.NewTicker(crashInjectEvery)
		defer tick.Stop()
		for i := range crashMessages {
			if i > 0 && i%crashInjectBatch == 0 {
				select {
				case <-tick.C:
				case <-t.Context().Done():
					return
				}
			}
			phone := fmt.Sprintf("+1555000%04d", i%crashPhones)
			emu.CustomerMessage(phone, fmt.Sprintf("Customer %d", i%crashPhones), crashText(i))
		}
	}()
	t.Cleanup(func() { <-injected })

	w := &crashWatch{emu: emu, replyOf: map[string]crashReply{}}
	var kills []crashProgress // at each kill
	for run := range crashKills {
		t0 := time.Now()
		bot := startCrashBot(t, bin, env, logs, run)
		bot.waitHealthy(t, hc, addr)
		up := time.Since(t0)
		ran := crashMinRun + time.Duration(rng.Int64N(int64(crashMaxRun-crashMinRun)+1))
		if run == 0 {
			// The first kill lands while the bot works through the first
			// burst: a moment after its first reply.
			bot.waitUntil(t, 10*time.Second, "the bot's first reply", func() bool {
				st := w.progress(t)
				return st.answered > 0 && st.answered < st.acked
			})
			ran = ran % crashFirstKill
		}
		select {
		case <-time.After(ran):
		case <-bot.done:
			t.Fatalf("run %d: the bot exited by itself: %v", run, bot.err)
		}
		ran = time.Since(t0) - up // how long it ran, for the log
		require.NoError(t, bot.cmd.Process.Signal(syscall.SIGKILL))
		<-bot.done
		st := w.progress(t)
		kills = append(kills, st)
		t.Logf("run %d: up after %v, killed after %v: %d/%d events acknowledged, %d answered",
			run, up.Round(time.Millisecond), ran.Round(time.Millisecond), st.acked, st.events, st.answered)
	}

	// The last run finishes the work.
	t0 := time.Now()
	bot := startCrashBot(t, bin, env, logs, crashKills)
	bot.waitHealthy(t, hc, addr)
	<-injected
	deadline := time.Now().Add(crashFinalDeadline)
	nextReport := time.Now().Add(5 * time.Second)
	var last crashProgress
	moved := time.Now() // when last changed
	for {
		st := w.progress(t)
		if st.events == crashMessages && st.settled == st.events && st.answered == st.acked {
			break
		}
		if st != last {
			last, moved = st, time.Now()
		}
		if time.Now().After(nextReport) {
			t.Logf("last run, %v: %d/%d events acknowledged, %d with every copy delivered, %d answered",
				time.Since(t0).Round(time.Second), st.acked, st.events, st.settled, st.answered)
			nextReport = nextReport.Add(5 * time.Second)
		}
		stalled := time.Since(moved) > crashStall
		if stalled || time.Now().After(deadline) {
			why := fmt.Sprintf("did not finish within %v", crashFinalDeadline)
			if stalled {
				why = fmt.Sprintf("made no progress for %v", crashStall)
			}
			t.Errorf("the last run %s: %d/%d events acknowledged, %d with every copy delivered, %d answered",
				why, st.acked, st.events, st.settled, st.answered)
			bot.stop()
			brokerBacklog(t, dataDir)
			t.FailNow()
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-bot.done:
			t.Fatalf("the last run exited by itself: %v", bot.err)
		}
	}
	t.Logf("last run: all events acknowledged and answered %v after its start", time.Since(t0).Round(time.Millisecond))
	require.True(t, bot.stop(), "the bot did not stop within 30s of SIGTERM")
	require.NoError(t, bot.err, "the bot's exit after SIGTERM")

	// What the emulator saw.
	w.progress(t)
	eventOf := w.replyOf // event ID → the reply it asks for
	require.Len(t, eventOf, crashMessages)
	wrote := map[string]int{} // text → events
	for _, r := range eventOf {
		wrote[r.text]++
	}
	for i := range crashMessages {
		require.Equal(t, 1, wrote[crashText(i)], "events with the text %q", crashText(i))
	}

	deliveries := emu.Deliveries()
	okCopies := map[string]map[int]bool{} // event ID → copies answered 2xx
	failed := 0
	for _, d := range deliveries {
		if !d.OK() {
			failed++
			continue
		}
		if okCopies[d.EventID] == nil {
			okCopies[d.EventID] = map[int]bool{}
		}
		okCopies[d.EventID][d.Copy] = true
	}
	dupsDelivered := 0
	for _, c := range okCopies {
		if c[1] {
			dupsDelivered++
		}
	}

	sent := emu.Sent()
	count := map[crashReply]int{}
	known := map[crashReply]bool{}
	for _, r := range eventOf {
		known[r] = true
	}
	for _, m := range sent {
		r := crashReply{m.ConversationID, m.Text}
		count[r]++
		assert.True(t, known[r], "the bot sent %q to %s, which no customer wrote there", m.Text, m.ConversationID)
	}
	var lost, doubled []string
	for id, r := range eventOf {
		if len(okCopies[id]) > 0 && count[r] == 0 {
			lost = append(lost, r.text)
		}
	}
	for r, n := range count {
		if n > 1 {
			doubled = append(doubled, fmt.Sprintf("%s×%d", r.text, n))
		}
	}
	slices.Sort(lost)
	slices.Sort(doubled)
	assert.Empty(t, lost, "acknowledged messages without a reply")
	assert.Empty(t, doubled, "replies sent more than once")
	for _, text := range doubled {
		logSends(t, sent, strings.Split(text, "×")[0])
	}

	// A kill with acknowledged events unanswered hit the bot with work in
	// hand: stored but not handled, or handled but not sent.
	pendingKills := 0
	for _, k := range kills {
		if k.answered < k.acked {
			pendingKills++
		}
	}
	confirms := 0
	for _, r := range emu.Requests() {
		if r.Method == http.MethodGet && r.Path == "/conversations/messages" {
			confirms++
		}
	}
	t.Logf("events %d, acknowledged %d; deliveries %d (%d failed attempts), duplicates delivered and acknowledged %d",
		len(eventOf), len(okCopies), len(deliveries), failed, dupsDelivered)
	t.Logf("kills %d (%d with acknowledged events unanswered); replies %d, distinct %d; confirmation lookups (GET /conversations/messages) %d",
		len(kills), pendingKills, len(sent), len(count), confirms)
	assert.Positive(t, dupsDelivered, "the emulator should have delivered duplicates the bot acknowledged")
	assert.Positive(t, pendingKills, "at least one kill should have hit the bot with acknowledged events unanswered")
	assert.NotContains(t, logs.String(), "WARNING: DATA RACE", "the race detector reported races in the bot")

	// Nothing was left behind: no consumer has work left.
	backlog := brokerBacklog(t, dataDir)
	assert.Len(t, backlog, jetstream.DefaultPartitions+jetstream.DefaultOutboxLanes,
		"consumers: one per inbound partition and outbound lane")
	for consumer, n := range backlog {
		assert.Zero(t, n, "%s still has messages to deliver or awaiting acknowledgement after a clean stop", consumer)
	}
	t.Logf("took %v", time.Since(started).Round(time.Millisecond))
}

// crashText is the text of customer message i.
func crashText(i int) string { return fmt.Sprintf("m-%04d", i) }

// A crashWatch reads the test's progress off the emulator.
type crashWatch struct {
	emu     *sendbeetest.Server
	replyOf map[string]crashReply // event ID → the reply it asks for, as events appear
}

// A crashReply is the reply an event asks for: its text, echoed in its
// conversation.
type crashReply struct{ conv, text string }

// crashProgress is the emulator's view of the inbound events.
type crashProgress struct {
	events   int // message.received events emitted
	acked    int // events with a 2xx answer to some delivery
	settled  int // events whose every copy got a 2xx answer
	answered int // acknowledged events whose reply was sent
}

func (w *crashWatch) progress(t *testing.T) crashProgress {
	t.Helper()
	copies := map[string]map[int]bool{}
	for _, d := range w.emu.Deliveries() {
		if !d.OK() {
			continue
		}
		if copies[d.EventID] == nil {
			copies[d.EventID] = map[int]bool{}
		}
		copies[d.EventID][d.Copy] = true
	}
	sent := map[crashReply]bool{}
	for _, m := range w.emu.Sent() {
		sent[crashReply{m.ConversationID, m.Text}] = true
	}
	var p crashProgress
	for _, ev := range w.emu.Events() {
		if ev.Type != sendbeetest.EventMessageReceived {
			continue
		}
		r, ok := w.replyOf[ev.ID]
		if !ok {
			var payload struct {
				Data struct {
					Body string `json:"body"`
				} `json:"data"`
			}
			require.NoError(t, json.Unmarshal(ev.Payload, &payload), "event %s", ev.ID)
			r = crashReply{ev.ConversationID, payload.Data.Body}
			w.replyOf[ev.ID] = r
		}
		p.events++
		if c := copies[ev.ID]; len(c) > 0 {
			p.acked++
			if c[0] && c[1] {
				p.settled++
			}
			if sent[r] {
				p.answered++
			}
		}
	}
	return p
}

// brokerBacklog opens the stopped bot's data directory and returns, for
// each of its consumers, the messages it still has to deliver or awaits an
// acknowledgement for. It logs the state of a stream that still holds
// messages, and those messages.
func brokerBacklog(t *testing.T, dataDir string) map[string]uint64 {
	t.Helper()
	srv, err := jetstream.StartEmbedded(dataDir)
	require.NoError(t, err)
	defer srv.Shutdown()
	nc, err := srv.Connect()
	require.NoError(t, err)
	defer nc.Close()
	js, err := njs.New(nc)
	require.NoError(t, err)
	backlog := map[string]uint64{}
	for _, name := range []string{jetstream.DefaultBrokerName + "_IN", jetstream.DefaultBrokerName + "_OUT"} {
		s, err := js.Stream(t.Context(), name)
		require.NoError(t, err, name)
		info, err := s.Info(t.Context())
		require.NoError(t, err, name)
		consumers := s.ListConsumers(t.Context())
		for ci := range consumers.Info() {
			backlog[name+"/"+ci.Name] = ci.NumPending + uint64(ci.NumAckPending)
			if info.State.Msgs > 0 {
				t.Logf("%s consumer %s: %d pending, %d awaiting acknowledgement, delivered up to stream sequence %d, acknowledged up to %d",
					name, ci.Name, ci.NumPending, ci.NumAckPending, ci.Delivered.Stream, ci.AckFloor.Stream)
			}
		}
		require.NoError(t, consumers.Err(), name)
		if info.State.Msgs == 0 {
			continue
		}
		t.Logf("%s holds %d messages, sequences %d to %d", name, info.State.Msgs, info.State.FirstSeq, info.State.LastSeq)
		for seq, shown := info.State.FirstSeq, 0; seq <= info.State.LastSeq && shown < 20; seq++ {
			m, err := s.GetMsg(t.Context(), seq)
			if err != nil {
				continue // deleted
			}
			shown++
			t.Logf("%s message %d on %s, Nats-Msg-Id %q, stored %s: %.200s", name, seq, m.Subject,
				m.Header.Get(njs.MsgIDHeader), m.Time.Format(time.RFC3339Nano), m.Data)
		}
	}
	return backlog
}

// logSends logs every send of text, for a doubled reply.
func logSends(t *testing.T, sent []sendbeetest.SentMessage, text string) {
	t.Helper()
	for _, m := range sent {
		if m.Text == text {
			t.Logf("sent %q to %s at %s (message %s)", m.Text, m.ConversationID, m.Time.Format(time.RFC3339Nano), m.MessageID)
		}
	}
}

// freeLoopbackAddr returns a loopback address that was free a moment ago.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// A crashBot is one run of the bot process.
type crashBot struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and err is set
	err  error         // what Wait returned
}

// startCrashBot starts run number run of the bot; its standard error goes
// to logs. The process is killed when the test ends, if still running.
func startCrashBot(t *testing.T, bin string, env []string, logs *lockedBuffer, run int) *crashBot {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin)
	cmd.Env = env
	cmd.Stderr = logs
	cmd.WaitDelay = 5 * time.Second
	fmt.Fprintf(logs, "=== run %d\n", run)
	require.NoError(t, cmd.Start())
	b := &crashBot{cmd: cmd, done: make(chan struct{})}
	go func() {
		b.err = cmd.Wait()
		close(b.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // an error once it has exited
		<-b.done
	})
	return b
}

// stop sends SIGTERM and waits up to 30s for the bot to exit, then kills
// it; it reports whether the bot exited by itself.
func (b *crashBot) stop() bool {
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
		return true
	case <-time.After(30 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
		return false
	}
}

// waitUntil polls cond until it holds; it fails the test after timeout or
// when the bot exits.
func (b *crashBot) waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s in vain", timeout, what)
		}
		select {
		case <-time.After(5 * time.Millisecond):
		case <-b.done:
			t.Fatalf("the bot exited by itself while the test waited for %s: %v", what, b.err)
		}
	}
}

// waitHealthy waits until the bot answers /healthz.
func (b *crashBot) waitHealthy(t *testing.T, hc *http.Client, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := hc.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bot did not answer /healthz within 30s: %v", err)
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-b.done:
			t.Fatalf("the bot exited before it was healthy: %v", b.err)
		}
	}
}

// A lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// tail returns the last n bytes at most.
func (l *lockedBuffer) tail(n int) string {
	s := l.String()
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

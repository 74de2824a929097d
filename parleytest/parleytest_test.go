package parleytest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/parleytest"
)

// waits records the rate-limit waits a Bot reports.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) hook(_ context.Context, _ string, d time.Duration) {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
}

// assertUnpaced checks that no delivery waited longer than a few requests'
// spacing at the test pace (10µs each). At a platform's own pace a second
// reply waits for the first one's second: Sendbee allows one request a
// second. The bound is on the waits the Bot's token bucket computed, not
// on the time the test took.
func (w *waits) assertUnpaced(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, d := range w.d {
		assert.LessOrEqual(t, d, time.Millisecond, "a delivery waited for the rate limit (waits: %v)", w.d)
	}
}

// newBot is a Bot on adapters that echoes customers' messages and reports
// its rate-limit waits to w.
func newBot(t *testing.T, w *waits, adapters ...bot.Adapter) *bot.Bot {
	t.Helper()
	b, err := bot.New(bot.WithAdapters(adapters...), bot.WithLogger(bottest.Logger(t)),
		bot.WithHooks(bot.Hooks{RateLimited: w.hook}))
	require.NoError(t, err)
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, s bot.Sender, m *bot.Message) error {
		if m.Kind.Or() != bot.KindMessage || m.Author.Agent || m.Author.Bot {
			return nil
		}
		return s.Send(ctx, m.Reply("echo: "+m.Text))
	}))
	return b
}

func texts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("hi %d", i)
	}
	return out
}

// Five customer messages get five replies through Sendbee's webhooks and
// API, none of them paced to Sendbee's one request a second, and every
// webhook was accepted at its first delivery: Run returned once the
// adapter served webhooks.
func TestSendbee(t *testing.T) {
	emu := sendbeetest.NewServer(t)
	a := parleytest.Sendbee(t, emu)
	assert.Equal(t, bot.Limits{Requests: parleytest.SendbeeRequestsPerMinute, Per: time.Minute, Burst: 1}, a.Limits(),
		"the adapter declares the test pace")
	var w waits
	b := newBot(t, &w, a)
	parleytest.Run(t, b)

	var want []string
	for _, text := range texts(5) {
		emu.CustomerMessage("+385911234567", "Ana", text)
		want = append(want, "echo: "+text)
	}
	sent := emu.WaitSent(t, 5)
	var got []string
	for _, m := range sent {
		got = append(got, m.Text)
		assert.Equal(t, "+385911234567", m.Phone)
	}
	assert.ElementsMatch(t, want, got)
	w.assertUnpaced(t)
	for _, d := range emu.Deliveries() {
		assert.True(t, d.OK() && d.Attempt == 1, "delivery %s attempt %d: %d %s", d.Type, d.Attempt, d.StatusCode, d.Error)
		assert.True(t, strings.HasSuffix(d.URL, parleytest.SendbeeWebhookPath), d.URL)
	}
}

// A tune function changes the configuration before the adapter is built.
func TestSendbee_tune(t *testing.T) {
	emu := sendbeetest.NewServer(t)
	a := parleytest.Sendbee(t, emu, func(c *sendbee.AdapterConfig) { c.RequestsPerMinute = sendbee.DefaultRateLimit })
	assert.Equal(t, sendbee.DefaultRateLimit, a.Limits().Requests)
}

// Five customer messages get five replies through VelaFlows' webhooks and
// API, within the test's write budget. The webhook subscription was
// registered through the API and is deactivated when the test ends.
func TestVelaFlows(t *testing.T) {
	emu := velaflowstest.NewServer(t)
	t.Run("replies", func(t *testing.T) {
		a := parleytest.VelaFlows(t, emu)
		burst := parleytest.VelaFlowsWritesPer15Min / 20
		assert.Equal(t, bot.Limits{Requests: parleytest.VelaFlowsWritesPer15Min - burst, Per: velaflows.RateLimitWindow, Burst: burst, RedeliveryWindow: 24 * time.Hour},
			a.Limits(), "the adapter declares the test budget")
		subs := emu.Subscriptions()
		require.Len(t, subs, 1)
		assert.True(t, subs[0].Active)
		assert.True(t, subs[0].HasSecret)
		assert.True(t, strings.HasSuffix(subs[0].URL, velaflows.WebhookPath), subs[0].URL)

		var w waits
		b := newBot(t, &w, a)
		parleytest.Run(t, b)
		var want []string
		for _, text := range texts(5) {
			emu.CustomerMessage("whatsapp", "Ada Lovelace", "+442071838750", text)
			want = append(want, "echo: "+text)
		}
		sent := emu.WaitSent(t, 5)
		var got []string
		for _, m := range sent {
			got = append(got, m.Content)
		}
		assert.ElementsMatch(t, want, got)
		w.assertUnpaced(t)
		for _, d := range emu.Deliveries() {
			assert.True(t, d.StatusCode/100 == 2 && d.Error == "" && d.Attempt == 1,
				"delivery %s attempt %d: %d %s", d.EventType, d.Attempt, d.StatusCode, d.Error)
		}
	})
	subs := emu.Subscriptions()
	require.Len(t, subs, 1)
	assert.False(t, subs[0].Active, "the test's end deactivated the subscription")
}

// A message posted in a flow once Run has returned gets its reply in its
// thread; Flowdock declares no rate limit.
func TestFlowdock(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	a := parleytest.Flowdock(t, emu)
	_, limited := any(a).(bot.Limiter)
	assert.False(t, limited, "Flowdock declares no limit")
	var w waits
	b := newBot(t, &w, a)
	parleytest.Run(t, b)

	in, err := emu.Post("acme/main", "dana", "hello")
	require.NoError(t, err)
	sent := emu.WaitSent(t, 1)
	assert.Equal(t, "echo: hello", sent[0].Content)
	assert.Equal(t, "acme/main", sent[0].Flow)
	assert.Equal(t, in.ThreadID, sent[0].ThreadID)
	assert.True(t, a.Health().Connected)
}

// One Bot on the three platforms: Run waits for all of them.
func TestRun_threePlatforms(t *testing.T) {
	sb, vf, fd := sendbeetest.NewServer(t), velaflowstest.NewServer(t), flowdocktest.NewServer(t)
	var w waits
	b := newBot(t, &w, parleytest.Sendbee(t, sb), parleytest.VelaFlows(t, vf), parleytest.Flowdock(t, fd))
	parleytest.Run(t, b)

	sb.CustomerMessage("+385911234567", "Ana", "hi")
	vf.CustomerMessage("email", "Grace Hopper", "grace@example.com", "hello")
	_, err := fd.Post("acme/main", "dana", "hey")
	require.NoError(t, err)
	assert.Equal(t, "echo: hi", sb.WaitSent(t, 1)[0].Text)
	assert.Equal(t, "echo: hello", vf.WaitSent(t, 1)[0].Content)
	assert.Equal(t, "echo: hey", fd.WaitSent(t, 1)[0].Content)
	w.assertUnpaced(t)
}

// The stop function Run returns stops the Bot; the adapters stop
// receiving.
func TestRun_stop(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	a := parleytest.Flowdock(t, emu)
	var w waits
	stop := parleytest.Run(t, newBot(t, &w, a))
	require.NoError(t, stop())
	assert.False(t, a.Health().Connected)
}

package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/metrics"
)

// timeless drops the series whose values depend on timing: histogram
// buckets and sums (the counts stay).
func timeless(samples map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range samples {
		if strings.Contains(k, "_bucket{") || strings.Contains(k, "_sum{") {
			continue
		}
		out[k] = v
	}
	return out
}

func TestMetrics_Hooks(t *testing.T) {
	alpha, beta := bottest.NewFakeAdapter("alpha"), bottest.NewFakeAdapter("beta")
	beta.SetLimits(bot.Limits{Requests: 1, Per: 200 * time.Millisecond}) // a second send must wait
	m := metrics.New()
	b, err := bot.New(
		bot.WithAdapters(alpha, beta),
		bot.WithLogger(bottest.Logger(t)),
		bot.WithOutbox(bot.OutboxConfig{BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond}),
		bot.WithHooks(m.Hooks()),
	)
	require.NoError(t, err)
	b.HandleFunc(bot.Command("echo"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply(bot.CommandArgs(m)))
	})
	b.HandleFunc(bot.Command("fail"), func(context.Context, bot.Sender, *bot.Message) error {
		return errors.New("boom")
	})
	b.HandleFunc(bot.Command("panic"), func(context.Context, bot.Sender, *bot.Message) error {
		panic("boom")
	})

	reg := prometheus.NewRegistry()
	require.NoError(t, m.Register(reg, b))
	h := metrics.Handler(reg)

	// Before any event: only the Bot's scrape-time metrics, no platform yet.
	assert.Equal(t, map[string]string{
		"parley_outbound_queued_total":         "0",
		"parley_window_fallbacks_total":        "0",
		"parley_window_closed_total":           "0",
		"parley_opt_outs_total":                "0",
		"parley_opt_ins_total":                 "0",
		"parley_outbound_opted_out_total":      "0",
		"parley_outbound_skipped_total":        "0",
		"parley_outbound_confirmed_total":      "0",
		"parley_job_runs_total":                "0",
		"parley_dead_letter_list_size":         "0",
		`parley_queue_depth{queue="inbound"}`:  "0",
		`parley_queue_depth{queue="outbound"}`: "0",
	}, scrape(t, h))

	bottest.Run(t, b)
	ctx := t.Context()
	in := func(platform string) bottest.MessageOption { return bottest.In(platform, "c1") }
	require.NoError(t, alpha.Inject(ctx, bottest.NewMessage("/echo hi", in("alpha"), bottest.WithID("m1"))))
	require.NoError(t, alpha.Inject(ctx, bottest.NewMessage("/echo hi", in("alpha"), bottest.WithID("m1")))) // redelivery
	require.NoError(t, alpha.Inject(ctx, bottest.NewMessage("/fail", in("alpha"))))
	require.NoError(t, alpha.Inject(ctx, bottest.NewMessage("/panic", in("alpha"))))
	require.NoError(t, beta.Inject(ctx, bottest.NewMessage("/echo yo", in("beta"))))
	require.NoError(t, beta.Inject(ctx, bottest.NewMessage("edited", in("beta"), bottest.WithKind(bot.KindEdit))))
	alpha.WaitSent(t, 1)
	beta.WaitSent(t, 1)

	// One retry, then a permanent failure: a dead letter.
	alpha.FailNext(&bot.TemporaryError{Err: errors.New("flaky")}, errors.New("rejected"))
	require.NoError(t, b.Send(ctx, &bot.Message{Platform: "alpha", Conversation: "c2", Text: "lost"}))
	// A human owns c3: the bot's message is suppressed.
	require.NoError(t, b.Handoff(ctx, "alpha", "c3"))
	require.NoError(t, b.Send(ctx, &bot.Message{Platform: "alpha", Conversation: "c3", Text: "muted"}))
	// Beta's rate limit holds its second message back.
	require.NoError(t, b.Send(ctx, &bot.Message{Platform: "beta", Conversation: "c2", Text: "later"}))
	beta.WaitSent(t, 2)

	want := map[string]string{
		`parley_inbound_received_total{kind="message",platform="alpha"}`:                      "3",
		`parley_inbound_received_total{kind="message",platform="beta"}`:                       "1",
		`parley_inbound_received_total{kind="edit",platform="beta"}`:                          "1",
		`parley_inbound_duplicates_total{platform="alpha"}`:                                   "1",
		`parley_inbound_duplicates_total{platform="beta"}`:                                    "0",
		`parley_handled_total{platform="alpha"}`:                                              "3",
		`parley_handled_total{platform="beta"}`:                                               "2",
		`parley_handler_duration_seconds_count{platform="alpha"}`:                             "3",
		`parley_handler_duration_seconds_count{platform="beta"}`:                              "2",
		`parley_handler_errors_total{panic="false",platform="alpha"}`:                         "1",
		`parley_handler_errors_total{panic="true",platform="alpha"}`:                          "1",
		`parley_handler_errors_total{panic="false",platform="beta"}`:                          "0",
		`parley_handler_errors_total{panic="true",platform="beta"}`:                           "0",
		`parley_outbound_sent_total{platform="alpha"}`:                                        "1",
		`parley_outbound_sent_total{platform="beta"}`:                                         "2",
		`parley_send_duration_seconds_count{platform="alpha"}`:                                "1",
		`parley_send_duration_seconds_count{platform="beta"}`:                                 "2",
		`parley_outbound_retries_total{platform="alpha"}`:                                     "1",
		`parley_outbound_retries_total{platform="beta"}`:                                      "0",
		`parley_dead_letters_total{platform="alpha"}`:                                         "1",
		`parley_dead_letters_total{platform="beta"}`:                                          "0",
		`parley_outbound_suppressed_total{platform="alpha"}`:                                  "1",
		`parley_outbound_suppressed_total{platform="beta"}`:                                   "0",
		`parley_ratelimit_waits_total{platform="alpha"}`:                                      "0",
		`parley_ratelimit_wait_seconds_total{platform="alpha"}`:                               "0",
		`parley_ownership_changes_total{owner="human",platform="alpha",source="application"}`: "1",
		"parley_outbound_queued_total":                                                        "5",
		"parley_outbound_skipped_total":                                                       "0",
		"parley_outbound_confirmed_total":                                                     "0",
		"parley_job_runs_total":                                                               "0",
		"parley_window_fallbacks_total":                                                       "0",
		"parley_window_closed_total":                                                          "0",
		"parley_opt_outs_total":                                                               "0",
		"parley_opt_ins_total":                                                                "0",
		"parley_outbound_opted_out_total":                                                     "0",
		"parley_dead_letter_list_size":                                                        "1",
		`parley_queue_depth{queue="inbound"}`:                                                 "0",
		`parley_queue_depth{queue="outbound"}`:                                                "0",
	}
	// The hooks run just after the Bot's own counters move: wait for the
	// metrics themselves.
	var got map[string]string
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		samples, err := exposition(h)
		require.NoError(c, err)
		got = timeless(samples)
		// Beta's waits depend on timing: at least the one, of at most 200ms.
		waits, _ := strconv.Atoi(got[`parley_ratelimit_waits_total{platform="beta"}`])
		assert.GreaterOrEqual(c, waits, 1)
		secs, _ := strconv.ParseFloat(got[`parley_ratelimit_wait_seconds_total{platform="beta"}`], 64)
		assert.Greater(c, secs, 0.0)
		assert.LessOrEqual(c, secs, 0.2*float64(waits))
		delete(got, `parley_ratelimit_waits_total{platform="beta"}`)
		delete(got, `parley_ratelimit_wait_seconds_total{platform="beta"}`)
		assert.Equal(c, want, got)
	}, 2*time.Second, time.Millisecond)

	// The histograms have the documented buckets, from 100µs to 30s.
	samples := scrape(t, h)
	assert.Contains(t, samples, `parley_handler_duration_seconds_bucket{platform="alpha",le="0.0001"}`)
	assert.Contains(t, samples, `parley_handler_duration_seconds_bucket{platform="alpha",le="30"}`)
	assert.Equal(t, "3", samples[`parley_handler_duration_seconds_bucket{platform="alpha",le="+Inf"}`])
	assert.Contains(t, samples, `parley_send_duration_seconds_bucket{platform="beta",le="0.0001"}`)

	// Giving c3 back is a second change, with its own owner label.
	require.NoError(t, b.Resume(ctx, "alpha", "c3"))
	got = scrape(t, h)
	assert.Equal(t, "1", got[`parley_ownership_changes_total{owner="bot",platform="alpha",source="application"}`])
	assert.Equal(t, "1", got[`parley_ownership_changes_total{owner="human",platform="alpha",source="application"}`])
}

func TestMetrics_kindLimit(t *testing.T) {
	m := metrics.New()
	h := m.Hooks()
	for i := range 40 {
		h.Received(t.Context(), &bot.Message{Platform: "p", Kind: bot.Kind("k" + strconv.Itoa(i))})
	}
	h.Received(t.Context(), &bot.Message{Platform: "p"}) // the empty kind is "message"
	h.Received(t.Context(), &bot.Message{Platform: "p", Kind: "k3"})
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(m))
	got := scrape(t, metrics.Handler(reg))
	kinds := 0
	for k := range got {
		if strings.HasPrefix(k, "parley_inbound_received_total{") {
			kinds++
		}
	}
	assert.Equal(t, 32+1, kinds, "32 kinds and other")
	assert.Equal(t, "1", got[`parley_inbound_received_total{kind="message",platform="p"}`])
	assert.Equal(t, "2", got[`parley_inbound_received_total{kind="k3",platform="p"}`])
	assert.Equal(t, "9", got[`parley_inbound_received_total{kind="other",platform="p"}`]) // k31…k39
}

func TestMetrics_Register(t *testing.T) {
	newBot := func(t *testing.T, m *metrics.Metrics) *bot.Bot {
		opts := []bot.Option{bot.WithAdapters(bottest.NewFakeAdapter(""))}
		if m != nil {
			opts = append(opts, bot.WithHooks(m.Hooks()))
		}
		b, err := bot.New(opts...)
		require.NoError(t, err)
		return b
	}
	t.Run("should fail: hooks not taken", func(t *testing.T) {
		m := metrics.New()
		reg := prometheus.NewRegistry()
		assert.ErrorIs(t, m.Register(reg, newBot(t, nil)), metrics.ErrHooksNotInstalled)
		assert.False(t, reg.Unregister(m))
	})
	t.Run("should fail: twice", func(t *testing.T) {
		m := metrics.New()
		b := newBot(t, m)
		reg := prometheus.NewRegistry()
		require.NoError(t, m.Register(reg, b))
		var are prometheus.AlreadyRegisteredError
		assert.ErrorAs(t, m.Register(reg, b), &are)
	})
	t.Run("should fail: beside the totals of NewCollector", func(t *testing.T) {
		m := metrics.New()
		b := newBot(t, m)
		reg := prometheus.NewRegistry()
		require.NoError(t, metrics.Register(reg, b))
		assert.Error(t, m.Register(reg, b))
		assert.False(t, reg.Unregister(m), "nothing of m stays registered")
	})
	t.Run("should fail: the Bot's collector conflicts, m is rolled back", func(t *testing.T) {
		m := metrics.New()
		b := newBot(t, m)
		reg := prometheus.NewRegistry()
		require.NoError(t, reg.Register(prometheus.NewGauge(prometheus.GaugeOpts{Name: "parley_queue_depth", Help: "x"})))
		assert.Error(t, m.Register(reg, b))
		assert.False(t, reg.Unregister(m))
	})
	t.Run("beside other collectors", func(t *testing.T) {
		m := metrics.New()
		b := newBot(t, m)
		reg := prometheus.NewRegistry()
		require.NoError(t, m.Register(reg, b))
		// A NATS collector, such as storage/jetstream's, shares the registry.
		require.NoError(t, reg.Register(prometheus.NewGaugeFunc(
			prometheus.GaugeOpts{Name: "parley_nats_connected", Help: "1 while connected."},
			func() float64 { return 1 })))
		require.NoError(t, reg.Register(metrics.NewStreamCollector("fake", func() metrics.StreamState { return metrics.StreamState{} })))
		assert.Equal(t, "1", scrape(t, metrics.Handler(reg))["parley_nats_connected"])
	})
	t.Run("should panic: nil Bot", func(t *testing.T) {
		assert.PanicsWithValue(t, "metrics: Register with a nil Bot", func() {
			_ = metrics.New().Register(prometheus.NewRegistry(), nil)
		})
	})
}

func TestNew_buckets(t *testing.T) {
	m := metrics.New(metrics.WithHandlerBuckets(0.5, 1), metrics.WithSendBuckets(2))
	h := m.Hooks()
	msg := &bot.Message{Platform: "p"}
	h.Handled(t.Context(), msg, 700*time.Millisecond, nil)
	h.Sent(t.Context(), msg, time.Second)
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(m))
	got := scrape(t, metrics.Handler(reg))
	assert.Equal(t, "0", got[`parley_handler_duration_seconds_bucket{platform="p",le="0.5"}`])
	assert.Equal(t, "1", got[`parley_handler_duration_seconds_bucket{platform="p",le="1"}`])
	assert.Equal(t, "1", got[`parley_send_duration_seconds_bucket{platform="p",le="2"}`])
	assert.NotContains(t, got, `parley_send_duration_seconds_bucket{platform="p",le="0.5"}`)

	assert.PanicsWithValue(t, "metrics: WithHandlerBuckets: buckets not strictly increasing: [1 1]", func() {
		metrics.New(metrics.WithHandlerBuckets(1, 1))
	})
	assert.PanicsWithValue(t, "metrics: WithSendBuckets: buckets not strictly increasing: [2 1]", func() {
		metrics.New(metrics.WithSendBuckets(2, 1))
	})
}

func TestCollector_queueDepth(t *testing.T) {
	b, err := bot.New(bot.WithAdapters(bottest.NewFakeAdapter("")))
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	require.NoError(t, metrics.Register(reg, b))
	// Before Run, published and sent messages wait in the queues.
	for i := range 3 {
		require.NoError(t, b.Publish(t.Context(), bottest.NewMessage(fmt.Sprint("hi ", i))))
	}
	require.NoError(t, b.Send(t.Context(), &bot.Message{Platform: bottest.DefaultPlatform, Conversation: "c", Text: "x"}))
	got := scrape(t, metrics.Handler(reg))
	assert.Equal(t, "3", got[`parley_queue_depth{queue="inbound"}`])
	assert.Equal(t, "1", got[`parley_queue_depth{queue="outbound"}`])
}

func TestNewStreamCollector(t *testing.T) {
	var state metrics.StreamState
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(metrics.NewStreamCollector("flowdock", func() metrics.StreamState { return state })))
	require.NoError(t, reg.Register(metrics.NewStreamCollector("other", func() metrics.StreamState {
		return metrics.StreamState{Connected: true}
	})))
	h := metrics.Handler(reg)

	assert.Equal(t, map[string]string{
		`parley_stream_connected{platform="flowdock"}`:         "0",
		`parley_stream_reconnects_total{platform="flowdock"}`:  "0",
		`parley_stream_id_outliers_total{platform="flowdock"}`: "0",
		`parley_stream_connected{platform="other"}`:            "1",
		`parley_stream_reconnects_total{platform="other"}`:     "0",
		`parley_stream_id_outliers_total{platform="other"}`:    "0",
	}, scrape(t, h), "no last-event time before the first event")

	state = metrics.StreamState{Connected: true, Reconnects: 2, LastEvent: time.Unix(1_700_000_000, 500_000_000),
		Discarded: map[string]int64{"duplicate": 4, "event_id": 0}, IDOutliers: 1}
	got := scrape(t, h)
	assert.Equal(t, "1", got[`parley_stream_connected{platform="flowdock"}`])
	assert.Equal(t, "2", got[`parley_stream_reconnects_total{platform="flowdock"}`])
	assert.Equal(t, "1.7000000005e+09", got[`parley_stream_last_event_timestamp_seconds{platform="flowdock"}`])
	assert.Equal(t, "4", got[`parley_stream_discarded_total{platform="flowdock",reason="duplicate"}`])
	assert.Equal(t, "0", got[`parley_stream_discarded_total{platform="flowdock",reason="event_id"}`])
	assert.Equal(t, "1", got[`parley_stream_id_outliers_total{platform="flowdock"}`])

	err := reg.Register(metrics.NewStreamCollector("flowdock", func() metrics.StreamState { return state }))
	assert.Error(t, err, "one collector per platform")

	assert.PanicsWithValue(t, "metrics: NewStreamCollector needs a platform and a state function", func() {
		metrics.NewStreamCollector("", func() metrics.StreamState { return state })
	})
	assert.PanicsWithValue(t, "metrics: NewStreamCollector needs a platform and a state function", func() {
		metrics.NewStreamCollector("flowdock", nil)
	})
}

// BenchmarkHooks_ReceivedHandled measures what the metrics add to one
// inbound message: the Received and Handled hooks, with the platform's and
// kind's children cached.
func BenchmarkHooks_ReceivedHandled(b *testing.B) {
	h := metrics.New().Hooks()
	ctx := context.Background()
	m := bottest.NewMessage("hi")
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h.Received(ctx, m)
			h.Handled(ctx, m, 3*time.Millisecond, nil)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h.Received(ctx, m)
				h.Handled(ctx, m, 3*time.Millisecond, nil)
			}
		})
	})
	b.Run("parallel/4 platforms", func(b *testing.B) {
		msgs := make([]*bot.Message, 4)
		for i := range msgs {
			msgs[i] = bottest.NewMessage("hi", bottest.In("p"+strconv.Itoa(i), "c"))
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				m := msgs[i%len(msgs)]
				h.Received(ctx, m)
				h.Handled(ctx, m, 3*time.Millisecond, nil)
				i++
			}
		})
	})
}

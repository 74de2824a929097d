package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parleybot/parley/bot"
)

// counter pairs a metric description with the bot.Stats field it reports.
type counter struct {
	desc  *prometheus.Desc
	value func(bot.Stats) int64
	// hooked: [Metrics] counts this total by platform, so a collector
	// registered beside it leaves it out.
	hooked bool
}

func newCounter(name, help string, hooked bool, value func(bot.Stats) int64) counter {
	return counter{desc: prometheus.NewDesc(name, help, nil, nil), value: value, hooked: hooked}
}

// collector exports a Bot's counters and queue gauges. It holds no state of
// its own: every scrape reads a fresh [bot.Bot.Stats] snapshot.
type collector struct {
	b        *bot.Bot
	counters []counter
	dead     *prometheus.Desc
	depth    *prometheus.Desc
}

// NewCollector returns a prometheus.Collector that reports b's counters
// ([bot.Stats]) as process-wide totals, the size of its dead-letter list
// (parley_dead_letter_list_size) and the depth of its queues
// (parley_queue_depth{queue="inbound"|"outbound"}, from [bot.Bot.Pending]).
// It is the way to export a Bot built without the hooks of a [Metrics];
// with them, use [Metrics.Register], which exports the same totals by
// platform (and kind) under the same names, with latency histograms.
//
// The collector adds nothing to the message path: the Bot already counts
// with atomic adds, and the collector reads them only when it is scraped,
// through [bot.Bot.Stats], [bot.Bot.DeadLetterCount] and [bot.Bot.Pending].
// Collect is safe for concurrent use, so one collector may serve parallel
// scrapes.
//
// Register it on the application's own registry (prometheus.NewRegistry()),
// not the global default one; see [Register]. Registering two collectors for
// one registry fails, because the metric names are fixed.
func NewCollector(b *bot.Bot) prometheus.Collector {
	if b == nil {
		panic("metrics: NewCollector with a nil Bot")
	}
	return newCollector(b, false)
}

// newCollector returns the collector of b; with hooked, it leaves out the
// totals that a Metrics counts by platform.
func newCollector(b *bot.Bot, hooked bool) *collector {
	all := []counter{
		newCounter("parley_inbound_received_total",
			"Inbound messages accepted by the Bot.", true,
			func(s bot.Stats) int64 { return s.Received }),
		newCounter("parley_inbound_duplicates_total",
			"Inbound redeliveries acknowledged and not handled (dedup hits).", true,
			func(s bot.Stats) int64 { return s.Duplicates }),
		newCounter("parley_handled_total",
			"Inbound messages whose routing finished.", true,
			func(s bot.Stats) int64 { return s.Handled }),
		newCounter("parley_handler_errors_total",
			"Handler calls that failed or panicked.", true,
			func(s bot.Stats) int64 { return s.HandlerErrors }),
		newCounter("parley_handler_panics_total",
			"Handler calls that panicked (a subset of parley_handler_errors_total).", true,
			func(s bot.Stats) int64 { return s.Panics }),
		newCounter("parley_outbound_queued_total",
			"Outbound messages accepted by Send.", false,
			func(s bot.Stats) int64 { return s.Queued }),
		newCounter("parley_outbound_sent_total",
			"Outbound messages delivered to their platform.", true,
			func(s bot.Stats) int64 { return s.Sent }),
		newCounter("parley_outbound_skipped_total",
			"Outbound messages not sent because their key was already delivered.", false,
			func(s bot.Stats) int64 { return s.SendSkipped }),
		newCounter("parley_outbound_confirmed_total",
			"Interrupted deliveries the platform confirmed, not sent again.", false,
			func(s bot.Stats) int64 { return s.Confirmed }),
		newCounter("parley_outbound_suppressed_total",
			"Bot messages not sent because a human owns the conversation.", true,
			func(s bot.Stats) int64 { return s.Suppressed }),
		newCounter("parley_outbound_retries_total",
			"Outbound delivery retries.", true,
			func(s bot.Stats) int64 { return s.Retries }),
		newCounter("parley_dead_letters_total",
			"Outbound messages moved to the dead-letter list.", true,
			func(s bot.Stats) int64 { return s.DeadLettered }),
		newCounter("parley_handoffs_total",
			"Conversations that became human-owned.", true,
			func(s bot.Stats) int64 { return s.Handoffs }),
		newCounter("parley_resumes_total",
			"Conversations handed back to the bot.", true,
			func(s bot.Stats) int64 { return s.Resumes }),
		newCounter("parley_job_runs_total",
			"Scheduled job fires run by this process.", false,
			func(s bot.Stats) int64 { return s.JobRuns }),
		newCounter("parley_window_fallbacks_total",
			"Free-form messages outside the customer-service window sent as the fallback template.", false,
			func(s bot.Stats) int64 { return s.WindowFallbacks }),
		newCounter("parley_window_closed_total",
			"Free-form messages not sent because the customer-service window was closed.", false,
			func(s bot.Stats) int64 { return s.WindowClosed }),
		newCounter("parley_opt_outs_total",
			"Customers who opted out with a keyword.", false,
			func(s bot.Stats) int64 { return s.OptOuts }),
		newCounter("parley_opt_ins_total",
			"Customers who opted in again with a keyword.", false,
			func(s bot.Stats) int64 { return s.OptIns }),
		newCounter("parley_outbound_opted_out_total",
			"Proactive messages not sent because the customer opted out.", false,
			func(s bot.Stats) int64 { return s.OptedOut }),
	}
	c := &collector{
		b: b,
		dead: prometheus.NewDesc("parley_dead_letter_list_size",
			"Dead letters held now, awaiting Replay or Discard.", nil, nil),
		depth: prometheus.NewDesc("parley_queue_depth",
			"Messages waiting in this process's queues now: inbound for a handler, outbound for delivery.",
			[]string{"queue"}, nil),
	}
	for _, ctr := range all {
		if !hooked || !ctr.hooked {
			c.counters = append(c.counters, ctr)
		}
	}
	return c
}

// Register registers [NewCollector](b) on reg, which should be the
// application's own registry (prometheus.NewRegistry()). For a Bot built
// with the hooks of a [Metrics], use [Metrics.Register] instead.
func Register(reg prometheus.Registerer, b *bot.Bot) error {
	return reg.Register(NewCollector(b))
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.counters {
		ch <- m.desc
	}
	ch <- c.dead
	ch <- c.depth
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.b.Stats()
	for _, m := range c.counters {
		ch <- prometheus.MustNewConstMetric(m.desc, prometheus.CounterValue, float64(m.value(s)))
	}
	// A shared dead-letter list is counted by its store; a scrape does not
	// wait long for it, and leaves the gauge out when it cannot tell.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	n, err := c.b.DeadLetterCount(ctx)
	cancel()
	if err == nil {
		ch <- prometheus.MustNewConstMetric(c.dead, prometheus.GaugeValue, float64(n))
	}
	in, out := c.b.Pending()
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(in), "inbound")
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(out), "outbound")
}

// Handler returns an http.Handler that serves the metrics gathered from reg
// in the Prometheus exposition formats. A failing collector is reported in
// the response's error list while the other metrics are still served.
// The handler is safe for concurrent use.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parleybot/parley/bot"
)

// counter pairs a metric description with the bot.Stats field it reports.
type counter struct {
	desc  *prometheus.Desc
	value func(bot.Stats) int64
}

func newCounter(name, help string, value func(bot.Stats) int64) counter {
	return counter{desc: prometheus.NewDesc(name, help, nil, nil), value: value}
}

// collector exports a Bot's counters. It holds no state of its own: every
// scrape reads a fresh [bot.Bot.Stats] snapshot.
type collector struct {
	b        *bot.Bot
	counters []counter
	dead     *prometheus.Desc
}

// NewCollector returns a prometheus.Collector that reports b's counters
// ([bot.Stats]) and the size of its dead-letter list.
//
// The collector adds nothing to the message path: the Bot already counts
// with atomic adds, and the collector reads them only when it is scraped,
// through [bot.Bot.Stats] and [bot.Bot.DeadLetters]. Collect is safe for
// concurrent use, so one collector may serve parallel scrapes.
//
// Register it on the application's own registry (prometheus.NewRegistry()),
// not the global default one; see [Register]. Registering two collectors for
// one registry fails, because the metric names are fixed.
//
// Every metric is a process-wide total. Breakdowns by platform or message
// kind, and latency histograms, are not exported yet, because the core
// counts totals only.
func NewCollector(b *bot.Bot) prometheus.Collector {
	if b == nil {
		panic("metrics: NewCollector with a nil Bot")
	}
	return &collector{
		b: b,
		counters: []counter{
			newCounter("parley_inbound_received_total",
				"Inbound messages accepted by the Bot.",
				func(s bot.Stats) int64 { return s.Received }),
			newCounter("parley_inbound_duplicates_total",
				"Inbound redeliveries acknowledged and not handled (dedup hits).",
				func(s bot.Stats) int64 { return s.Duplicates }),
			newCounter("parley_handled_total",
				"Inbound messages whose routing finished.",
				func(s bot.Stats) int64 { return s.Handled }),
			newCounter("parley_handler_errors_total",
				"Handler calls that failed or panicked.",
				func(s bot.Stats) int64 { return s.HandlerErrors }),
			newCounter("parley_handler_panics_total",
				"Handler calls that panicked (a subset of parley_handler_errors_total).",
				func(s bot.Stats) int64 { return s.Panics }),
			newCounter("parley_outbound_queued_total",
				"Outbound messages accepted by Send.",
				func(s bot.Stats) int64 { return s.Queued }),
			newCounter("parley_outbound_sent_total",
				"Outbound messages delivered to their platform.",
				func(s bot.Stats) int64 { return s.Sent }),
			newCounter("parley_outbound_skipped_total",
				"Outbound messages not sent because their key was already delivered.",
				func(s bot.Stats) int64 { return s.SendSkipped }),
			newCounter("parley_outbound_suppressed_total",
				"Bot messages not sent because a human owns the conversation.",
				func(s bot.Stats) int64 { return s.Suppressed }),
			newCounter("parley_outbound_retries_total",
				"Outbound delivery retries.",
				func(s bot.Stats) int64 { return s.Retries }),
			newCounter("parley_dead_letters_total",
				"Outbound messages moved to the dead-letter list.",
				func(s bot.Stats) int64 { return s.DeadLettered }),
			newCounter("parley_handoffs_total",
				"Conversations that became human-owned.",
				func(s bot.Stats) int64 { return s.Handoffs }),
			newCounter("parley_resumes_total",
				"Conversations handed back to the bot.",
				func(s bot.Stats) int64 { return s.Resumes }),
			newCounter("parley_job_runs_total",
				"Scheduled job fires run by this process.",
				func(s bot.Stats) int64 { return s.JobRuns }),
		},
		dead: prometheus.NewDesc("parley_dead_letter_list_size",
			"Dead letters held now, awaiting Replay or Discard.", nil, nil),
	}
}

// Register registers [NewCollector](b) on reg, which should be the
// application's own registry (prometheus.NewRegistry()).
func Register(reg prometheus.Registerer, b *bot.Bot) error {
	return reg.Register(NewCollector(b))
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.counters {
		ch <- m.desc
	}
	ch <- c.dead
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.b.Stats()
	for _, m := range c.counters {
		ch <- prometheus.MustNewConstMetric(m.desc, prometheus.CounterValue, float64(m.value(s)))
	}
	ch <- prometheus.MustNewConstMetric(c.dead, prometheus.GaugeValue, float64(len(c.b.DeadLetters())))
}

// Handler returns an http.Handler that serves the metrics gathered from reg
// in the Prometheus exposition formats. A failing collector is reported in
// the response's error list while the other metrics are still served.
// The handler is safe for concurrent use.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

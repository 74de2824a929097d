package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// A StreamState is the state of a streaming adapter's connection, as a
// [NewStreamCollector] reports it.
type StreamState struct {
	Connected  bool  // a stream is open now
	Reconnects int64 // connects after the first, since the adapter started
	// LastEvent is when the last event or keep-alive arrived; the zero
	// time (none yet) leaves its metric out.
	LastEvent time.Time
	// Discarded counts, by reason, what the stream dropped instead of
	// publishing or keeping it (a message already published, an event id
	// that cannot be sent back, …), with the adapter's own reason names,
	// such as the Flowdock adapter's Health.Discarded.
	Discarded map[string]int64
	// IDOutliers counts the messages published whose id was too far
	// ahead of their conversation's newest to be taken as the stream's
	// position (a corrupt or hostile id, or a jump not yet confirmed).
	IDOutliers int64
}

// NewStreamCollector returns a prometheus.Collector for the connection of
// the streaming adapter called platform. At every scrape it calls state
// and reports:
//
//	parley_stream_connected{platform}                   gauge    1 while a stream is open, else 0
//	parley_stream_reconnects_total{platform}            counter  connects after the first
//	parley_stream_last_event_timestamp_seconds{platform} gauge   Unix time of the last event or keep-alive
//	parley_stream_discarded_total{platform,reason}      counter  what the stream dropped, by reason
//	parley_stream_id_outliers_total{platform}           counter  messages published with an id too far ahead to adopt
//
// The metrics package imports no adapter, so the application maps the
// adapter's own health report, as for the Flowdock stream:
//
//	metrics.NewStreamCollector("flowdock", func() metrics.StreamState {
//		h := fd.Health()
//		return metrics.StreamState{Connected: h.Connected, Reconnects: h.Reconnects, LastEvent: h.LastEvent,
//			Discarded: h.Discarded, IDOutliers: h.IDOutliers}
//	})
//
// Collectors for several streaming adapters may share one registry, as the
// platform label is fixed per collector; two for the same platform
// conflict. state must be safe for concurrent use and must not block. It
// panics if platform is empty or state is nil.
func NewStreamCollector(platform string, state func() StreamState) prometheus.Collector {
	if platform == "" || state == nil {
		panic("metrics: NewStreamCollector needs a platform and a state function")
	}
	labels := prometheus.Labels{"platform": platform}
	return &streamCollector{
		state: state,
		connected: prometheus.NewDesc("parley_stream_connected",
			"1 while the adapter's stream is open, else 0.", nil, labels),
		reconnects: prometheus.NewDesc("parley_stream_reconnects_total",
			"Stream connects after the first.", nil, labels),
		lastEvent: prometheus.NewDesc("parley_stream_last_event_timestamp_seconds",
			"Unix time of the last event or keep-alive the stream received.", nil, labels),
		discarded: prometheus.NewDesc("parley_stream_discarded_total",
			"Events, messages and event ids the stream dropped instead of publishing or keeping, by reason.",
			[]string{"reason"}, labels),
		outliers: prometheus.NewDesc("parley_stream_id_outliers_total",
			"Messages the stream published whose id was too far ahead of their conversation's newest to be taken as its position.",
			nil, labels),
	}
}

type streamCollector struct {
	state                                                 func() StreamState
	connected, reconnects, lastEvent, discarded, outliers *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *streamCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.connected
	ch <- c.reconnects
	ch <- c.lastEvent
	ch <- c.discarded
	ch <- c.outliers
}

// Collect implements prometheus.Collector.
func (c *streamCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.state()
	var up float64
	if s.Connected {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(c.reconnects, prometheus.CounterValue, float64(s.Reconnects))
	ch <- prometheus.MustNewConstMetric(c.outliers, prometheus.CounterValue, float64(s.IDOutliers))
	if !s.LastEvent.IsZero() {
		ch <- prometheus.MustNewConstMetric(c.lastEvent, prometheus.GaugeValue, float64(s.LastEvent.UnixNano())/1e9)
	}
	for reason, n := range s.Discarded {
		ch <- prometheus.MustNewConstMetric(c.discarded, prometheus.CounterValue, float64(n), reason)
	}
}

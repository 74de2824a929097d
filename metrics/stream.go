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
}

// NewStreamCollector returns a prometheus.Collector for the connection of
// the streaming adapter called platform. At every scrape it calls state
// and reports:
//
//	parley_stream_connected{platform}                   gauge    1 while a stream is open, else 0
//	parley_stream_reconnects_total{platform}            counter  connects after the first
//	parley_stream_last_event_timestamp_seconds{platform} gauge   Unix time of the last event or keep-alive
//	parley_stream_discarded_total{platform,reason}      counter  what the stream dropped, by reason
//
// The metrics package imports no adapter, so the application maps the
// adapter's own health report, as for the Flowdock stream:
//
//	metrics.NewStreamCollector("flowdock", func() metrics.StreamState {
//		h := fd.Health()
//		return metrics.StreamState{Connected: h.Connected, Reconnects: h.Reconnects, LastEvent: h.LastEvent,
//			Discarded: h.Discarded}
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
	}
}

type streamCollector struct {
	state                                       func() StreamState
	connected, reconnects, lastEvent, discarded *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *streamCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.connected
	ch <- c.reconnects
	ch <- c.lastEvent
	ch <- c.discarded
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
	if !s.LastEvent.IsZero() {
		ch <- prometheus.MustNewConstMetric(c.lastEvent, prometheus.GaugeValue, float64(s.LastEvent.UnixNano())/1e9)
	}
	for reason, n := range s.Discarded {
		ch <- prometheus.MustNewConstMetric(c.discarded, prometheus.CounterValue, float64(n), reason)
	}
}

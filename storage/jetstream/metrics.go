package jetstream

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleybot/parley/metrics"
)

// natsCollector reports a NATS connection's state and a Broker's backlog.
type natsCollector struct {
	nc                             *nats.Conn
	br                             *Broker // nil: no backlog metrics
	connected, reconnects, in, out *prometheus.Desc
	pending                        *prometheus.Desc
}

// NewCollector returns a prometheus.Collector of the state of nc and, when
// br is not nil, the backlog of br's streams, read at scrape time:
//
//	parley_nats_connected               1 while connected, else 0
//	parley_nats_reconnects_total        reconnections of the connection
//	parley_nats_in_messages_total       messages received on it
//	parley_nats_out_messages_total      messages sent on it
//	parley_broker_pending_messages      messages stored and not yet finished,
//	                                    {stream="in"|"out"}, across all replicas
//
// The backlog is read from the server with a stream info request, bounded
// by two seconds, on every scrape; a failed request leaves it out of that
// scrape.
func NewCollector(nc *nats.Conn, br *Broker) prometheus.Collector {
	return &natsCollector{
		nc: nc, br: br,
		connected:  prometheus.NewDesc("parley_nats_connected", "Whether the NATS connection is up (1) or not (0).", nil, nil),
		reconnects: prometheus.NewDesc("parley_nats_reconnects_total", "Reconnections of the NATS connection.", nil, nil),
		in:         prometheus.NewDesc("parley_nats_in_messages_total", "Messages received on the NATS connection.", nil, nil),
		out:        prometheus.NewDesc("parley_nats_out_messages_total", "Messages sent on the NATS connection.", nil, nil),
		pending: prometheus.NewDesc("parley_broker_pending_messages",
			"Messages stored in the broker's stream and not yet finished, across all replicas.", []string{"stream"}, nil),
	}
}

func (c *natsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.connected
	ch <- c.reconnects
	ch <- c.in
	ch <- c.out
	if c.br != nil {
		ch <- c.pending
	}
}

func (c *natsCollector) Collect(ch chan<- prometheus.Metric) {
	up := 0.0
	if c.nc.IsConnected() {
		up = 1
	}
	st := c.nc.Stats()
	ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(c.reconnects, prometheus.CounterValue, float64(st.Reconnects))
	ch <- prometheus.MustNewConstMetric(c.in, prometheus.CounterValue, float64(st.InMsgs))
	ch <- prometheus.MustNewConstMetric(c.out, prometheus.CounterValue, float64(st.OutMsgs))
	if c.br == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range []struct{ label, name string }{{"in", c.br.cfg.name + "_IN"}, {"out", c.br.cfg.name + "_OUT"}} {
		str, err := c.br.js.Stream(ctx, s.name)
		if err != nil {
			continue
		}
		info, err := str.Info(ctx)
		if err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(info.State.Msgs), s.label)
	}
}

// ConnectedCheck is a readiness check ([metrics.Readyz]) that fails while nc
// is not connected.
func ConnectedCheck(nc *nats.Conn) metrics.Check {
	return metrics.ConnectedCheck("nats", nc.IsConnected)
}

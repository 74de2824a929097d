package metrics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleybot/parley/bot"
)

// defaultBuckets are the latency buckets of the histograms, in seconds:
// from 100µs (a handler that answers from memory) to 30s (the default
// handler timeout).
var defaultBuckets = []float64{
	0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05,
	0.1, 0.25, 0.5,
	1, 2.5, 5,
	10, 30,
}

// Label-value limits: past them a new value is counted under otherLabel, so
// that an adapter with a runaway Kind cannot blow up the series count.
const (
	maxKinds   = 32 // distinct message kinds per platform
	maxSources = 32 // distinct (owner, source) pairs per platform
	otherLabel = "other"
)

// ErrHooksNotInstalled is returned by [Metrics.Register] when
// [Metrics.Hooks] was never called, so that the metrics would stay at zero
// forever: pass bot.WithHooks(m.Hooks()) to bot.New first.
var ErrHooksNotInstalled = errors.New("metrics: register: Hooks was never called; pass bot.WithHooks(m.Hooks()) to bot.New")

// An Option configures [New].
type Option func(*options)

type options struct {
	handlerBuckets, sendBuckets []float64
}

// WithHandlerBuckets sets the upper bounds, in seconds, of the buckets of
// parley_handler_duration_seconds. They must be strictly increasing; New
// panics otherwise.
func WithHandlerBuckets(buckets ...float64) Option {
	return func(o *options) { o.handlerBuckets = buckets }
}

// WithSendBuckets sets the upper bounds, in seconds, of the buckets of
// parley_send_duration_seconds. They must be strictly increasing; New
// panics otherwise.
func WithSendBuckets(buckets ...float64) Option {
	return func(o *options) { o.sendBuckets = buckets }
}

// Metrics are the per-platform Prometheus metrics of one Bot, fed by the
// [bot.Hooks] that [Metrics.Hooks] returns. Make them with [New], pass
// their hooks to bot.New with bot.WithHooks, then register them, with the
// Bot's scrape-time gauges, by [Metrics.Register]:
//
//	m := metrics.New()
//	b, err := bot.New(bot.WithAdapters(a), bot.WithHooks(m.Hooks()))
//	…
//	reg := prometheus.NewRegistry()
//	if err := m.Register(reg, b); err != nil { … }
//
// The metrics, all labelled with the message's platform (the adapter's
// name, Message.Platform: "sendbee" for a platform's default instance,
// "sendbee/acme" for a named one, each a series of its own; sum by a
// label_replace of the part before the slash for a platform's total), are:
//
//	parley_inbound_received_total{platform,kind}          counter    inbound messages accepted
//	parley_inbound_duplicates_total{platform}             counter    redeliveries acknowledged, not handled
//	parley_handled_total{platform}                        counter    inbound messages whose routing finished
//	parley_handler_duration_seconds{platform}             histogram  routing time, handlers included
//	parley_handler_errors_total{platform,panic}           counter    failed handler calls; panic="true" for panics
//	parley_outbound_sent_total{platform}                  counter    outbound messages delivered
//	parley_send_duration_seconds{platform}                histogram  first attempt to delivery, retries included
//	parley_outbound_retries_total{platform}               counter    delivery retries
//	parley_dead_letters_total{platform}                   counter    messages moved to the dead-letter list
//	parley_outbound_suppressed_total{platform}            counter    bot messages not sent: a human owns the conversation
//	parley_ratelimit_waits_total{platform}                counter    deliveries that waited for a rate limit
//	parley_ratelimit_wait_seconds_total{platform}         counter    seconds of those waits, as planned when each began
//	parley_ownership_changes_total{platform,owner,source} counter    conversations that changed owner
//
// The histograms' buckets run from 100µs to 30s (0.0001, 0.00025, 0.0005,
// 0.001, … 10, 30; see [WithHandlerBuckets] and [WithSendBuckets]).
//
// kind is the message's [bot.Kind] ("message" when empty); owner is "bot"
// or "human"; source is the core's reason for the change ("application",
// "platform", "handoff reply", "idle timeout", …). No label ever carries
// message text, IDs or conversation names. A platform that keeps sending
// new kinds has those past the 32nd counted as kind="other" (likewise
// ownership sources).
//
// A platform's series appear, at zero, with its first event (its kinds
// and ownership changes, with their first occurrence). The hooks
// cache each platform's child metrics, so an event costs an atomic load, a
// map lookup and the metric's own atomic adds; the Bot calls them
// concurrently from its workers and lanes. A Metrics serves one Bot:
// installing its hooks on two Bots merges their counts.
//
// Metrics implements prometheus.Collector for the metrics above only.
type Metrics struct {
	received       *prometheus.CounterVec
	duplicates     *prometheus.CounterVec
	handled        *prometheus.CounterVec
	handlerSeconds *prometheus.HistogramVec
	handlerErrors  *prometheus.CounterVec
	sent           *prometheus.CounterVec
	sendSeconds    *prometheus.HistogramVec
	retries        *prometheus.CounterVec
	deadLetters    *prometheus.CounterVec
	suppressed     *prometheus.CounterVec
	rateWaits      *prometheus.CounterVec
	rateSeconds    *prometheus.CounterVec
	ownerChanges   *prometheus.CounterVec

	platforms cache[string, *platform]
	hooked    atomic.Bool
}

// New returns Metrics with no series yet. It panics if an option's
// buckets are not strictly increasing.
func New(opts ...Option) *Metrics {
	o := options{handlerBuckets: defaultBuckets, sendBuckets: defaultBuckets}
	for _, opt := range opts {
		opt(&o)
	}
	checkBuckets("WithHandlerBuckets", o.handlerBuckets)
	checkBuckets("WithSendBuckets", o.sendBuckets)
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, append([]string{"platform"}, labels...))
	}
	histogram := func(name, help string, buckets []float64) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, []string{"platform"})
	}
	return &Metrics{
		received: counter("parley_inbound_received_total",
			"Inbound messages accepted by the Bot.", "kind"),
		duplicates: counter("parley_inbound_duplicates_total",
			"Inbound redeliveries acknowledged and not handled (dedup hits)."),
		handled: counter("parley_handled_total",
			"Inbound messages whose routing finished."),
		handlerSeconds: histogram("parley_handler_duration_seconds",
			"Routing time of inbound messages, handlers included.", o.handlerBuckets),
		handlerErrors: counter("parley_handler_errors_total",
			"Handler calls that failed; panic=\"true\" for those that panicked.", "panic"),
		sent: counter("parley_outbound_sent_total",
			"Outbound messages delivered to their platform."),
		sendSeconds: histogram("parley_send_duration_seconds",
			"Time from an outbound message's first delivery attempt to the platform's answer, retries included.", o.sendBuckets),
		retries: counter("parley_outbound_retries_total",
			"Outbound delivery retries."),
		deadLetters: counter("parley_dead_letters_total",
			"Outbound messages moved to the dead-letter list."),
		suppressed: counter("parley_outbound_suppressed_total",
			"Bot messages not sent because a human owns the conversation."),
		rateWaits: counter("parley_ratelimit_waits_total",
			"Outbound deliveries that waited for the platform's rate limit."),
		rateSeconds: counter("parley_ratelimit_wait_seconds_total",
			"Seconds of rate-limit waits, as planned when each wait began."),
		ownerChanges: counter("parley_ownership_changes_total",
			"Conversations that changed owner, by new owner and reason.", "owner", "source"),
	}
}

func checkBuckets(option string, b []float64) {
	for i := 1; i < len(b); i++ {
		if !(b[i] > b[i-1]) {
			panic(fmt.Sprintf("metrics: %s: buckets not strictly increasing: %v", option, b))
		}
	}
}

// Hooks returns the hooks that feed m. Pass them to bot.New with
// bot.WithHooks. The functions are safe for concurrent use, never block
// and keep no message.
func (m *Metrics) Hooks() bot.Hooks {
	m.hooked.Store(true)
	return bot.Hooks{
		Received:     m.onReceived,
		Duplicate:    m.onDuplicate,
		Handled:      m.onHandled,
		Sent:         m.onSent,
		Retried:      m.onRetried,
		DeadLettered: m.onDeadLettered,
		Suppressed:   m.onSuppressed,
		RateLimited:  m.onRateLimited,
		OwnerChanged: m.onOwnerChanged,
	}
}

// Register registers m and b's scrape-time metrics (see [NewCollector];
// the totals m already counts by platform are left out of it) on reg,
// which should be the application's own registry. It returns
// [ErrHooksNotInstalled] if m.Hooks was never called, and the registry's
// error (a prometheus.AlreadyRegisteredError when called twice) otherwise;
// on error, nothing stays registered.
func (m *Metrics) Register(reg prometheus.Registerer, b *bot.Bot) error {
	if b == nil {
		panic("metrics: Register with a nil Bot")
	}
	if !m.hooked.Load() {
		return ErrHooksNotInstalled
	}
	if err := reg.Register(m); err != nil {
		return err
	}
	if err := reg.Register(newCollector(b, true)); err != nil {
		reg.Unregister(m)
		return err
	}
	return nil
}

// vecs lists m's metric vectors, for Describe and Collect.
func (m *Metrics) vecs() []prometheus.Collector {
	return []prometheus.Collector{
		m.received, m.duplicates, m.handled, m.handlerSeconds, m.handlerErrors,
		m.sent, m.sendSeconds, m.retries, m.deadLetters, m.suppressed,
		m.rateWaits, m.rateSeconds, m.ownerChanges,
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.vecs() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector. It is safe to call while the
// hooks run.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.vecs() {
		c.Collect(ch)
	}
}

// platform holds the child metrics of one platform, made once.
type platform struct {
	name                                   string
	kinds                                  cache[bot.Kind, prometheus.Counter]
	owners                                 cache[ownerSource, prometheus.Counter]
	duplicates, handled, errors, panics    prometheus.Counter
	sent, retries, deadLetters, suppressed prometheus.Counter
	rateWaits, rateSeconds                 prometheus.Counter
	handlerSeconds, sendSeconds            prometheus.Observer
}

type ownerSource struct {
	owner  bot.Owner
	source string
}

// platform returns the children of name, making them on first use.
func (m *Metrics) platform(name string) *platform {
	if p, ok := m.platforms.load(name); ok {
		return p
	}
	return m.platforms.add(name, 0, func() *platform { return m.newPlatform(name) }, nil)
}

func (m *Metrics) newPlatform(name string) *platform {
	p := &platform{
		name:           name,
		duplicates:     m.duplicates.WithLabelValues(name),
		handled:        m.handled.WithLabelValues(name),
		errors:         m.handlerErrors.WithLabelValues(name, "false"),
		panics:         m.handlerErrors.WithLabelValues(name, "true"),
		sent:           m.sent.WithLabelValues(name),
		retries:        m.retries.WithLabelValues(name),
		deadLetters:    m.deadLetters.WithLabelValues(name),
		suppressed:     m.suppressed.WithLabelValues(name),
		rateWaits:      m.rateWaits.WithLabelValues(name),
		rateSeconds:    m.rateSeconds.WithLabelValues(name),
		handlerSeconds: m.handlerSeconds.WithLabelValues(name),
		sendSeconds:    m.sendSeconds.WithLabelValues(name),
	}
	// The usual kind exists from the start, so that rate() over it works.
	p.kinds.add(bot.KindMessage, 0, func() prometheus.Counter {
		return m.received.WithLabelValues(name, string(bot.KindMessage))
	}, nil)
	return p
}

func (m *Metrics) onReceived(_ context.Context, msg *bot.Message) {
	p := m.platform(msg.Platform)
	k := msg.Kind.Or()
	c, ok := p.kinds.load(k)
	if !ok {
		c = p.kinds.add(k, maxKinds, func() prometheus.Counter {
			return m.received.WithLabelValues(p.name, string(k))
		}, func() prometheus.Counter {
			return m.received.WithLabelValues(p.name, otherLabel)
		})
	}
	c.Inc()
}

func (m *Metrics) onDuplicate(_ context.Context, msg *bot.Message) {
	m.platform(msg.Platform).duplicates.Inc()
}

func (m *Metrics) onHandled(_ context.Context, msg *bot.Message, d time.Duration, err error) {
	p := m.platform(msg.Platform)
	p.handled.Inc()
	p.handlerSeconds.Observe(d.Seconds())
	if err != nil {
		if he, ok := errors.AsType[*bot.HandlerError](err); ok && he.Panic != nil {
			p.panics.Inc()
		} else {
			p.errors.Inc()
		}
	}
}

func (m *Metrics) onSent(_ context.Context, msg *bot.Message, d time.Duration) {
	p := m.platform(msg.Platform)
	p.sent.Inc()
	p.sendSeconds.Observe(d.Seconds())
}

func (m *Metrics) onRetried(_ context.Context, msg *bot.Message, _ error) {
	m.platform(msg.Platform).retries.Inc()
}

func (m *Metrics) onDeadLettered(_ context.Context, msg *bot.Message, _ error) {
	m.platform(msg.Platform).deadLetters.Inc()
}

func (m *Metrics) onSuppressed(_ context.Context, msg *bot.Message) {
	m.platform(msg.Platform).suppressed.Inc()
}

func (m *Metrics) onRateLimited(_ context.Context, name string, d time.Duration) {
	p := m.platform(name)
	p.rateWaits.Inc()
	p.rateSeconds.Add(d.Seconds())
}

func (m *Metrics) onOwnerChanged(_ context.Context, name string, o bot.Owner, source string) {
	p := m.platform(name)
	k := ownerSource{o, source}
	c, ok := p.owners.load(k)
	if !ok {
		c = p.owners.add(k, maxSources, func() prometheus.Counter {
			return m.ownerChanges.WithLabelValues(p.name, o.String(), source)
		}, func() prometheus.Counter {
			return m.ownerChanges.WithLabelValues(p.name, o.String(), otherLabel)
		})
	}
	c.Inc()
}

// cache is a copy-on-write map for the hot path: a hit is an atomic load
// and a map lookup with no lock; a miss, rare once every label value has
// been seen, copies the map under a mutex. The zero cache is empty.
type cache[K comparable, V any] struct {
	m  atomic.Pointer[map[K]V]
	mu sync.Mutex
}

func (c *cache[K, V]) load(k K) (V, bool) {
	if p := c.m.Load(); p != nil {
		v, ok := (*p)[k]
		return v, ok
	}
	var zero V
	return zero, false
}

// add returns the value of k, storing create() first if k is absent. When
// limit > 0 and the cache already holds limit keys, it stores nothing and
// returns overflow() instead.
func (c *cache[K, V]) add(k K, limit int, create, overflow func() V) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[K]V
	if p := c.m.Load(); p != nil {
		old = *p
	}
	if v, ok := old[k]; ok {
		return v
	}
	if limit > 0 && len(old) >= limit {
		return overflow()
	}
	next := make(map[K]V, len(old)+1)
	maps.Copy(next, old)
	v := create()
	next[k] = v
	c.m.Store(&next)
	return v
}

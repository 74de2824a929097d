package sendbeetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// A Delivery is one attempt to deliver a webhook event.
type Delivery struct {
	EventID        string `json:"event_id"`
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	URL            string `json:"url"`
	Copy           int    `json:"copy"`        // 0 for the event itself, 1..n for duplicates (DuplicateDeliveries)
	Attempt        int    `json:"attempt"`     // 1 for the first try of this copy, 2.. for redeliveries
	StatusCode     int    `json:"status_code"` // 0 when no response arrived
	Error          string `json:"error,omitempty"`
	// Outcome classifies the attempt; Explain turns a failed one into a
	// line for a person.
	Outcome  Outcome       `json:"outcome"`
	Duration time.Duration `json:"duration_ns"` // from sending the request to the end of the answer or the failure
	Time     time.Time     `json:"time"`        // real time the attempt finished
	Payload  []byte        `json:"-"`           // the JSON body sent
}

// OK reports whether the attempt got a 2xx response.
func (d Delivery) OK() bool { return d.Error == "" && d.StatusCode >= 200 && d.StatusCode < 300 }

// An Event is a webhook event the server emitted, whether or not it was
// delivered anywhere.
type Event struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	ConversationID string          `json:"conversation_id"`
	CreatedAt      time.Time       `json:"created_at"`
	Payload        json.RawMessage `json:"payload"` // the exact JSON body delivered
}

// reorderLane is the single lane all events share while reordering.
const reorderLane = "\x00reorder"

type lane struct {
	queue   []Event
	running bool
}

// deliverer owns webhook delivery: one goroutine per conversation lane that
// has pending events, so that events of one conversation arrive in order
// (FIFO) while different conversations proceed in parallel.
type deliverer struct {
	cfg       *config
	ctx       context.Context
	cancel    context.CancelFunc
	transport *http.Transport
	client    *http.Client
	wg        sync.WaitGroup
	rep       *reporter[Delivery] // nil without an observer

	mu         sync.Mutex
	closed     bool
	url        string
	dups       int
	delay      time.Duration
	reorder    bool
	lanes      map[string]*lane
	held       *Event
	heldGen    int
	holdTimer  *time.Timer
	deliveries []Delivery
	changed    chan struct{}
}

func newDeliverer(cfg *config) *deliverer {
	ctx, cancel := context.WithCancel(context.Background())
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &deliverer{
		cfg: cfg, ctx: ctx, cancel: cancel, transport: t,
		client:  &http.Client{Transport: t, Timeout: cfg.deliveryTimeout},
		url:     cfg.webhookURL,
		lanes:   map[string]*lane{},
		changed: make(chan struct{}),
	}
	if f := cfg.observer; f != nil {
		d.rep = newReporter(func(rec Delivery) {
			rec.Payload = slices.Clone(rec.Payload)
			f(rec)
		}, d.store)
	}
	return d
}

func (d *deliverer) wants(typ string) bool {
	return len(d.cfg.webhookEvents) == 0 || slices.Contains(d.cfg.webhookEvents, typ)
}

// enqueue queues ev for delivery. Caller order is delivery order within a
// conversation, unless reordering is on.
func (d *deliverer) enqueue(ev Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.url == "" || !d.wants(ev.Type) {
		return
	}
	if !d.reorder {
		key := ev.ConversationID
		if d.lanes[reorderLane] != nil {
			// Events released by reordering are still pending: queue
			// behind them so that nothing newer overtakes them.
			key = reorderLane
		}
		d.pushLocked(key, ev)
		return
	}
	if d.held == nil {
		d.held = &ev
		d.heldGen++
		gen := d.heldGen
		d.wg.Add(1)
		d.holdTimer = time.AfterFunc(d.cfg.reorderHold, func() { d.releaseHeld(gen) })
		return
	}
	held := *d.held
	d.releaseLocked()
	d.pushLocked(reorderLane, ev)
	d.pushLocked(reorderLane, held)
}

// releaseLocked forgets the held event and stops its timer.
func (d *deliverer) releaseLocked() {
	d.held = nil
	if d.holdTimer != nil && d.holdTimer.Stop() {
		d.wg.Done()
	}
	d.holdTimer = nil
}

func (d *deliverer) releaseHeld(gen int) {
	defer d.wg.Done()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.held == nil || d.heldGen != gen {
		return
	}
	ev := *d.held
	d.held, d.holdTimer = nil, nil
	d.pushLocked(reorderLane, ev)
}

func (d *deliverer) pushLocked(key string, ev Event) {
	l := d.lanes[key]
	if l == nil {
		l = &lane{}
		d.lanes[key] = l
	}
	l.queue = append(l.queue, ev)
	if !l.running {
		l.running = true
		d.wg.Add(1)
		go d.run(key)
	}
}

func (d *deliverer) run(key string) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		l := d.lanes[key]
		if d.closed || l == nil || len(l.queue) == 0 {
			delete(d.lanes, key)
			d.mu.Unlock()
			return
		}
		ev := l.queue[0]
		l.queue = l.queue[1:]
		url, dups, delay := d.url, d.dups, d.delay
		d.mu.Unlock()
		d.deliver(ev, url, dups, delay)
	}
}

// deliver sends ev (and its duplicates), retrying failed attempts.
func (d *deliverer) deliver(ev Event, url string, dups int, delay time.Duration) {
	if delay > 0 && !d.sleep(delay) {
		return
	}
	for cp := 0; cp <= dups; cp++ {
		for attempt := 1; ; attempt++ {
			start := time.Now()
			status, retryAfter, err := d.post(url, ev.Payload)
			end := time.Now()
			rec := Delivery{
				EventID: ev.ID, Type: ev.Type, ConversationID: ev.ConversationID, URL: url,
				Copy: cp, Attempt: attempt, StatusCode: status, Outcome: classify(status, err),
				Duration: end.Sub(start), Time: end, Payload: ev.Payload,
			}
			if err != nil {
				rec.Error = err.Error()
			}
			d.record(rec, err)
			if rec.OK() {
				break
			}
			if attempt >= d.cfg.attempts || d.ctx.Err() != nil {
				break
			}
			wait := d.cfg.interval << (attempt - 1)
			if (status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests) && retryAfter >= 0 {
				wait = min(retryAfter, d.cfg.retryAfterCap)
			}
			if !d.sleep(wait) {
				return
			}
		}
	}
}

// post makes one signed webhook request. retryAfter is -1 without a
// usable Retry-After header.
func (d *deliverer) post(url string, payload []byte) (status int, retryAfter time.Duration, err error) {
	return postSigned(d.ctx, d.client, url, d.cfg.webhookSecret, d.cfg.clock(), payload)
}

func postSigned(ctx context.Context, client *http.Client, url, secret string, now time.Time, payload []byte) (int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return 0, -1, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Authorization", Token(secret, now))
	req.Header.Set("User-Agent", "sendbeetest-webhooks/1")
	resp, err := client.Do(req)
	if err != nil {
		return 0, -1, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After")), nil
}

// parseRetryAfter reads delay-seconds or an HTTP date; -1 if absent or bad.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return -1
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return -1
}

// sleep waits d or until the server closes; false means it closed.
func (d *deliverer) sleep(wait time.Duration) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-d.ctx.Done():
		return false
	}
}

// record hands rec to the observer's reporter, which reports it (unless
// Close cut the attempt short) and then stores it, so that a Delivery a
// waiter sees has been reported. Without an observer it stores rec. The
// reporter's queue is not bounded: it holds attempts on their way to
// d.deliveries, which keeps every attempt anyway.
func (d *deliverer) record(rec Delivery, err error) {
	if d.rep == nil {
		d.store(rec)
		return
	}
	d.rep.put(rec, !(errors.Is(err, context.Canceled) && d.ctx.Err() != nil))
}

// store adds rec to the deliveries and wakes the waiters.
func (d *deliverer) store(rec Delivery) {
	d.mu.Lock()
	d.deliveries = append(d.deliveries, rec)
	close(d.changed)
	d.changed = make(chan struct{})
	d.mu.Unlock()
	if l := d.cfg.logger; l != nil {
		l.Printf("sendbeetest: webhook %s %s copy=%d attempt=%d -> %s %d in %v %s",
			rec.Type, rec.EventID, rec.Copy, rec.Attempt, rec.Outcome, rec.StatusCode, rec.Duration, rec.Error)
	}
}

// stop abandons pending events and cancels in-flight attempts and waits.
func (d *deliverer) stop() {
	d.mu.Lock()
	d.closed = true
	d.releaseLocked()
	d.lanes = map[string]*lane{}
	d.mu.Unlock()
	d.cancel()
}

// wait waits for every delivery goroutine, closes idle connections, and
// stops the observer's reporter (see reporter.stop).
func (d *deliverer) wait() {
	d.wg.Wait()
	d.transport.CloseIdleConnections()
	d.rep.stop()
}

// SetWebhook changes the URL that receives webhook events; "" stops
// delivery. Events already queued go to the URL current when their delivery
// starts. It returns an error if url is not an absolute http(s) URL.
func (s *Server) SetWebhook(url string) error {
	if url != "" {
		if err := checkWebhookURL(url); err != nil {
			return err
		}
	}
	s.wh.mu.Lock()
	s.wh.url = url
	s.wh.mu.Unlock()
	return nil
}

// DuplicateDeliveries makes the server deliver every event n extra times
// (with the same event id) after it was first delivered, as a platform that
// redelivers at least once would. 0 (the default) turns it off. It applies
// to events whose delivery starts afterwards.
func (s *Server) DuplicateDeliveries(n int) {
	s.wh.mu.Lock()
	s.wh.dups = max(n, 0)
	s.wh.mu.Unlock()
}

// DelayDeliveries makes the server wait d before the first attempt of each
// event. Because events of one conversation are delivered in order, the
// delays add up within a conversation. 0 (the default) turns it off.
func (s *Server) DelayDeliveries(d time.Duration) {
	s.wh.mu.Lock()
	s.wh.delay = max(d, 0)
	s.wh.mu.Unlock()
}

// ReorderDeliveries turns reordering on or off. While it is on, events of
// all conversations share one lane and are delivered in swapped pairs: the
// first event of a pair is held until the second is emitted, then the
// second is delivered before the first. A lone event is released after the
// hold time ([WithReorderHold], 200ms by default). Turning it off releases a
// held event at once and restores FIFO order per conversation.
func (s *Server) ReorderDeliveries(on bool) {
	d := s.wh
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reorder = on
	if !on && d.held != nil && !d.closed {
		ev := *d.held
		d.releaseLocked()
		d.pushLocked(reorderLane, ev)
	}
}

// Deliveries returns every webhook delivery attempt so far, in the order
// the attempts finished. Attempts of different conversations may interleave.
func (s *Server) Deliveries() []Delivery {
	s.wh.mu.Lock()
	defer s.wh.mu.Unlock()
	out := slices.Clone(s.wh.deliveries)
	for i := range out {
		out[i].Payload = slices.Clone(out[i].Payload)
	}
	return out
}

// WaitDeliveries waits until at least n delivery attempts have finished and
// returns them all, or fails tb after the wait timeout ([WithWaitTimeout]).
// It must be called from the test goroutine.
func (s *Server) WaitDeliveries(tb testing.TB, n int) []Delivery {
	tb.Helper()
	timer := time.NewTimer(s.cfg.waitTimeout)
	defer timer.Stop()
	for {
		s.wh.mu.Lock()
		have, ch := len(s.wh.deliveries), s.wh.changed
		s.wh.mu.Unlock()
		if have >= n {
			return s.Deliveries()
		}
		select {
		case <-ch:
		case <-timer.C:
			tb.Fatalf("sendbeetest: waited %v for %d webhook deliveries, got %d", s.cfg.waitTimeout, n, have)
			return nil
		}
	}
}

// Deliver posts payload to targetURL once, synchronously, signed like
// every webhook (X-Authorization with the webhook secret, Content-Type
// application/json), and returns the response status. It is for feeding a
// receiver hand-written payloads (unknown types, malformed bodies); the
// attempt is not recorded in [Server.Deliveries]. A connection error fails
// tb.
func (s *Server) Deliver(tb testing.TB, targetURL string, payload []byte) int {
	tb.Helper()
	status, _, err := postSigned(s.wh.ctx, s.wh.client, targetURL, s.cfg.webhookSecret, s.now(), payload)
	if err != nil {
		tb.Fatalf("sendbeetest: deliver to %s: %v", targetURL, err)
	}
	return status
}

package velaflowstest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// A Delivery is one attempt to deliver a webhook event to a subscription.
type Delivery struct {
	SubscriptionID string `json:"subscriptionId"`
	URL            string `json:"url"`
	EventID        string `json:"eventId"`    // as in Event.ID (without "evt_")
	EventType      string `json:"eventType"`  // the spelling sent
	DeliveryID     string `json:"deliveryId"` // X-Webhook-Delivery-Id, fresh per attempt
	ConversationID string `json:"conversationId"`
	Copy           int    `json:"copy"`       // 0 for the event itself, 1..n for duplicates (DuplicateDeliveries)
	Attempt        int    `json:"attempt"`    // 1 for the first try of this copy, 2.. for retries
	StatusCode     int    `json:"statusCode"` // 0 when no response arrived
	Error          string `json:"error,omitempty"`
	Signature      string `json:"signature,omitempty"` // X-Webhook-Signature; "" when the subscription has no secret
	// Outcome classifies the attempt; Explain turns a failed one into a
	// line for a person.
	Outcome  Outcome       `json:"outcome"`
	Duration time.Duration `json:"durationNs"` // from sending the request to the end of the answer or the failure
	Time     time.Time     `json:"time"`       // real time the attempt finished
	Payload  []byte        `json:"-"`          // the exact body sent
}

// OK reports whether the attempt got a 2xx response.
func (d Delivery) OK() bool { return d.Error == "" && d.StatusCode >= 200 && d.StatusCode < 300 }

// A Subscription is a read-only view of a webhook subscription.
type Subscription struct {
	ID                string    `json:"_id"`
	URL               string    `json:"url"`
	Events            []string  `json:"events"`
	Active            bool      `json:"active"`
	HasSecret         bool      `json:"hasSecret"`
	DeactivatedReason string    `json:"deactivatedReason,omitempty"`
	CreatedAt         time.Time `json:"createdAt"`
}

type subscription struct {
	id, url, secret  string
	events           []string
	active           bool
	reason           string
	failures         int // consecutive permanently failed events
	created, updated time.Time
}

func (sub *subscription) view() Subscription {
	return Subscription{
		ID: sub.id, URL: sub.url, Events: slices.Clone(sub.events), Active: sub.active,
		HasSecret: sub.secret != "", DeactivatedReason: sub.reason, CreatedAt: sub.created,
	}
}

// A job is one event on its way to one subscription.
type job struct {
	ev        Event
	subID     string
	eventType string
	body      []byte
	lane      string
}

type lane struct {
	queue   []job
	running bool
}

type heldJob struct {
	j     job
	gen   int
	timer *time.Timer
}

// deliverer owns the subscriptions and webhook delivery. Each lane (one
// subscription × one conversation, lead or customer) has at most one
// goroutine, which delivers its jobs in order; lanes run in parallel. A job
// that fails its fast attempts moves to a background retry goroutine so
// that it does not hold up its lane for the whole redelivery window.
//
// Lock order: Server.mu, then deliverer.mu. The deliverer never takes
// Server.mu.
type deliverer struct {
	s          *Server
	cfg        *config
	waitCtx    context.Context // cancelled at Close: ends every wait
	cancelWait context.CancelFunc
	reqCtx     context.Context // cancelled after the close grace: ends requests
	cancelReq  context.CancelFunc
	transport  *http.Transport
	client     *http.Client
	wg         sync.WaitGroup
	rep        *reporter[Delivery] // nil without an observer

	mu         sync.Mutex
	closed     bool
	subs       []*subscription
	dups       int
	delay      time.Duration
	reorder    bool
	lanes      map[string]*lane
	held       map[string]*heldJob // per subscription, while reordering
	heldGen    int
	deliveries []Delivery
	changed    chan struct{}
}

func newDeliverer(s *Server) *deliverer {
	d := &deliverer{s: s, cfg: &s.cfg, lanes: map[string]*lane{}, held: map[string]*heldJob{}, changed: make(chan struct{})}
	d.waitCtx, d.cancelWait = context.WithCancel(context.Background())
	d.reqCtx, d.cancelReq = context.WithCancel(context.Background())
	d.transport = http.DefaultTransport.(*http.Transport).Clone()
	d.client = &http.Client{
		Transport: d.transport,
		Timeout:   s.cfg.deliveryTimeout,
		// Redirects are not followed; a 3xx is a failed attempt, as documented.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if f := s.cfg.observer; f != nil {
		d.rep = newReporter(func(rec Delivery) {
			rec.Payload = slices.Clone(rec.Payload)
			f(rec)
		}, d.store)
	}
	return d
}

var eventNameRE = regexp.MustCompile(`^[a-z_]+(\.[a-z_]+){1,2}$`)

// subscriptionProblems validates a subscription's url and events.
func subscriptionProblems(raw string, events []string, allowHTTP bool) []fieldError {
	var errs []fieldError
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		errs = append(errs, fieldError{"url", "url is required"})
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		errs = append(errs, fieldError{"url", "url must be an absolute https URL"})
	case u.Scheme == "http" && !allowHTTP && !isLoopbackHost(u.Hostname()):
		errs = append(errs, fieldError{"url", "url must use https (http is accepted only for localhost)"})
	}
	if len(events) == 0 {
		errs = append(errs, fieldError{"events", "events must list at least one event type"})
	}
	for i, e := range events {
		if !eventNameRE.MatchString(e) {
			errs = append(errs, fieldError{"events." + strconv.Itoa(i), "Invalid event type " + strconv.Quote(e)})
		}
	}
	return errs
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// create adds a subscription; the caller validated it.
func (d *deliverer) create(rawURL, secret string, events []string, now time.Time) *subscription {
	sub := &subscription{
		id: d.s.st.ids.next(now), url: rawURL, secret: secret, events: dedupe(events),
		active: true, created: now, updated: now,
	}
	d.mu.Lock()
	d.subs = append(d.subs, sub)
	d.mu.Unlock()
	return sub
}

func dedupe(in []string) []string {
	out := make([]string, 0, len(in))
	for _, e := range in {
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

func (d *deliverer) subLocked(id string) *subscription {
	for _, sub := range d.subs {
		if sub.id == id {
			return sub
		}
	}
	return nil
}

// eventTypeFor returns the spelling sub receives ev with, or "" if sub
// does not subscribe to ev.
func (d *deliverer) eventTypeFor(sub *subscription, ev Event) string {
	for _, e := range sub.events {
		if e == ev.Type || e == ev.DocsType {
			switch d.cfg.naming {
			case NamingSeed:
				return ev.Type
			case NamingDocs:
				return ev.DocsType
			default:
				return e
			}
		}
	}
	return ""
}

// dispatch queues ev for every active subscription that wants it.
func (d *deliverer) dispatch(ev Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	for _, sub := range d.subs {
		if !sub.active {
			continue
		}
		typ := d.eventTypeFor(sub, ev)
		if typ == "" {
			continue
		}
		d.enqueueLocked(job{ev: ev, subID: sub.id, eventType: typ, body: d.s.payload(ev, typ), lane: sub.id + "|" + ev.lane})
	}
}

func reorderLane(subID string) string { return subID + "|\x00reorder" }

func (d *deliverer) enqueueLocked(j job) {
	rl := reorderLane(j.subID)
	if !d.reorder {
		key := j.lane
		if d.lanes[rl] != nil {
			// Jobs released by reordering are still pending: queue behind
			// them so that nothing newer overtakes them.
			key = rl
		}
		d.pushLocked(key, j)
		return
	}
	h := d.held[j.subID]
	if h == nil {
		d.heldGen++
		gen, subID := d.heldGen, j.subID
		d.wg.Add(1)
		d.held[subID] = &heldJob{j: j, gen: gen, timer: time.AfterFunc(d.cfg.reorderHold, func() { d.releaseHeld(subID, gen) })}
		return
	}
	d.dropHeldLocked(j.subID)
	d.pushLocked(rl, j)
	d.pushLocked(rl, h.j)
}

// dropHeldLocked forgets the held job of a subscription and stops its
// timer.
func (d *deliverer) dropHeldLocked(subID string) {
	h := d.held[subID]
	if h == nil {
		return
	}
	delete(d.held, subID)
	if h.timer.Stop() {
		d.wg.Done()
	}
}

func (d *deliverer) releaseHeld(subID string, gen int) {
	defer d.wg.Done()
	d.mu.Lock()
	defer d.mu.Unlock()
	h := d.held[subID]
	if d.closed || h == nil || h.gen != gen {
		return
	}
	delete(d.held, subID)
	d.pushLocked(reorderLane(subID), h.j)
}

func (d *deliverer) pushLocked(key string, j job) {
	l := d.lanes[key]
	if l == nil {
		l = &lane{}
		d.lanes[key] = l
	}
	l.queue = append(l.queue, j)
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
			if l != nil && d.lanes[key] == l {
				delete(d.lanes, key)
			}
			d.mu.Unlock()
			return
		}
		j := l.queue[0]
		l.queue = l.queue[1:]
		dups, delay := d.dups, d.delay
		d.mu.Unlock()
		d.deliver(j, dups, delay)
	}
}

// progress is where a job stands after an attempt.
type progress int

const (
	delivered progress = iota // a 2xx arrived
	retrying                  // fast attempts failed; slow retries continue in the background
	failed                    // permanently failed
	gone                      // 410: the subscription is now inactive
	stopped                   // the server closed or the subscription went away
)

// deliver sends j and its duplicates.
func (d *deliverer) deliver(j job, dups int, delay time.Duration) {
	if delay > 0 && !d.sleep(delay) {
		return
	}
	for cp := 0; cp <= dups; cp++ {
		if o := d.deliverCopy(j, cp); o == gone || o == stopped {
			return
		}
	}
}

// deliverCopy makes the fast attempts of one copy, then hands a failing
// copy to the slow phase.
func (d *deliverer) deliverCopy(j job, cp int) progress {
	first := time.Now()
	attempt := 1
	for ; ; attempt++ {
		if o := d.attempt(j, cp, attempt); o != failed {
			return o
		}
		if attempt > len(d.cfg.retrySchedule) {
			break
		}
		if !d.sleep(d.cfg.retrySchedule[attempt-1]) {
			return stopped
		}
	}
	if d.cfg.redeliveryWindow <= 0 || time.Since(first) >= d.cfg.redeliveryWindow {
		d.permanentFailure(j.subID)
		return failed
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return stopped
	}
	d.wg.Add(1)
	d.mu.Unlock()
	go d.slowRetries(j, cp, attempt+1, first)
	return retrying
}

// slowRetries retries a copy with doubling waits until the redelivery
// window (counted from the first attempt) ends.
func (d *deliverer) slowRetries(j job, cp, attempt int, first time.Time) {
	defer d.wg.Done()
	window := d.cfg.redeliveryWindow
	var last time.Duration
	if n := len(d.cfg.retrySchedule); n > 0 {
		last = d.cfg.retrySchedule[n-1]
	}
	limit := max(window/24, last, time.Millisecond)
	wait := 2 * last
	if wait <= 0 {
		wait = limit
	}
	for ; ; attempt++ {
		wait = min(wait, limit)
		if time.Since(first)+wait > window {
			d.permanentFailure(j.subID)
			return
		}
		if !d.sleep(wait) {
			return
		}
		if o := d.attempt(j, cp, attempt); o != failed {
			return
		}
		wait *= 2
	}
}

// attempt makes one signed POST of j.
func (d *deliverer) attempt(j job, cp, attempt int) progress {
	d.mu.Lock()
	sub := d.subLocked(j.subID)
	if d.closed || sub == nil || !sub.active {
		d.mu.Unlock()
		return stopped
	}
	target, secret := sub.url, sub.secret
	d.mu.Unlock()

	rec := Delivery{
		SubscriptionID: j.subID, URL: target, EventID: j.ev.ID, EventType: j.eventType, DeliveryID: newUUID(),
		ConversationID: j.ev.ConversationID, Copy: cp, Attempt: attempt, Payload: j.body,
	}
	if secret != "" {
		rec.Signature = Sign(secret, j.body)
	}
	start := time.Now()
	status, err := d.post(target, j.eventType, rec.DeliveryID, rec.Signature, j.body)
	end := time.Now()
	rec.StatusCode, rec.Outcome, rec.Duration, rec.Time = status, classify(status, err), end.Sub(start), end
	if err != nil {
		rec.Error = err.Error()
	}
	d.record(rec, err)

	switch {
	case rec.OK():
		d.mu.Lock()
		sub.failures = 0
		d.mu.Unlock()
		return delivered
	case status == http.StatusGone:
		d.deactivate(j.subID, "receiver answered 410 Gone")
		return gone
	}
	return failed
}

func (d *deliverer) post(target, eventType, deliveryID, signature string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(d.reqCtx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "VelaFlows-Webhook/1.0")
	req.Header.Set("X-Webhook-Event", eventType)
	req.Header.Set("X-Webhook-Delivery-Id", deliveryID)
	if signature != "" {
		req.Header.Set("X-Webhook-Signature", signature)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// Sign returns the X-Webhook-Signature value for body: "sha256=" and the
// lowercase hex HMAC-SHA256 of the raw body, keyed with the secret's bytes
// exactly as configured ("whsec_" prefix included), as VelaFlows documents.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func (d *deliverer) permanentFailure(subID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	sub := d.subLocked(subID)
	if sub == nil || !sub.active {
		return
	}
	sub.failures++
	if d.cfg.autoDeactivate > 0 && sub.failures >= d.cfg.autoDeactivate {
		sub.active, sub.reason, sub.updated = false, "too many consecutive failed events", d.s.now()
		d.cfg.logger.Warn("velaflowstest: subscription deactivated", "subscription", subID, "reason", sub.reason)
	}
}

func (d *deliverer) deactivate(subID, reason string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if sub := d.subLocked(subID); sub != nil && sub.active {
		sub.active, sub.reason, sub.updated = false, reason, d.s.now()
		d.cfg.logger.Warn("velaflowstest: subscription deactivated", "subscription", subID, "reason", reason)
	}
}

// sleep waits d or until the server closes; false means it closed.
func (d *deliverer) sleep(wait time.Duration) bool {
	if wait <= 0 {
		return d.waitCtx.Err() == nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-d.waitCtx.Done():
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
	d.rep.put(rec, !(errors.Is(err, context.Canceled) && d.reqCtx.Err() != nil))
}

// store adds rec to the deliveries, wakes the waiters and logs it.
func (d *deliverer) store(rec Delivery) {
	d.mu.Lock()
	d.deliveries = append(d.deliveries, rec)
	close(d.changed)
	d.changed = make(chan struct{})
	d.mu.Unlock()
	lvl := slog.LevelInfo
	if !rec.OK() {
		lvl = slog.LevelWarn
	}
	d.cfg.logger.LogAttrs(context.Background(), lvl, "velaflowstest: webhook delivery",
		slog.String("subscription", rec.SubscriptionID), slog.String("event_type", rec.EventType),
		slog.String("event_id", rec.EventID), slog.Int("copy", rec.Copy), slog.Int("attempt", rec.Attempt),
		slog.String("outcome", string(rec.Outcome)), slog.Int("status", rec.StatusCode),
		slog.Duration("duration", rec.Duration), slog.String("error", rec.Error))
}

// stop abandons queued jobs and waits, lets attempts in flight finish
// within the close grace, then cancels them and waits for every goroutine,
// and stops the observer's reporter (see reporter.stop).
func (d *deliverer) stop() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	d.lanes = map[string]*lane{}
	for subID := range d.held {
		d.dropHeldLocked(subID)
	}
	d.mu.Unlock()
	d.cancelWait()
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	grace := time.NewTimer(d.cfg.closeGrace)
	select {
	case <-done:
	case <-grace.C:
		d.cancelReq()
		<-done
	}
	grace.Stop()
	d.cancelReq()
	d.transport.CloseIdleConnections()
	d.rep.stop()
}

// DuplicateDeliveries makes the server deliver every event n extra times
// (same eventId, fresh X-Webhook-Delivery-Id) right after the first copy,
// as an at-least-once platform may. 0 (the default) turns it off. It
// applies to events whose delivery starts afterwards. It is safe for
// concurrent use.
func (s *Server) DuplicateDeliveries(n int) {
	s.wh.mu.Lock()
	s.wh.dups = max(n, 0)
	s.wh.mu.Unlock()
}

// DelayDeliveries makes the server wait d before the first attempt of each
// event. Events of one conversation are delivered in order, so the delays
// add up within a conversation. 0 (the default) turns it off. It is safe
// for concurrent use.
func (s *Server) DelayDeliveries(d time.Duration) {
	s.wh.mu.Lock()
	s.wh.delay = max(d, 0)
	s.wh.mu.Unlock()
}

// ReorderDeliveries turns reordering on or off. While it is on, each
// subscription's events (of all conversations) share one lane and are
// delivered in swapped pairs: the first event of a pair is held until the
// next one is emitted, then the second is delivered before the first. A
// lone event is released after the hold time ([WithReorderHold]). Turning
// it off releases held events at once and restores per-conversation FIFO
// order for new events once the released ones are out. It is safe for
// concurrent use.
func (s *Server) ReorderDeliveries(on bool) {
	d := s.wh
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reorder = on
	if on || d.closed {
		return
	}
	for subID, h := range d.held {
		d.dropHeldLocked(subID)
		d.pushLocked(reorderLane(subID), h.j)
	}
}

// Deliveries returns every webhook delivery attempt so far, in the order
// they finished.
func (s *Server) Deliveries() []Delivery {
	s.wh.mu.Lock()
	defer s.wh.mu.Unlock()
	out := slices.Clone(s.wh.deliveries)
	for i := range out {
		out[i].Payload = slices.Clone(out[i].Payload)
	}
	return out
}

// WaitDeliveries waits until at least n delivery attempts have finished
// and returns them all, or fails tb after the wait timeout
// ([WithWaitTimeout]). It must be called from the test goroutine.
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
			tb.Fatalf("velaflowstest: waited %v for %d webhook deliveries, got %d", s.cfg.waitTimeout, n, have)
			return nil
		}
	}
}

// Subscriptions returns every webhook subscription, in creation order.
func (s *Server) Subscriptions() []Subscription {
	s.wh.mu.Lock()
	defer s.wh.mu.Unlock()
	out := make([]Subscription, 0, len(s.wh.subs))
	for _, sub := range s.wh.subs {
		out = append(out, sub.view())
	}
	return out
}

// Subscribe creates a webhook subscription, as POST /webhooks/subscriptions
// would, and returns its ID. secret "" delivers unsigned. It returns an
// error for an invalid URL or event name.
func (s *Server) Subscribe(url, secret string, events ...string) (string, error) {
	if errs := subscriptionProblems(url, events, s.cfg.allowHTTP); len(errs) > 0 {
		return "", errors.New("velaflowstest: Subscribe: " + joinProblems(errs))
	}
	return s.wh.create(url, secret, events, s.now()).id, nil
}

// SetSubscriptionActive activates or deactivates a subscription, as the
// dashboard would (reactivation after automatic deactivation is not
// documented; assumed). It returns an error for an unknown ID.
func (s *Server) SetSubscriptionActive(id string, active bool) error {
	d := s.wh
	d.mu.Lock()
	defer d.mu.Unlock()
	sub := d.subLocked(id)
	if sub == nil {
		return errors.New("velaflowstest: SetSubscriptionActive: no subscription " + id)
	}
	sub.active, sub.updated = active, s.now()
	if active {
		sub.reason, sub.failures = "", 0
	} else {
		sub.reason = "deactivated by the test"
	}
	return nil
}

// Deliver POSTs payload to targetURL once, synchronously, with the headers
// of a real delivery (Content-Type, User-Agent, X-Webhook-Event set to
// eventType, a fresh X-Webhook-Delivery-Id, and X-Webhook-Signature when
// secret is not empty), and returns the response status. It feeds a
// receiver hand-written payloads (unknown event types, malformed bodies);
// the attempt is not recorded. A connection error fails tb.
func (s *Server) Deliver(tb testing.TB, targetURL, secret, eventType string, payload []byte) int {
	tb.Helper()
	sig := ""
	if secret != "" {
		sig = Sign(secret, payload)
	}
	status, err := s.wh.post(targetURL, eventType, newUUID(), sig, payload)
	if err != nil {
		tb.Fatalf("velaflowstest: deliver to %s: %v", targetURL, err)
	}
	return status
}

func joinProblems(errs []fieldError) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Path + ": " + e.Message
	}
	return strings.Join(parts, "; ")
}

package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"
)

// outbox delivers outbound messages. Each platform has its own lanes (a
// conversation always takes the same lane, so its messages keep their
// order), a token bucket built from the adapter's declared Limits, and a
// pause shared by its lanes after a rate-limit answer.
//
// Delivering one message:
//  1. claim its key ("out:<platform>:<key>") with SetIfAbsent; a key that is
//     already claimed was delivered (or is being delivered) and is skipped.
//     A key the Bot minted for the message needs no claim (see deliver);
//  2. re-check ownership: a message to a human-owned conversation is
//     suppressed, unless it is a Relay (a human's words the bot carries);
//  3. wait for the token bucket and any rate-limit pause, then call
//     Adapter.Send;
//  4. on a retryable failure (rate limit, Temporary() errors such as 5xx,
//     a connection refused before anything was sent) wait with exponential
//     backoff and jitter, or the capped Retry-After, and try again; an error
//     whose outcome is unknown (a connection broken after the request was
//     written, a timeout) is not retried blindly: a Confirmer adapter is
//     asked whether the platform has the message, after the last attempt
//     too, and it is sent again only when the platform lacks it;
//  5. on a permanent failure or too many attempts, release the claim and
//     move the message to the dead-letter list;
//  6. on success, apply the ownership change the send caused: a Handoff
//     message, or a platform that reports its automation switched off.
type outbox struct {
	b         *Bot
	cfg       OutboxConfig
	platforms map[string]*platformOut
	// policies is set when some platform has a customer-service window or
	// opt-outs, so that the inbound path of a Bot without one skips them.
	policies bool

	dead *deadLetters
}

type platformOut struct {
	name    string
	adapter Adapter
	window  ServiceWindower  // nil: the platform has no service window
	optOut  OptOutController // nil: the Bot keeps no opt-outs for the platform
	limiter *rate.Limiter    // nil: no declared limit
	lanes   *lanes
	pause   atomic.Int64 // unix nanos before which no lane sends
}

func newOutbox(b *Bot) *outbox {
	o := &outbox{b: b, cfg: b.cfg.outbox, platforms: make(map[string]*platformOut)}
	dls, _ := b.cfg.broker.(DeadLetterStore)
	o.dead = newDeadLetters(dls, o.cfg.DeadLetterLimit)
	for _, a := range b.order {
		po := &platformOut{name: a.Name(), adapter: a, lanes: newLanes(o.cfg.Workers, o.cfg.QueueSize)}
		po.window, _ = a.(ServiceWindower)
		if oc, ok := a.(OptOutController); ok && b.cfg.optOut != nil {
			po.optOut = oc
		}
		o.policies = o.policies || po.window != nil || po.optOut != nil
		if l, ok := a.(Limiter); ok {
			lim := l.Limits()
			if lim.Requests > 0 && lim.Per > 0 {
				burst := max(lim.Burst, 1)
				po.limiter = rate.NewLimiter(rate.Limit(float64(lim.Requests)/lim.Per.Seconds()), burst)
			}
		}
		o.platforms[po.name] = po
	}
	return o
}

// start runs one goroutine per lane; wg tracks them.
func (o *outbox) start(hard context.Context, wg *sync.WaitGroup) {
	for _, po := range o.platforms {
		for _, q := range po.lanes.ch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for m := range q {
					if hard.Err() != nil {
						if o.b.tracer != nil {
							o.b.traces.Delete(m)
						}
						o.deadLetter(hard, po, m, 0, ErrClosed)
						continue
					}
					o.deliver(hard, po, m)
				}
			}()
		}
	}
}

// close stops intake; the lanes drain and their goroutines return.
func (o *outbox) close() {
	for _, po := range o.platforms {
		po.lanes.close()
	}
}

// deliver is the in-memory outbox's delivery of m: claim its key, then
// transmit it, releasing the claim when it fails so that a replay of the
// dead letter is sent. A key the Bot minted for m is not claimed: it is
// unique by construction (a generated key, or a reply index under an
// inbound event whose deduplication entry already makes this handling the
// only one), m was queued once under it, and a later Send of m is turned
// away by Send. Only keys the caller chose, and scheduled jobs' keys (each
// replica fires the job), can arrive twice and need the claim.
func (o *outbox) deliver(ctx context.Context, po *platformOut, m *Message) {
	if o.b.tracer != nil {
		ctx = o.b.dequeued(ctx, m)
	}
	if m.minted != "" && m.minted == m.Key {
		o.transmit(ctx, po, m, time.Time{}, nil, false)
		return
	}
	b := o.b
	claim := joinedKey{"out:", po.name, m.Key}
	fresh, err := claim.claim(ctx, b.keys, b.cfg.dedupTTL)
	if err != nil {
		o.deadLetter(ctx, po, m, 0, err)
		return
	}
	if !fresh {
		b.skipSend(ctx, m)
		return
	}
	o.transmit(ctx, po, m, time.Time{}, func() { _ = claim.delete(context.WithoutCancel(ctx), b.keys) }, false)
}

// transmit re-checks ownership, confirms an in-doubt earlier attempt
// (since not zero) with a Confirmer adapter, then sends m with pacing and
// retries. When it gives up it calls release (if not nil) and then moves
// m to the dead-letter list, in that order, so that a replay of the dead
// letter finds the claim released. When ctx ends first and kept is true
// (a Broker holds m and hands it out again), it returns
// OutcomeInterrupted and does neither; the in-memory outbox (kept false)
// has no other place for m than the dead letters. When the Bot traces,
// the delivery is a span, a child of the span in ctx: the one m was sent
// from.
func (o *outbox) transmit(ctx context.Context, po *platformOut, m *Message, since time.Time, release func(), kept bool) Outcome {
	if o.b.tracer == nil {
		return o.attempt(ctx, po, m, since, release, kept, nil)
	}
	ctx, span := o.b.tracer.Start(ctx, SpanDeliver, trace.WithAttributes(outboundAttrs(m)...))
	out := o.attempt(ctx, po, m, since, release, kept, span)
	span.End()
	return out
}

// attempt is transmit with span, the delivery's span (nil when the Bot
// does not trace).
func (o *outbox) attempt(ctx context.Context, po *platformOut, m *Message, since time.Time, release func(), kept bool, span trace.Span) Outcome {
	b := o.b
	outcome := func(s string) {
		if span != nil {
			span.SetAttributes(AttrOutcome.String(s))
		}
	}
	fail := func(attempts int, err error) Outcome {
		if kept && ctx.Err() != nil {
			b.logger.LogAttrs(ctx, slog.LevelWarn, "delivery interrupted; left to the broker", slog.Any("msg", m),
				slog.Int("attempts", attempts), slog.Any("error", err))
			outcome("interrupted")
			return OutcomeInterrupted
		}
		if release != nil {
			release()
		}
		o.deadLetter(ctx, po, m, attempts, err)
		if span != nil {
			outcome("dead_lettered")
			failed(span, err)
		}
		return OutcomeFailed
	}
	owner, err := o.owner(ctx, m)
	if err != nil {
		return fail(0, err)
	}
	if owner == OwnerHuman && !m.Relay {
		outcome("suppressed")
		b.stats.suppressed.Add(1)
		if h := b.cfg.hooks.Suppressed; h != nil {
			h(ctx, m)
		}
		b.event(EventSuppressed, m, nil)
		b.logger.LogAttrs(ctx, slog.LevelInfo, "bot message suppressed: a human owns the conversation", slog.Any("msg", m))
		return OutcomeSuppressed
	}
	if err := b.refuseOptedOut(ctx, po, m); err != nil {
		var oe *OptedOutError
		if !errors.As(err, &oe) {
			return fail(0, err)
		}
		return o.suppressOptedOut(ctx, m, outcome)
	}
	if !since.IsZero() {
		if c, ok := po.adapter.(Confirmer); ok {
			res, there, err := o.confirm(ctx, po, c, m, since)
			if err != nil {
				return fail(0, fmt.Errorf("%w: confirm an interrupted delivery: %w", ErrOutcomeUnknown, err))
			}
			b.traceEvent(ctx, "parley.confirm", attribute.Bool("parley.delivered", there))
			if there {
				outcome("confirmed")
				return o.confirmed(ctx, po, m, res)
			}
		} else {
			b.logger.LogAttrs(ctx, slog.LevelWarn, "sending again a message whose earlier delivery was interrupted; it may arrive twice", slog.Any("msg", m))
		}
	}

	// out is what goes to the platform: m, or the adapter's fallback
	// template in its place outside the customer-service window; nil
	// until the window is checked, in the first attempt (a lookup of the
	// window on the platform is retried as a send is). The dead letters
	// keep m, so that a replay decides again.
	var out *Message

	hooks := &b.cfg.hooks
	var start time.Time
	if hooks.Sent != nil || b.feed.wants(EventSent) {
		start = time.Now()
	}
	attempts := 0
	var (
		limited time.Time // when the first rate-limit answer came
		unsure  time.Time // when the first attempt of unknown outcome began
	)
	for try := 1; ; try++ {
		actx, aspan := ctx, trace.Span(nil)
		if span != nil {
			actx, aspan = b.tracer.Start(ctx, SpanAttempt, trace.WithAttributes(AttrAttempt.Int(try)))
		}
		if err := o.pace(actx, po); err != nil {
			endAttempt(aspan, "", err)
			return fail(attempts, err)
		}
		began := time.Now()
		var res SendResult
		var err error
		if out == nil {
			out, err = o.windowCheck(actx, po, m, true)
		}
		if err == nil {
			res, err = o.send(actx, po, out)
		}
		if err == nil {
			if aspan != nil {
				aspan.End()
				outcome("sent")
			}
			b.stats.sent.Add(1)
			if out != m {
				b.stats.windowFallbacks.Add(1)
			}
			if hooks.Sent != nil {
				hooks.Sent(ctx, out, time.Since(start))
			}
			if b.feed.wants(EventSent) {
				b.event(EventSent, m, func(e *Event) {
					e.Duration = time.Since(start)
					if out != m {
						e.Reason = fallbackReason
					}
				})
			}
			o.afterSend(ctx, po, out, res)
			return OutcomeSent
		}
		if oe := (*OptedOutError)(nil); errors.As(err, &oe) && po.optOut != nil {
			// The contact unsubscribed on the platform: recorded, and m
			// suppressed, as after a keyword.
			endAttempt(aspan, "opted_out", err)
			if werr := b.recordOptOut(context.WithoutCancel(ctx), po, m.Conversation); werr != nil {
				return fail(attempts, err)
			}
			return o.suppressOptedOut(ctx, m, outcome)
		}
		if wce := (*WindowClosedError)(nil); errors.As(err, &wce) {
			if wce.Err != nil {
				// The platform refused m: its clock closed the window
				// before the Bot's. Forget the record, and send the
				// fallback if there is one.
				_ = windowKey(po.name, m.Conversation).delete(context.WithoutCancel(ctx), b.keys)
				if out == m && ctx.Err() == nil {
					fb, ferr := o.fallback(po, m, wce)
					if ferr == nil {
						endAttempt(aspan, "window_closed", err)
						out = fb
						continue
					}
					err = ferr
				}
			}
			b.stats.windowClosed.Add(1)
			endAttempt(aspan, "", err)
			return fail(attempts, err)
		}
		if ctx.Err() != nil {
			// Cut short: unless the error shows that nothing was sent,
			// the request may have reached the platform.
			if k, _ := o.classify(po, err, attempts+1); k == failUnknown || errors.Is(err, ctx.Err()) {
				err = fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
			}
			endAttempt(aspan, failUnknown.String(), err)
			return fail(attempts+1, err)
		}
		var wait time.Duration
		k, d := o.classify(po, err, attempts+1)
		if k == failServerError {
			if _, ok := po.adapter.(Confirmer); ok {
				k = failUnknown
			} else {
				k = failRetryable
			}
		}
		endAttempt(aspan, k.String(), err)
		switch k {
		case failRateLimited:
			// Not an attempt: the platform asked for time. Bounded by
			// MaxRateLimitWait from the first refusal.
			if limited.IsZero() {
				limited = began
			}
			if time.Since(limited)+d > o.cfg.MaxRateLimitWait {
				return fail(attempts, err)
			}
			wait = d
		case failRetryable:
			attempts++
			if attempts >= o.cfg.MaxAttempts {
				return fail(attempts, err)
			}
			wait = d
		case failUnknown:
			attempts++
			c, ok := po.adapter.(Confirmer)
			if !ok {
				return fail(attempts, fmt.Errorf("%w: %w", ErrOutcomeUnknown, err))
			}
			if unsure.IsZero() {
				unsure = began
			}
			// Give the platform time to finish what it may have started,
			// then ask it — after the last attempt too, so that a message
			// given up is one the platform lacks, safe to replay.
			b.logger.LogAttrs(ctx, slog.LevelWarn, "delivery of unknown outcome; asking the platform", slog.Any("msg", m),
				slog.Int("attempts", attempts), slog.Duration("wait", d), slog.Any("error", err))
			if !sleep(ctx, d) {
				return fail(attempts, fmt.Errorf("%w: %w", ErrOutcomeUnknown, err))
			}
			target := out
			if target == nil { // the window's lookup failed, not a send
				target = m
			}
			res, there, cerr := o.confirm(ctx, po, c, target, unsure)
			if cerr != nil {
				return fail(attempts, fmt.Errorf("%w: confirm: %w (after %w)", ErrOutcomeUnknown, cerr, err))
			}
			b.traceEvent(ctx, "parley.confirm", attribute.Bool("parley.delivered", there))
			if there {
				outcome("confirmed")
				return o.confirmed(ctx, po, target, res)
			}
			if attempts >= o.cfg.MaxAttempts {
				return fail(attempts, err) // the platform lacks it
			}
			wait = 0 // the platform does not have it: send again now
		default:
			return fail(attempts+1, err)
		}
		if !o.retrying(ctx, m, err, attempts, wait) {
			return fail(attempts, err)
		}
	}
}

// suppressOptedOut counts and reports m, not sent because the customer
// opted out, and returns OutcomeSuppressed.
func (o *outbox) suppressOptedOut(ctx context.Context, m *Message, outcome func(string)) Outcome {
	b := o.b
	outcome("suppressed")
	b.stats.optedOut.Add(1)
	if h := b.cfg.hooks.Suppressed; h != nil {
		h(ctx, m)
	}
	b.event(EventSuppressed, m, func(e *Event) { e.Reason = "the customer opted out" })
	b.logger.LogAttrs(ctx, slog.LevelInfo, "message suppressed: the customer opted out", slog.Any("msg", m))
	return OutcomeSuppressed
}

// endAttempt ends an attempt's span, if not nil, recording err and what
// it says about retrying.
func endAttempt(span trace.Span, failure string, err error) {
	if span == nil {
		return
	}
	if err != nil {
		failed(span, err)
		if failure != "" {
			span.SetAttributes(AttrFailure.String(failure))
		}
	}
	span.End()
}

// confirmed records m, which the platform says it holds from an attempt
// whose outcome was unknown: counted in Stats.Confirmed (not as a send,
// nor in the Sent hook), and the ownership change a send causes applied.
func (o *outbox) confirmed(ctx context.Context, po *platformOut, m *Message, res SendResult) Outcome {
	o.b.stats.confirmed.Add(1)
	o.b.event(EventConfirmed, m, nil)
	o.b.logger.LogAttrs(ctx, slog.LevelInfo, "delivery of unknown outcome confirmed by the platform; not sent again", slog.Any("msg", m))
	o.afterSend(ctx, po, m, res)
	return OutcomeSent
}

// retrying counts and reports a retry of m after err, then waits d. It
// reports whether it waited d (false: ctx ended).
func (o *outbox) retrying(ctx context.Context, m *Message, err error, attempts int, d time.Duration) bool {
	b := o.b
	b.stats.retries.Add(1)
	if h := b.cfg.hooks.Retried; h != nil {
		h(ctx, m, err)
	}
	b.event(EventRetry, m, func(e *Event) { e.Attempt, e.Duration, e.Error = attempts, d, errorText(err) })
	b.traceEvent(ctx, "parley.retry", AttrAttempt.Int(attempts), AttrWait.String(d.String()),
		attribute.String("exception.message", err.Error()))
	b.logger.LogAttrs(ctx, slog.LevelWarn, "delivery failed; retrying", slog.Any("msg", m),
		slog.Int("attempts", attempts), slog.Duration("wait", d), slog.Any("error", err))
	return sleep(ctx, d)
}

// owner reads who owns m's conversation for the re-check before sending.
// A failed read is retried with backoff, up to MaxAttempts reads, as a
// failed send is: a Store across the network that cannot be reached (a
// NATS server restarting) is a passing condition, not a reason to give the
// message up.
func (o *outbox) owner(ctx context.Context, m *Message) (Owner, error) {
	b := o.b
	for attempt := 1; ; attempt++ {
		owner, _, err := b.own.get(ctx, m.Platform, m.Conversation)
		if err == nil {
			return owner, nil
		}
		if attempt >= o.cfg.MaxAttempts || ctx.Err() != nil {
			return OwnerUnset, err
		}
		wait := o.backoff(attempt)
		b.stats.retries.Add(1)
		if h := b.cfg.hooks.Retried; h != nil {
			h(ctx, m, err)
		}
		b.event(EventRetry, m, func(e *Event) {
			e.Attempt, e.Duration, e.Error, e.Reason = attempt, wait, errorText(err), "ownership lookup"
		})
		b.traceEvent(ctx, "parley.retry", AttrAttempt.Int(attempt), AttrWait.String(wait.String()),
			attribute.String("exception.message", err.Error()), attribute.String("parley.reason", "ownership lookup"))
		b.logger.LogAttrs(ctx, slog.LevelWarn, "ownership lookup failed; retrying", slog.Any("msg", m),
			slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.Any("error", err))
		if !sleep(ctx, wait) {
			return OwnerUnset, err
		}
	}
}

// confirm asks a Confirmer whether m reached the platform, retrying
// rate-limit and temporary failures as sends are retried: up to
// MaxAttempts tries, rate-limit answers not counted but bounded by
// MaxRateLimitWait. An error it returns means nobody can tell: the caller
// gives m up rather than risk sending it twice.
func (o *outbox) confirm(ctx context.Context, po *platformOut, c Confirmer, m *Message, since time.Time) (SendResult, bool, error) {
	var limited time.Time // when the first rate-limit answer came
	for attempt := 1; ; {
		if err := o.pace(ctx, po); err != nil {
			return SendResult{}, false, err
		}
		began := time.Now()
		res, there, err := c.Delivered(ctx, m, since)
		if err == nil {
			return res, there, nil
		}
		k, wait := o.classify(po, err, attempt)
		switch k {
		case failPermanent:
			return SendResult{}, false, err
		case failRateLimited:
			if limited.IsZero() {
				limited = began
			}
			if time.Since(limited)+wait > o.cfg.MaxRateLimitWait {
				return SendResult{}, false, err
			}
		default:
			if attempt >= o.cfg.MaxAttempts {
				return SendResult{}, false, err
			}
			attempt++
		}
		if !sleep(ctx, wait) {
			return SendResult{}, false, err
		}
	}
}

// send calls the adapter, bounded by SendTimeout when one is set.
func (o *outbox) send(ctx context.Context, po *platformOut, m *Message) (SendResult, error) {
	if o.cfg.SendTimeout <= 0 {
		return po.adapter.Send(ctx, m)
	}
	ctx, cancel := context.WithTimeout(ctx, o.cfg.SendTimeout)
	defer cancel()
	return po.adapter.Send(ctx, m)
}

// pace waits for the platform's rate-limit pause and token bucket. When
// the Bot traces, a wait is an event of the span in ctx.
func (o *outbox) pace(ctx context.Context, po *platformOut) error {
	hook := o.b.cfg.hooks.RateLimited
	if hook == nil && (o.b.feed.wants(EventWaiting) || o.b.tracer != nil) {
		hook = func(context.Context, string, time.Duration) {}
	}
	waits := func(d time.Duration) {
		if hook != nil {
			hook(ctx, po.name, d)
		}
		if o.b.feed.wants(EventWaiting) {
			o.b.feed.emit(&Event{Type: EventWaiting, Platform: po.name, Duration: d})
		}
		o.b.traceEvent(ctx, "parley.rate_limit_wait", AttrWait.String(d.String()))
	}
	if until := po.pause.Load(); until > 0 {
		if d := time.Until(time.Unix(0, until)); d > 0 {
			waits(d)
			if !sleep(ctx, d) {
				return ctx.Err()
			}
		}
	}
	if po.limiter == nil {
		return nil
	}
	if hook == nil {
		return po.limiter.Wait(ctx)
	}
	// Reserve to learn the wait, as Wait would, and report it.
	r := po.limiter.Reserve()
	if !r.OK() {
		return po.limiter.Wait(ctx) // burst 0: Wait reports the error
	}
	d := r.Delay()
	if d <= 0 {
		return nil
	}
	waits(d)
	if !sleep(ctx, d) {
		r.Cancel()
		return ctx.Err()
	}
	return nil
}

// A failKind is what a failed send says about retrying it.
type failKind int

const (
	failPermanent   failKind = iota // the platform refused it: give up
	failRetryable                   // the platform did not act on it: send again
	failRateLimited                 // the platform asked for time: wait, then send again
	failUnknown                     // the platform may have acted on it: ask before sending again
	failServerError                 // the platform answered a server error, perhaps after acting: ask if it can tell, else send again
)

// classify tells what err, the failure of attempt number attempt, says
// about retrying, and how long to wait first. A rate-limit answer also
// pauses every lane of the platform.
//
// An error from a platform's answer is typed by the adapter: a
// RateLimitError is waited for; a TemporaryError says the platform did not
// act, and is sent again; an error with Temporary() true (a 5xx answer) may
// come after the platform acted, so a Confirmer is asked first (without
// one it is sent again); any other answer is permanent. An error without
// an answer is a transport error (a net.Error, such as the clients'
// TransportError, or the connection's own errors): when the connection
// could not even be made (dial, DNS) nothing was sent; after that — a
// connection reset or closed before the answer, a timeout — the request
// may have reached the platform, and its outcome is unknown.
func (o *outbox) classify(po *platformOut, err error, attempt int) (failKind, time.Duration) {
	if rl, ok := errors.AsType[*RateLimitError](err); ok {
		wait := rl.RetryAfter
		if wait <= 0 {
			wait = o.backoff(attempt)
		}
		wait = min(wait, o.cfg.MaxRetryAfter)
		po.pause.Store(time.Now().Add(wait).UnixNano())
		return failRateLimited, wait
	}
	if _, ok := errors.AsType[*TemporaryError](err); ok {
		return failRetryable, o.backoff(attempt)
	}
	if op, ok := errors.AsType[*net.OpError](err); ok {
		if op.Op == "dial" {
			return failRetryable, o.backoff(attempt)
		}
		return failUnknown, o.backoff(attempt)
	}
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return failRetryable, o.backoff(attempt)
	}
	if t, ok := errors.AsType[interface {
		error
		Temporary() bool
	}](err); ok && t.Temporary() {
		if _, isNet := t.(net.Error); !isNet {
			// An answer such as a 5xx: the platform may have acted before
			// it failed.
			return failServerError, o.backoff(attempt)
		}
	}
	if _, ok := errors.AsType[net.Error](err); ok ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, context.DeadlineExceeded) {
		// A *url.Error, a timeout (including SendTimeout's), a connection
		// that ended before the answer.
		return failUnknown, o.backoff(attempt)
	}
	return failPermanent, 0
}

// backoff returns the wait before retry number attempt: BaseBackoff doubled
// per attempt, capped at MaxBackoff, with "equal jitter" (half fixed, half
// random) so that lanes do not retry in lockstep.
func (o *outbox) backoff(attempt int) time.Duration {
	d := o.cfg.BaseBackoff
	for i := 1; i < attempt && d < o.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, o.cfg.MaxBackoff)
	half := d / 2
	return half + rand.N(half+1)
}

// afterSend applies the ownership change a delivered message caused.
func (o *outbox) afterSend(ctx context.Context, po *platformOut, m *Message, res SendResult) {
	b := o.b
	if !m.Handoff && res.Owner != OwnerHuman {
		return
	}
	if m.Handoff && !m.queued.IsZero() {
		// The conversation went back to the bot after the reply was
		// queued: that is the later decision, and the reply no longer
		// hands off.
		at, err := b.own.resumedAt(ctx, m.Platform, m.Conversation)
		if err != nil {
			b.report(ctx, "read owner failed; the handoff reply hands off", err, slog.Any("msg", m))
		} else if at.After(m.queued) {
			b.logger.LogAttrs(ctx, slog.LevelInfo, "handoff reply overtaken: the bot got the conversation back after it was queued",
				slog.Any("msg", m))
			if oc, ok := po.adapter.(OwnerController); ok && res.Owner == OwnerHuman {
				// The send switched the platform's automation off.
				if err := oc.SetOwner(ctx, m.Conversation, OwnerBot); err != nil {
					b.report(ctx, "mirror resume to platform failed", err, slog.Any("msg", m))
				}
			}
			return
		}
	}
	if m.Handoff && res.Owner != OwnerHuman {
		if oc, ok := po.adapter.(OwnerController); ok {
			if err := oc.SetOwner(ctx, m.Conversation, OwnerHuman); err != nil {
				b.report(ctx, "mirror handoff to platform failed", err, slog.Any("msg", m))
			}
		}
	}
	source := "handoff reply"
	if !m.Handoff {
		source = "platform (send switched its automation off)"
	}
	if err := b.recordOwner(ctx, m.Platform, m.Conversation, OwnerHuman, source); err != nil {
		b.report(ctx, "record owner failed", err, slog.Any("msg", m))
	}
}

// sleep waits d or until ctx is done, and reports whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

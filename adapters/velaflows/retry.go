package velaflows

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/internal/apiclient"
)

// Defaults of [RetryPolicy]. DefaultMaxAttempts and DefaultBaseDelay give
// the schedule of the with_retry helper of VelaFlows' Python examples: three retries,
// waiting 2^attempt seconds plus up to one second of jitter.
const (
	DefaultMaxAttempts   = 4
	DefaultBaseDelay     = time.Second
	DefaultMaxDelay      = 30 * time.Second
	DefaultMaxRetryAfter = time.Minute
)

// A RetryPolicy says when and how long to wait before a failed call is
// sent again. Set it in [Config.Retry] to retry calls automatically, or
// pass it to [WithRetry] to retry any function. The zero value of a field
// selects its default; a negative value is an error.
//
// A call is retried when it failed with
//   - a 5xx answer ([APIError.Temporary]),
//   - a 429 answer ([*bot.RateLimitError]), or
//   - a transport error: no answer arrived (connection refused or reset,
//     DNS failure, the HTTP client's timeout).
//
// Any other 4xx answer, a [*ValidationError] and the end of the caller's
// context are never retried. The wait before retry n (1-based) is
// BaseDelay·2^(n-1) plus a random jitter in [0, BaseDelay), capped at
// MaxDelay; a 429 waits its Retry-After instead (or, without one, until
// X-RateLimit-Reset). A 429 whose wait exceeds MaxRetryAfter is returned at
// once rather than slept on, so the caller can schedule the work later. A
// done context ends the wait at once.
//
// Automatic retries ([Config.Retry]) apply only to idempotent methods —
// GET, HEAD, PUT, DELETE — which may be sent twice without a second
// effect (RFC 9110 §9.2.2). POST (send a message, create a lead or a
// subscription) is never retried automatically: VelaFlows documents no
// idempotency key, so a retried POST whose first attempt did reach the
// API would act twice. PATCH is not idempotent in general (RFC 5789) and
// a conversation PATCH emits webhook events, so it is not retried
// automatically either. Use WithRetry to retry such a call where the
// duplicate risk is acceptable.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts, the first included.
	// Default: DefaultMaxAttempts (4: one try and three retries).
	MaxAttempts int
	// BaseDelay is the wait before the first retry, without jitter; it
	// doubles for every further retry. Default: DefaultBaseDelay (1s).
	BaseDelay time.Duration
	// MaxDelay caps each backoff wait. Default: DefaultMaxDelay (30s).
	MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After the policy waits for.
	// Default: DefaultMaxRetryAfter (1m).
	MaxRetryAfter time.Duration
	// OnRetry, if set, is called before each wait with the attempt that
	// failed, the wait and the error, for example to tell a user that an
	// export is waiting out a rate limit. It must not block.
	OnRetry func(attempt int, wait time.Duration, err error)
}

// normalize returns p with its defaults filled in.
func (p RetryPolicy) normalize() (RetryPolicy, error) {
	if p.MaxAttempts < 0 || p.BaseDelay < 0 || p.MaxDelay < 0 || p.MaxRetryAfter < 0 {
		return p, errors.New("velaflows: invalid RetryPolicy: negative MaxAttempts, BaseDelay, MaxDelay or MaxRetryAfter")
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = DefaultBaseDelay
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = DefaultMaxDelay
	}
	if p.MaxRetryAfter == 0 {
		p.MaxRetryAfter = DefaultMaxRetryAfter
	}
	return p, nil
}

// delay returns how long to wait before retrying after attempt (1-based)
// failed with err, and false when err must not be retried.
func (p *RetryPolicy) delay(attempt int, err error) (time.Duration, bool) {
	var rl *bot.RateLimitError
	if errors.As(err, &rl) {
		if rl.RetryAfter > p.MaxRetryAfter {
			return 0, false
		}
		if rl.RetryAfter > 0 {
			return rl.RetryAfter, true
		}
		return p.backoff(attempt), true
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		if !apiErr.Temporary() {
			return 0, false
		}
		return p.backoff(attempt), true
	}
	var te *apiclient.TransportError
	if errors.As(err, &te) {
		return p.backoff(attempt), true
	}
	return 0, false
}

// backoff is BaseDelay·2^(attempt-1) plus jitter in [0, BaseDelay),
// capped at MaxDelay.
func (p *RetryPolicy) backoff(attempt int) time.Duration {
	d := p.MaxDelay
	if shift := attempt - 1; shift < 32 {
		if b := p.BaseDelay << shift; b>>shift == p.BaseDelay && b > 0 {
			d = min(b, p.MaxDelay)
		}
	}
	d += time.Duration(rand.Int64N(int64(p.BaseDelay)))
	return min(d, p.MaxDelay)
}

// WithRetry calls fn until it succeeds, fails with an error the policy
// does not retry, or has been called p.MaxAttempts times; it returns fn's
// last error. It is the Go form of the with_retry helper of
// VelaFlows' Python examples: retry on 5xx, 429 and transport errors of this package's
// [Client], with exponential backoff and jitter; any other error is
// returned at once. Unlike [Config.Retry] it retries whatever fn does,
// POST included: use it only where a duplicate is acceptable.
//
// fn gets ctx; WithRetry stops waiting as soon as ctx is done and then
// returns an error wrapping both ctx.Err() and fn's last error. An invalid
// policy is returned as an error without calling fn.
func WithRetry(ctx context.Context, p RetryPolicy, fn func(ctx context.Context) error) error {
	p, err := p.normalize()
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil || attempt >= p.MaxAttempts || ctx.Err() != nil {
			return err
		}
		delay, ok := p.delay(attempt, err)
		if !ok {
			return err
		}
		if p.OnRetry != nil {
			p.OnRetry(attempt, delay, err)
		}
		if werr := sleep(ctx, delay); werr != nil {
			return fmt.Errorf("velaflows: retry wait: %w (after %d attempt(s); last error: %w)", werr, attempt, err)
		}
	}
}

// sleep waits for d or until ctx is done, whichever comes first, and
// returns ctx.Err() in the second case.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

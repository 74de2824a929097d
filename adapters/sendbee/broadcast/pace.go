package broadcast

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/time/rate"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/bot"
)

// headroom is the share of the rate limit the own limiter uses: a request
// paced at the limit exactly would meet a fixed-window limit early
// whenever the network delays the request that opened the window more
// than a later one.
const headroom = 0.98

// maxRateLimited is how many 429 answers in a row one request may get
// before the run gives up (resumably): something else is spending the
// account's budget.
const maxRateLimited = 20

// maxRateWait caps one wait for the rate limit.
const maxRateWait = 5 * time.Minute

// pacer spaces a run's requests: by the Bot's budget when it has a
// bot.Pacer, else by its own token bucket; in both cases it also waits out
// a 429's Retry-After and a window whose X-RateLimit-Remaining is 0. It
// counts the requests for the report. It is used by one goroutine.
type pacer struct {
	bot      bot.Pacer
	platform string
	lim      *rate.Limiter
	interval time.Duration // one request's share of the limit
	logger   *slog.Logger
	waiting  func(until time.Time) // reports a wait for the rate limit

	pauseUntil  time.Time // from the headers: the window is spent until then
	requests    int
	limited     int
	first, last time.Time
}

func newPacer(opts *Options, waiting func(time.Time)) *pacer {
	p := &pacer{bot: opts.Pacer, platform: opts.Platform, logger: opts.Logger, waiting: waiting}
	perMinute := float64(opts.RateLimit) * headroom
	p.interval = time.Duration(float64(time.Minute) / perMinute)
	if p.bot == nil {
		p.lim = rate.NewLimiter(rate.Limit(perMinute/60), 1)
	}
	return p
}

// wait waits for the next request's turn.
func (p *pacer) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d := time.Until(p.pauseUntil); d > 0 {
		if err := p.sleep(ctx, d); err != nil {
			return err
		}
	}
	if p.bot != nil {
		if err := p.bot.Pace(ctx, p.platform); err != nil {
			return fmt.Errorf("broadcast: pace: %w", err)
		}
	} else {
		r := p.lim.Reserve()
		if d := r.Delay(); d > 0 {
			if d >= 2*time.Second {
				p.waiting(time.Now().Add(d))
			}
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				r.Cancel()
				return ctx.Err()
			}
		}
	}
	now := time.Now()
	if p.requests == 0 {
		p.first = now
	}
	p.last = now
	p.requests++
	return nil
}

// sleep waits d, reported as a wait for the rate limit, or until ctx is
// done.
func (p *pacer) sleep(ctx context.Context, d time.Duration) error {
	p.waiting(time.Now().Add(d))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// observe reads the rate-limit headers of an answer: a window with no
// requests left pauses the run until it resets.
func (p *pacer) observe(resp *sendbee.Response) {
	if resp == nil || resp.Rate.Limit <= 0 || resp.Rate.Remaining > 0 || resp.Rate.Reset.IsZero() {
		return
	}
	if until := resp.Rate.Reset; until.After(p.pauseUntil) && time.Until(until) <= maxRateWait {
		p.pauseUntil = until
	}
}

// rateLimited handles a 429 answer to the attempt-th try of a request: it
// waits Retry-After (or, without one, until the window resets, or a
// doubling share of the limit), and returns an error once the request has
// been refused too often or ctx is done.
func (p *pacer) rateLimited(ctx context.Context, rl *bot.RateLimitError, resp *sendbee.Response, attempt int) error {
	p.limited++
	if attempt >= maxRateLimited {
		return fmt.Errorf("broadcast: rate limited %d times in a row; something else spends the account's requests: %w", attempt, rl)
	}
	wait := rl.RetryAfter
	if wait <= 0 && resp != nil && !resp.Rate.Reset.IsZero() && resp.Rate.Remaining == 0 {
		wait = time.Until(resp.Rate.Reset)
	}
	if wait <= 0 {
		wait = p.interval << min(attempt, 6)
	}
	wait = min(wait, maxRateWait)
	p.logger.LogAttrs(ctx, slog.LevelWarn, "broadcast: rate limited", slog.Duration("retry_after", wait))
	return p.sleep(ctx, wait)
}

// rate returns the achieved rate in requests per minute.
func (p *pacer) rate() float64 {
	span := p.last.Sub(p.first)
	if p.requests < 2 || span <= 0 {
		return 0
	}
	return float64(p.requests-1) / span.Minutes()
}

// call makes one API request through the pacer: it waits for the
// request's turn, and retries it after a 429 for as long as the limit
// allows. do's ctx is ctx, or for a send (detach) one that ctx's
// cancellation does not reach, so that a send is never cut in the middle.
func call[T any](ctx context.Context, p *pacer, detach bool, do func(ctx context.Context) (T, *sendbee.Response, error)) (T, *sendbee.Response, error) {
	for attempt := 1; ; attempt++ {
		if err := p.wait(ctx); err != nil {
			var zero T
			return zero, nil, err
		}
		dctx := ctx
		if detach {
			dctx = context.WithoutCancel(ctx)
		}
		v, resp, err := do(dctx)
		p.observe(resp)
		rl, ok := errors.AsType[*bot.RateLimitError](err)
		if !ok {
			return v, resp, err
		}
		if err := p.rateLimited(ctx, rl, resp, attempt); err != nil {
			return v, resp, err
		}
	}
}

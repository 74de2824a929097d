package bot

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/parleybot/parley/internal/errtext"
)

// Reconciling the Bot's record of who owns a conversation with the
// platform's own switch.
//
// When a conversation's adapter can read its platform's switch (an
// OwnerController), the platform decides, not the events that report on
// it, which may be forged (a webhook signature proves only who signed it)
// or stale:
//   - a signal carried by an inbound message that would change the
//     recorded owner is applied only once a fresh reading of the switch
//     agrees (applyOwnership leaves it to reconcile);
//   - a message in a conversation recorded as human-owned makes the Bot
//     read the switch when the last reading is older than the recheck
//     interval, so that a conversation the platform handed back to its
//     automation returns to the bot even when no event says so;
//   - a sweep reads the human-owned conversations periodically, so that
//     such a conversation returns to the bot without a message.
//
// Every reading takes its turn in the platform's rate limit with the sends.
// The reading a signal needs waits for it; the optional one on a message
// is skipped while the budget is spent.

// Bounds of the reconciliation.
const (
	// ownerReadTimeout bounds one reading, the wait for the rate limit
	// included.
	ownerReadTimeout = 30 * time.Second
	// maxOwnerTracked bounds the conversations tracked for rechecks and
	// the sweep; past it an arbitrary one is forgotten (it is read again
	// on its next message).
	maxOwnerTracked = 100_000
	// sweepShare is the part of a platform's rate limit a sweep may use:
	// one request in sweepShare.
	sweepShare = 10
)

// convRef names a conversation.
type convRef struct{ platform, conversation string }

// ownerChecks tracks, on the platforms whose switch can be read, the
// conversations this process records as human-owned and when the switch of
// each was last read. A nil *ownerChecks (no adapter can read its switch)
// tracks nothing.
type ownerChecks struct {
	readers map[string]OwnerController // by platform; never empty
	recheck time.Duration

	mu    sync.Mutex
	human map[convRef]time.Time // last reading; zero: none yet
}

func newOwnerChecks(adapters []Adapter, recheck time.Duration) *ownerChecks {
	c := &ownerChecks{readers: map[string]OwnerController{}, recheck: recheck, human: map[convRef]time.Time{}}
	for _, a := range adapters {
		if oc, ok := a.(OwnerController); ok {
			c.readers[a.Name()] = oc
		}
	}
	if len(c.readers) == 0 {
		return nil
	}
	return c
}

// reader returns the switch of platform, or nil when it cannot be read.
func (c *ownerChecks) reader(platform string) OwnerController {
	if c == nil {
		return nil
	}
	return c.readers[platform]
}

// track notes the owner recorded for a conversation.
func (c *ownerChecks) track(k convRef, o Owner) {
	if c.reader(k.platform) == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if o != OwnerHuman {
		delete(c.human, k)
		return
	}
	if _, ok := c.human[k]; ok {
		return
	}
	if len(c.human) >= maxOwnerTracked {
		for old := range c.human {
			delete(c.human, old)
			break
		}
	}
	c.human[k] = time.Time{}
}

// due reports whether a human-owned conversation's switch was not read for
// the recheck interval.
func (c *ownerChecks) due(k convRef, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.human[k]
	return !ok || at.IsZero() || now.Sub(at) >= c.recheck
}

// noteRead records a reading (or a failed attempt) of a tracked
// conversation's switch.
func (c *ownerChecks) noteRead(k convRef, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.human[k]; ok {
		c.human[k] = at
	}
}

// stale returns up to n (n < 0: all) human-owned conversations of platform
// whose switch is due for a reading, longest unread first.
func (c *ownerChecks) stale(platform string, now time.Time, n int) []convRef {
	type entry struct {
		k  convRef
		at time.Time
	}
	var due []entry
	c.mu.Lock()
	for k, at := range c.human {
		if k.platform == platform && (at.IsZero() || now.Sub(at) >= c.recheck) {
			due = append(due, entry{k, at})
		}
	}
	c.mu.Unlock()
	slices.SortFunc(due, func(a, b entry) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.k.conversation, b.k.conversation))
	})
	if n >= 0 && len(due) > n {
		due = due[:n]
	}
	out := make([]convRef, len(due))
	for i, e := range due {
		out[i] = e.k
	}
	return out
}

// reconcile checks now, the owner just recorded for m's conversation,
// against the platform's switch when m's adapter can read it, and returns
// who owns the conversation afterwards. It reads the switch when m carries
// a signal that contradicts now (waiting for the rate limit), or when now
// is human and the last reading is older than the recheck interval (only
// if the rate limit has a request to spare).
func (b *Bot) reconcile(ctx context.Context, m *Message, now Owner) Owner {
	checks := b.own.checks
	oc := checks.reader(m.Platform)
	if oc == nil {
		return now
	}
	k := convRef{m.Platform, m.Conversation}
	signal := m.Owner != OwnerUnset && m.Owner != now
	if !signal {
		if now != OwnerHuman || !checks.due(k, time.Now()) || !b.spare(m.Platform) {
			return now
		}
	}
	since := time.Now()
	plat, err := b.readOwner(ctx, oc, k, signal)
	at := time.Now()
	if err != nil {
		b.report(ctx, "reading the platform's owner switch failed", err, slog.Any("msg", m))
		if signal && m.Owner == OwnerHuman {
			// Unconfirmed, a takeover still silences the bot: answering
			// over a human is the worse mistake.
			now = b.settle(ctx, k, now, OwnerHuman, since, "platform (unconfirmed)")
		}
		checks.noteRead(k, at) // a failed attempt waits for the interval too
		return now
	}
	if plat != now {
		now = b.settle(ctx, k, now, plat, since, "platform")
	} else if signal {
		b.logger.LogAttrs(ctx, slog.LevelInfo, "ownership signal contradicted by the platform's switch; ignored",
			slog.Any("msg", m), slog.String("signal", m.Owner.String()), slog.String("owner", now.String()))
	}
	checks.noteRead(k, at)
	return now
}

// spare reports whether platform's rate limit has a request to spare now,
// and if so takes it. A spare request is one no send is waiting for.
func (b *Bot) spare(platform string) bool {
	po := b.out.platforms[platform]
	if until := po.pause.Load(); until > 0 && time.Now().UnixNano() < until {
		return false
	}
	return po.limiter == nil || po.limiter.Allow()
}

// readOwner reads the platform's switch for a conversation. With wait it
// first waits for the platform's rate limit; without, the caller took the
// request with spare. A rate-limit answer pauses the platform's sends as a
// send's would.
func (b *Bot) readOwner(ctx context.Context, oc OwnerController, k convRef, wait bool) (Owner, error) {
	ctx, cancel := context.WithTimeout(ctx, ownerReadTimeout)
	defer cancel()
	po := b.out.platforms[k.platform]
	if wait {
		if err := b.out.pace(ctx, po); err != nil {
			return OwnerUnset, wrap(fmt.Sprintf("bot: read owner of %s/%s", k.platform, k.conversation), err)
		}
	}
	o, err := oc.Owner(ctx, k.conversation)
	if err != nil {
		b.out.classify(po, err, 1) // a rate-limit answer pauses the platform
		return OwnerUnset, errtext.Wrap(fmt.Sprintf("bot: read owner of %s/%s", k.platform, k.conversation), err, saidBy(k.platform)...)
	}
	if o != OwnerBot && o != OwnerHuman {
		return OwnerUnset, fmt.Errorf("bot: read owner of %s/%s: adapter answered %v", k.platform, k.conversation, o)
	}
	return o, nil
}

// settle records to as a conversation's owner if the record is still from,
// as it was when the reading that decided it began at since, and returns
// the owner recorded afterwards. source says why, for the log and the
// OwnerChanged hook.
func (b *Bot) settle(ctx context.Context, k convRef, from, to Owner, since time.Time, source string) Owner {
	prev, next, err := b.own.update(ctx, k.platform, k.conversation, time.Now, func(cur Owner, last time.Time) (Owner, bool) {
		if cur != from || (cur == OwnerHuman && last.After(since)) {
			// Changed or active since the reading began (a takeover the
			// reading may predate): the newer record stands.
			return cur, false
		}
		return to, true
	})
	if err != nil {
		b.report(ctx, "record owner failed", err, slog.String("platform", k.platform), slog.String("conversation", k.conversation))
		if prev == OwnerUnset {
			return from
		}
		return prev
	}
	b.own.checks.track(k, next)
	if prev != next {
		b.countOwnerChange(ctx, k.platform, k.conversation, next, source)
		b.logger.LogAttrs(ctx, slog.LevelInfo, "conversation owner changed",
			slog.String("platform", k.platform), slog.String("conversation", k.conversation),
			slog.String("owner", next.String()), slog.String("source", source))
	}
	return next
}

// startOwnerSweep starts the ownership sweep (see [WithOwnerSweep]) until
// ctx is done, and returns a function that stops it and waits for it.
func (b *Bot) startOwnerSweep(ctx context.Context) (stop func()) {
	if b.own.checks == nil || b.cfg.ownerSweep <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(b.cfg.ownerSweep)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				b.sweepOwners(ctx)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// sweepOwners reads the switch of the human-owned conversations due for a
// reading, up to each platform's sweep budget, and hands back to the bot
// those whose platform automation is on.
func (b *Bot) sweepOwners(ctx context.Context) {
	checks := b.own.checks
	for platform, oc := range checks.readers {
		for _, k := range checks.stale(platform, time.Now(), b.sweepBudget(platform)) {
			since := time.Now()
			plat, err := b.readOwner(ctx, oc, k, true)
			if ctx.Err() != nil {
				return
			}
			at := time.Now()
			switch {
			case err != nil:
				b.report(ctx, "ownership sweep: reading the platform's owner switch failed", err,
					slog.String("platform", k.platform), slog.String("conversation", k.conversation))
			case plat == OwnerBot:
				b.settle(ctx, k, OwnerHuman, OwnerBot, since, "platform (sweep)")
			}
			checks.noteRead(k, at)
		}
	}
}

// sweepBudget is how many readings one sweep may make on platform: a
// sweepShare part of its declared rate limit over the sweep interval, at
// least one; -1 without a declared limit.
func (b *Bot) sweepBudget(platform string) int {
	l, ok := b.adapters[platform].(Limiter)
	if !ok {
		return -1
	}
	lim := l.Limits()
	if lim.Requests <= 0 || lim.Per <= 0 {
		return -1
	}
	n := float64(lim.Requests) * b.cfg.ownerSweep.Seconds() / lim.Per.Seconds() / sweepShare
	return max(int(n), 1)
}

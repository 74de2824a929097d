package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A DeadLetter is an outbound message the outbox gave up on.
type DeadLetter struct {
	ID       string // for Replay and Discard
	Message  *Message
	Err      error // why it was given up; from a DeadLetterStore, its text and whether it wraps ErrOutcomeUnknown
	Attempts int   // sends tried; rate-limited requests are not counted
	Time     time.Time
}

// A DeadLetterStore keeps the outbox's dead letters outside the process. When
// the Bot's [Broker] implements it (storage/jetstream does), the dead-letter
// list is durable and shared: every replica lists, replays and discards the
// same letters, and they survive restarts. Without one the Bot keeps the list
// in memory, up to OutboxConfig.DeadLetterLimit.
//
// It has three methods because they are the three operations on one list.
// Implementations must be safe for concurrent use.
type DeadLetterStore interface {
	// AddDeadLetter stores d, whose ID is empty, and returns the ID it was
	// given. IDs are unique within the store. The store keeps at least the
	// text of d.Err and whether it wraps ErrOutcomeUnknown: the error it
	// gives back wraps ErrOutcomeUnknown if d.Err did.
	AddDeadLetter(ctx context.Context, d DeadLetter) (id string, err error)
	// DeadLetters returns up to limit dead letters, oldest first (all of
	// them when limit is negative), and how many the store holds.
	DeadLetters(ctx context.Context, limit int) (list []DeadLetter, total int, err error)
	// TakeDeadLetter removes the dead letter id and returns it. It returns
	// an error wrapping ErrNotFound when the store does not hold it (another
	// replica may have taken it first): of several concurrent calls for one
	// ID, exactly one succeeds.
	TakeDeadLetter(ctx context.Context, id string) (DeadLetter, error)
}

// deadLetters is the outbox's dead-letter list: the durable store when the
// Broker offers one, and always a list in memory, which holds everything
// when there is no durable store and, when there is one, the letters it
// could not take (its server unreachable), so that none vanishes. The
// memory list's IDs are prefixed "local-" beside a durable store.
type deadLetters struct {
	durable DeadLetterStore // nil: memory only
	mem     memDeadLetters
}

func newDeadLetters(durable DeadLetterStore, limit int) *deadLetters {
	d := &deadLetters{durable: durable, mem: memDeadLetters{limit: limit}}
	if durable != nil {
		d.mem.prefix = "local-"
	}
	return d
}

// list returns up to limit letters (all when limit is negative): the
// durable store's, oldest first, then this process's, and how many there
// are in all.
func (d *deadLetters) list(ctx context.Context, limit int) ([]DeadLetter, int, error) {
	if d.durable == nil {
		list, n := d.mem.letters(limit)
		return list, n, nil
	}
	list, total, err := d.durable.DeadLetters(ctx, limit)
	if err != nil {
		return nil, 0, err
	}
	if limit >= 0 {
		limit = max(limit-len(list), 0)
	}
	local, n := d.mem.letters(limit)
	return append(list, local...), total + n, nil
}

func (d *deadLetters) take(ctx context.Context, id string) (DeadLetter, error) {
	if d.durable == nil || d.mem.owns(id) {
		return d.mem.take(id)
	}
	return d.durable.TakeDeadLetter(ctx, id)
}

// memDeadLetters is the dead-letter list in memory: capped at limit,
// dropping the oldest beyond it.
type memDeadLetters struct {
	limit  int
	prefix string
	seq    atomic.Uint64
	mu     sync.Mutex
	list   []DeadLetter
}

func (s *memDeadLetters) owns(id string) bool {
	return len(id) > len(s.prefix) && id[:len(s.prefix)] == s.prefix
}

// add stores d and returns its ID and the letter it dropped, if any.
func (s *memDeadLetters) add(d DeadLetter) (string, *DeadLetter) {
	d.ID = s.prefix + strconv.FormatUint(s.seq.Add(1), 10)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, d)
	if len(s.list) <= s.limit {
		return d.ID, nil
	}
	dropped := s.list[0]
	s.list = append(s.list[:0:0], s.list[1:]...)
	return d.ID, &dropped
}

// letters returns up to limit letters, oldest first (all when limit is
// negative), and how many there are.
func (s *memDeadLetters) letters(limit int) ([]DeadLetter, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.list)
	if limit < 0 || limit > n {
		limit = n
	}
	return append([]DeadLetter(nil), s.list[:limit]...), n
}

// take removes the letter id and returns it.
func (s *memDeadLetters) take(id string) (DeadLetter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, d := range s.list {
		if d.ID == id {
			s.list = append(s.list[:i], s.list[i+1:]...)
			return d, nil
		}
	}
	return DeadLetter{}, wrap(fmt.Sprintf("bot: dead letter %q", id), ErrNotFound)
}

// deadLetter moves m to the dead-letter list, counts and reports it, and
// returns the report: a *DeliveryError naming the letter's ID.
func (o *outbox) deadLetter(ctx context.Context, po *platformOut, m *Message, attempts int, err error) *DeliveryError {
	ctx = context.WithoutCancel(ctx) // a letter is kept even at shutdown
	b := o.b
	d := DeadLetter{Message: m, Err: err, Attempts: attempts, Time: time.Now()}
	var id string
	if o.dead.durable != nil {
		var serr error
		if id, serr = o.dead.durable.AddDeadLetter(ctx, d); serr != nil {
			b.report(ctx, "dead-letter store failed; the letter is kept in this process only", serr, slog.Any("msg", m))
		}
	}
	if id == "" {
		var dropped *DeadLetter
		id, dropped = o.dead.mem.add(d)
		if dropped != nil {
			b.logger.LogAttrs(ctx, slog.LevelWarn, "dead-letter list full: dropped the oldest", slog.Any("msg", dropped.Message))
		}
	}
	b.stats.deadLettered.Add(1)
	if h := b.cfg.hooks.DeadLettered; h != nil {
		h(ctx, m, err)
	}
	b.event(EventDeadLettered, m, func(e *Event) { e.Reason, e.Attempt, e.Error = id, attempts, errorText(err) })
	b.traceEvent(ctx, "parley.dead_lettered", AttrDeadLetter.String(id), AttrKey.String(m.Key), AttrAttempt.Int(attempts))
	de := &DeliveryError{ID: id, Platform: po.name, Key: m.Key, Attempts: attempts, Err: err}
	b.report(ctx, "delivery failed; message dead-lettered", de, slog.Any("msg", m))
	return de
}

// DeadLetters returns the dead-letter list, oldest first. With a Broker that
// is a [DeadLetterStore] the list is the one every replica shares (followed
// by any letters this process could not store there). The messages are
// shared: do not modify them.
func (b *Bot) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	list, _, err := b.out.dead.list(ctx, -1)
	if err != nil {
		return nil, wrap("bot: dead letters", err)
	}
	return list, nil
}

// DeadLetterCount returns how many dead letters are held, without reading
// them.
func (b *Bot) DeadLetterCount(ctx context.Context) (int, error) {
	_, n, err := b.out.dead.list(ctx, 0)
	if err != nil {
		return 0, wrap("bot: dead letters", err)
	}
	return n, nil
}

// Replay removes a dead letter and queues its message again with the same
// idempotency key. It returns an error wrapping ErrNotFound for an ID that
// is not held (never was, or was replayed or discarded, perhaps by another
// replica). When the message cannot be queued, the letter is put back (with
// a new ID where a DeadLetterStore holds it) and the error returned.
func (b *Bot) Replay(ctx context.Context, id string) error {
	d, err := b.out.dead.take(ctx, id)
	if err != nil {
		return err
	}
	b.event(EventReplayed, d.Message, func(e *Event) { e.Reason = id })
	if qerr := b.requeue(ctx, d.Message); qerr != nil {
		d.ID = ""
		if b.out.dead.durable != nil && !b.out.dead.mem.owns(id) {
			if _, err := b.out.dead.durable.AddDeadLetter(context.WithoutCancel(ctx), d); err == nil {
				return qerr
			}
		}
		b.out.dead.mem.add(d)
		return qerr
	}
	b.stats.replayed.Add(1)
	return nil
}

// requeue queues a dead letter's message again as it is, key and all: its
// claim, if it had one, was released when it was dead-lettered, and a
// minted key was never claimed.
func (b *Bot) requeue(ctx context.Context, m *Message) error {
	po := b.out.platforms[m.Platform]
	if po == nil {
		return unknownPlatform("bot: send", m.Platform)
	}
	return b.queue(ctx, po, m)
}

// Discard removes a dead letter for good. It returns an error wrapping
// ErrNotFound for an ID that is not held.
func (b *Bot) Discard(ctx context.Context, id string) error {
	_, err := b.out.dead.take(ctx, id)
	return err
}

package bot

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// An Option configures a Bot. Options are applied in order by New.
type Option func(*config) error

// config holds the Bot's settings; every field has a documented default.
type config struct {
	adapters        []Adapter
	logger          *slog.Logger
	store           Store
	keys            Store
	workers         int
	queueSize       int
	handlerTimeout  time.Duration
	jobTimeout      time.Duration
	shutdownTimeout time.Duration
	loc             *time.Location
	dedupTTL        time.Duration
	idleTimeout     time.Duration
	ownerRecheck    time.Duration
	ownerSweep      time.Duration
	onError         func(ctx context.Context, err error)
	outbox          OutboxConfig
	hooks           Hooks
	broker          Broker
	eventText       bool
	tracerProvider  trace.TracerProvider
	optOut          *optOut // nil: off
}

func defaultConfig() config {
	w := 4 * runtime.GOMAXPROCS(0)
	if w < 8 {
		w = 8
	}
	return config{
		workers:         w,
		queueSize:       256,
		handlerTimeout:  30 * time.Second,
		jobTimeout:      5 * time.Minute,
		shutdownTimeout: 10 * time.Second,
		loc:             time.Local,
		ownerRecheck:    30 * time.Second,
		ownerSweep:      time.Minute,
		optOut:          defaultOptOut,
	}
}

// OutboxConfig tunes outbound delivery. The zero value of every field means
// its default.
type OutboxConfig struct {
	// Workers is the number of delivery lanes per platform; messages of one
	// conversation always take the same lane, in order. Default 4.
	Workers int
	// QueueSize is the capacity of each lane. Default 256.
	QueueSize int
	// MaxAttempts bounds the tries of one message, the first included.
	// A request the platform refused for its rate limit is not counted:
	// see MaxRateLimitWait. Default 8.
	MaxAttempts int
	// BaseBackoff is the wait before the first retry; it doubles on every
	// retry, with jitter, up to MaxBackoff. Defaults 250ms and 30s.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// MaxRetryAfter caps a platform's Retry-After. Default 2 minutes.
	MaxRetryAfter time.Duration
	// MaxRateLimitWait bounds how long one message waits for a platform's
	// rate limit, from its first rate-limit answer (429): waiting for the
	// platform is not a failed attempt, so it is bounded by time rather
	// than by MaxAttempts. A message whose next wait would end past it is
	// dead-lettered with the platform's RateLimitError. Default 30
	// minutes, twice the longest rate-limit window of the platforms
	// Parley ships (VelaFlows counts requests per 15 minutes).
	MaxRateLimitWait time.Duration
	// SendTimeout, when positive, bounds one call of Adapter.Send with a
	// context deadline. Default 0: the adapters bound their own requests
	// (their HTTP clients have timeouts), which saves a timer per message.
	SendTimeout time.Duration
	// DeadLetterLimit is how many dead letters are kept; the oldest are
	// dropped (and logged) beyond it. Default 10,000.
	DeadLetterLimit int
}

func (c *OutboxConfig) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Workers, 4)
	def(&c.QueueSize, 256)
	def(&c.MaxAttempts, 8)
	def(&c.DeadLetterLimit, 10000)
	defd(&c.BaseBackoff, 250*time.Millisecond)
	defd(&c.MaxBackoff, 30*time.Second)
	defd(&c.MaxRetryAfter, 2*time.Minute)
	defd(&c.MaxRateLimitWait, 30*time.Minute)
}

// WithAdapters adds platform adapters. Their names must be unique.
func WithAdapters(a ...Adapter) Option {
	return func(c *config) error {
		for _, ad := range a {
			if ad == nil {
				return fmt.Errorf("bot: nil adapter")
			}
		}
		c.adapters = append(c.adapters, a...)
		return nil
	}
}

// WithLogger sets the logger of the Bot and of everything it runs: its
// router, workers, outbox and scheduler, each adapter, store and broker
// that implements [LoggerSetter] and was not configured with a logger of
// its own (an adapter's Config.Logger wins), and the handlers, middleware
// and jobs that log through [LoggerOf]. Default: warnings and errors only,
// as text (slog.TextHandler) on standard error, so that a bot on a
// terminal keeps its chat free of lifecycle records. The default is a
// logger of the Bot's own, not slog.Default(): a program may make it slog's
// default with slog.SetDefault(b.Logger()), and a program that set its own
// slog default and wants the Bot to log there passes
// WithLogger(slog.Default()), which logs at that logger's own level.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.logger = l; return nil }
}

// WithStore sets the Store for deduplication, idempotency keys, ownership
// and handler state. Default: a new MemoryStore. The Bot never closes it.
func WithStore(s Store) Option {
	return func(c *config) error { c.store = s; return nil }
}

// WithKeyStore sets the Store for the high-volume keys: inbound
// deduplication entries and outbound idempotency claims, one or two per
// message, each with a TTL. Default: the Store given to WithStore; with
// neither option, a MemoryStore separate from the state store, so that
// millions of short-lived keys do not slow down ownership lookups.
func WithKeyStore(s Store) Option {
	return func(c *config) error { c.keys = s; return nil }
}

// WithWorkers sets the number of inbound workers (conversation shards).
// Default: 4 × GOMAXPROCS, at least 8.
func WithWorkers(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("bot: workers must be at least 1, got %d", n)
		}
		c.workers = n
		return nil
	}
}

// WithQueueSize sets the capacity of each worker's queue. Default 256.
func WithQueueSize(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("bot: queue size must be at least 1, got %d", n)
		}
		c.queueSize = n
		return nil
	}
}

// WithHandlerTimeout bounds each handler call. Default 30s; 0 means none.
func WithHandlerTimeout(d time.Duration) Option {
	return func(c *config) error { c.handlerTimeout = max(d, 0); return nil }
}

// WithJobTimeout bounds each scheduled job run. Default 5 minutes; 0 means
// none.
func WithJobTimeout(d time.Duration) Option {
	return func(c *config) error { c.jobTimeout = max(d, 0); return nil }
}

// WithShutdownTimeout bounds the drain after Run's context is cancelled.
// Default 10s.
func WithShutdownTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("bot: shutdown timeout must be positive, got %v", d)
		}
		c.shutdownTimeout = d
		return nil
	}
}

// WithLocation sets the bot's time zone for schedules and expression rules.
// Default: time.Local.
func WithLocation(loc *time.Location) Option {
	return func(c *config) error {
		if loc == nil {
			return fmt.Errorf("bot: nil location")
		}
		c.loc = loc
		return nil
	}
}

// WithDedupTTL sets how long inbound event IDs are remembered. Default: the
// longest RedeliveryWindow declared by the adapters (24 hours when none
// declares one), plus one hour.
func WithDedupTTL(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("bot: dedup TTL must be positive, got %v", d)
		}
		c.dedupTTL = d
		return nil
	}
}

// WithIdleTimeout hands a human-owned conversation back to the bot when it
// has seen no activity for d; the next inbound message is then handled by
// the bot again and the change is mirrored to the platform. Default 0: a
// conversation stays with humans until Resume, a platform signal, or the
// platform's own switch read as on (see [WithOwnerRecheck]).
func WithIdleTimeout(d time.Duration) Option {
	return func(c *config) error { c.idleTimeout = max(d, 0); return nil }
}

// WithOwnerRecheck sets how often, at most, the Bot reads the platform's
// own switch for a conversation it records as human-owned, when the
// conversation's adapter can read it (an [OwnerController]). A message that
// arrives in such a conversation makes the Bot read the switch first, if
// the last reading is older than d and the platform's rate limit has a
// request to spare; when the platform's automation is on again, the
// conversation returns to the bot and the bot handles the message. The
// sweep ([WithOwnerSweep]) reads no conversation more often either. A
// platform signal carried by a message that would change the owner is
// checked at once, whatever d. Default 30s; 0 reads on every message.
func WithOwnerRecheck(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("bot: owner recheck interval must not be negative, got %v", d)
		}
		c.ownerRecheck = d
		return nil
	}
}

// WithOwnerSweep sets the interval of the ownership sweep: every d, the
// Bot reads the platform's switch of the conversations it records as
// human-owned (on adapters that can read it, [OwnerController]) and hands
// back to the bot those whose platform automation is on again, without
// waiting for a message — so that, for example, a scheduled message to
// such a conversation is not suppressed. A sweep reads the conversations
// not read for the recheck interval ([WithOwnerRecheck]), longest unread
// first, and at most a tenth of the platform's declared rate limit over d,
// leaving the rest to sends. It covers the conversations this process has
// recorded or seen human-owned since it started. The sweep runs from Run
// and ends with it. Default 1 minute; 0 turns it off.
func WithOwnerSweep(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("bot: owner sweep interval must not be negative, got %v", d)
		}
		c.ownerSweep = d
		return nil
	}
}

// WithErrorHandler sets a hook called with every error the Bot handles
// itself: *HandlerError, *DeliveryError, failed ownership mirroring. It is
// called concurrently from many goroutines and must not block for long. The
// Bot logs these errors whether or not a hook is set.
func WithErrorHandler(f func(ctx context.Context, err error)) Option {
	return func(c *config) error { c.onError = f; return nil }
}

// WithOutbox tunes outbound delivery; zero fields keep their defaults.
func WithOutbox(oc OutboxConfig) Option {
	return func(c *config) error { c.outbox = oc; return nil }
}

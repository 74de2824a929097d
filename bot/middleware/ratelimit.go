package middleware

import (
	"container/list"
	"context"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/parleybot/parley/bot"
)

// DefaultMaxKeys is the number of conversations whose rate-limit state
// RateLimit keeps when RateLimitOptions.MaxKeys is zero.
const DefaultMaxKeys = 10_000

// RateLimit returns middleware that lets the handlers it wraps send at most
// n replies per period per conversation, with bursts of up to n, and drops
// the rest. It is [RateLimitWithOpts] with Requests n and Per per; dropped
// replies are logged at Warn on the Bot's logger ([bot.LoggerOf]).
//
// RateLimit panics if n or per is not positive.
func RateLimit(n int, per time.Duration) bot.Middleware {
	return RateLimitWithOpts(RateLimitOptions{Requests: n, Per: per})
}

// RateLimitOptions configures [RateLimitWithOpts]. Requests and Per are
// required; the other fields have defaults.
type RateLimitOptions struct {
	// Requests per Per is the sustained rate of replies allowed in one
	// conversation. Both must be positive.
	Requests int
	Per      time.Duration
	// Burst is how many replies a conversation may send at once, the size of
	// its token bucket. Default (0): Requests. It must not be negative.
	Burst int
	// Key returns the rate-limit key of an outbound message: messages with
	// the same key share one bucket. It must be safe for concurrent use.
	// Default: m.Platform + "\x00" + m.Conversation.
	Key func(m *bot.Message) string
	// OnLimit is called, with the handler's ctx, for each reply that was
	// dropped; use it to count or report drops. It runs on the handler's
	// goroutine while its conversation waits, so it must be quick, and it
	// must be safe for concurrent use. m is the dropped message; nothing
	// else uses it afterwards. Default: log "reply dropped by rate limit"
	// at Warn on the logger of the Bot handling the message
	// ([bot.LoggerOf]: the one given with bot.WithLogger, slog.Default()
	// outside a Bot), with the message's routing identity (never its text).
	OnLimit func(ctx context.Context, m *bot.Message)
	// MaxKeys bounds the memory of the middleware: it keeps the state of at
	// most MaxKeys keys and, to make room for a new key, forgets the least
	// recently used one. Default (0): DefaultMaxKeys. It must not be
	// negative.
	//
	// Forgetting a key whose bucket has refilled (its conversation has been
	// quiet for Burst/Requests×Per) loses nothing: a new bucket is just as
	// full. Only when more than MaxKeys conversations send within such a
	// period can a forgotten busy conversation send up to Burst replies
	// more than its limit.
	MaxKeys int
}

// RateLimitWithOpts returns middleware that limits the outbound messages of
// the handlers it wraps. It replaces the handler's Sender: each message the
// handler sends takes a token from the token bucket
// (golang.org/x/time/rate) of its key, by default its platform and
// conversation, which refills at opts.Requests per opts.Per up to
// opts.Burst tokens. A message that finds no token is dropped: it is not
// passed on, opts.OnLimit is called, and Send returns nil, so the handler
// goes on. A dropped reply is not an error of the handler; it never blocks,
// because a handler that waited for a token would stall its whole
// conversation.
//
// The limit is applied where the handler sends, so it covers replies and
// any message the handler posts to another conversation, but not what a
// scheduled job or Bot.Send sends directly. It adds to the pacing the Bot's
// outbox applies to honour a platform's own limits, and is meant to keep one
// conversation (a loop with another bot, a flood of commands) from taking
// the whole allowance.
//
// One call makes one set of buckets, shared by every handler it wraps: used
// with [bot.Router.Use] it limits the whole bot per conversation, passed to
// one route it limits that route alone. The middleware is safe for
// concurrent use.
//
// RateLimitWithOpts panics if Requests or Per is not positive, or Burst or
// MaxKeys is negative.
func RateLimitWithOpts(opts RateLimitOptions) bot.Middleware {
	switch {
	case opts.Requests <= 0:
		panic("middleware: RateLimit needs a positive number of requests")
	case opts.Per <= 0:
		panic("middleware: RateLimit needs a positive period")
	case opts.Burst < 0:
		panic("middleware: RateLimit burst must not be negative")
	case opts.MaxKeys < 0:
		panic("middleware: RateLimit MaxKeys must not be negative")
	}
	l := &limiter{
		limit:   rate.Limit(float64(opts.Requests) / opts.Per.Seconds()),
		burst:   opts.Burst,
		key:     opts.Key,
		onLimit: opts.OnLimit,
		maxKeys: opts.MaxKeys,
		keys:    make(map[string]*list.Element),
		lru:     list.New(),
	}
	if l.burst == 0 {
		l.burst = opts.Requests
	}
	if l.key == nil {
		l.key = conversationKey
	}
	if l.onLimit == nil {
		l.onLimit = logDrop
	}
	if l.maxKeys == 0 {
		l.maxKeys = DefaultMaxKeys
	}
	return func(next bot.Handler) bot.Handler {
		return bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			return next.HandleMessage(ctx, &limitedSender{w: w, l: l}, m)
		})
	}
}

func conversationKey(m *bot.Message) string { return m.Platform + "\x00" + m.Conversation }

func logDrop(ctx context.Context, m *bot.Message) {
	bot.LoggerOf(ctx).LogAttrs(ctx, slog.LevelWarn, "reply dropped by rate limit", slog.Any("msg", m))
}

// A limiter holds the token buckets of one RateLimit middleware, at most
// maxKeys of them, in least-recently-used order.
type limiter struct {
	limit   rate.Limit
	burst   int
	key     func(*bot.Message) string
	onLimit func(context.Context, *bot.Message)
	maxKeys int

	mu   sync.Mutex
	keys map[string]*list.Element // values of lru: *bucket
	lru  *list.List               // front: most recently used
}

type bucket struct {
	key string
	lim *rate.Limiter
}

// allow takes a token from key's bucket, creating the bucket (and forgetting
// the least recently used one, if there are maxKeys) when key has none.
func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	e, ok := l.keys[key]
	if ok {
		l.lru.MoveToFront(e)
	} else {
		if l.lru.Len() >= l.maxKeys {
			old := l.lru.Back()
			l.lru.Remove(old)
			delete(l.keys, old.Value.(*bucket).key)
		}
		e = l.lru.PushFront(&bucket{key: key, lim: rate.NewLimiter(l.limit, l.burst)})
		l.keys[key] = e
	}
	lim := e.Value.(*bucket).lim
	l.mu.Unlock()
	// The Limiter has its own lock; taking the token outside l.mu keeps
	// conversations from waiting on each other for longer than a map lookup.
	return lim.Allow()
}

// A limitedSender is the Sender a handler wrapped by RateLimit sees.
type limitedSender struct {
	w bot.Sender
	l *limiter
}

// Send passes m to the wrapped Sender if its key has a token, and drops it
// otherwise.
func (s *limitedSender) Send(ctx context.Context, m *bot.Message) error {
	if m != nil && !s.l.allow(s.l.key(m)) {
		s.l.onLimit(ctx, m)
		return nil
	}
	return s.w.Send(ctx, m)
}

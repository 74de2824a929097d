package bot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// hooked returns a Bot on a FakeAdapter named "fake" whose error hook
// passes its errors to the returned channel.
func hooked(t *testing.T, opts ...bot.Option) (*bot.Bot, *bottest.FakeAdapter, <-chan error) {
	t.Helper()
	errs := make(chan error, 16)
	b, fa := newBot(t, append(opts, bot.WithErrorHandler(func(_ context.Context, err error) { errs <- err }))...)
	return b, fa, errs
}

// next returns the next error of errs, failing after 5 seconds.
func next(t *testing.T, errs <-chan error) error {
	t.Helper()
	select {
	case err := <-errs:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("no error reported within 5s")
		return nil
	}
}

// The errors of the Bot's paths name each layer once: no "bot: " after
// "bot: …: ", no platform named twice.
func TestErrorTexts(t *testing.T) {
	// A platform's answer to a request over its rate limit, as its adapter
	// returns it.
	rateLimited := func(path string) error {
		return &bot.RateLimitError{Platform: "fake", RetryAfter: time.Second,
			Err: errors.New("fake: POST " + path + ": 429 Too Many Requests")}
	}
	nowhere := &bot.Message{Platform: "nope", Conversation: "c", Text: "x"}
	tests := []struct {
		name string
		err  func(t *testing.T) error
		want string
		is   error
	}{
		{
			name: "send on a stopped Bot",
			err: func(t *testing.T) error {
				b, _ := newBot(t)
				require.NoError(t, bottest.Run(t, b)())
				return b.Send(t.Context(), out("c", "k", "late"))
			},
			want: "bot: send: closed",
			is:   bot.ErrClosed,
		},
		{
			name: "send to an unknown platform",
			err: func(t *testing.T) error {
				b, _ := newBot(t)
				return b.Send(t.Context(), nowhere)
			},
			want: `bot: send: unknown platform "nope"`,
			is:   bot.ErrUnknownPlatform,
		},
		{
			name: "publish from an unknown platform",
			err: func(t *testing.T) error {
				b, _ := newBot(t)
				return b.Publish(t.Context(), nowhere)
			},
			want: `bot: publish: unknown platform "nope"`,
			is:   bot.ErrUnknownPlatform,
		},
		{
			name: "owner on an unknown platform",
			err: func(t *testing.T) error {
				b, _ := newBot(t)
				_, err := b.Owner(t.Context(), "nope", "c")
				return err
			},
			want: `bot: owner: unknown platform "nope"`,
			is:   bot.ErrUnknownPlatform,
		},
		{
			name: "handoff on an unknown platform",
			err: func(t *testing.T) error {
				b, _ := newBot(t)
				return b.Handoff(t.Context(), "nope", "c")
			},
			want: `bot: set owner: unknown platform "nope"`,
			is:   bot.ErrUnknownPlatform,
		},
		{
			name: "pace an unknown platform",
			err: func(t *testing.T) error {
				b, _ := newBot(t)
				return b.Pace(t.Context(), "nope")
			},
			want: `bot: pace: unknown platform "nope"`,
			is:   bot.ErrUnknownPlatform,
		},
		{
			name: "replay an unknown dead letter",
			err: func(t *testing.T) error {
				b, _ := newBot(t)
				return b.Replay(t.Context(), "dl-1")
			},
			want: `bot: dead letter "dl-1": not found`,
			is:   bot.ErrNotFound,
		},
		{
			name: "a rate limit",
			err:  func(*testing.T) error { return rateLimited("/messages") },
			want: "bot: fake: rate limited (retry after 1s): POST /messages: 429 Too Many Requests",
		},
		{
			name: "delivery given up on a rate limit",
			err: func(t *testing.T) error {
				b, fa, errs := hooked(t, bot.WithOutbox(bot.OutboxConfig{MaxRateLimitWait: time.Millisecond}))
				fa.FailNext(rateLimited("/messages"))
				bottest.Run(t, b)
				require.NoError(t, b.Send(t.Context(), out("c", "k", "x")))
				return next(t, errs)
			},
			want: "bot: deliver to fake (key k) failed after 0 attempt(s): rate limited (retry after 1s): POST /messages: 429 Too Many Requests",
		},
		{
			name: "adapter stopped by a rate limit",
			err: func(t *testing.T) error {
				b, fa := newBot(t)
				fa.FailRun(rateLimited("/login"))
				return b.Run(t.Context())
			},
			want: "bot: adapter fake: rate limited (retry after 1s): POST /login: 429 Too Many Requests",
		},
		{
			name: "handler whose send failed",
			err: func(t *testing.T) error {
				b, fa, errs := hooked(t)
				b.HandleFunc(bot.Always(), func(ctx context.Context, w bot.Sender, _ *bot.Message) error {
					return w.Send(ctx, nowhere)
				})
				bottest.Run(t, b)
				require.NoError(t, fa.Inject(t.Context(), msg("c", "m1", "hi")))
				return next(t, errs)
			},
			want: `bot: handler on fake/c/m1: send: unknown platform "nope"`,
			is:   bot.ErrUnknownPlatform,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err(t)
			require.Error(t, err)
			assert.EqualError(t, err, tt.want)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			if _, ok := errors.AsType[*bot.RateLimitError](err); !ok && tt.is == nil {
				t.Errorf("%v: no *bot.RateLimitError in the chain", err)
			}
		})
	}
}

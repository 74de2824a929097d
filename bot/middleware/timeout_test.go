package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/middleware"
)

// waitThenReturn is a handler that waits until its context is done or work
// has passed, then returns ctx's error (or nil).
func waitThenReturn(work time.Duration) bot.HandlerFunc {
	return func(ctx context.Context, _ bot.Sender, _ *bot.Message) error {
		select {
		case <-ctx.Done():
			return fmt.Errorf("lookup order: %w", ctx.Err())
		case <-time.After(work):
			return nil
		}
	}
}

func TestTimeout(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name     string
		d        time.Duration
		parent   time.Duration // the Bot's handler timeout; 0: none
		h        bot.HandlerFunc
		wantErr  error  // matched with errors.Is; nil: no error
		wantText string // the whole error text, when set
		elapsed  time.Duration
	}{
		{
			name:     "fires and wraps",
			d:        50 * time.Millisecond,
			h:        waitThenReturn(time.Hour),
			wantErr:  context.DeadlineExceeded,
			wantText: "middleware: handler timed out after 50ms: lookup order: context deadline exceeded",
			elapsed:  50 * time.Millisecond,
		},
		{
			name:    "handler in time",
			d:       time.Second,
			h:       waitThenReturn(10 * time.Millisecond),
			elapsed: 10 * time.Millisecond,
		},
		{
			name: "other errors pass through",
			d:    time.Second,
			h: func(context.Context, bot.Sender, *bot.Message) error {
				return errBoom
			},
			wantErr:  errBoom,
			wantText: "boom",
		},
		{
			name:     "an earlier parent deadline is not wrapped",
			d:        time.Second,
			parent:   20 * time.Millisecond,
			h:        waitThenReturn(time.Hour),
			wantErr:  context.DeadlineExceeded,
			wantText: "lookup order: context deadline exceeded",
			elapsed:  20 * time.Millisecond,
		},
		{
			name: "nil after the deadline stays nil",
			d:    10 * time.Millisecond,
			h: func(ctx context.Context, _ bot.Sender, _ *bot.Message) error {
				<-ctx.Done()
				return nil
			},
			elapsed: 10 * time.Millisecond,
		},
		{
			name: "a deadline error of another context is not wrapped",
			d:    time.Second,
			h: func(context.Context, bot.Sender, *bot.Message) error {
				return fmt.Errorf("call API: %w", context.DeadlineExceeded)
			},
			wantErr:  context.DeadlineExceeded,
			wantText: "call API: context deadline exceeded",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				ctx := t.Context()
				if tt.parent > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.parent)
					defer cancel()
				}
				h := middleware.Timeout(tt.d)(tt.h)
				start := time.Now()

				err := h.HandleMessage(ctx, &bottest.Recorder{}, bottest.NewMessage("hi"))

				assert.Equal(t, tt.elapsed, time.Since(start), "fake time spent")
				if tt.wantErr == nil {
					require.NoError(t, err)
					return
				}
				require.ErrorIs(t, err, tt.wantErr)
				assert.EqualError(t, err, tt.wantText)
			})
		})
	}
}

func TestTimeout_deadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var got time.Time
		var ok bool
		h := middleware.Timeout(3 * time.Second)(bot.HandlerFunc(func(ctx context.Context, _ bot.Sender, _ *bot.Message) error {
			got, ok = ctx.Deadline()
			return nil
		}))
		require.NoError(t, h.HandleMessage(t.Context(), &bottest.Recorder{}, bottest.NewMessage("hi")))
		require.True(t, ok, "the handler's context has a deadline")
		assert.Equal(t, time.Now().Add(3*time.Second), got)
	})
}

func TestTimeout_sendAfterDeadlineFails(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var rec bottest.Recorder
		h := middleware.Timeout(time.Second)(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			<-ctx.Done()
			return w.Send(ctx, m.Reply("too late"))
		}))
		err := h.HandleMessage(t.Context(), &rec, bottest.NewMessage("hi"))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.EqualError(t, err, "middleware: handler timed out after 1s: context deadline exceeded")
		assert.Empty(t, rec.Texts())
	})
}

func TestTimeout_badDuration(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, -time.Second} {
		t.Run(d.String(), func(t *testing.T) {
			assert.PanicsWithValue(t, "middleware: Timeout needs a positive duration", func() { middleware.Timeout(d) })
		})
	}
}

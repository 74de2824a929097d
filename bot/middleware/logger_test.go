package middleware_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/middleware"
)

const secret = "my card number is 4111 1111 1111 1111"

// textLogger returns a logger writing text lines at level to a buffer.
func textLogger(level slog.Level) (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level})), &buf
}

func TestLogger(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		err     error // returned by the handler
		level   slog.Level
		want    []string // substrings of the one log line
		notWant []string
	}{
		{
			name:    "success at debug",
			level:   slog.LevelDebug,
			want:    []string{"level=DEBUG", `msg="message handled"`, "msg.platform=fake", "msg.conversation=c-1", "msg.id=m-1", "duration="},
			notWant: []string{"error=", "continue=", "panic="},
		},
		{
			name:    "failure at debug",
			err:     errBoom,
			level:   slog.LevelDebug,
			want:    []string{"level=DEBUG", "msg.id=m-1", "duration=", "error=boom"},
			notWant: []string{"level=ERROR"},
		},
		{
			name:    "continue is not an error",
			err:     bot.ErrContinue,
			level:   slog.LevelDebug,
			want:    []string{"level=DEBUG", "msg.id=m-1", "continue=true"},
			notWant: []string{"error="},
		},
		{name: "success at info", level: slog.LevelInfo},
		{name: "failure at info", err: errBoom, level: slog.LevelInfo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, buf := textLogger(tt.level)
			var rec bottest.Recorder
			called := 0
			h := middleware.Logger(l)(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
				called++
				if err := w.Send(ctx, m.Reply("you said: "+m.Text)); err != nil {
					return err
				}
				return tt.err
			}))
			m := bottest.NewMessage(secret, bottest.WithID("m-1"), bottest.In("fake", "c-1"))

			err := h.HandleMessage(t.Context(), &rec, m)

			assert.Equal(t, tt.err, err, "the handler's error is returned unchanged")
			assert.Equal(t, 1, called)
			assert.Equal(t, []string{"you said: " + secret}, rec.Texts())
			out := buf.String()
			assert.NotContains(t, out, "4111", "message text must never be logged")
			if tt.level > slog.LevelDebug {
				assert.Empty(t, out, "nothing is logged above Debug")
				return
			}
			require.Equal(t, 1, strings.Count(out, "\n"), "one line per message: %s", out)
			for _, s := range tt.want {
				assert.Contains(t, out, s)
			}
			for _, s := range tt.notWant {
				assert.NotContains(t, out, s)
			}
		})
	}
}

func TestLogger_panic(t *testing.T) {
	t.Parallel()
	l, buf := textLogger(slog.LevelDebug)
	h := middleware.Logger(l)(bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error {
		panic("handler bug")
	}))
	m := bottest.NewMessage(secret, bottest.WithID("m-2"))

	assert.PanicsWithValue(t, "handler bug", func() { _ = h.HandleMessage(t.Context(), &bottest.Recorder{}, m) },
		"the panic goes on to the Bot")
	out := buf.String()
	assert.Contains(t, out, "msg.id=m-2")
	assert.Contains(t, out, "panic=true")
	assert.NotContains(t, out, "4111")
}

// countingHandler is a slog.Handler that enables only levels at or above
// min and counts what it is asked.
type countingHandler struct {
	min              slog.Level
	enabled, handled int
}

func (c *countingHandler) Enabled(_ context.Context, l slog.Level) bool {
	c.enabled++
	return l >= c.min
}

func (c *countingHandler) Handle(context.Context, slog.Record) error {
	c.handled++
	return nil
}

func (c *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *countingHandler) WithGroup(string) slog.Handler      { return c }

func TestLogger_disabledDoesNoWork(t *testing.T) {
	t.Parallel()
	ch := &countingHandler{min: slog.LevelInfo}
	h := middleware.Logger(slog.New(ch))(bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error {
		return errors.New("boom")
	}))
	for range 3 {
		require.Error(t, h.HandleMessage(t.Context(), &bottest.Recorder{}, bottest.NewMessage("hi")))
	}
	assert.Equal(t, 3, ch.enabled, "one Enabled check per message")
	assert.Zero(t, ch.handled)
}

// Outside a Bot, a nil l means slog.Default(). TestLogger_nilUsesDefault
// changes slog.Default, so it does not run in parallel.
func TestLogger_nilUsesDefault(t *testing.T) {
	l, buf := textLogger(slog.LevelDebug)
	old := slog.Default()
	slog.SetDefault(l)
	t.Cleanup(func() { slog.SetDefault(old) })

	h := middleware.Logger(nil)(bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error { return nil }))
	require.NoError(t, h.HandleMessage(t.Context(), &bottest.Recorder{}, bottest.NewMessage(secret, bottest.WithID("m-3"))))

	assert.Contains(t, buf.String(), "msg.id=m-3")
	assert.NotContains(t, buf.String(), "4111")
}

// In a Bot, a nil l means the Bot's logger (bot.WithLogger).
func TestLogger_nilUsesTheBotsLogger(t *testing.T) {
	t.Parallel()
	l, buf := textLogger(slog.LevelDebug)
	fa := bottest.NewFakeAdapter("fake")
	b, err := bot.New(bot.WithAdapters(fa), bot.WithLogger(l))
	require.NoError(t, err)
	b.Use(middleware.Logger(nil))
	handled := make(chan struct{})
	b.NotFound(bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error {
		close(handled)
		return nil
	}))
	stop := bottest.Run(t, b)
	require.NoError(t, fa.Inject(t.Context(), bottest.NewMessage(secret, bottest.In("fake", "c-4"), bottest.WithID("m-4"))))
	<-handled
	require.NoError(t, stop())

	var lines []string
	for line := range strings.Lines(buf.String()) {
		if strings.Contains(line, `msg="message handled"`) && !strings.Contains(line, "component=bot") {
			lines = append(lines, line)
		}
	}
	require.Len(t, lines, 1, "the middleware's line, besides the Bot's own; log:\n%s", buf.String())
	assert.Contains(t, lines[0], "msg.id=m-4")
	assert.NotContains(t, buf.String(), "4111")
}

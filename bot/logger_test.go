package bot_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// Handlers and scheduled jobs reach the logger given to WithLogger through
// their context.
func TestLoggerOf_inABot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := slog.New(slog.NewTextHandler(io.Discard, nil))
		fa := bottest.NewFakeAdapter("fake")
		b, err := bot.New(bot.WithAdapters(fa), bot.WithLogger(l))
		require.NoError(t, err)
		handler, job := make(chan *slog.Logger, 1), make(chan *slog.Logger, 1)
		b.NotFound(bot.HandlerFunc(func(ctx context.Context, _ bot.Sender, _ *bot.Message) error {
			handler <- bot.LoggerOf(ctx)
			return nil
		}))
		require.NoError(t, b.Schedule("tick", "@every 1m", bot.JobFunc(func(ctx context.Context, _ bot.Sender) error {
			select {
			case job <- bot.LoggerOf(ctx):
			default:
			}
			return nil
		})))
		stop := bottest.Run(t, b)
		require.NoError(t, fa.Inject(t.Context(), msg("c", "1", "hi")))
		assert.Same(t, l, <-handler)
		time.Sleep(time.Minute)
		assert.Same(t, l, <-job)
		require.NoError(t, stop())
	})
}

// Without WithLogger, handlers get the Bot's default logger, which passes
// Warn and above.
func TestLoggerOf_quietDefault(t *testing.T) {
	fa := bottest.NewFakeAdapter("fake")
	b, err := bot.New(bot.WithAdapters(fa))
	require.NoError(t, err)
	got := make(chan *slog.Logger, 1)
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, _ bot.Sender, _ *bot.Message) error {
		got <- bot.LoggerOf(ctx)
		return nil
	}))
	stop := bottest.Run(t, b)
	require.NoError(t, fa.Inject(t.Context(), msg("c", "1", "hi")))
	l := <-got
	require.NoError(t, stop())
	assert.False(t, l.Enabled(t.Context(), slog.LevelInfo))
	assert.True(t, l.Enabled(t.Context(), slog.LevelWarn))
}

func TestLoggerOf_outsideABot(t *testing.T) {
	assert.Same(t, slog.Default(), bot.LoggerOf(t.Context()))
}

// quietChildEnv makes TestBot_quietDefaultOnStderr's process the child
// that logs.
const quietChildEnv = "PARLEY_BOT_QUIET_CHILD"

// The Bot's quiet default logs warnings and errors on standard error and
// nothing at Info, also once the program makes it slog's default: slog.SetDefault
// (b.Logger()), where the default used to loop through slog's bridge to
// the log package, which asked the level filter about Info and dropped
// every record. The Bot logs in a child process, whose standard error the
// test reads.
func TestBot_quietDefaultOnStderr(t *testing.T) {
	if os.Getenv(quietChildEnv) == "1" {
		b, err := bot.New(bot.WithAdapters(bottest.NewFakeAdapter("fake")))
		if err != nil {
			fmt.Fprintln(os.Stdout, err)
			os.Exit(2)
		}
		b.Logger().Info("bot info, not shown")
		b.Logger().Warn("bot warning")
		b.Logger().Error("bot error")
		slog.SetDefault(b.Logger())
		slog.Info("default info, not shown")
		slog.Warn("default warning")
		log.Print("log print, at Info, not shown")
		os.Exit(0)
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestBot_quietDefaultOnStderr$", "-test.count=1")
	cmd.Env = append(os.Environ(), quietChildEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "child: %s %s", out, stderr.String())
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	require.Len(t, lines, 3, "stderr:\n%s", stderr.String())
	assert.Regexp(t, `level=WARN msg="bot warning" component=bot$`, lines[0])
	assert.Regexp(t, `level=ERROR msg="bot error" component=bot$`, lines[1])
	assert.Regexp(t, `level=WARN msg="default warning" component=bot$`, lines[2])
}

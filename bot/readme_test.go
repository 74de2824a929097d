package bot_test

import (
	"bytes"
	"context"
	"io"
	"log"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/console"
	"github.com/parleybot/parley/bot"
)

// terminal is what one terminal shows: the chat and the standard error
// written to the same place.
type terminal struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.Write(p)
}

func (t *terminal) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// useTerminal makes the standard logger, where slog.Default() writes,
// write to term until t ends. Tests that use it must not run in parallel.
func useTerminal(t *testing.T, term io.Writer) {
	t.Helper()
	log.SetOutput(term)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
}

// TestNew_readmeProgramChatsWithoutLogs runs the program of the README's
// "Write a bot" with the console adapter over pipes: with no WithLogger,
// the chat shows the bot's answers and no log records.
func TestNew_readmeProgramChatsWithoutLogs(t *testing.T) {
	term := &terminal{}
	useTerminal(t, term)
	in, typed := io.Pipe()

	// The README's program, with the console's input and output as pipes.
	c, err := console.New(console.Config{In: in, Out: term})
	require.NoError(t, err)
	b, err := bot.New(bot.WithAdapters(c))
	require.NoError(t, err)
	b.HandleFunc(bot.Command("ping"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("pong"))
	}, bot.Help("ping", "check that the bot is alive"))
	closed := bot.MustExpr(`!between("09:00", "17:00") || weekday() in ["Saturday", "Sunday"]`)
	b.HandleFunc(closed, func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("We are closed; a colleague will answer when we open."))
	})

	done := make(chan error, 1)
	go func() { done <- b.Run(t.Context()) }()
	_, err = io.WriteString(typed, "ping\n")
	require.NoError(t, err)
	require.NoError(t, typed.Close())
	require.NoError(t, <-done)

	assert.Equal(t, "bot: pong\n", term.String())
}

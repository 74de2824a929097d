package console_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/parleybot/parley/adapters/console"
	"github.com/parleybot/parley/bot"
)

// openPTY opens a pseudo-terminal: the master end plays the user's
// keyboard and screen, the slave end is the terminal the adapter sees,
// opened twice as standard input and output are (Run closes its In).
func openPTY(t *testing.T) (master, in, out *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { _ = master.Close() })
	var n int
	control(t, master, func(fd int) {
		require.NoError(t, unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0), "unlockpt")
		n, err = unix.IoctlGetInt(fd, unix.TIOCGPTN)
		require.NoError(t, err, "ptsname")
	})
	for _, f := range []**os.File{&in, &out} {
		*f, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
		require.NoError(t, err)
		t.Cleanup(func() { _ = (*f).Close() })
	}
	return master, in, out
}

// screen collects what the adapter writes to the terminal.
func screen(t *testing.T, master *os.File) *syncBuffer {
	t.Helper()
	out := &syncBuffer{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			_, _ = out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { _ = master.Close(); <-done })
	return out
}

// control calls fn with the file descriptor of f, leaving f in
// non-blocking mode (f.Fd would not), so that Close ends a Read.
func control(t *testing.T, f *os.File, fn func(fd int)) {
	t.Helper()
	rc, err := f.SyscallConn()
	require.NoError(t, err)
	require.NoError(t, rc.Control(func(fd uintptr) { fn(int(fd)) }))
}

// lflag returns the terminal's local modes.
func lflag(t *testing.T, f *os.File) uint32 {
	t.Helper()
	var st *unix.Termios
	var err error
	control(t, f, func(fd int) { st, err = unix.IoctlGetTermios(fd, unix.TCGETS) })
	require.NoError(t, err)
	return st.Lflag
}

// TestAdapter_terminal runs the adapter on a pseudo-terminal: the user
// edits a line with the arrow keys and recalls it from the history, and
// the bot receives the edited lines; a reply written while the user types
// leaves the line being typed intact; Ctrl-C interrupts like SIGINT would,
// and the terminal is back in its original mode afterwards.
func TestAdapter_terminal(t *testing.T) {
	master, slave, tty := openPTY(t)
	before := lflag(t, tty)
	require.NotZero(t, before&unix.ICANON, "a new terminal is in canonical mode")
	out := screen(t, master)
	var interrupts atomic.Int32
	a, err := newConsole(t, console.Config{In: slave, Out: tty, User: "ana", Interrupt: func() { interrupts.Add(1) }})
	require.NoError(t, err)
	pub := make(chanPublisher, 1)
	done := start(t.Context(), a, pub)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "> ") }, 2*time.Second, time.Millisecond,
		"the prompt: %q", out)
	require.Zero(t, lflag(t, tty)&(unix.ICANON|unix.ECHO), "raw mode while Run reads")

	typeKeys := func(s string) {
		t.Helper()
		_, err := master.WriteString(s)
		require.NoError(t, err)
	}
	const (
		left      = "\x1b[D"
		up        = "\x1b[A"
		backspace = "\x7f"
		ctrlC     = "\x03"
	)
	typeKeys("helo" + left + "l\r") // "hello", mended in the middle
	m := pub.next(t)
	assert.Equal(t, "hello", m.Text)
	assert.True(t, m.Direct)

	typeKeys(up + "!\r") // the last line again, with a "!"
	assert.Equal(t, "hello!", pub.next(t).Text)

	typeKeys("by")
	require.Eventually(t, func() bool { return strings.HasSuffix(out.String(), "> by") }, 2*time.Second, time.Millisecond)
	_, err = a.Send(t.Context(), m.Reply("Hi ana!\nHow can I help?"))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return strings.HasSuffix(out.String(), "> by") && strings.Contains(out.String(), "How can I help?")
	},
		2*time.Second, time.Millisecond, "the prompt and the half-typed line are drawn again below the reply: %q", out.String())
	assert.Contains(t, out.String(), "bot: Hi ana!\r\n     How can I help?\r\n", "lines end in CR LF in raw mode")
	typeKeys("x" + backspace + "e\r")
	assert.Equal(t, "bye", pub.next(t).Text)

	typeKeys("half a line" + ctrlC)
	require.NoError(t, wait(t, done), "Ctrl-C ends Run")
	assert.Equal(t, int32(1), interrupts.Load(), "Ctrl-C interrupts")
	assert.Equal(t, before, lflag(t, tty), "the terminal's mode is restored")
	select {
	case m := <-pub:
		t.Fatalf("an interrupted line was published: %q", m.Text)
	default:
	}
}

// TestAdapter_terminalEnd checks the other ways Run ends on a terminal:
// Ctrl-D at the start of a line, and a cancelled context; both restore the
// terminal's mode.
func TestAdapter_terminalEnd(t *testing.T) {
	for _, how := range []string{"ctrl-d", "cancel"} {
		t.Run(how, func(t *testing.T) {
			master, slave, tty := openPTY(t)
			before := lflag(t, tty)
			out := screen(t, master)
			a, err := newConsole(t, console.Config{In: slave, Out: tty, Interrupt: func() { t.Error("no interrupt") }})
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			pub := make(chanPublisher, 1)
			done := start(ctx, a, pub)
			require.Eventually(t, func() bool { return strings.Contains(out.String(), "> ") }, 2*time.Second, time.Millisecond)
			if how == "ctrl-d" {
				_, err = master.WriteString("\x04")
				require.NoError(t, err)
			} else {
				cancel()
			}
			require.NoError(t, wait(t, done))
			assert.Equal(t, before, lflag(t, tty), "the terminal's mode is restored")
			_, err = a.Send(t.Context(), &bot.Message{Text: "after Run"})
			require.NoError(t, err)
			require.Eventually(t, func() bool { return strings.Contains(out.String(), "bot: after Run") }, 2*time.Second, time.Millisecond)
		})
	}
}

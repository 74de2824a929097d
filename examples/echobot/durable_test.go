package main

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/internal/testbin"
	"github.com/parleybot/parley/storage/jetstream"
)

// The console bot in durable mode answers what it was given, then exits,
// as in memory: run after run on the same data directory, with the input
// piped and ended at once. A line or a reply an earlier run left unanswered
// (it was killed) is handled by the next run but not shown on its terminal,
// which never asked: the next run prints only the answers to its own
// lines, and leaves nothing behind.
func TestEchobot_durableConsole(t *testing.T) {
	if testing.Short() {
		t.Skip("long crash test: builds the bot and runs it as a process; run without -short")
	}
	bin := testbin.Build(t, "github.com/parleybot/parley/examples/echobot")
	dir := t.TempDir()

	for _, line := range []string{"hello 1", "hello 2"} {
		p := startEchobot(t, bin, dir)
		_, err := io.WriteString(p.stdin, line+"\n")
		require.NoError(t, err)
		require.NoError(t, p.stdin.Close())
		require.NoError(t, p.wait(t), "stderr: %s", p.stderr)
		assert.Equal(t, "bot: "+line+"\n", p.stdout.String(), "the answer, then exit")
		assert.Empty(t, p.stderr.String(), "nothing is logged at the default level")
	}

	// An earlier run was killed with a line stored but not handled, and a
	// reply stored but not delivered.
	leaveUnanswered(t, dir)

	p := startEchobot(t, bin, dir)
	_, err := io.WriteString(p.stdin, "hello 3\n")
	require.NoError(t, err)
	// The console's conversation has one partition and one outbound lane:
	// what the earlier run left is handled and delivered before this line.
	require.Eventually(t, func() bool { return strings.Contains(p.stdout.String(), "bot: hello 3\n") },
		20*time.Second, 10*time.Millisecond, "no answer to the line; stdout %q, stderr %s", p.stdout, p.stderr)
	require.NoError(t, p.stdin.Close())
	require.NoError(t, p.wait(t), "stderr: %s", p.stderr)
	assert.Equal(t, "bot: hello 3\n", p.stdout.String(), "only the answers to this run's lines are shown")
	assert.Empty(t, p.stderr.String())
	assert.Equal(t, map[string]uint64{"PARLEY_IN": 0, "PARLEY_OUT": 0}, streamMessages(t, dir),
		"what the earlier run left is done, not kept for a later one")
}

// Two bots on one data directory: the second refuses to start, naming the
// directory and the process that holds it, and changes nothing; the first
// goes on answering. Once the first has exited, the directory is free.
func TestEchobot_dataDirInUse(t *testing.T) {
	if testing.Short() {
		t.Skip("long test: builds the bot and runs it as a process; run without -short")
	}
	bin := testbin.Build(t, "github.com/parleybot/parley/examples/echobot")
	dir := t.TempDir()

	first := startEchobot(t, bin, dir)
	_, err := io.WriteString(first.stdin, "ping\n")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return first.stdout.String() == "bot: ping\n" },
		20*time.Second, 10*time.Millisecond, "the first bot does not answer; stdout %q, stderr %s", first.stdout, first.stderr)

	second := startEchobot(t, bin, dir)
	_, err = io.WriteString(second.stdin, "hello\n")
	require.NoError(t, err)
	require.NoError(t, second.stdin.Close())
	var exit *exec.ExitError
	require.ErrorAs(t, second.wait(t), &exit, "the second bot must not run; stdout %q", second.stdout)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Empty(t, second.stdout.String(), "the second bot answers nothing")
	assert.Equal(t, fmt.Sprintf("echobot: jetstream: data directory %s is in use by process %d; two embedded servers cannot share one\n",
		dir, first.cmd.Process.Pid), second.stderr.String())

	_, err = io.WriteString(first.stdin, "still here\n")
	require.NoError(t, err)
	require.NoError(t, first.stdin.Close())
	require.NoError(t, first.wait(t), "stderr: %s", first.stderr)
	assert.Equal(t, "bot: ping\nbot: still here\n", first.stdout.String())

	third := startEchobot(t, bin, dir)
	_, err = io.WriteString(third.stdin, "hello\n")
	require.NoError(t, err)
	require.NoError(t, third.stdin.Close())
	require.NoError(t, third.wait(t), "stderr: %s", third.stderr)
	assert.Equal(t, "bot: hello\n", third.stdout.String(), "the directory is free once the first bot exited")
}

// An earlier run's console nonce (see adapters/console).
const earlierRun = "0a1b2c3d4e5f"

// leaveUnanswered stores in dir's streams what a killed console run
// leaves: a line not yet handled, and a reply not yet delivered.
func leaveUnanswered(t *testing.T, dir string) {
	t.Helper()
	srv, err := jetstream.StartEmbedded(dir)
	require.NoError(t, err)
	defer srv.Shutdown()
	nc, err := srv.Connect()
	require.NoError(t, err)
	defer nc.Close()
	js, err := njs.New(nc)
	require.NoError(t, err)
	br, err := jetstream.NewBroker(t.Context(), js)
	require.NoError(t, err)
	line := &bot.Message{ID: earlierRun + "-1", Platform: "console", Conversation: "console",
		Author: bot.User{ID: "ada", Name: "ada"}, Text: "unanswered line", Time: time.Now(), Direct: true}
	dup, err := br.Inbound(t.Context(), line)
	require.NoError(t, err)
	require.False(t, dup)
	reply := &bot.Message{Platform: "console", Conversation: "console", Direct: true,
		ReplyTo: earlierRun + "-2", Key: "in:console:" + earlierRun + "-2:0", Text: "undelivered reply"}
	require.NoError(t, br.Outbound(t.Context(), reply))
}

// streamMessages returns how many messages the Broker's streams in dir
// hold.
func streamMessages(t *testing.T, dir string) map[string]uint64 {
	t.Helper()
	srv, err := jetstream.StartEmbedded(dir)
	require.NoError(t, err)
	defer srv.Shutdown()
	nc, err := srv.Connect()
	require.NoError(t, err)
	defer nc.Close()
	js, err := njs.New(nc)
	require.NoError(t, err)
	n := map[string]uint64{}
	for _, name := range []string{"PARLEY_IN", "PARLEY_OUT"} {
		s, err := js.Stream(t.Context(), name)
		require.NoError(t, err, name)
		info, err := s.Info(t.Context())
		require.NoError(t, err, name)
		n[name] = info.State.Msgs
	}
	return n
}

// echobotProcess is a running echobot with its standard streams.
type echobotProcess struct {
	cmd            *exec.Cmd
	stdin          io.WriteCloser
	stdout, stderr *lockedBuffer
	done           chan error
}

// startEchobot starts bin on the console with its data in dir; the test's
// cleanup kills it if it still runs.
func startEchobot(t *testing.T, bin, dir string) *echobotProcess {
	t.Helper()
	p := &echobotProcess{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin)
	p.cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "USER=ada", "PARLEY_DATA_DIR=" + dir}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	var err error
	p.stdin, err = p.cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the process to exit and returns its error (nil for a
// zero exit status), failing the test after 30 seconds.
func (p *echobotProcess) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("echobot did not exit within 30s; stdout %q, stderr %s", p.stdout, p.stderr)
		return nil
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

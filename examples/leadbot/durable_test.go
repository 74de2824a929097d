package main

import (
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/internal/testbin"
	"github.com/parleybot/parley/storage/jetstream"
)

// process is leadbot run as a process.
type process struct {
	cmd  *exec.Cmd
	logs *syncBuffer // its standard error
	done chan error  // its exit, sent once, then put back
}

// startProcess runs the leadbot binary bin with the environment of
// r.env(extra...). The test's end stops it with SIGTERM, and kills it if
// it does not stop.
func (r *rig) startProcess(bin string, extra ...string) (*instance, *process) {
	r.t.Helper()
	return r.startCommand(exec.Command(bin), extra...)
}

// startCommand starts cmd, a leadbot, with the environment of
// r.env(extra...), as startProcess does.
func (r *rig) startCommand(cmd *exec.Cmd, extra ...string) (*instance, *process) {
	t := r.t
	t.Helper()
	p := &process{logs: &syncBuffer{}, done: make(chan error, 1)}
	kv := r.env(extra...)
	environ := []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "USER=ada"}
	for i := 0; i+1 < len(kv); i += 2 {
		environ = append(environ, kv[i]+"="+kv[i+1])
	}
	p.cmd = cmd
	p.cmd.Env = environ
	p.cmd.Stdout, p.cmd.Stderr = &syncBuffer{}, p.logs
	require.NoError(t, p.cmd.Start())
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			t.Error("leadbot did not stop on SIGTERM")
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("log of leadbot process %d:\n%s", p.cmd.Process.Pid, p.logs)
		}
	})
	in := r.started(p.logs, r.fd.Connections()+1, p.exited)
	return in, p
}

// exited returns the error of the process's exit, or nil while it runs.
func (p *process) exited() error {
	select {
	case err := <-p.done:
		p.done <- err
		if err == nil {
			return errExitedEarly
		}
		return err
	default:
		return nil
	}
}

var errExitedEarly = exitError("exited with status 0")

type exitError string

func (e exitError) Error() string { return string(e) }

// kill kills the process with SIGKILL, as a crash would, and waits for it.
func (p *process) kill(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Kill()
	select {
	case err := <-p.done:
		p.done <- err
	case <-time.After(15 * time.Second):
		t.Fatal("leadbot was not killed")
	}
}

// Leadbot on JetStream (PARLEY_DATA_DIR) is killed with SIGKILL in the
// middle of the questions, at the moment Sendbee has delivered an answer
// (the bot acknowledged it, so it is stored, and it may be handled in
// part). Started again on the same data directory, leadbot continues the
// same conversation at the same step with the same values: the answer
// is handled once, its next question asked once, nobody is greeted
// twice, and the end of the questions creates one lead and one item.
func TestLeadbot_killedMidFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("long crash test: builds leadbot and runs it as a process; run without -short")
	}
	bin := testbin.Build(t, "github.com/parleybot/parley/examples/leadbot")
	dir := t.TempDir()

	// The observer kills the process that acknowledged the delivery the
	// test armed it for.
	var (
		mu     sync.Mutex
		armed  string // the conversation whose next acknowledged delivery kills victim
		victim *process
		killed = make(chan struct{})
	)
	observe := func(d sendbeetest.Delivery) {
		mu.Lock()
		defer mu.Unlock()
		if armed == "" || d.ConversationID != armed || !d.OK() {
			return
		}
		armed = ""
		_ = victim.cmd.Process.Kill()
		close(killed)
	}
	r := newEmulators(t, sendbeetest.WithDeliveryObserver(observe))
	first, p1 := r.startProcess(bin, "PARLEY_DATA_DIR", dir)
	r.use(first)

	const nina = "+385987654321"
	r.say(nina, "Hello")
	r.waitSent(nina, greeting, askName)
	r.say(nina, "Nina Babić")
	r.waitSent(nina, greeting, askName, askEmail("Nina Babić"))
	r.say(nina, "nina@example.com")
	want := []string{greeting, askName, askEmail("Nina Babić"), askSize}
	r.waitSent(nina, want...)

	mu.Lock()
	armed, victim = r.conversation(nina).ID, p1
	mu.Unlock()
	r.say(nina, "3")
	select {
	case <-killed:
	case <-time.After(wait):
		t.Fatal("the answer was not delivered")
	}
	p1.kill(t)
	r.fd.WaitConnections(t, 0) // the emulator saw the stream end

	second, _ := r.startProcess(bin, "PARLEY_DATA_DIR", dir)
	r.use(second)
	want = append(want, askNeed)
	r.waitSent(nina, want...)
	r.say(nina, "A clinic booking system")
	want = append(want, done("Nina Babić"))
	r.waitSent(nina, want...)

	contact := r.conversation(nina).Contact
	assert.Equal(t, "nina@example.com", contact.Fields["email"])
	assert.Equal(t, "51-200", contact.Fields["company_size"], "the answer given before the crash")
	assert.Equal(t, "A clinic booking system", contact.Fields["need"])
	leadThread(t, r.fd, "Lead: Nina Babić") // exactly one thread
	var leads int
	for _, l := range r.vf.Leads() {
		if l.Phone == nina {
			leads++
		}
	}
	assert.Equal(t, 1, leads, "one VelaFlows lead")
	r.say(nina, "thanks")
	r.waitSent(nina, append(want, `Thanks! Our team has your details and will be in touch soon. Type "agent" to talk to a person now.`)...)
}

// Three replicas of leadbot share one NATS server (NATS_URL): the
// conversation's answers go to different replicas, each answer advances
// the questions once, and every replica sweeps the timers, yet the
// reminder is sent once and the conversation closed once.
func TestLeadbot_threeReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("long test: three bots on an embedded NATS server; run without -short")
	}
	srv, err := jetstream.StartEmbedded(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(srv.Shutdown)
	r := newEmulators(t)
	var replicas []*instance
	for range 3 {
		replicas = append(replicas, r.startInProcess([]string{"NATS_URL", srv.ClientURL()}))
	}

	const tea = "+385951231234"
	r.use(replicas[0])
	r.say(tea, "hi")
	r.waitSent(tea, greeting, askName)
	r.use(replicas[1])
	r.say(tea, "Tea")
	want := []string{greeting, askName, askEmail("Tea")}
	r.waitSent(tea, want...)
	r.use(replicas[2])
	r.say(tea, "tea@example.com")
	want = append(want, askSize)
	r.waitSent(tea, want...)

	quiet := func() {
		t.Helper()
		n := len(want)
		assert.Never(t, func() bool { return len(r.sent(tea)) > n }, 200*time.Millisecond, tick, "%q", r.sent(tea))
	}
	r.clock.Add(10 * time.Minute)
	want = append(want, "Still there? "+askSize)
	r.waitSent(tea, want...)
	quiet()
	r.clock.Add(50 * time.Minute)
	want = append(want, "I haven't heard from you in a while, so I'm closing this for now. Write to us any time to pick up again.")
	r.waitSent(tea, want...)
	r.clock.Add(2 * time.Hour)
	quiet()

	// A later message, to the first replica, starts the questions again.
	r.use(replicas[0])
	r.say(tea, "back again")
	want = append(want, askName)
	r.waitSent(tea, want...)
	for _, in := range replicas {
		assert.NotContains(t, in.logs.String(), "level=ERROR")
	}
}

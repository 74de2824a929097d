package parleytest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/parleytest"
)

// hours is the handler under test in the examples.
func hours(ctx context.Context, w bot.Sender, m *bot.Message) error {
	return w.Send(ctx, m.Reply("We are open 9 to 5."))
}

// A test of a Sendbee bot: the emulator plays the customer, its webhook
// reaches the adapter, and the reply it records went through the API.
//
// The examples are the body of a test function, func TestHours(t
// *testing.T); an example has no *testing.T, so newT makes a stand-in.
// In a test, check what the emulator recorded with assert or require
// where the examples print it.
func ExampleSendbee() {
	t := newT() // in a test: the test's t
	defer t.end()

	emu := sendbeetest.NewServer(t)
	b, err := bot.New(bot.WithAdapters(parleytest.Sendbee(t, emu)), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	b.HandleFunc(bot.Command("hours"), hours)
	parleytest.Run(t, b)

	emu.CustomerMessage("+385911234567", "Ana", "/hours")
	sent := emu.WaitSent(t, 1)
	fmt.Println(sent[0].Phone, sent[0].Text)
	// Output:
	// +385911234567 We are open 9 to 5.
}

// A test of a VelaFlows bot: the adapter registered its webhook with the
// emulator, as a bot does at start-up, and answers in the customer's
// conversation.
func ExampleVelaFlows() {
	t := newT() // in a test: the test's t
	defer t.end()

	emu := velaflowstest.NewServer(t)
	b, err := bot.New(bot.WithAdapters(parleytest.VelaFlows(t, emu)), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	b.HandleFunc(bot.Command("hours"), hours)
	parleytest.Run(t, b)

	conversation, _ := emu.CustomerMessage("whatsapp", "Ada Lovelace", "+442071838750", "/hours")
	sent := emu.WaitSent(t, 1)
	fmt.Println(sent[0].ChannelType, sent[0].Content)
	fmt.Println("in the customer's conversation:", sent[0].ConversationID == conversation)
	// Output:
	// whatsapp We are open 9 to 5.
	// in the customer's conversation: true
}

// A test of a Flowdock bot: Run returns once the adapter's stream is
// connected, so the message posted after it reaches the bot, and the
// reply goes to the message's thread.
func ExampleFlowdock() {
	t := newT() // in a test: the test's t
	defer t.end()

	emu := flowdocktest.NewServer(t)
	b, err := bot.New(bot.WithAdapters(parleytest.Flowdock(t, emu)), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	b.HandleFunc(bot.Command("hours"), hours)
	parleytest.Run(t, b)

	in, err := emu.Post("acme/main", "dana", "/hours")
	require.NoError(t, err)
	sent := emu.WaitSent(t, 1)
	fmt.Println(sent[0].Flow, sent[0].Content)
	fmt.Println("in the message's thread:", sent[0].ThreadID == in.ThreadID)
	// Output:
	// acme/main We are open 9 to 5.
	// in the message's thread: true
}

// exampleT stands in for the *testing.T of a test function in the
// examples, which have none. It has the methods of testing.TB that the
// kit, the emulators, bottest and require call: cleanups run at end, in
// reverse order, after Context is cancelled, as in a test; logs are kept
// and printed with a failure, which makes the example's output differ; a
// fatal failure panics with what failed. Any other method of testing.TB
// panics.
type exampleT struct {
	testing.TB // nil: only the methods below are called

	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	cleanups []func()
	logs     []string
	failures []string // what failed, with the logs before
}

func newT() *exampleT {
	t := &exampleT{}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	return t
}

// end ends the example as the end of a test does.
func (t *exampleT) end() {
	t.cancel()
	for {
		t.mu.Lock()
		n := len(t.cleanups)
		if n == 0 {
			t.mu.Unlock()
			return
		}
		f := t.cleanups[n-1]
		t.cleanups = t.cleanups[:n-1]
		t.mu.Unlock()
		f()
	}
}

func (t *exampleT) Helper()                  {}
func (t *exampleT) Context() context.Context { return t.ctx }

func (t *exampleT) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

func (t *exampleT) Log(args ...any) { t.Logf("%s", fmt.Sprintln(args...)) }

func (t *exampleT) Logf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.logs = append(t.logs, strings.TrimSuffix(fmt.Sprintf(format, args...), "\n"))
}

func (t *exampleT) Error(args ...any) { t.Errorf("%s", fmt.Sprintln(args...)) }

func (t *exampleT) Errorf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	failure := "FAIL: " + strings.TrimSuffix(fmt.Sprintf(format, args...), "\n")
	for _, l := range t.logs {
		failure += "\n    " + l
	}
	t.logs = nil
	t.failures = append(t.failures, failure)
	fmt.Println(failure)
}

func (t *exampleT) Fatal(args ...any) { t.Error(args...); t.FailNow() }

func (t *exampleT) Fatalf(format string, args ...any) { t.Errorf(format, args...); t.FailNow() }

// FailNow panics: an example has no goroutine of its own to end, and its
// output is not shown when it panics, so the panic says what failed.
func (t *exampleT) FailNow() {
	t.mu.Lock()
	defer t.mu.Unlock()
	panic("the example failed:\n" + strings.Join(t.failures, "\n"))
}

// Command parley is Parley's command-line tool.
//
// Usage:
//
//	parley run FILE                     (or parley run --rules FILE)
//	parley rules check FILE
//	parley rules explain FILE --text TEXT [--platform P] [--conversation C] [--kind K] [--direct] [--human]
//	parley rules explain FILE --json MESSAGE
//	parley sim [--sendbee-addr …] [--velaflows-addr …] [--flowdock-addr …]
//	parley sim sendbee [--sendbee-addr 127.0.0.1:8701]
//	parley sim velaflows [--velaflows-addr 127.0.0.1:8702]
//	parley sim flowdock [--flowdock-addr 127.0.0.1:8703] [--flowdock-stream-addr 127.0.0.1:8704]
//	parley sim env [PLATFORM…]          (export lines: eval "$(parley sim env)")
//	parley sim rotate                   (or --rotate-credentials on any sim command)
//	parley dev [--rules FILE] [--addr 127.0.0.1:8700] [--bot URL]
//	parley velaflows export-leads [-o leads.csv]
//	parley sendbee broadcast --campaign NAME --template KW --language L [--tag T…|--status S|--search Q|--csv FILE]
//	                         [--fill 1=name…] [--dry-run] [--report report.csv]
//	parley version                      (or parley --version)
//	parley completion bash|zsh|fish|powershell
//	parley help [COMMAND [SUBCOMMAND]]  (or -h, --help on any command)
//
// Flags may come before or after the arguments, and a long flag may be
// written with one dash as well as two (-rules FILE is --rules FILE).
//
// "parley sim" runs platform emulators as local servers, so that a bot can
// be tried end to end on one machine without an account: the emulator plays
// the platform's API and its webhooks, and lets you play the customer and
// the platform's dashboard. "parley dev" runs them with a page in the
// browser to play every side, watch the bot's event feed, inject faults and
// operate the bot through its admin API.
//
// parley exits with status 0 on success, 1 when the command failed, 2 on a
// command line it cannot make sense of, and 130 (SIGINT) or 143 (SIGTERM)
// when a signal stopped it, once what was running has shut down.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// The first SIGINT or SIGTERM cancels ctx and the command shuts down
	// cleanly; the handlers are then reset, so that a second one ends
	// parley at once. Which context is done tells which signal came.
	intCtx, stopInt := signal.NotifyContext(context.Background(), os.Interrupt)
	ctx, stopTerm := signal.NotifyContext(intCtx, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		signal.Reset(os.Interrupt, syscall.SIGTERM)
	}()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	var sig os.Signal
	switch {
	case intCtx.Err() != nil:
		sig = os.Interrupt
	case ctx.Err() != nil:
		sig = syscall.SIGTERM
	}
	stopTerm()
	stopInt()
	code, msg := exitStatus(err, sig)
	if msg != "" {
		fmt.Fprintln(os.Stderr, msg)
	}
	os.Exit(code)
}

// run runs the command line args (without the program name) until it is
// done or ctx is; the error says how it failed.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	root := newRootCmd(&streams{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv})
	root.SetArgs(normalizeArgs(root, args))
	return root.ExecuteContext(ctx)
}

// exitStatus returns the status parley exits with after run returned err,
// and the text it prints on standard error before ("" for none). sig is the
// signal that interrupted the command, nil if none: the status is then
// 128 plus its number, and a command that stopped as asked prints nothing
// but what it left unfinished, if anything.
func exitStatus(err error, sig os.Signal) (code int, msg string) {
	if sig != nil {
		code = 128 + 2 // SIGINT on every platform Go runs on
		if s, ok := sig.(syscall.Signal); ok {
			code = 128 + int(s)
		}
		if stopped, ok := errors.AsType[*stoppedError](err); ok {
			return code, "parley: " + stopped.Error()
		}
		if err == nil || errors.Is(err, context.Canceled) {
			return code, ""
		}
		return code, "parley: " + err.Error()
	}
	if err == nil {
		return 0, ""
	}
	if ue, ok := errors.AsType[*usageError](err); ok {
		return 2, fmt.Sprintf("parley: %v\nRun '%s --help' for usage.", ue.err, ue.cmd)
	}
	return 1, "parley: " + err.Error()
}

// A usageError is a command line parley cannot make sense of: it prints
// what is wrong and how to get the usage of cmd, and exits with status 2.
type usageError struct {
	cmd string // the command's path, such as "parley rules explain"
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// A stoppedError ends a command that was interrupted before it finished:
// it says, in one line, what the command left, in place of the chain of
// errors the cancellation caused on its way up.
type stoppedError struct {
	msg   string
	cause error
}

func (e *stoppedError) Error() string { return e.msg }
func (e *stoppedError) Unwrap() error { return e.cause }

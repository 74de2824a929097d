// Command parley is Parley's command-line tool.
//
// Usage:
//
//	parley run -rules FILE
//	parley rules check FILE
//	parley rules explain FILE -text TEXT [-platform P] [-direct] [-human]
//	parley sim [-sendbee-addr …] [-velaflows-addr …] [-flowdock-addr …]
//	parley sim sendbee [-sendbee-addr 127.0.0.1:8701]
//	parley sim velaflows [-velaflows-addr 127.0.0.1:8702]
//	parley sim flowdock [-flowdock-addr 127.0.0.1:8703]
//	parley velaflows export-leads [-o leads.csv]
//
// "parley sim" runs platform emulators as local servers, so that a bot can
// be tried end to end on one machine without an account: the emulator plays
// the platform's API and its webhooks, and lets you play the customer and
// the platform's dashboard.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	var ue usageError
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0) // -h asked for the help, which was printed
	}
	if errors.As(err, &ue) {
		fmt.Fprintln(os.Stderr, "parley:", ue.err)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "parley:", err)
		os.Exit(1)
	}
}

const usage = `usage: parley <command> [arguments]

commands:
  run -rules FILE          run a bot from a rules file (platforms from the environment)
  rules check FILE         check a rules file and report every problem
  rules explain FILE ...   show how each rule decides on a message
  sim                      run the Sendbee, VelaFlows and Flowdock emulators on loopback
  sim sendbee              run the Sendbee emulator on loopback (see: parley sim -h)
  sim velaflows            run the VelaFlows emulator on loopback
  sim flowdock             run the Flowdock emulator on loopback
  velaflows export-leads   export every VelaFlows CRM lead to a CSV file
`

// run dispatches a command line.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{errors.New("no command given")}
	}
	switch args[0] {
	case "sim":
		return runSim(ctx, args[1:], stdin, stdout, stderr, getenv)
	case "velaflows":
		return runVelaflows(ctx, args[1:], stdout, stderr, getenv)
	case "run":
		return runRun(ctx, args[1:], stdin, stdout, stderr, getenv)
	case "rules":
		return runRulesCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Errorf("unknown command %q", args[0])}
}

// A usageError is a command line parley cannot make sense of; it exits
// with status 2 after the usage text.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parley runs the command line args as main does, without signals, and
// returns what it wrote and its exit status.
func parley(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut strings.Builder
	err := run(t.Context(), args, strings.NewReader(""), &out, &errOut, env())
	code, msg := exitStatus(err, nil)
	if msg != "" {
		errOut.WriteString(msg + "\n")
	}
	return out.String(), errOut.String(), code
}

// commandPaths returns the path of every command parley has, such as
// "rules explain", "" for parley itself.
func commandPaths(t *testing.T) []string {
	var paths []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		paths = append(paths, strings.TrimSpace(strings.TrimPrefix(c.CommandPath(), "parley")))
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(&streams{getenv: env()}))
	require.Len(t, paths, 19)
	return paths
}

func lookupCommand(t *testing.T, path string) *cobra.Command {
	t.Helper()
	c, rest, err := newRootCmd(&streams{getenv: env()}).Find(strings.Fields(path))
	require.NoError(t, err)
	require.Empty(t, rest)
	return c
}

// Every command has a Short, a Long and examples, and -h, --help, -help
// and "parley help <command>" all print its help on stdout and exit 0.
func TestHelp_everyCommand(t *testing.T) {
	for _, path := range commandPaths(t) {
		c := lookupCommand(t, path)
		assert.NotEmpty(t, c.Short, "%q: Short", path)
		assert.NotEmpty(t, c.Long, "%q: Long", path)
		assert.NotEmpty(t, c.Example, "%q: Example", path)
		words := strings.Fields(path)
		for _, args := range [][]string{
			append(append([]string(nil), words...), "-h"),
			append(append([]string(nil), words...), "--help"),
			append(append([]string(nil), words...), "-help"),
			append([]string{"help"}, words...),
		} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				stdout, stderr, code := parley(t, args...)
				assert.Equal(t, 0, code)
				assert.Empty(t, stderr)
				assert.True(t, strings.HasPrefix(stdout, c.Long+"\n\nUsage:\n"), "the help of %q:\n%s", c.CommandPath(), stdout)
				assert.Contains(t, stdout, "\n\nExamples:\n"+c.Example+"\n")
				assert.Contains(t, stdout, "-h, --help")
			})
		}
	}
}

// A command that only holds subcommands, given none, prints its help on
// standard output, as gh and kubectl do.
func TestHelp_bareGroup(t *testing.T) {
	for _, args := range [][]string{nil, {"rules"}, {"velaflows"}} {
		t.Run(strings.Join(append([]string{"parley"}, args...), " "), func(t *testing.T) {
			c := lookupCommand(t, strings.Join(args, " "))
			stdout, stderr, code := parley(t, args...)
			assert.Equal(t, 0, code)
			assert.Empty(t, stderr)
			assert.True(t, strings.HasPrefix(stdout, c.Long+"\n\nUsage:\n"), "the help of %q:\n%s", c.CommandPath(), stdout)
		})
	}
}

func TestHelp_content(t *testing.T) {
	stdout, _, _ := parley(t, "rules", "explain", "-h")
	assert.Contains(t, stdout, "Usage:\n  parley rules explain FILE (--text TEXT [flags] | --json MESSAGE)\n")
	for _, f := range []string{"--text TEXT", "--platform string", "--conversation string", "--kind string", "--direct", "--human", "--json string"} {
		assert.Contains(t, stdout, f)
	}
	stdout, _, _ = parley(t, "--help")
	assert.Contains(t, stdout, "Usage:\n  parley <command> [flags]\n")
	for _, name := range []string{"run", "rules", "sim", "velaflows", "version", "completion", "help"} {
		assert.Regexp(t, `\n  `+name+` +\S`, stdout, "parley --help lists %s", name)
	}
	stdout, _, _ = parley(t, "help", "velaflows", "export-leads")
	assert.Contains(t, stdout, "Usage:\n  parley velaflows export-leads [-o FILE]\n")
	assert.Contains(t, stdout, `-o, --output FILE   the CSV FILE to write (default "leads.csv")`)
	stdout, _, _ = parley(t, "sim", "sendbee", "--help")
	assert.Contains(t, stdout, "--sendbee-addr")
	assert.NotContains(t, stdout, "--flowdock-addr", "the other emulators' addresses are accepted but not shown")
	stdout, _, _ = parley(t, "sim", "--help")
	assert.Contains(t, stdout, "Usage:\n  parley sim [flags]\n  parley sim <command> [flags]\n")
}

// A command line parley cannot make sense of gets one line saying what is
// wrong and one saying where the usage is, on stderr, and exit status 2.
func TestUsageErrors(t *testing.T) {
	rules := writeRules(t, testRules)
	for _, tc := range []struct {
		args []string
		msg  string
		help string // the command of the hint
	}{
		{[]string{"fly"}, `unknown command "fly" (known: completion, dev, rules, run, sendbee, sim, velaflows, version)`, "parley"},
		{[]string{"rulse", "check", rules}, `unknown command "rulse"; did you mean "rules"?`, "parley"},
		{[]string{"r"}, `unknown command "r"; did you mean "rules" or "run"?`, "parley"},
		{[]string{"rules", "lint", rules}, `unknown command "lint" for "parley rules" (known: check, explain)`, "parley rules"},
		{[]string{"rules", "chek", rules}, `unknown command "chek" for "parley rules"; did you mean "check"?`, "parley rules"},
		{[]string{"sim", "myspace"}, `unknown command "myspace" for "parley sim" (known: env, flowdock, rotate, sendbee, velaflows)`, "parley sim"},
		{[]string{"velaflows", "import-leads"}, `unknown command "import-leads" for "parley velaflows"; did you mean "export-leads"?`, "parley velaflows"},
		{[]string{"help", "fly"}, `unknown command "fly" (known: completion, dev, rules, run, sendbee, sim, velaflows, version)`, "parley"},
		{[]string{"help", "rules", "lint"}, `unknown command "lint" for "parley rules" (known: check, explain)`, "parley rules"},
		{[]string{"help", "run", "now"}, `"parley run" has no subcommand "now"`, "parley help"},
		{[]string{"--nope"}, `unknown flag: --nope`, "parley"},
		{[]string{"rules", "explain", rules, "--text", "hi", "--nope"}, `unknown flag: --nope`, "parley rules explain"},
		{[]string{"rules", "explain", rules, "-text", "hi", "-nope"}, `unknown flag: --nope`, "parley rules explain"},
		{[]string{"rules", "explain", rules, "-x"}, `unknown shorthand flag: 'x' in -x`, "parley rules explain"},
		{[]string{"sim", "sendbee", "--velaflow-addr", "x"}, `unknown flag: --velaflow-addr`, "parley sim sendbee"},
		{[]string{"rules", "check"}, `missing FILE`, "parley rules check"},
		{[]string{"rules", "check", rules, "extra"}, `unexpected argument "extra"`, "parley rules check"},
		{[]string{"rules", "explain", "--text", "hi"}, `missing FILE`, "parley rules explain"},
		{[]string{"rules", "explain", rules}, `give the message with --text or --json`, "parley rules explain"},
		{[]string{"rules", "explain", rules, "--json", "{"}, `--json: unexpected end of JSON input`, "parley rules explain"},
		{[]string{"rules", "explain", rules, "--text", "hi", "--direct=maybe"},
			`invalid argument "maybe" for "--direct" flag: strconv.ParseBool: parsing "maybe": invalid syntax`, "parley rules explain"},
		{[]string{"rules", "explain", rules, "--text"}, `flag needs an argument: --text`, "parley rules explain"},
		{[]string{"run"}, `missing the rules FILE`, "parley run"},
		{[]string{"run", "a.yaml", "b.yaml"}, `unexpected argument "b.yaml"`, "parley run"},
		{[]string{"run", "a.yaml", "-rules", "b.yaml"}, `two rules files: "a.yaml" and --rules "b.yaml"`, "parley run"},
		{[]string{"sim", "sendbee", "now"}, `unexpected argument "now"`, "parley sim sendbee"},
		{[]string{"velaflows", "export-leads", "leads.csv"}, `unexpected argument "leads.csv"`, "parley velaflows export-leads"},
		{[]string{"velaflows", "export-leads", "-o"}, `flag needs an argument: 'o' in -o`, "parley velaflows export-leads"},
		{[]string{"version", "2"}, `unexpected argument "2"`, "parley version"},
		{[]string{"completion"}, `missing SHELL`, "parley completion"},
		{[]string{"completion", "nosh"}, `unknown shell "nosh" (known: bash, zsh, fish, powershell)`, "parley completion"},
		{[]string{"completion", "bash", "zsh"}, `unexpected argument "zsh"`, "parley completion"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			stdout, stderr, code := parley(t, tc.args...)
			assert.Equal(t, 2, code)
			assert.Empty(t, stdout)
			assert.Equal(t, "parley: "+tc.msg+"\nRun '"+tc.help+" --help' for usage.\n", stderr)
		})
	}
}

// Flags go before or after the arguments, with one dash or two, and
// "--" ends the flags.
func TestFlags_anyOrder(t *testing.T) {
	rules := writeRules(t, testRules)
	want, stderr, code := parley(t, "rules", "explain", rules, "--text", "I want a REFUND", "--platform", "sendbee")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, want, "refund  0         matched, runs")
	for _, args := range [][]string{
		{"rules", "explain", "--text", "I want a REFUND", "--platform", "sendbee", rules},
		{"rules", "explain", "-text", "I want a REFUND", rules, "-platform", "sendbee"},
		{"rules", "explain", "-text=I want a REFUND", "-platform=sendbee", rules},
		{"rules", "--text", "I want a REFUND", "explain", rules, "--platform=sendbee"},
		{"rules", "explain", "--platform", "sendbee", "--text", "I want a REFUND", "--", rules},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			stdout, stderr, code := parley(t, args...)
			assert.Equal(t, 0, code, stderr)
			assert.Equal(t, want, stdout)
		})
	}
	t.Run("single-dash flags of explain", func(t *testing.T) {
		stdout, stderr, code := parley(t, "rules", "explain", rules, "-text", "refund", "-platform", "sendbee",
			"-conversation", "c1", "-kind", "message", "-direct", "-human")
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, "skipped (human owner)")
		stdout, stderr, code = parley(t, "rules", "explain", rules, "-direct=false", "-json", `{"Platform":"console","Text":"/order 7","Direct":true}`)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, "order   0         matched, runs")
	})
	t.Run("the value of a flag is never a flag", func(t *testing.T) {
		stdout, stderr, code := parley(t, "rules", "explain", rules, "-text", "-refund")
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, "refund  0         matched, runs", "the text is -refund")
	})
	t.Run("nothing after -- is a flag", func(t *testing.T) {
		_, stderr, code := parley(t, "rules", "check", "--", "-rules")
		assert.Equal(t, 1, code)
		assert.Contains(t, stderr, "-rules", "the file named -rules is looked for")
		assert.NotContains(t, stderr, "--rules")
	})
}

func TestNormalizeArgs(t *testing.T) {
	root := newRootCmd(&streams{getenv: env()})
	for _, tc := range []struct{ in, want string }{
		{"run -rules a.yaml", "run --rules a.yaml"},
		{"run -rules=a.yaml", "run --rules=a.yaml"},
		{"-help", "--help"},
		{"-version", "--version"},
		{"-h run", "-h run"},
		{"rules explain -text -direct f -direct", "rules explain --text -direct f --direct"},
		{"rules explain f -json {} -human -- -text", "rules explain f --json {} --human -- -text"},
		{"rules explain f -nope -x", "rules explain f --nope -x"},
		{"velaflows export-leads -o a.csv", "velaflows export-leads -o a.csv"},
		{"velaflows export-leads -o -output", "velaflows export-leads -o -output"},
		{"velaflows export-leads -oa.csv", "velaflows export-leads -oa.csv"},
		{"velaflows export-leads -output a.csv -o=b.csv", "velaflows export-leads --output a.csv -o=b.csv"},
		{"sim sendbee -sendbee-addr :1 -flowdock-addr :2", "sim sendbee --sendbee-addr :1 --flowdock-addr :2"},
		{"sim -velaflows-addr :1", "sim --velaflows-addr :1"},
		{"help rules -help", "help rules --help"},
		{"__complete rules explain -text x -pla", "__complete rules explain --text x -pla"},
		{"__complete run -rules ", "__complete run --rules "},
	} {
		in := strings.Split(tc.in, " ")
		if tc.in == "" {
			in = nil
		}
		assert.Equal(t, strings.Split(tc.want, " "), normalizeArgs(root, in), "%s", tc.in)
	}
	assert.Equal(t, []string{}, normalizeArgs(root, nil))
}

func TestVersion(t *testing.T) {
	stdout, stderr, code := parley(t, "version")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Regexp(t, `^parley \S.*\n$`, stdout)
	for _, args := range [][]string{{"--version"}, {"-version"}, {"-v"}} {
		got, _, code := parley(t, args...)
		assert.Equal(t, 0, code)
		assert.Equal(t, stdout, got, "%s prints what parley version prints", args)
	}

	info := func(version string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/parleybot/parley", Version: version}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	const rev = "133ff28c1a0e4b8d9f7e6a5b4c3d2e1f0a9b8c7d"
	for _, tc := range []struct {
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{info("v0.1.0", "vcs.revision", rev, "vcs.time", "2026-12-07T21:00:00Z", "vcs.modified", "false"), true, "v0.1.0 (rev 133ff28, 2026-12-07T21:00:00Z)"},
		{info("(devel)", "vcs.revision", rev, "vcs.time", "2026-12-07T21:00:00Z", "vcs.modified", "true"), true, "(devel) (rev 133ff28+dirty, 2026-12-07T21:00:00Z)"},
		{info("v0.1.0"), true, "v0.1.0"},
		{info("", "vcs.revision", rev), true, "(devel) (rev 133ff28)"},
		{nil, false, "(version unknown: the binary carries no build information)"},
	} {
		assert.Equal(t, tc.want, version(tc.bi, tc.ok))
	}
}

func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{
		"bash":       "# bash completion V2 for parley",
		"zsh":        "#compdef parley",
		"fish":       "complete -c parley",
		"powershell": "Register-ArgumentCompleter",
	} {
		t.Run(shell, func(t *testing.T) {
			stdout, stderr, code := parley(t, "completion", shell)
			assert.Equal(t, 0, code)
			assert.Empty(t, stderr)
			assert.Contains(t, stdout, want)
			_, _, code = parley(t, "completion", shell, "--no-descriptions")
			assert.Equal(t, 0, code)
		})
	}
	// The scripts ask parley itself for the completions.
	stdout, _, code := parley(t, "__complete", "rules", "ex")
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "explain\tshow how each rule decides on a message\n")
	stdout, _, _ = parley(t, "__complete", "rules", "explain", "f.yaml", "--pla")
	assert.Contains(t, stdout, "--platform\t")
	stdout, _, _ = parley(t, "__complete", "help", "velaflows", "")
	assert.Contains(t, stdout, "export-leads\t")
}

// parley run takes the rules file as its argument, as well as with -rules.
func TestRun_rulesFileArgument(t *testing.T) {
	p := writeRules(t, testRules)
	for _, args := range [][]string{{"run", p}, {"run", p, "--rules", p}, {"run", "-rules", p}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut syncBuffer
			err := run(t.Context(), args, strings.NewReader("order 42\n"), &out, &errOut, env())
			require.NoError(t, err, errOut.String())
			assert.Contains(t, out.String(), "order 42 is on its way")
		})
	}
	_, stderr, code := parley(t, "run", filepath.Join(t.TempDir(), "missing.yaml"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "missing.yaml")
}

func TestExitStatus(t *testing.T) {
	canceled := fmt.Errorf("velaflows: export: %w", fmt.Errorf("velaflows: GET /leads: %w", context.Canceled))
	stopped := &stoppedError{msg: "export interrupted after 300 leads; leads.csv not written", cause: canceled}
	usage := &usageError{cmd: "parley rules explain", err: errors.New("unknown flag: --nope")}
	for _, tc := range []struct {
		name string
		err  error
		sig  os.Signal
		code int
		msg  string
	}{
		{"success", nil, nil, 0, ""},
		{"failure", errors.New("rules.yaml:3: bad"), nil, 1, "parley: rules.yaml:3: bad"},
		{"usage", usage, nil, 2, "parley: unknown flag: --nope\nRun 'parley rules explain --help' for usage."},
		{"wrapped usage", fmt.Errorf("x: %w", usage), nil, 2, "parley: unknown flag: --nope\nRun 'parley rules explain --help' for usage."},
		{"timed out", stopped, nil, 1, "parley: export interrupted after 300 leads; leads.csv not written"},
		{"SIGINT, stopped cleanly", nil, os.Interrupt, 130, ""},
		{"SIGINT, canceled", canceled, syscall.SIGINT, 130, ""},
		{"SIGINT, what was left", fmt.Errorf("export: %w", stopped), os.Interrupt, 130, "parley: export interrupted after 300 leads; leads.csv not written"},
		{"SIGINT, failed on the way out", errors.New("close: disk full"), os.Interrupt, 130, "parley: close: disk full"},
		{"SIGTERM", canceled, syscall.SIGTERM, 143, ""},
		{"SIGTERM, stopped cleanly", nil, syscall.SIGTERM, 143, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := exitStatus(tc.err, tc.sig)
			assert.Equal(t, tc.code, code)
			assert.Equal(t, tc.msg, msg)
		})
	}
}

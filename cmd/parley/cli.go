package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// streams is what a command runs with besides its arguments.
type streams struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

const rootLong = `parley runs a bot from a rules file, checks and explains rules files, runs
the platforms' emulators on this machine (with a page in the browser to
watch and break a bot: parley dev), sends WhatsApp template campaigns
through Sendbee (parley sendbee broadcast), and exports VelaFlows leads.

Flags may come before or after the arguments, and a long flag may be
written with one dash as well as two (-rules FILE is --rules FILE).`

const rootExample = `  parley run examples/supportbot/rules.yaml
  parley rules explain examples/supportbot/rules.yaml --text "I want a refund"
  parley sim sendbee
  parley dev --rules examples/supportbot/rules.yaml
  parley help rules explain`

// newRootCmd returns the parley command, with every subcommand, writing to
// s's output and reading s's environment.
func newRootCmd(s *streams) *cobra.Command {
	root := &cobra.Command{
		Use:         "parley",
		Short:       "Parley's command-line tool",
		Long:        rootLong,
		Example:     rootExample,
		Version:     version(debug.ReadBuildInfo()),
		Args:        commandArgs("command"),
		RunE:        groupRun,
		Annotations: map[string]string{group: "true"},
		// Errors and usage are printed by main, one line each.
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetIn(s.stdin)
	root.SetOut(s.stdout)
	root.SetErr(s.stderr)
	root.SetVersionTemplate("{{.Name}} {{.Version}}\n")
	root.Flags().BoolP("version", "v", false, "print parley's version (as parley version does)")
	root.SetUsageFunc(usage)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{cmd: c.CommandPath(), err: err}
	})
	root.AddCommand(newRunCmd(s), newRulesCmd(s), newSimCmd(s), newDevCmd(s), newVelaflowsCmd(s), newSendbeeCmd(s),
		newVersionCmd(), newCompletionCmd())
	root.SetHelpCommand(newHelpCmd())
	root.InitDefaultHelpCmd()
	var initFlags func(c *cobra.Command)
	initFlags = func(c *cobra.Command) {
		c.InitDefaultHelpFlag()
		c.InitDefaultVersionFlag()
		for _, sub := range c.Commands() {
			initFlags(sub)
		}
	}
	initFlags(root) // for normalizeArgs, which runs before cobra would add them
	return root
}

// group marks a command whose only use is to hold subcommands.
const group = "parley/group"

// groupRun is the RunE of a [group]: given no subcommand, it prints its
// help on standard output, as gh and kubectl do (commandArgs refuses any
// other word).
func groupRun(c *cobra.Command, _ []string) error { return c.Help() }

// commandArgs returns the Args of a command that holds subcommands, noun
// naming what they are ("command", "platform"): it refuses every word that
// did not resolve to a subcommand, with suggestions of what was meant.
func commandArgs(noun string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		var known []string
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				known = append(known, sub.Name())
			}
		}
		if len(args) == 0 {
			return nil // a group prints its help, as it does for -h
		}
		where := ""
		if c.HasParent() {
			where = fmt.Sprintf(" for %q", c.CommandPath())
		}
		c.SuggestionsMinimumDistance = 2
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			return usageErrorf(c, "unknown %s %q%s; did you mean %s?", noun, args[0], where, quoteList(s, "or"))
		}
		return usageErrorf(c, "unknown %s %q%s (known: %s)", noun, args[0], where, strings.Join(known, ", "))
	}
}

// exactArgs returns the Args of a command that takes exactly the arguments
// names.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		switch {
		case len(args) < len(names):
			return usageErrorf(c, "missing %s", strings.Join(names[len(args):], " "))
		case len(args) > len(names):
			return usageErrorf(c, "unexpected argument %q", args[len(names)])
		}
		return nil
	}
}

func usageErrorf(c *cobra.Command, format string, args ...any) error {
	return &usageError{cmd: c.CommandPath(), err: fmt.Errorf(format, args...)}
}

// quoteList returns "a", "a" or "b", "a", "b" or "c".
func quoteList(words []string, conj string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = fmt.Sprintf("%q", w)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + conj + " " + q[len(q)-1]
}

// usage writes c's usage: how to call it, the examples, the subcommands
// and the flags. It is cobra's layout, less the use line of a [group],
// which cannot run alone.
func usage(c *cobra.Command) error {
	w := c.OutOrStderr()
	fmt.Fprint(w, "Usage:")
	if c.Runnable() && c.Annotations[group] == "" {
		fmt.Fprintf(w, "\n  %s", c.UseLine())
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\n  %s <command>", c.CommandPath())
		if c.HasAvailableFlags() {
			fmt.Fprint(w, " [flags]")
		}
	}
	if c.HasExample() {
		fmt.Fprintf(w, "\n\nExamples:\n%s", c.Example)
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprint(w, "\n\nCommands:")
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() || sub.Name() == "help" {
				fmt.Fprintf(w, "\n  %-*s %s", sub.NamePadding(), sub.Name(), sub.Short)
			}
		}
	}
	if c.HasAvailableLocalFlags() {
		fmt.Fprintf(w, "\n\nFlags:\n%s", strings.TrimRight(c.LocalFlags().FlagUsages(), " \n"))
	}
	if c.HasAvailableInheritedFlags() {
		fmt.Fprintf(w, "\n\nGlobal flags:\n%s", strings.TrimRight(c.InheritedFlags().FlagUsages(), " \n"))
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\n\nRun '%s <command> --help' for more about a command.", c.CommandPath())
	}
	fmt.Fprintln(w)
	return nil
}

// normalizeArgs returns args with each single-dash long flag, as the flag
// package took them (-rules FILE, -direct, -o=x.csv), in the double-dash
// form cobra expects (--rules FILE): a word "-name" or "-name=value" is
// rewritten when name is a long flag of the command args call. A
// single-dash word of several letters that is no flag and does not start
// with a shorthand is rewritten too, so that it is reported as the unknown
// flag it is rather than as a cluster of unknown shorthands. Nothing after
// a "--" terminator is rewritten, nor the value of a flag that takes one.
//
// In a request for shell completions (cobra's hidden __complete command)
// the last word, the one being completed, is left as typed.
func normalizeArgs(root *cobra.Command, args []string) []string {
	out := make([]string, 0, len(args))
	if len(args) > 0 && args[0] == cobra.ShellCompRequestCmd {
		if len(args) == 1 {
			return append(out, args...)
		}
		out = append(out, args[0])
		out = append(out, normalizeArgs(root, args[1:len(args)-1])...)
		return append(out, args[len(args)-1])
	}
	c := resolve(root, args)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		a, takesValue := flagWord(c, a)
		out = append(out, a)
		if takesValue && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	return out
}

// resolve returns the command args call: the subcommands named by their
// leading words that are no flags.
func resolve(root *cobra.Command, args []string) *cobra.Command {
	c := root
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			if _, takesValue := flagWord(c, a); takesValue {
				i++
			}
			continue
		}
		sub := subcommand(c, a)
		if sub == nil {
			break
		}
		c = sub
	}
	return c
}

func subcommand(c *cobra.Command, name string) *cobra.Command {
	for _, sub := range c.Commands() {
		if sub.Name() == name || sub.HasAlias(name) {
			return sub
		}
	}
	return nil
}

// flagWord returns the word a in the form pflag parses for c, and whether
// it is a flag whose value is the next word.
func flagWord(c *cobra.Command, a string) (string, bool) {
	if !strings.HasPrefix(a, "-") || a == "-" {
		return a, false
	}
	lookup := func(name string) *pflag.Flag {
		if f := c.Flags().Lookup(name); f != nil {
			return f
		}
		return c.InheritedFlags().Lookup(name)
	}
	name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
	if name == "" {
		return a, false
	}
	if strings.HasPrefix(a, "--") {
		f := lookup(name)
		return a, f != nil && !hasValue && f.NoOptDefVal == ""
	}
	if f := lookup(name); f != nil && len(name) > 1 {
		return "-" + a, !hasValue && f.NoOptDefVal == ""
	}
	if f := c.Flags().ShorthandLookup(name[:1]); f != nil {
		// A shorthand, alone (-o FILE) or with its value (-oFILE, -o=FILE).
		return a, len(name) == 1 && !hasValue && f.NoOptDefVal == ""
	}
	if len(name) > 1 {
		return "-" + a, false
	}
	return a, false
}

package main

import (
	"fmt"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// version returns what "parley version" prints after the name, from the
// build information of the binary: the module version, then the VCS
// revision ("+dirty" when the tree had uncommitted changes) and its time,
// as in "v0.1.0 (rev 133ff28, 2026-12-07T21:00:00Z)". A binary built in a
// checkout without VCS stamping has the version "(devel)".
func version(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "(version unknown: the binary carries no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return v
	}
	if len(rev) > 7 {
		rev = rev[:7]
	}
	if dirty {
		rev += "+dirty"
	}
	if at == "" {
		return fmt.Sprintf("%s (rev %s)", v, rev)
	}
	return fmt.Sprintf("%s (rev %s, %s)", v, rev, at)
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print parley's version",
		Long: `Prints the version of the parley module the binary was built from, the
revision of its source ("+dirty" when the source had uncommitted changes)
and the time of that revision. A binary built from a checkout has the
version (devel) or a pseudo-version; one built with
"go install github.com/parleybot/parley/cmd/parley@v0.1.0" has v0.1.0.
"parley --version" prints the same.`,
		Example: "  parley version\n  parley --version",
		Args:    exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(c.OutOrStdout(), "%s %s\n", c.Root().Name(), c.Root().Version)
			return err
		},
	}
}

var shells = []string{"bash", "zsh", "fish", "powershell"}

func newCompletionCmd() *cobra.Command {
	var noDesc bool
	c := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "print a shell completion script",
		Long: `Prints a script that completes parley's commands, flags and arguments in
the shell. Load it in the current shell with

  bash:        source <(parley completion bash)
  zsh:         source <(parley completion zsh)
  fish:        parley completion fish | source
  PowerShell:  parley completion powershell | Out-String | Invoke-Expression

or install it once for every new shell:

  bash:  parley completion bash > /etc/bash_completion.d/parley
         (bash needs the bash-completion package)
  zsh:   parley completion zsh > "${fpath[1]}/_parley"
         (with "autoload -U compinit; compinit" in ~/.zshrc)
  fish:  parley completion fish > ~/.config/fish/completions/parley.fish`,
		Example: `  source <(parley completion bash)
  parley completion fish > ~/.config/fish/completions/parley.fish`,
		ValidArgs:             shells,
		DisableFlagsInUseLine: true,
		Args: func(c *cobra.Command, args []string) error {
			if err := exactArgs("SHELL")(c, args); err != nil {
				return err
			}
			if !slices.Contains(shells, args[0]) {
				return usageErrorf(c, "unknown shell %q (known: %s)", args[0], strings.Join(shells, ", "))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			root, out := c.Root(), c.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, !noDesc)
			case "zsh":
				if noDesc {
					return root.GenZshCompletionNoDesc(out)
				}
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, !noDesc)
			default:
				if noDesc {
					return root.GenPowerShellCompletion(out)
				}
				return root.GenPowerShellCompletionWithDesc(out)
			}
		},
	}
	c.Flags().BoolVar(&noDesc, "no-descriptions", false, "complete without the descriptions of commands and flags")
	return c
}

func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command [subcommand]]",
		Short: "show the help of any command",
		Long: `Shows the help of a command: what it does, how to call it, examples and
its flags. "parley help rules explain" is "parley rules explain --help".`,
		Example: "  parley help\n  parley help rules explain",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			target, rest, err := c.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var completions []cobra.Completion
			for _, sub := range target.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					completions = append(completions, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return completions, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err != nil {
				return usageErrorf(c, "%v", err)
			}
			if len(rest) > 0 {
				if target.HasAvailableSubCommands() {
					return commandArgs("command")(target, rest)
				}
				return usageErrorf(c, "%q has no subcommand %q", target.CommandPath(), rest[0])
			}
			return target.Help()
		},
	}
}

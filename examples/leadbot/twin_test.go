package main

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/internal/testbin"
)

// bothBots runs story against each of the two leadbots, which must
// behave the same: this program ("go", in the test's process), and its
// rules-file twin leadbot.yaml run by "parley run" as a process ("yaml").
func bothBots(t *testing.T, story func(t *testing.T, r *rig)) {
	t.Run("go", func(t *testing.T) { story(t, newRig(t)) })
	t.Run("yaml", func(t *testing.T) {
		if testing.Short() {
			t.Skip("builds the parley command and runs leadbot.yaml as a process; run without -short")
		}
		story(t, newYAMLRig(t))
	})
}

// newYAMLRig starts the emulators and "parley run leadbot.yaml" on them.
func newYAMLRig(t *testing.T) *rig {
	t.Helper()
	bin := testbin.Build(t, "github.com/parleybot/parley/cmd/parley")
	r := newEmulators(t)
	// The Go program creates the contact fields it stores the answers in;
	// the rules file expects them.
	c, err := sendbee.NewClient(sendbee.Config{APIKey: "k", APISecret: "s", BaseURL: r.sb.URL()})
	require.NoError(t, err)
	require.NoError(t, ensureContactFields(t.Context(), c))
	c.CloseIdleConnections()
	in, _ := r.startCommand(exec.Command(bin, "run", yamlFile))
	r.use(in)
	return r
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/internal/testbin"
)

// The parley program, sent SIGINT or SIGTERM, shuts down what it runs and
// exits with 128 plus the signal's number, printing at most one line.
func TestSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the parley program")
	}
	bin := testbin.Build(t, "github.com/parleybot/parley/cmd/parley")

	// start runs parley with args and env until its output contains ready.
	start := func(t *testing.T, env []string, ready string, args ...string) (cmd *exec.Cmd, stdout, stderr *syncBuffer) {
		t.Helper()
		stdout, stderr = &syncBuffer{}, &syncBuffer{}
		cmd = exec.Command(bin, args...)
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = stdout, stderr
		stdin, err := cmd.StdinPipe() // open until parley ends: the sim serves on
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			_ = cmd.Process.Kill() // ended already unless the test failed
			_ = stdin.Close()
		})
		require.Eventually(t, func() bool {
			return strings.Contains(stdout.String(), ready) || strings.Contains(stderr.String(), ready)
		}, 30*time.Second, 10*time.Millisecond, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		return cmd, stdout, stderr
	}
	wait := func(t *testing.T, cmd *exec.Cmd) int {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				_, ok := err.(*exec.ExitError)
				require.True(t, ok, "%v", err)
			}
			return cmd.ProcessState.ExitCode()
		case <-time.After(30 * time.Second):
			t.Fatal("parley did not stop")
			return -1
		}
	}

	for _, tc := range []struct {
		sig  os.Signal
		code int
	}{{os.Interrupt, 130}, {syscall.SIGTERM, 143}} {
		t.Run("sim sendbee "+tc.sig.String(), func(t *testing.T) {
			cmd, stdout, stderr := start(t, []string{"SENDBEE_API_KEY=k1"}, "export SENDBEE_BASE_URL=",
				"sim", "sendbee", "-sendbee-addr", "127.0.0.1:0")
			require.NoError(t, cmd.Process.Signal(tc.sig))
			assert.Equal(t, tc.code, wait(t, cmd))
			assert.True(t, strings.HasSuffix(stdout.String(), "\nstopping\n"), stdout.String())
			assert.Empty(t, stderr.String())
		})
	}

	t.Run("velaflows export-leads waiting out a rate limit", func(t *testing.T) {
		emu := velaflowstest.NewServer(t, velaflowstest.WithRateLimits(3, 10, 10, 10*time.Minute))
		emu.AddLeads(1_000)
		path := filepath.Join(t.TempDir(), "leads.csv")
		cmd, stdout, stderr := start(t, []string{"VELAFLOWS_API_TOKEN=" + emu.Token(),
			"VELAFLOWS_WORKSPACE_ID=" + emu.WorkspaceID(), "VELAFLOWS_BASE_URL=" + emu.URL()},
			"for the rate limit", "velaflows", "export-leads", "-o", path)
		require.NoError(t, cmd.Process.Signal(os.Interrupt))
		assert.Equal(t, 130, wait(t, cmd))
		assert.Empty(t, stdout.String())
		lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
		assert.Equal(t, "parley: export interrupted after 300 leads; "+path+" not written", lines[len(lines)-1])
		var errLines int
		for _, l := range lines {
			if strings.HasPrefix(l, "parley:") {
				errLines++
			}
		}
		assert.Equal(t, 1, errLines, stderr.String())
		assert.NoFileExists(t, path)
	})
}

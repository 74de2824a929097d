// Package testbin builds the module's programs for tests that run them as
// processes (the echo bot killed mid-work, two bots on one data directory).
package testbin

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Build builds the package pkg, an import path in this module, with the go
// tool — with the race detector when the calling test binary has it — and
// returns the binary's path in a temporary directory of t. It skips t when
// there is no go tool.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		if goTool, err = exec.LookPath("go"); err != nil {
			t.Skip("no go tool to build " + pkg + " with")
		}
	}
	gomod, err := exec.Command(goTool, "env", "GOMOD").Output()
	require.NoError(t, err, "go env GOMOD")
	bin := filepath.Join(t.TempDir(), path.Base(pkg))
	args := []string{"build", "-o", bin}
	if RaceEnabled() {
		args = append(args, "-race")
	}
	args = append(args, pkg)
	cmd := exec.Command(goTool, args...)
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), out)
	return bin
}

// RaceEnabled reports whether this binary was built with -race.
func RaceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

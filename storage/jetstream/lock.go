package jetstream

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// lockFile is the file in an embedded server's data directory that the
// server holds locked while it runs (see StartEmbedded). It contains the
// process ID of its last holder.
const lockFile = "parley.lock"

// A DataDirInUseError is returned by [StartEmbedded], and so by [Open] and
// [FromEnv], when an embedded server of this process or of another already
// runs on the data directory: two servers writing the same JetStream files
// would corrupt them.
type DataDirInUseError struct {
	// Dir is the data directory, as an absolute path.
	Dir string
	// PID is the process that holds it, as the holder recorded itself in
	// the lock file, or 0 when that could not be read.
	PID int
}

// Error reports the directory and its holder, such as "jetstream: data
// directory /var/lib/mybot is in use by process 4242; two embedded
// servers cannot share one".
func (e *DataDirInUseError) Error() string {
	by := ""
	switch e.PID {
	case 0:
	case os.Getpid():
		by = " by this process (pid " + strconv.Itoa(e.PID) + ")"
	default:
		by = " by process " + strconv.Itoa(e.PID)
	}
	return "jetstream: data directory " + e.Dir + " is in use" + by + "; two embedded servers cannot share one"
}

// errLocked is what openLocked returns when another open file holds the
// lock.
var errLocked = errors.New("locked")

// A dirLock is the exclusive lock on a data directory: an open lock file
// that the operating system releases when it is closed or when the
// process ends, however it ends. Two opens conflict even within one
// process.
type dirLock struct {
	f    *os.File
	once sync.Once
}

// lockDataDir creates dir if it is missing and locks it for this process,
// or returns a *DataDirInUseError naming its holder.
func lockDataDir(dir string) (*dirLock, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("jetstream: data directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("jetstream: data directory: %w", err)
	}
	path := filepath.Join(abs, lockFile)
	f, err := openLocked(path)
	if errors.Is(err, errLocked) {
		return nil, &DataDirInUseError{Dir: abs, PID: readPID(path)}
	}
	if err != nil {
		return nil, fmt.Errorf("jetstream: lock data directory %s: %w", abs, err)
	}
	// Record the holder, for the error of the next one to try. The lock
	// does not depend on it.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dirLock{f: f}, nil
}

// release gives the directory back. It is safe to call more than once,
// and on a nil *dirLock (no directory was locked).
func (l *dirLock) release() {
	if l != nil {
		l.once.Do(func() { _ = l.f.Close() })
	}
}

// readPID returns the process ID recorded in the lock file at path, or 0.
func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

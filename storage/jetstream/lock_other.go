//go:build !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd || windows)

package jetstream

import "os"

// openLocked opens (creating it if need be) the file at path. This system
// has neither flock(2) nor Windows' sharing modes in the standard library,
// so the data directory is not locked: two servers on it are not refused.
func openLocked(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
}

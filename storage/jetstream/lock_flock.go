//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package jetstream

import (
	"errors"
	"os"
	"syscall"
)

// openLocked opens (creating it if need be) the file at path and takes an
// exclusive flock(2) on it without waiting. The lock belongs to the open
// file: a second open conflicts with it even in this process, and it ends
// when the file is closed or the process dies. It returns errLocked when
// the lock is held.
func openLocked(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	var lockErr error
	err = rc.Control(func(fd uintptr) {
		for {
			lockErr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
			if lockErr != syscall.EINTR {
				return
			}
		}
	})
	if err == nil {
		err = lockErr
	}
	if err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EAGAIN) {
			return nil, errLocked
		}
		return nil, err
	}
	return f, nil
}

package jetstream

import (
	"errors"
	"os"
	"syscall"
)

// errSharingViolation is Windows' ERROR_SHARING_VIOLATION: the file is
// open elsewhere with a sharing mode that excludes this open.
const errSharingViolation syscall.Errno = 32

// openLocked opens (creating it if need be) the file at path so that no
// other open may write to it until it is closed: others may read it (the
// process ID it records), and an open for writing, in this process or
// another, fails. Windows closes the file when the process dies. It
// returns errLocked when the file is held.
func openLocked(path string) (*os.File, error) {
	p, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	h, err := syscall.CreateFile(p, syscall.GENERIC_READ|syscall.GENERIC_WRITE, syscall.FILE_SHARE_READ,
		nil, syscall.OPEN_ALWAYS, syscall.FILE_ATTRIBUTE_NORMAL, 0)
	if errors.Is(err, errSharingViolation) {
		return nil, errLocked
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

package console

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// errInterrupted ends the line editor's input when the user types Ctrl-C.
var errInterrupted = errors.New("console: interrupted")

// keyCtrlC is the byte Ctrl-C sends on a terminal in raw mode.
const keyCtrlC = 3

// A lineEditor reads lines from a terminal in raw mode with line editing
// and history, and writes output without garbling the line being typed.
type lineEditor struct {
	*term.Terminal
	restore func() error // the terminal's mode before Run
}

// withFd calls fn with the file descriptor of f. Unlike f.Fd, it leaves
// the file in non-blocking mode where it was, so that closing In still
// ends a Read in progress.
func withFd(f *os.File, fn func(fd int)) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(func(fd uintptr) { fn(int(fd)) })
}

// canEdit reports whether r is a terminal Run can edit lines on.
func canEdit(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok || f == nil {
		return false
	}
	tty := false
	err := withFd(f, func(fd int) { tty = term.IsTerminal(fd) })
	return err == nil && tty
}

// startEditing puts In, a terminal, in raw mode, and makes the line
// editor the writer of Send until stopEditing.
func (a *Adapter) startEditing() (*lineEditor, error) {
	f := a.in.(*os.File)
	var (
		state      *term.State
		err        error
		cols, rows int
	)
	if cerr := withFd(f, func(fd int) {
		if state, err = term.MakeRaw(fd); err == nil {
			cols, rows, _ = term.GetSize(fd)
		}
	}); cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("console: raw mode: %w", err)
	}
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{&ctrlCReader{r: f}, a.out}, a.prompt)
	// A terminal that does not know its size (a new pseudo-terminal)
	// says 0x0; the editor's default of 80 columns is better then.
	if cols > 0 && rows > 0 {
		_ = t.SetSize(cols, rows)
	}
	restore := func() error {
		var err error
		if cerr := withFd(f, func(fd int) { err = term.Restore(fd, state) }); cerr != nil {
			return cerr
		}
		return err
	}
	ed := &lineEditor{Terminal: t, restore: restore}
	a.mu.Lock()
	a.term = ed
	a.mu.Unlock()
	return ed, nil
}

// stopEditing ends the line on the screen and restores the terminal's
// mode. It may be called any number of times, from any goroutine.
func (a *Adapter) stopEditing() {
	a.mu.Lock()
	defer a.mu.Unlock()
	ed := a.term
	if ed == nil {
		return
	}
	a.term = nil
	// The cursor is on the prompt's line: the next writer starts on a
	// fresh one.
	_, _ = io.WriteString(a.out, "\r\n")
	if err := ed.restore(); err != nil {
		a.logger.Warn("console: restore the terminal's mode", "error", err)
	}
}

// readEdited reads lines with the line editor and hands each to lines,
// until the user ends the input with Ctrl-D at the start of a line
// (nil), types Ctrl-C (errInterrupted), or stop is closed.
func (a *Adapter) readEdited(ed *lineEditor, lines chan<- string, stop <-chan struct{}) error {
	for n := 1; ; n++ {
		line, err := ed.ReadLine()
		if errors.Is(err, term.ErrPasteIndicator) {
			err = nil // a pasted line is a line like any other
		}
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.Is(err, errInterrupted):
			return errInterrupted
		case err != nil:
			return fmt.Errorf("console: read: %w", err)
		}
		if len(line) > a.maxLine {
			return fmt.Errorf("console: line %d is longer than %d bytes: %w", n, a.maxLine, bufio.ErrTooLong)
		}
		select {
		case lines <- line:
		case <-stop:
			return nil
		}
	}
}

// A ctrlCReader ends its input at the first Ctrl-C with errInterrupted,
// which the line editor would otherwise report as the end of the input,
// like Ctrl-D. It is read by one goroutine at a time.
type ctrlCReader struct {
	r   io.Reader
	hit bool
}

func (c *ctrlCReader) Read(p []byte) (int, error) {
	if c.hit {
		return 0, errInterrupted
	}
	n, err := c.r.Read(p)
	if i := bytes.IndexByte(p[:n], keyCtrlC); i >= 0 {
		c.hit = true
		if i == 0 {
			return 0, errInterrupted
		}
		return i, nil // the keys before it; errInterrupted next
	}
	return n, err
}

// interruptSelf sends os.Interrupt to the own process, as Ctrl-C on a
// terminal that is not in raw mode would. Where a process cannot signal
// itself (on Windows), it does nothing, and the end of Run ends the input.
func interruptSelf() {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Signal(os.Interrupt)
	}
}

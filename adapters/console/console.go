package console

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/internal/logs"
)

// Defaults of [Config].
const (
	// DefaultConversation is the name of the console's only conversation.
	DefaultConversation = "console"
	// DefaultPrompt is the prompt shown when both ends are a terminal.
	DefaultPrompt = "> "
	// DefaultMaxLineBytes is the longest input line Run accepts.
	DefaultMaxLineBytes = 64 << 10
)

// botPrefix starts every line the bot writes to Out; continuation lines of
// a multi-line message are indented by as much.
const botPrefix = "bot: "

// readerGrace bounds how long Run waits, after closing In, for its reading
// goroutine to notice. Closing a pipe, a socket or a pollable file ends a
// pending Read at once; the bound only guards against a Close that does
// not.
const readerGrace = 250 * time.Millisecond

// Config configures an [Adapter]. The zero value is ready to use: it chats
// on the process's standard input and output.
type Config struct {
	// In is where the user's lines come from. Default: os.Stdin.
	//
	// The adapter owns In: Run closes it when it returns, if In is an
	// io.Closer other than os.Stdin, so that a Read blocked in Run's reading
	// goroutine ends too. See the package documentation for os.Stdin.
	In io.Reader
	// Out is where the bot's replies (and the prompt) are written.
	// Default: os.Stdout. Writes are serialized by the adapter.
	Out io.Writer
	// User is the author ID and name of every inbound message.
	// Default: $USER (or $USERNAME), else "you".
	User string
	// Conversation names the console's only conversation.
	// Default: DefaultConversation ("console").
	Conversation string
	// Prompt is shown while the adapter waits for a line. Default: "", which
	// shows DefaultPrompt when both In and Out are a terminal and no prompt
	// otherwise (a pipe or a file). A non-empty Prompt is always shown; on
	// a terminal, the line editor shows it.
	Prompt string
	// MaxLineBytes is the longest line Run accepts; a longer line ends Run
	// with an error. Default: DefaultMaxLineBytes (64 KiB).
	MaxLineBytes int
	// Logger receives the adapter's lifecycle and warning logs.
	// Default: the Bot's logger (see bot.LoggerSetter), else slog.Default().
	Logger *slog.Logger
	// Interrupt is called when the user types Ctrl-C while Run edits lines
	// on a terminal, where Ctrl-C arrives as a key rather than as a signal
	// (see "Line editing" in the package documentation). Run has then
	// restored the terminal and returns nil once Interrupt returns.
	// Default: send os.Interrupt to the own process, as the terminal's
	// Ctrl-C would have.
	Interrupt func()
}

// An Adapter is a [bot.Adapter] for a chat on a terminal: each line read
// from Config.In is an inbound message, and each reply is written to
// Config.Out. It has a single conversation and every message is Direct, so
// commands work without a prefix.
//
// Name, Run and Send are safe for concurrent use. Run may be called once:
// it consumes In.
type Adapter struct {
	in       io.Reader
	out      io.Writer
	user     string
	conv     string
	prompt   string // "" means no prompt
	erase    bool   // Out is a terminal: a prompt can be erased with "\r"
	maxLine  int
	logger   *slog.Logger
	logs     *logs.Slot // where logger writes
	nonce    string
	ran      atomic.Bool
	seq      atomic.Uint64
	mu       sync.Mutex // guards the fields below and every write to out
	reading  bool       // Run is waiting for input: show the prompt
	prompted bool       // the prompt is the last thing written to out

	// Line editing (terminal.go). edit and interrupt are set by New.
	edit      bool        // In and Out are a terminal: Run edits lines on it
	interrupt func()      // Config.Interrupt
	term      *lineEditor // while Run edits lines, guarded by mu: Send writes through it
}

// Interface guard.
var _ bot.Adapter = (*Adapter)(nil)

// New returns a console adapter configured by c, with defaults filled in.
// It returns an error for an invalid setting.
func New(c Config) (*Adapter, error) {
	if c.MaxLineBytes < 0 {
		return nil, fmt.Errorf("console: MaxLineBytes is negative (%d)", c.MaxLineBytes)
	}
	if strings.ContainsAny(c.Prompt, "\r\n") {
		return nil, errors.New("console: Prompt contains a line break")
	}
	a := &Adapter{
		in:      c.In,
		out:     c.Out,
		user:    c.User,
		conv:    c.Conversation,
		prompt:  c.Prompt,
		maxLine: c.MaxLineBytes,
		logs:    logs.New(c.Logger),
	}
	if a.in == nil {
		a.in = os.Stdin
	}
	if a.out == nil {
		a.out = os.Stdout
	}
	if a.user == "" {
		a.user = defaultUser()
	}
	if a.conv == "" {
		a.conv = DefaultConversation
	}
	a.erase = isTerminal(a.out)
	a.edit = a.erase && canEdit(a.in)
	if a.prompt == "" && a.erase && isTerminal(a.in) {
		a.prompt = DefaultPrompt
	}
	a.interrupt = c.Interrupt
	if a.interrupt == nil {
		a.interrupt = interruptSelf
	}
	if a.maxLine == 0 {
		a.maxLine = DefaultMaxLineBytes
	}
	a.logger = a.logs.Logger().With("adapter", a.Name())
	var b [6]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand documents it)
	a.nonce = hex.EncodeToString(b[:])
	return a, nil
}

// Name returns "console", the Platform of the adapter's messages.
func (a *Adapter) Name() string { return "console" }

// Run reads lines from In and publishes each non-blank one to p, in order,
// until In ends or ctx is done; in both cases it returns nil. It returns an
// error when In fails or a line is longer than MaxLineBytes, and when it is
// called a second time.
//
// A Bot drains and returns once all its adapters' Run have returned, so end
// of input (Ctrl-D on a terminal) stops a bot that only has a console.
func (a *Adapter) Run(ctx context.Context, p bot.Publisher) error {
	if !a.ran.CompareAndSwap(false, true) {
		return errors.New("console: run: called twice (the input is consumed once)")
	}
	lines := make(chan string)
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	exited := make(chan struct{})
	read := a.read
	var ed *lineEditor
	if a.edit {
		var err error
		if ed, err = a.startEditing(); err != nil {
			a.logger.WarnContext(ctx, "console: no line editing", "error", err)
		} else {
			read = func(lines chan<- string, stop <-chan struct{}) error {
				defer a.stopEditing() // the reading goroutine may panic too
				return a.readEdited(ed, lines, stop)
			}
		}
	}
	go func() {
		defer close(exited)
		readErr <- read(lines, stop)
	}()
	defer a.stopReading(stop, exited)
	if ed != nil {
		// Deferred after stopReading, so that it runs first, while In is
		// open; and on every way out of Run, a panic included.
		defer a.stopEditing()
	}

	a.logger.InfoContext(ctx, "console started", "conversation", a.conv)
	a.setReading(true)
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-readErr:
			if errors.Is(err, errInterrupted) {
				a.logger.InfoContext(ctx, "console interrupted (Ctrl-C)")
				a.stopEditing() // before the signal, which may end the process
				a.interrupt()
				return nil
			}
			if err != nil {
				return err
			}
			a.logger.InfoContext(ctx, "console input ended")
			return nil
		case line := <-lines:
			a.newPrompt()
			text := strings.TrimSpace(line)
			if text == "" {
				continue
			}
			m := a.message(line, text)
			if err := p.Publish(ctx, m); err != nil {
				if ctx.Err() != nil || errors.Is(err, bot.ErrClosed) {
					return nil // the bot is stopping
				}
				// There is no redelivery from a terminal: the line is
				// lost, and the user must know.
				a.logger.WarnContext(ctx, "line not delivered", slog.Any("msg", m), "error", err)
			}
		}
	}
}

// read scans In and hands each line to lines until In ends or stop is
// closed. It returns nil at end of input.
func (a *Adapter) read(lines chan<- string, stop <-chan struct{}) error {
	sc := bufio.NewScanner(a.in)
	sc.Buffer(make([]byte, 0, min(4096, a.maxLine)), a.maxLine)
	n := 0
	for sc.Scan() {
		n++
		select {
		case lines <- sc.Text():
		case <-stop:
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("console: line %d is longer than %d bytes: %w", n+1, a.maxLine, err)
		}
		return fmt.Errorf("console: read: %w", err)
	}
	return nil
}

// stopReading ends Run's reading goroutine as far as it can: the goroutine
// stops handing over lines, and closing In (when the adapter may) ends a
// Read in progress.
func (a *Adapter) stopReading(stop, exited chan struct{}) {
	a.setReading(false)
	close(stop)
	c, ok := a.in.(io.Closer)
	if !ok || a.in == io.Reader(os.Stdin) {
		return // a Read in progress ends at the next line or end of input
	}
	if err := c.Close(); err != nil {
		a.logger.Debug("close input", "error", err)
	}
	t := time.NewTimer(readerGrace)
	defer t.Stop()
	select {
	case <-exited:
	case <-t.C:
		a.logger.Warn("closing the input did not end a pending Read; the reading goroutine is left behind")
	}
}

// message builds the inbound message for one input line.
func (a *Adapter) message(line, text string) *bot.Message {
	raw, _ := json.Marshal(line) // a string always marshals
	return &bot.Message{
		ID:           a.nonce + "-" + strconv.FormatUint(a.seq.Add(1), 10),
		Platform:     a.Name(),
		Conversation: a.conv,
		Author:       bot.User{ID: a.user, Name: a.user},
		Text:         text,
		Time:         time.Now(),
		Kind:         bot.KindMessage,
		Direct:       true,
		Raw:          raw,
	}
}

// Send writes m to Out: its text, its attachments as "[kind] url" lines and
// a note when it hands the conversation off, every line prefixed by
// "bot: " or indented as much, so that replies stand out from input.
// Messages are written whole, one at a time. A reply to a line of an
// earlier run (its ReplyTo is an ID another Adapter gave) is not written,
// and Send returns nil: see "Earlier runs" in the package documentation.
// Send returns ctx's error when ctx is done, an error wrapping
// errors.ErrUnsupported for a message with a Payload (the console knows no
// payload types), and an error for a conversation other than the console's
// (an empty Conversation means the console's). A write to Out that blocks
// cannot be interrupted.
func (a *Adapter) Send(ctx context.Context, m *bot.Message) (bot.SendResult, error) {
	if err := ctx.Err(); err != nil {
		return bot.SendResult{}, err
	}
	if m.Payload != nil {
		return bot.SendResult{}, fmt.Errorf("console: send: payload of type %T: %w", m.Payload, errors.ErrUnsupported)
	}
	if m.Conversation != "" && m.Conversation != a.conv {
		return bot.SendResult{}, fmt.Errorf("console: send: unknown conversation %q (the console has only %q)", m.Conversation, a.conv)
	}
	if m.ReplyTo != "" && !strings.HasPrefix(m.ReplyTo, a.nonce+"-") {
		a.logger.LogAttrs(ctx, slog.LevelInfo, "reply to a line of an earlier run not shown", slog.Any("msg", m))
		return bot.SendResult{}, nil
	}
	text := format(m)

	a.mu.Lock()
	defer a.mu.Unlock()
	if a.term != nil {
		// The line editor moves the prompt and the line being typed below
		// the text, and ends its lines with CR LF as a raw terminal needs.
		if _, err := a.term.Write([]byte(text)); err != nil {
			return bot.SendResult{}, fmt.Errorf("console: send: %w", err)
		}
		return bot.SendResult{}, nil
	}
	if a.prompted {
		if a.erase {
			text = "\r" + strings.Repeat(" ", utf8.RuneCountInString(a.prompt)) + "\r" + text
		} else {
			text = "\n" + text
		}
		a.prompted = false
	}
	if _, err := io.WriteString(a.out, text); err != nil {
		return bot.SendResult{}, fmt.Errorf("console: send: %w", err)
	}
	a.showPromptLocked()
	return bot.SendResult{}, nil
}

// format renders m as the lines Send writes, each ending in a newline.
func format(m *bot.Message) string {
	var lines []string
	if m.Text != "" || len(m.Attachments) == 0 {
		lines = strings.Split(strings.TrimRight(m.Text, "\n"), "\n")
	}
	for _, at := range m.Attachments {
		kind := at.Kind
		if kind == "" {
			kind = "file"
		}
		ref := at.URL
		if ref == "" {
			ref = at.Name
		}
		lines = append(lines, "["+kind+"] "+ref)
	}
	if m.Handoff {
		lines = append(lines, "[handoff] the conversation is handed to a human")
	}
	var b strings.Builder
	indent := strings.Repeat(" ", len(botPrefix))
	for i, l := range lines {
		switch {
		case i == 0 && l == "":
			b.WriteString(strings.TrimSpace(botPrefix))
		case i == 0:
			b.WriteString(botPrefix)
		case l != "":
			b.WriteString(indent)
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// setReading records whether Run waits for input, showing the prompt when
// it starts to and ending the prompt's line when it stops.
func (a *Adapter) setReading(on bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reading = on
	if on {
		a.showPromptLocked()
	} else if a.prompted {
		_, _ = io.WriteString(a.out, "\n") // the next writer starts on a fresh line
		a.prompted = false
	}
}

// newPrompt shows the prompt again after the user ended a line (the
// terminal has moved to a new line).
func (a *Adapter) newPrompt() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.prompted = false
	a.showPromptLocked()
}

func (a *Adapter) showPromptLocked() {
	if a.prompt == "" || !a.reading || a.prompted || a.term != nil {
		return
	}
	if _, err := io.WriteString(a.out, a.prompt); err == nil {
		a.prompted = true
	}
}

// defaultUser returns the login name from the environment, or "you".
func defaultUser() string {
	for _, k := range []string{"USER", "USERNAME"} {
		if u := os.Getenv(k); u != "" {
			return u
		}
	}
	return "you"
}

// isTerminal reports whether v is an *os.File open on a character device
// other than the null device, which is what a terminal looks like to the
// standard library.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok || f == nil {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}

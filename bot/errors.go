package bot

import (
	"errors"
	"fmt"
	"time"

	"github.com/parleybot/parley/internal/errtext"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrNotFound is returned by a Store for an absent or expired key.
	ErrNotFound = errors.New("bot: not found")
	// ErrClosed is returned by Publish and Send once the Bot is stopping or
	// stopped, and by Run when it is called a second time.
	ErrClosed = errors.New("bot: closed")
	// ErrBusy is wrapped by Publish and Send when their ctx ended while a full
	// queue was pushing back.
	ErrBusy = errors.New("bot: queue full")

	// ErrJobRunning is returned (wrapped) by Bot.RunJob when the job is
	// running already in this process, a scheduled fire or another run.
	ErrJobRunning = errors.New("bot: job is running")
	// ErrUnknownPlatform is returned by Send for a message whose Platform
	// names no adapter.
	ErrUnknownPlatform = errors.New("bot: unknown platform")
	// ErrContinue, returned by a handler chosen by a Router, lets routing go
	// on to the next matching route. It is not an error of the handler.
	ErrContinue = errors.New("bot: continue routing")
	// ErrOutcomeUnknown is wrapped by the error of a dead letter that may
	// be on the platform already: its delivery broke after the request was
	// written (a connection reset, a timeout, the shutdown deadline), and
	// nobody could tell whether the platform got it — the adapter is not a
	// Confirmer, or its Confirmer failed or could not tell. The outbox does
	// not send such a message again on its own, since it might arrive
	// twice; Bot.Replay does.
	ErrOutcomeUnknown = errors.New("bot: outcome of the delivery unknown")
	// ErrConflict is returned by a RevisionStore when a key changed since
	// the revision the caller read.
	ErrConflict = errors.New("bot: revision conflict")
)

// A RateLimitError reports that a platform refused a request because of rate
// limiting. The outbox waits RetryAfter (capped) before it tries again.
type RateLimitError struct {
	Platform   string
	RetryAfter time.Duration // zero when the platform gave no hint
	Err        error         // the adapter's API error
}

func (e *RateLimitError) Error() string {
	s := "bot: " + e.Platform + ": rate limited"
	if e.RetryAfter > 0 {
		s += " (retry after " + e.RetryAfter.String() + ")"
	}
	if e.Err != nil {
		// The adapter's error starts with the platform's name (without
		// the instance's, "sendbee: " for "sendbee/acme"): said once.
		s += ": " + errtext.Trim(e.Err.Error(), e.Platform+": ", PlatformOf(e.Platform)+": ")
	}
	return s
}

func (e *RateLimitError) Unwrap() error { return e.Err }

// Temporary reports true: a rate-limited request may be tried again.
func (e *RateLimitError) Temporary() bool { return true }

// A HandlerError records a failed or panicking handler invocation. The Bot
// passes it to the error hook and logs it once.
type HandlerError struct {
	Platform, Conversation, MessageID string
	Panic                             any    // non-nil if the handler panicked
	Stack                             []byte // set together with Panic
	Err                               error
}

func (e *HandlerError) Error() string {
	where := e.Platform + "/" + e.Conversation
	if e.MessageID != "" {
		where += "/" + e.MessageID
	}
	if e.Panic != nil {
		return fmt.Sprintf("bot: handler panic on %s: %v", where, e.Panic)
	}
	return "bot: handler on " + where + ": " + errtext.Trim(fmt.Sprint(e.Err), "bot: ")
}

func (e *HandlerError) Unwrap() error { return e.Err }

// A TemporaryError marks an adapter error as safe to retry: the platform did
// not act on the request, or the request is idempotent on the platform. The
// outbox retries it with backoff.
type TemporaryError struct {
	Err error
}

func (e *TemporaryError) Error() string   { return e.Err.Error() }
func (e *TemporaryError) Unwrap() error   { return e.Err }
func (e *TemporaryError) Temporary() bool { return true }

// A DeliveryError is how the outbox reports a message it gave up on. The
// message is in the dead-letter list under ID.
type DeliveryError struct {
	ID       string // dead-letter ID, for Bot.Replay
	Platform string
	Key      string
	Attempts int
	Err      error
}

func (e *DeliveryError) Error() string {
	return fmt.Sprintf("bot: deliver to %s (key %s) failed after %d attempt(s): %s", e.Platform, e.Key, e.Attempts,
		errtext.Trim(fmt.Sprint(e.Err), saidBy(e.Platform)...))
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// wrap returns err, for errors.Is and errors.As, under head, a context of
// this package ("bot: send"), without err's own "bot: ", which head says
// already: "bot: send: closed", not "bot: send: bot: closed".
func wrap(head string, err error) error { return errtext.Wrap(head, err, "bot: ") }

// unknownPlatform returns the error, wrapping ErrUnknownPlatform, of head
// ("bot: send") for a platform that names no adapter.
func unknownPlatform(head, platform string) error {
	return wrap(head, fmt.Errorf("%w %q", ErrUnknownPlatform, platform))
}

// saidBy returns the prefixes that an error about the platform may start
// with and that a context naming the platform says already: a
// RateLimitError's "bot: sendbee: ", the adapter's own "sendbee: " (also
// for an instance, "sendbee/acme"), and this package's "bot: ".
func saidBy(platform string) []string {
	return []string{"bot: " + platform + ": ", platform + ": ", PlatformOf(platform) + ": ", "bot: "}
}

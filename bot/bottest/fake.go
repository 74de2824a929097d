package bottest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleybot/parley/bot"
)

// A FakeAdapter is an in-memory bot.Adapter, the counterpart of watermill's
// GoChannel: tests inject inbound messages with Inject and read what the Bot
// delivered with Sent or WaitSent. It also implements the optional
// capabilities (OwnerController, Editor, Deleter, Tagger, Limiter), keeping
// the platform-side state in memory, and lets a test inject send failures.
//
// All methods are safe for concurrent use. Configure it (SetLimits,
// Discard) before the Bot runs.
type FakeAdapter struct {
	name string

	pub     atomic.Pointer[bot.Publisher]
	ready   chan struct{} // closed once Run has a publisher
	once    sync.Once
	stop    chan struct{} // closed by End: Run returns nil, like end of input
	endOnce sync.Once
	runErr  atomic.Pointer[error]

	mu       sync.Mutex
	sent     []*bot.Message
	changed  chan struct{} // closed and replaced on every change of sent
	failures []error
	attempts int
	owners   map[string]bot.Owner
	edits    map[string]string
	deleted  map[string]bool
	tags     map[string][]string
	limits   bot.Limits
	seq      int
	reports  bot.Owner

	// Discard makes Send count messages without keeping them (for
	// benchmarks). Set it before the Bot runs.
	Discard bool
	count   atomic.Int64
}

// Interface guards.
var (
	_ bot.Adapter         = (*FakeAdapter)(nil)
	_ bot.OwnerController = (*FakeAdapter)(nil)
	_ bot.Editor          = (*FakeAdapter)(nil)
	_ bot.Deleter         = (*FakeAdapter)(nil)
	_ bot.Tagger          = (*FakeAdapter)(nil)
	_ bot.Limiter         = (*FakeAdapter)(nil)
)

// NewFakeAdapter returns a FakeAdapter named name (DefaultPlatform if empty).
func NewFakeAdapter(name string) *FakeAdapter {
	if name == "" {
		name = DefaultPlatform
	}
	return &FakeAdapter{
		name:    name,
		ready:   make(chan struct{}),
		stop:    make(chan struct{}),
		changed: make(chan struct{}),
		owners:  map[string]bot.Owner{},
		edits:   map[string]string{},
		deleted: map[string]bool{},
		tags:    map[string][]string{},
	}
}

// Name returns the adapter's name.
func (f *FakeAdapter) Name() string { return f.name }

// Run makes p available to Inject and blocks until ctx is done or End is
// called (then it returns nil), or returns the error set by FailRun.
func (f *FakeAdapter) Run(ctx context.Context, p bot.Publisher) error {
	f.pub.Store(&p)
	f.once.Do(func() { close(f.ready) })
	if e := f.runErr.Load(); e != nil {
		return *e
	}
	select {
	case <-ctx.Done():
	case <-f.stop:
	}
	return nil
}

// End makes Run return nil, as an adapter whose input has ended does.
func (f *FakeAdapter) End() { f.endOnce.Do(func() { close(f.stop) }) }

// FailRun makes Run return err at once. Call it before the Bot runs.
func (f *FakeAdapter) FailRun(err error) { f.runErr.Store(&err) }

// Inject publishes m as if the platform had delivered it, waiting until
// Run has started. A message without Platform gets the adapter's name.
// It returns what Publish returned. A message that states an owner
// (m.Owner) first sets the platform-side owner, as the platform's own
// state changes before it reports the change; publish through the Bot
// directly for a report the platform's state does not back (a forged or
// stale one).
func (f *FakeAdapter) Inject(ctx context.Context, m *bot.Message) error {
	select {
	case <-f.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	if m.Platform == "" {
		m.Platform = f.name
	}
	if m.Owner == bot.OwnerBot || m.Owner == bot.OwnerHuman {
		f.mu.Lock()
		f.owners[m.Conversation] = m.Owner
		f.mu.Unlock()
	}
	return (*f.pub.Load()).Publish(ctx, m)
}

// Send records m, or returns the next failure queued by FailNext. A
// cancelled ctx returns its error.
func (f *FakeAdapter) Send(ctx context.Context, m *bot.Message) (bot.SendResult, error) {
	if err := ctx.Err(); err != nil {
		return bot.SendResult{}, err
	}
	if f.Discard {
		f.count.Add(1)
		return bot.SendResult{}, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	if len(f.failures) > 0 {
		err := f.failures[0]
		f.failures = f.failures[1:]
		return bot.SendResult{}, err
	}
	f.seq++
	f.sent = append(f.sent, m)
	close(f.changed)
	f.changed = make(chan struct{})
	if f.reports == bot.OwnerBot || f.reports == bot.OwnerHuman {
		f.owners[m.Conversation] = f.reports
	}
	return bot.SendResult{ID: "sent-" + strconv.Itoa(f.seq), Owner: f.reports}, nil
}

// SendReports makes every later successful Send report o as the
// conversation's owner after the send, and set the platform-side owner to
// o, as a platform whose automation a send switches off does (Sendbee
// without prevent_bot_off).
func (f *FakeAdapter) SendReports(o bot.Owner) {
	f.mu.Lock()
	f.reports = o
	f.mu.Unlock()
}

// FailNext makes the next len(errs) calls of Send return errs in order.
// Use a *bot.RateLimitError for a 429, a *bot.TemporaryError for a
// retryable failure, and any other error for a permanent one.
func (f *FakeAdapter) FailNext(errs ...error) {
	f.mu.Lock()
	f.failures = append(f.failures, errs...)
	f.mu.Unlock()
}

// Attempts returns how many times Send was called without Discard,
// failures included.
func (f *FakeAdapter) Attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts
}

// Count returns the number of messages sent with Discard set.
func (f *FakeAdapter) Count() int64 { return f.count.Load() }

// Sent returns the delivered messages in delivery order.
func (f *FakeAdapter) Sent() []*bot.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*bot.Message(nil), f.sent...)
}

// WaitSent waits until at least n messages were delivered and returns them.
// It fails the test after five seconds.
func (f *FakeAdapter) WaitSent(t testing.TB, n int) []*bot.Message {
	t.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		if len(f.sent) >= n {
			out := append([]*bot.Message(nil), f.sent...)
			f.mu.Unlock()
			return out
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("bottest: %d message(s) sent after 5s, want %d", len(f.Sent()), n)
			return nil
		}
	}
}

// SetLimits sets what Limits returns. Call it before New.
func (f *FakeAdapter) SetLimits(l bot.Limits) {
	f.mu.Lock()
	f.limits = l
	f.mu.Unlock()
}

// Limits returns the limits set by SetLimits (none by default).
func (f *FakeAdapter) Limits() bot.Limits {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.limits
}

// SetOwner records the platform-side owner of a conversation.
func (f *FakeAdapter) SetOwner(ctx context.Context, conversation string, o bot.Owner) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if o != bot.OwnerBot && o != bot.OwnerHuman {
		return fmt.Errorf("bottest: set owner: invalid owner %v", o)
	}
	f.mu.Lock()
	f.owners[conversation] = o
	f.mu.Unlock()
	return nil
}

// Owner returns the platform-side owner of a conversation (OwnerBot unless
// SetOwner changed it).
func (f *FakeAdapter) Owner(ctx context.Context, conversation string) (bot.Owner, error) {
	if err := ctx.Err(); err != nil {
		return bot.OwnerUnset, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if o, ok := f.owners[conversation]; ok {
		return o, nil
	}
	return bot.OwnerBot, nil
}

// PlatformOwner is Owner without a context, for assertions.
func (f *FakeAdapter) PlatformOwner(conversation string) bot.Owner {
	o, _ := f.Owner(context.Background(), conversation)
	return o
}

// Edit records a new text for a sent message.
func (f *FakeAdapter) Edit(ctx context.Context, conversation, id, text string) error {
	if err := f.known(ctx, id); err != nil {
		return err
	}
	f.mu.Lock()
	f.edits[id] = text
	f.mu.Unlock()
	return nil
}

// Delete records a sent message as deleted.
func (f *FakeAdapter) Delete(ctx context.Context, conversation, id string) error {
	if err := f.known(ctx, id); err != nil {
		return err
	}
	f.mu.Lock()
	f.deleted[id] = true
	f.mu.Unlock()
	return nil
}

// Tag records the tags of a message or, with an empty id, a conversation.
func (f *FakeAdapter) Tag(ctx context.Context, conversation, id string, tags []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	f.tags[conversation+"/"+id] = append([]string(nil), tags...)
	f.mu.Unlock()
	return nil
}

// Edited returns the edited text of a message and whether it was edited.
func (f *FakeAdapter) Edited(id string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.edits[id]
	return s, ok
}

// Deleted reports whether a message was deleted.
func (f *FakeAdapter) Deleted(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deleted[id]
}

// Tags returns the tags recorded for a message (or conversation, id "").
func (f *FakeAdapter) Tags(conversation, id string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.tags[conversation+"/"+id]...)
}

// errUnknownMessage is returned by Edit and Delete for IDs Send never
// returned.
var errUnknownMessage = errors.New("bottest: unknown message id")

func (f *FakeAdapter) known(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(id, "sent-")
	n, err := strconv.Atoi(rest)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !ok || err != nil || n < 1 || n > f.seq {
		return fmt.Errorf("%w %q", errUnknownMessage, id)
	}
	return nil
}

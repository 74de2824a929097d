package bot_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// gatedStore is a Store without revisions whose next read of one key
// holds its answer until released, and which tells when that key is
// deleted: a way to line up a read-modify-write against another write.
type gatedStore struct {
	bot.Store
	key     string
	armed   atomic.Bool
	read    chan struct{} // closed when the gated read has its answer
	release chan struct{}
	deleted chan struct{}
	delOnce sync.Once
}

func (s *gatedStore) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := s.Store.Get(ctx, key)
	if key == s.key && s.armed.CompareAndSwap(true, false) {
		close(s.read)
		<-s.release
	}
	return v, err
}

func (s *gatedStore) Delete(ctx context.Context, key string) error {
	if key == s.key {
		s.delOnce.Do(func() { close(s.deleted) })
	}
	return s.Store.Delete(ctx, key)
}

// A message handled in a human-owned conversation refreshes the owner's
// activity time; a Resume meanwhile must not be undone by that refresh.
// With a Store without revisions the refresh read "human" before the
// Resume and wrote "human" after it, silently.
func TestOwnership_ResumeNotUndoneByActivity(t *testing.T) {
	store := &gatedStore{Store: bot.NewMemoryStore(), key: "own:fake:c",
		read: make(chan struct{}), release: make(chan struct{}), deleted: make(chan struct{})}
	fa := bottest.NewFakeAdapter("fake")
	// A platform without a switch the Bot can read, which would otherwise
	// correct the record on its next reading.
	plain := struct{ bot.Adapter }{fa}
	b, err := bot.New(bot.WithAdapters(plain), bot.WithStore(store), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	b.NotFound(bot.HandlerFunc(echo))
	bottest.Run(t, b)
	require.NoError(t, b.Handoff(t.Context(), "fake", "c"))

	store.armed.Store(true)
	require.NoError(t, fa.Inject(t.Context(), msg("c", "m1", "still there?")))
	<-store.read // the message's handling read "human" and waits
	resumed := make(chan error, 1)
	go func() { resumed <- b.Resume(context.Background(), "fake", "c") }()
	// Let the Resume record its owner, if it can while the refresh is in
	// the middle of its read-modify-write.
	select {
	case <-store.deleted:
	case <-time.After(200 * time.Millisecond):
	}
	close(store.release)
	require.NoError(t, <-resumed)
	require.Eventually(t, func() bool { return b.Stats().Handled == 1 }, 5*time.Second, time.Millisecond)

	o, err := b.Owner(t.Context(), "fake", "c")
	require.NoError(t, err)
	assert.Equal(t, bot.OwnerBot, o, "the Resume stands")
}

package jetstream_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

func TestStore_revisions(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()

	_, rev, err := s.GetRevision(ctx, "k")
	require.ErrorIs(t, err, bot.ErrNotFound)
	require.Zero(t, rev)
	require.NoError(t, s.Update(ctx, "k", []byte("a"), 0, 0))
	require.ErrorIs(t, s.Update(ctx, "k", []byte("b"), 0, 0), bot.ErrConflict, "rev 0 means absent")

	v, r1, err := s.GetRevision(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "a", string(v))
	require.NoError(t, s.Update(ctx, "k", []byte("b"), 0, r1))
	require.ErrorIs(t, s.Update(ctx, "k", []byte("c"), 0, r1), bot.ErrConflict, "stale revision")
	v, r2, err := s.GetRevision(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "b", string(v))
	assert.Greater(t, r2, r1)

	require.ErrorIs(t, s.DeleteRevision(ctx, "k", r1), bot.ErrConflict)
	require.ErrorIs(t, s.DeleteRevision(ctx, "k", 0), bot.ErrConflict, "rev 0 means absent, and it exists")
	require.NoError(t, s.DeleteRevision(ctx, "k", r2))
	_, rev, err = s.GetRevision(ctx, "k")
	require.ErrorIs(t, err, bot.ErrNotFound)
	require.Zero(t, rev)
	require.NoError(t, s.DeleteRevision(ctx, "k", 0), "absent, as expected")
	require.NoError(t, s.Update(ctx, "k", []byte("again"), 0, 0), "created again after a delete")

	// An expired entry still stored reports its revision, and Update with
	// it replaces exactly that entry.
	require.NoError(t, s.Set(ctx, "e", []byte("x"), 50*time.Millisecond))
	var exp uint64
	require.Eventually(t, func() bool {
		_, exp, err = s.GetRevision(ctx, "e")
		return err != nil
	}, 5*time.Second, 10*time.Millisecond)
	require.ErrorIs(t, err, bot.ErrNotFound)
	if exp != 0 { // not yet removed by the server
		require.NoError(t, s.Update(ctx, "e", []byte("y"), 0, exp))
		v, _, err = s.GetRevision(ctx, "e")
		require.NoError(t, err)
		assert.Equal(t, "y", string(v))
	}
}

// Concurrent read-modify-write rounds with revisions lose no update.
func TestStore_revisionsConcurrent(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	const workers, each = 6, 15
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				for {
					v, rev, err := s.GetRevision(ctx, "n")
					n := 0
					if err == nil {
						n, _ = strconv.Atoi(string(v))
					} else if !assert.ErrorIs(t, err, bot.ErrNotFound) {
						return
					}
					err = s.Update(ctx, "n", []byte(strconv.Itoa(n+1)), 0, rev)
					if err == nil {
						break
					}
					if !assert.ErrorIs(t, err, bot.ErrConflict) {
						return
					}
				}
			}
		})
	}
	wg.Wait()
	v, err := s.Get(ctx, "n")
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(workers*each), string(v))
}

// Ownership on a JetStream store goes through revision-checked updates:
// handoff, activity, idle resume and platform signals behave as on the
// in-memory store.
func TestStore_ownershipTransitions(t *testing.T) {
	s := newStore(t)
	fa := bottest.NewFakeAdapter("fake")
	b, err := bot.New(bot.WithAdapters(fa), bot.WithStore(s), bot.WithLogger(bottest.Logger(t)),
		bot.WithIdleTimeout(300*time.Millisecond))
	require.NoError(t, err)
	b.NotFound(bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error { return nil }))
	stop := bottest.Run(t, b)
	ctx := t.Context()

	require.NoError(t, b.Handoff(ctx, "fake", "c"))
	owner, err := b.Owner(ctx, "fake", "c")
	require.NoError(t, err)
	require.Equal(t, bot.OwnerHuman, owner)

	// A platform signal to the bot hands it back.
	require.NoError(t, fa.Inject(ctx, bottest.NewMessage("x", bottest.In("fake", "c"), bottest.WithID("s1"),
		bottest.WithOwner(bot.OwnerBot))))
	require.Eventually(t, func() bool {
		o, err := b.Owner(ctx, "fake", "c")
		return err == nil && o == bot.OwnerBot
	}, 5*time.Second, 10*time.Millisecond)

	// Idle timeout: human-owned, silent past the timeout, then a message
	// is handled by the bot again.
	require.NoError(t, b.Handoff(ctx, "fake", "c"))
	time.Sleep(400 * time.Millisecond) // let the conversation go idle
	require.NoError(t, fa.Inject(ctx, bottest.NewMessage("hello", bottest.In("fake", "c"), bottest.WithID("m2"))))
	require.Eventually(t, func() bool {
		o, err := b.Owner(ctx, "fake", "c")
		return err == nil && o == bot.OwnerBot
	}, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, stop())
	st := b.Stats()
	assert.Equal(t, int64(2), st.Handoffs)
	assert.Equal(t, int64(2), st.Resumes)
}

package jetstream_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/storage/jetstream"
)

// peer is one Bot of a durable deployment: its own Broker, Store and
// fake adapter on a shared NATS server.
type peer struct {
	b    *bot.Bot
	fa   *bottest.FakeAdapter
	stop func() error
}

func startPeer(t *testing.T, srv *jetstream.Server) *peer {
	t.Helper()
	_, js := connect(t, srv)
	br, err := jetstream.NewBroker(t.Context(), js, jetstream.WithBrokerLogger(bottest.Logger(t)))
	require.NoError(t, err)
	store, err := jetstream.NewStore(t.Context(), js, "state")
	require.NoError(t, err)
	fa := bottest.NewFakeAdapter("fake")
	b, err := bot.New(bot.WithAdapters(fa), bot.WithBroker(br), bot.WithStore(store),
		bot.WithLogger(bottest.Logger(t)), bot.WithShutdownTimeout(5*time.Second))
	require.NoError(t, err)
	return &peer{b: b, fa: fa, stop: bottest.Run(t, b)}
}

func deadLetters(t *testing.T, b *bot.Bot) []bot.DeadLetter {
	t.Helper()
	dl, err := b.DeadLetters(t.Context())
	require.NoError(t, err)
	return dl
}

// In durable mode the dead letters are shared and durable: a letter one
// peer made is listed by another, survives a restart of everything,
// and is replayed exactly once when two replicas replay it at once.
func TestBroker_deadLettersSharedAndDurable(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	a, b := startPeer(t, srv), startPeer(t, srv)

	// The platform refuses the message for good: a dead letter.
	a.fa.FailNext(errors.New("400 invalid phone"))
	b.fa.FailNext(errors.New("400 invalid phone"))
	m := &bot.Message{Platform: "fake", Conversation: "c", Key: "k-dead", Text: "undeliverable"}
	require.NoError(t, a.b.Send(t.Context(), m))
	require.Eventually(t, func() bool { return len(deadLetters(t, b.b)) == 1 }, 10*time.Second, 5*time.Millisecond,
		"the other peer lists the letter")
	dl := deadLetters(t, a.b)
	require.Len(t, dl, 1)
	assert.Equal(t, "undeliverable", dl[0].Message.Text)
	assert.Equal(t, "k-dead", dl[0].Message.Key)
	assert.EqualError(t, dl[0].Err, "400 invalid phone")
	assert.Equal(t, 1, dl[0].Attempts)
	n, err := b.b.DeadLetterCount(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	// Everything restarts: the letter is still there.
	require.NoError(t, a.stop())
	require.NoError(t, b.stop())
	srv.Shutdown()
	srv = startServer(t, dir)
	a, b = startPeer(t, srv), startPeer(t, srv)
	after := deadLetters(t, b.b)
	require.Len(t, after, 1)
	assert.Equal(t, dl[0].ID, after[0].ID)
	assert.Equal(t, "undeliverable", after[0].Message.Text)

	// Both replicas replay it at once: one wins, the other is told it is
	// gone, and the message is delivered once.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, r := range []*peer{a, b} {
		wg.Go(func() { errs[i] = r.b.Replay(context.Background(), dl[0].ID) })
	}
	wg.Wait()
	if errs[0] == nil {
		assert.ErrorIs(t, errs[1], bot.ErrNotFound)
	} else {
		assert.ErrorIs(t, errs[0], bot.ErrNotFound)
		assert.NoError(t, errs[1])
	}
	require.Eventually(t, func() bool { return len(a.fa.Sent())+len(b.fa.Sent()) == 1 }, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, a.stop())
	require.NoError(t, b.stop())
	assert.Len(t, append(a.fa.Sent(), b.fa.Sent()...), 1, "delivered once")
	assert.Empty(t, deadLetters(t, a.b))
	assert.ErrorIs(t, a.b.Discard(t.Context(), dl[0].ID), bot.ErrNotFound)
}

// A letter of unknown outcome (it may be on the platform already) still
// says so when another replica reads it from the stream, where only the
// error's text is kept: its error wraps bot.ErrOutcomeUnknown, so that
// whoever replays it knows it may arrive twice.
func TestBroker_deadLetterKeepsUnknownOutcome(t *testing.T) {
	srv := startServer(t, t.TempDir())
	a, b := startPeer(t, srv), startPeer(t, srv)
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	a.fa.FailNext(reset)
	b.fa.FailNext(reset)
	require.NoError(t, a.b.Send(t.Context(), &bot.Message{Platform: "fake", Conversation: "c", Key: "k-unsure", Text: "maybe sent"}))
	require.Eventually(t, func() bool { return len(deadLetters(t, b.b)) == 1 }, 10*time.Second, 5*time.Millisecond)
	d := deadLetters(t, b.b)[0]
	assert.ErrorIs(t, d.Err, bot.ErrOutcomeUnknown)
	assert.Equal(t, "bot: outcome of the delivery unknown: read tcp: connection reset by peer", d.Err.Error())
}

package bottest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/parleybot/parley/bot"
)

// A Harness wires one fresh adapter to one fresh fake platform for a
// subtest of TestAdapter.
type Harness struct {
	// Adapter is the adapter under test.
	Adapter bot.Adapter
	// Inject makes the fake platform deliver an inbound text message from a
	// customer in conversation, through the adapter's real receive path
	// (webhook or stream). It is called while the adapter's Run is running.
	Inject func(ctx context.Context, conversation, text string) error
	// InjectUnknown makes the platform deliver an event of a type the
	// adapter does not know. Nil skips that subtest.
	InjectUnknown func(ctx context.Context, conversation string) error
	// Sent returns what the fake platform received from the adapter's Send,
	// in order.
	Sent func() []SentMessage
	// RateLimitNext makes the platform answer the next send with a rate-limit
	// error carrying retryAfter. Nil skips that subtest.
	RateLimitNext func(retryAfter time.Duration)
	// Conversation, when set, says that the platform has a single
	// conversation with this name (a console, say). The suite then uses it
	// wherever it would use a conversation name of its own.
	Conversation string
}

// conv returns the conversation the suite should use where it would use
// name: the harness's only conversation, if it has one, or name.
func (h Harness) conv(name string) string {
	if h.Conversation != "" {
		return h.Conversation
	}
	return name
}

// SentMessage is an outbound message as the fake platform saw it.
type SentMessage struct {
	Conversation, Thread, Text string
}

// Features lists the optional behaviour an adapter claims.
type Features struct {
	// Threads: replies carry the inbound message's thread.
	Threads bool
}

// TestAdapter runs the behaviour every bot.Adapter must have, modelled on
// watermill's universal Pub/Sub suite. newHarness is called once per
// subtest and must register its own cleanups. Adapters whose platform emits
// no unknown events, or has no rate limit, leave those Harness fields nil.
func TestAdapter(t *testing.T, features Features, newHarness func(t *testing.T) Harness) {
	t.Run("inbound text is published with its identity", func(t *testing.T) {
		h := newHarness(t)
		pub := runAdapter(t, h.Adapter)
		require.NoError(t, h.Inject(t.Context(), h.conv("conv-in"), "hello parley"))
		m := pub.next(t)
		assert.Equal(t, h.Adapter.Name(), m.Platform, "Platform")
		assert.Equal(t, h.conv("conv-in"), m.Conversation, "Conversation")
		assert.Equal(t, "hello parley", m.Text, "Text")
		assert.NotEmpty(t, m.ID, "ID (the dedup key)")
		assert.NotEmpty(t, m.Author.ID, "Author.ID")
		assert.Equal(t, bot.KindMessage, m.Kind.Or(), "Kind")
		assert.False(t, m.Time.IsZero(), "Time")
		assert.NotEmpty(t, m.Raw, "Raw")
	})

	t.Run("a reply lands in the same conversation", func(t *testing.T) {
		h := newHarness(t)
		pub := runAdapter(t, h.Adapter)
		require.NoError(t, h.Inject(t.Context(), h.conv("conv-reply"), "ping"))
		in := pub.next(t)
		_, err := h.Adapter.Send(t.Context(), in.Reply("pong"))
		require.NoError(t, err)
		sent := h.Sent()
		require.Len(t, sent, 1)
		assert.Equal(t, h.conv("conv-reply"), sent[0].Conversation)
		assert.Equal(t, "pong", sent[0].Text)
		if features.Threads {
			assert.Equal(t, in.Thread, sent[0].Thread)
		}
	})

	t.Run("send honours a cancelled context", func(t *testing.T) {
		h := newHarness(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := h.Adapter.Send(ctx, &bot.Message{Platform: h.Adapter.Name(), Conversation: h.conv("conv-x"), Text: "never"})
		require.Error(t, err)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, h.Sent())
	})

	t.Run("a rate limit surfaces as RateLimitError", func(t *testing.T) {
		h := newHarness(t)
		if h.RateLimitNext == nil {
			t.Skip("the harness has no rate limit")
		}
		h.RateLimitNext(7 * time.Second)
		_, err := h.Adapter.Send(t.Context(), &bot.Message{Platform: h.Adapter.Name(), Conversation: h.conv("conv-rl"), Text: "too fast"})
		var rl *bot.RateLimitError
		require.ErrorAs(t, err, &rl)
		assert.Equal(t, h.Adapter.Name(), rl.Platform)
		assert.Equal(t, 7*time.Second, rl.RetryAfter)
	})

	t.Run("unknown platform events are ignored", func(t *testing.T) {
		h := newHarness(t)
		if h.InjectUnknown == nil {
			t.Skip("the harness cannot send unknown events")
		}
		pub := runAdapter(t, h.Adapter)
		require.NoError(t, h.InjectUnknown(t.Context(), h.conv("conv-u")))
		require.NoError(t, h.Inject(t.Context(), h.conv("conv-u"), "after the unknown event"))
		m := pub.next(t)
		assert.Equal(t, "after the unknown event", m.Text)
	})

	t.Run("run returns nil soon after cancellation", func(t *testing.T) {
		h := newHarness(t)
		// The harness's own servers live until the subtest's cleanup; only
		// goroutines started by Run must be gone when it returns.
		before := goleak.IgnoreCurrent()
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			done <- h.Adapter.Run(ctx, bot.PublisherFunc(func(context.Context, *bot.Message) error { return nil }))
		}()
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(time.Second):
			t.Fatal("Run did not return within 1s of cancellation")
		}
		goleak.VerifyNone(t, before)
	})

	t.Run("send is safe for concurrent use", func(t *testing.T) {
		h := newHarness(t)
		const goroutines, each = 8, 4
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*each)
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					_, err := h.Adapter.Send(t.Context(), &bot.Message{Platform: h.Adapter.Name(),
						Conversation: h.conv(fmt.Sprintf("conv-%d", g)), Text: fmt.Sprintf("m%d", i)})
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		assert.Len(t, h.Sent(), goroutines*each)
	})
}

// recordingPublisher collects what an adapter publishes.
type recordingPublisher struct{ ch chan *bot.Message }

func (p *recordingPublisher) Publish(ctx context.Context, m *bot.Message) error {
	select {
	case p.ch <- m:
		return nil
	case <-ctx.Done():
		return errors.Join(bot.ErrBusy, ctx.Err())
	}
}

func (p *recordingPublisher) next(t *testing.T) *bot.Message {
	t.Helper()
	select {
	case m := <-p.ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("bottest: nothing published within 5s")
		return nil
	}
}

// runAdapter runs a's Run with a recording publisher until the test ends.
func runAdapter(t *testing.T, a bot.Adapter) *recordingPublisher {
	t.Helper()
	p := &recordingPublisher{ch: make(chan *bot.Message, 64)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, p) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err, "adapter Run")
		case <-time.After(5 * time.Second):
			t.Error("bottest: adapter Run did not return within 5s of cancellation")
		}
	})
	return p
}

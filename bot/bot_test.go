package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// newBot returns a Bot on one FakeAdapter named "fake" with a test logger.
func newBot(t *testing.T, opts ...bot.Option) (*bot.Bot, *bottest.FakeAdapter) {
	t.Helper()
	fa := bottest.NewFakeAdapter("fake")
	b, err := bot.New(append([]bot.Option{bot.WithAdapters(fa), bot.WithLogger(bottest.Logger(t))}, opts...)...)
	require.NoError(t, err)
	return b, fa
}

func msg(conv, id, text string) *bot.Message {
	return bottest.NewMessage(text, bottest.In("fake", conv), bottest.WithID(id))
}

// echo answers chat messages with their text and ignores other events.
func echo(ctx context.Context, w bot.Sender, m *bot.Message) error {
	if m.Kind.Or() != bot.KindMessage {
		return nil
	}
	return w.Send(ctx, m.Reply(m.Text))
}

func TestNew_Errors(t *testing.T) {
	fa := bottest.NewFakeAdapter("same")
	tests := []struct {
		name string
		opts []bot.Option
		want string
	}{
		{"no adapter", nil, "bot: no adapter"},
		{"duplicate names", []bot.Option{bot.WithAdapters(fa, bottest.NewFakeAdapter("same"))}, `two adapters are named "same"`},
		{"nil adapter", []bot.Option{bot.WithAdapters(nil)}, "nil adapter"},
		{"zero workers", []bot.Option{bot.WithAdapters(fa), bot.WithWorkers(0)}, "workers must be at least 1"},
		{"zero queue", []bot.Option{bot.WithAdapters(fa), bot.WithQueueSize(0)}, "queue size must be at least 1"},
		{"nil location", []bot.Option{bot.WithAdapters(fa), bot.WithLocation(nil)}, "nil location"},
		{"bad shutdown timeout", []bot.Option{bot.WithAdapters(fa), bot.WithShutdownTimeout(0)}, "shutdown timeout must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := bot.New(tt.opts...)
			require.Error(t, err)
			assert.Nil(t, b)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestBot_RunTwice(t *testing.T) {
	b, fa := newBot(t)
	b.NotFound(bot.HandlerFunc(echo))
	stop := bottest.Run(t, b)
	require.NoError(t, fa.Inject(t.Context(), msg("c", "1", "hi")))
	fa.WaitSent(t, 1)
	require.NoError(t, stop())
	assert.ErrorIs(t, b.Run(t.Context()), bot.ErrClosed)
	assert.ErrorIs(t, fa.Inject(t.Context(), msg("c", "2", "late")), bot.ErrClosed)
}

func TestBot_Echo(t *testing.T) {
	b, fa := newBot(t)
	b.NotFound(bot.HandlerFunc(echo))
	bottest.Run(t, b)
	require.NoError(t, fa.Inject(t.Context(), msg("c1", "1", "hello")))
	sent := fa.WaitSent(t, 1)
	assert.Equal(t, "hello", sent[0].Text)
	assert.Equal(t, "c1", sent[0].Conversation)
	assert.Equal(t, "fake", sent[0].Platform)
	assert.Equal(t, "fake:1:0", sent[0].Key, "reply key = inbound event + reply index")
}

// One conversation is handled strictly in arrival order while a thousand
// conversations run in parallel (a hundred with -short: 10,000 messages
// rather than 100,000).
func TestBot_OrderPerConversation(t *testing.T) {
	convs, perConv := 1000, 100
	if testing.Short() {
		convs = 100
	}
	b, fa := newBot(t, bot.WithWorkers(16), bot.WithQueueSize(64))
	var (
		mu   sync.Mutex
		seen = make(map[string][]int, convs)
		wg   sync.WaitGroup
	)
	wg.Add(convs * perConv)
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		n, err := strconv.Atoi(m.Text)
		if err != nil {
			return err
		}
		mu.Lock()
		seen[m.Conversation] = append(seen[m.Conversation], n)
		mu.Unlock()
		wg.Done()
		return nil
	}))
	bottest.Run(t, b)

	// Each conversation has its own publisher goroutine, as each would be
	// fed by its own webhook requests; they interleave freely.
	var pubs sync.WaitGroup
	for c := range convs {
		pubs.Go(func() {
			conv := "conv-" + strconv.Itoa(c)
			for i := range perConv {
				if err := fa.Inject(t.Context(), msg(conv, conv+"-"+strconv.Itoa(i), strconv.Itoa(i))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	pubs.Wait()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, convs)
	for conv, got := range seen {
		require.Len(t, got, perConv, conv)
		for i, n := range got {
			if n != i {
				t.Fatalf("%s: position %d handled message %d: order broken", conv, i, n)
			}
		}
	}
	require.Eventually(t, func() bool { return b.Stats().Handled == int64(convs*perConv) }, 5*time.Second, time.Millisecond)
}

// A slow conversation does not stall the others.
func TestBot_SlowConversationDoesNotStallOthers(t *testing.T) {
	b, fa := newBot(t, bot.WithWorkers(8))
	gate := make(chan struct{})
	var others atomic.Int64
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		if m.Conversation == "slow" {
			<-gate
			return nil
		}
		others.Add(1)
		return nil
	}))
	bottest.Run(t, b)
	defer close(gate)

	require.NoError(t, fa.Inject(t.Context(), msg("slow", "s1", "x")))
	// Conversations on other lanes than "slow" must all be handled while
	// "slow" is blocked.
	want := 0
	for i := range 64 {
		conv := "fast-" + strconv.Itoa(i)
		if bot.LaneOf("fake", conv, 8) == bot.LaneOf("fake", "slow", 8) {
			continue
		}
		want++
		require.NoError(t, fa.Inject(t.Context(), msg(conv, conv, "x")))
	}
	require.Eventually(t, func() bool { return others.Load() == int64(want) }, 5*time.Second, time.Millisecond)
}

// A full queue pushes back on Publish; the publisher's retry (as a platform
// redelivers after a 503) gets every message handled exactly once.
func TestBot_BackPressureLosesNothing(t *testing.T) {
	b, fa := newBot(t, bot.WithWorkers(1), bot.WithQueueSize(2))
	gate := make(chan struct{})
	var (
		mu      sync.Mutex
		handled = map[string]int{}
	)
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		<-gate
		mu.Lock()
		handled[m.ID]++
		mu.Unlock()
		return nil
	}))
	bottest.Run(t, b)

	const total = 20
	busy := 0
	pending := make([]*bot.Message, 0, total)
	for i := range total {
		pending = append(pending, msg("c", "id-"+strconv.Itoa(i), "x"))
	}
	// While the handler is blocked: one in flight, two queued, the rest
	// must be refused with ErrBusy once their context ends.
	var refused []*bot.Message
	for _, m := range pending {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		err := fa.Inject(ctx, m)
		cancel()
		if err != nil {
			require.ErrorIs(t, err, bot.ErrBusy)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			busy++
			refused = append(refused, m)
		}
	}
	assert.GreaterOrEqual(t, busy, total-4, "a full queue must push back")
	close(gate)
	// Redeliver the refused ones, now with patience.
	for _, m := range refused {
		require.NoError(t, fa.Inject(t.Context(), msg(m.Conversation, m.ID, m.Text)))
	}
	require.Eventually(t, func() bool { return b.Stats().Handled == total }, 5*time.Second, time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, handled, total)
	for id, n := range handled {
		assert.Equal(t, 1, n, id)
	}
	assert.Zero(t, b.Stats().Duplicates, "a refused message must not count as seen")
}

func TestBot_DedupTripleDelivery(t *testing.T) {
	b, fa := newBot(t)
	var calls atomic.Int64
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		calls.Add(1)
		return w.Send(ctx, m.Reply("once"))
	}))
	bottest.Run(t, b)
	for range 3 {
		require.NoError(t, fa.Inject(t.Context(), msg("c", "evt-42", "hi")), "a redelivery is acknowledged")
	}
	require.NoError(t, fa.Inject(t.Context(), msg("c", "evt-43", "next")))
	fa.WaitSent(t, 2)
	assert.Equal(t, int64(2), calls.Load())
	assert.Equal(t, int64(2), b.Stats().Duplicates)
	assert.Len(t, fa.Sent(), 2)
}

func TestBot_PanicIsolated(t *testing.T) {
	var (
		mu   sync.Mutex
		errs []error
	)
	b, fa := newBot(t, bot.WithErrorHandler(func(_ context.Context, err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}))
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		switch m.Text {
		case "panic":
			panic("boom")
		case "fail":
			return errors.New("plain failure")
		}
		return echo(ctx, w, m)
	}))
	bottest.Run(t, b)
	require.NoError(t, fa.Inject(t.Context(), msg("a", "1", "panic")))
	require.NoError(t, fa.Inject(t.Context(), msg("b", "2", "fine")))
	require.NoError(t, fa.Inject(t.Context(), msg("a", "3", "fail")))
	require.NoError(t, fa.Inject(t.Context(), msg("a", "4", "still alive")))
	sent := fa.WaitSent(t, 2)
	assert.ElementsMatch(t, []string{"fine", "still alive"}, []string{sent[0].Text, sent[1].Text})

	st := b.Stats()
	assert.Equal(t, int64(2), st.HandlerErrors)
	assert.Equal(t, int64(1), st.Panics)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, errs, 2)
	var he *bot.HandlerError
	require.ErrorAs(t, errs[0], &he)
	assert.Equal(t, "boom", he.Panic)
	assert.NotEmpty(t, he.Stack)
	assert.Equal(t, "a", he.Conversation)
	assert.Equal(t, "1", he.MessageID)
	require.ErrorAs(t, errs[1], &he)
	assert.Nil(t, he.Panic)
	assert.EqualError(t, he.Err, "plain failure")
}

func TestBot_HandlerTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		got := make(chan error, 1)
		b, fa := newBot(t, bot.WithHandlerTimeout(3*time.Second))
		b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			<-ctx.Done()
			got <- ctx.Err()
			return ctx.Err()
		}))
		stop := bottest.Run(t, b)
		start := time.Now()
		require.NoError(t, fa.Inject(t.Context(), msg("c", "1", "slow")))
		assert.ErrorIs(t, <-got, context.DeadlineExceeded)
		assert.Equal(t, 3*time.Second, time.Since(start))
		require.NoError(t, stop())
	})
}

// Shutdown lets in-flight handlers finish and delivers their replies.
func TestBot_ShutdownDrains(t *testing.T) {
	b, fa := newBot(t, bot.WithWorkers(2))
	started := make(chan struct{}, 10)
	release := make(chan struct{})
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		started <- struct{}{}
		<-release
		return w.Send(ctx, m.Reply("done "+m.Text))
	}))
	stop := bottest.Run(t, b)
	for i := range 6 {
		require.NoError(t, fa.Inject(t.Context(), msg("c"+strconv.Itoa(i%3), strconv.Itoa(i), strconv.Itoa(i))))
	}
	<-started
	result := make(chan error, 1)
	go func() { result <- stop() }()
	close(release)
	require.NoError(t, <-result)
	assert.Len(t, fa.Sent(), 6, "queued and in-flight messages are handled and their replies delivered")
}

// Past the shutdown timeout, handler contexts are cancelled and Run returns.
func TestBot_ShutdownTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, fa := newBot(t, bot.WithWorkers(1), bot.WithShutdownTimeout(2*time.Second), bot.WithHandlerTimeout(0))
		cancelled := make(chan struct{})
		b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			<-ctx.Done() // ignores shutdown until its context is cancelled
			close(cancelled)
			return nil
		}))
		stop := bottest.Run(t, b)
		require.NoError(t, fa.Inject(t.Context(), msg("c", "1", "stuck")))
		require.NoError(t, fa.Inject(t.Context(), msg("c", "2", "queued behind")))
		synctest.Wait()
		start := time.Now()
		require.NoError(t, stop())
		<-cancelled
		assert.Equal(t, 2*time.Second, time.Since(start))
		assert.Equal(t, int64(1), b.Stats().Handled, "the queued message was abandoned, not handled")
	})
}

func TestBot_AdapterFailureStopsRun(t *testing.T) {
	good := bottest.NewFakeAdapter("good")
	bad := bottest.NewFakeAdapter("bad")
	bad.FailRun(errors.New("credentials rejected"))
	b, err := bot.New(bot.WithAdapters(good, bad), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	err = b.Run(t.Context())
	require.Error(t, err)
	assert.EqualError(t, err, "bot: adapter bad: credentials rejected")
}

func TestBot_AdaptersEndingStopsRun(t *testing.T) {
	b, fa := newBot(t)
	b.NotFound(bot.HandlerFunc(echo))
	done := make(chan error, 1)
	go func() { done <- b.Run(context.Background()) }()
	require.NoError(t, fa.Inject(t.Context(), msg("c", "1", "last words")))
	fa.End()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its only adapter ended")
	}
	require.Len(t, fa.Sent(), 1, "the queued message is handled and answered before Run returns")
}

func TestBot_PublishValidation(t *testing.T) {
	b, _ := newBot(t)
	assert.ErrorIs(t, b.Publish(t.Context(), &bot.Message{Platform: "nope", Conversation: "c"}), bot.ErrUnknownPlatform)
	assert.Error(t, b.Publish(t.Context(), &bot.Message{Platform: "fake"}))
	assert.ErrorIs(t, b.Send(t.Context(), &bot.Message{Platform: "nope", Conversation: "c"}), bot.ErrUnknownPlatform)
	assert.Error(t, b.Send(t.Context(), &bot.Message{Platform: "fake"}))
}

func TestBot_Route(t *testing.T) {
	b, fa := newBot(t)
	b.Handle(bot.Command("ping"), bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("pong"))
	}))
	b.NotFound(bot.HandlerFunc(echo))
	bottest.Run(t, b)
	require.NoError(t, fa.Inject(t.Context(), msg("c", "1", "/ping")))
	require.NoError(t, fa.Inject(t.Context(), msg("c", "2", "other")))
	sent := fa.WaitSent(t, 2)
	assert.Equal(t, []string{"pong", "other"}, []string{sent[0].Text, sent[1].Text})
}

func ExampleNew() {
	fa := bottest.NewFakeAdapter("fake")
	b, err := bot.New(bot.WithAdapters(fa))
	if err != nil {
		panic(err)
	}
	b.Handle(bot.Command("ping"), bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("pong"))
	}))
	done := make(chan error, 1)
	go func() { done <- b.Run(context.Background()) }()

	_ = fa.Inject(context.Background(), bottest.NewMessage("/ping", bottest.In("fake", "c1")))
	fa.End() // the platform goes away: Run drains and returns
	if err := <-done; err != nil {
		panic(err)
	}
	fmt.Println(fa.Sent()[0].Text)
	// Output: pong
}

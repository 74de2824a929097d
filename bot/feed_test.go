package bot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// collect reads sub's events until stop returns true for one (included)
// or 5 seconds pass.
func collect(t *testing.T, sub *bot.Subscription, stop func(bot.Event) bool) []bot.Event {
	t.Helper()
	var got []bot.Event
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e, ok := <-sub.Events():
			if !ok {
				t.Fatalf("the subscription ended after %v", types(got))
			}
			got = append(got, e)
			if stop(e) {
				return got
			}
		case <-timeout:
			t.Fatalf("no end after %v", types(got))
		}
	}
}

func types(es []bot.Event) []bot.EventType {
	var out []bot.EventType
	for _, e := range es {
		out = append(out, e.Type)
	}
	return out
}

// A message's journey through the Bot, as the feed tells it: received,
// the owner decided, the route that matched, the handler's return, the
// reply queued and sent under its key; a redelivery is received and
// dropped as a duplicate. No event carries the text.
func TestFeed_messageJourney(t *testing.T) {
	b, fa := newBot(t)
	b.HandleFunc(bot.Command("echo"), echo)
	sub := b.Subscribe(0)
	defer sub.Close()
	bottest.Run(t, b)

	m := msg("c1", "m1", "/echo secret words")
	require.NoError(t, fa.Inject(t.Context(), m))
	var handled, sent bool
	got := collect(t, sub, func(e bot.Event) bool {
		handled = handled || e.Type == bot.EventHandled
		sent = sent || e.Type == bot.EventSent
		return handled && sent
	})
	// The reply is delivered while the handler returns: its sent event
	// may come before the handled event, or after.
	if got[4].Type == bot.EventSent {
		got[4], got[5] = got[5], got[4]
	}
	require.Equal(t, []bot.EventType{bot.EventReceived, bot.EventOwner, bot.EventRouted, bot.EventQueued,
		bot.EventHandled, bot.EventSent}, types(got))
	for i, e := range got {
		if i < 4 {
			assert.Equal(t, uint64(i+1), e.Seq, "Seq counts from 1")
		}
		assert.False(t, e.Time.IsZero())
		assert.Equal(t, "fake", e.Platform)
		assert.Equal(t, "c1", e.Conversation)
		assert.Equal(t, "m1", e.Message, "%s names the inbound message", e.Type)
		assert.Empty(t, e.Text, "no text without WithEventText")
	}
	assert.Equal(t, "bot", got[1].Owner)
	assert.Equal(t, `Command("echo")`, got[2].Route)
	assert.Equal(t, "fake:m1:0", got[3].Key, "the reply's key")
	assert.Empty(t, got[4].Error)
	assert.Equal(t, "fake:m1:0", got[5].Key)

	require.NoError(t, fa.Inject(t.Context(), msg("c1", "m1", "/echo secret words")))
	got = collect(t, sub, func(e bot.Event) bool { return e.Type == bot.EventDuplicate })
	assert.Equal(t, []bot.EventType{bot.EventReceived, bot.EventDuplicate}, types(got))
	assert.Equal(t, "m1", got[1].Message)
}

// A message no route matches is reported unrouted; a handler's error is
// on the handled event.
func TestFeed_unroutedAndFailed(t *testing.T) {
	b, fa := newBot(t)
	b.HandleFunc(bot.Command("fail"), func(context.Context, bot.Sender, *bot.Message) error {
		return errors.New("the handler broke")
	})
	sub := b.Subscribe(0)
	defer sub.Close()
	bottest.Run(t, b)

	require.NoError(t, fa.Inject(t.Context(), msg("c1", "m1", "hello")))
	got := collect(t, sub, func(e bot.Event) bool { return e.Type == bot.EventHandled })
	assert.Equal(t, []bot.EventType{bot.EventReceived, bot.EventOwner, bot.EventUnrouted, bot.EventHandled}, types(got))

	require.NoError(t, fa.Inject(t.Context(), msg("c1", "m2", "/fail")))
	got = collect(t, sub, func(e bot.Event) bool { return e.Type == bot.EventHandled })
	assert.Equal(t, []bot.EventType{bot.EventReceived, bot.EventOwner, bot.EventRouted, bot.EventHandled}, types(got))
	assert.Contains(t, got[3].Error, "the handler broke")
}

// A delivery that fails is retried, then dead-lettered, and a replay
// queues it again; each step is an event with the message's key.
func TestFeed_retryDeadLetterReplay(t *testing.T) {
	b, fa := newBot(t, bot.WithOutbox(bot.OutboxConfig{MaxAttempts: 2, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	fa.FailNext(&bot.TemporaryError{Err: errors.New("503")}, &bot.TemporaryError{Err: errors.New("502")})
	sub := b.Subscribe(0)
	defer sub.Close()
	bottest.Run(t, b)

	require.NoError(t, b.Send(t.Context(), out("c1", "k1", "hello")))
	got := collect(t, sub, func(e bot.Event) bool { return e.Type == bot.EventDeadLettered })
	assert.Equal(t, []bot.EventType{bot.EventQueued, bot.EventRetry, bot.EventDeadLettered}, types(got))
	assert.Equal(t, 1, got[1].Attempt)
	assert.Contains(t, got[1].Error, "503")
	assert.Equal(t, 2, got[2].Attempt)
	assert.Contains(t, got[2].Error, "502")
	letter := got[2].Reason
	require.NotEmpty(t, letter, "the letter's ID")

	require.NoError(t, b.Replay(t.Context(), letter))
	got = collect(t, sub, func(e bot.Event) bool { return e.Type == bot.EventSent })
	assert.Equal(t, []bot.EventType{bot.EventReplayed, bot.EventQueued, bot.EventSent}, types(got))
	assert.Equal(t, letter, got[0].Reason)
	for _, e := range got {
		assert.Equal(t, "k1", e.Key)
	}
}

// A handoff is an ownership change; a bot message while a human owns the
// conversation is suppressed.
func TestFeed_handoffAndSuppressed(t *testing.T) {
	b, _ := newBot(t)
	sub := b.Subscribe(0)
	defer sub.Close()
	bottest.Run(t, b)

	require.NoError(t, b.Handoff(t.Context(), "fake", "c1"))
	require.NoError(t, b.Send(t.Context(), out("c1", "k1", "hello")))
	got := collect(t, sub, func(e bot.Event) bool { return e.Type == bot.EventSuppressed })
	assert.Equal(t, []bot.EventType{bot.EventOwnerChanged, bot.EventQueued, bot.EventSuppressed}, types(got))
	assert.Equal(t, "human", got[0].Owner)
	assert.Equal(t, "application", got[0].Reason)
	assert.Equal(t, "c1", got[0].Conversation)
}

// WithEventText puts the messages' text on their events.
func TestFeed_withEventText(t *testing.T) {
	b, fa := newBot(t, bot.WithEventText())
	b.HandleFunc(bot.Command("echo"), echo)
	sub := b.Subscribe(0)
	defer sub.Close()
	bottest.Run(t, b)

	require.NoError(t, fa.Inject(t.Context(), msg("c1", "m1", "/echo hi")))
	got := collect(t, sub, func(e bot.Event) bool { return e.Type == bot.EventQueued })
	assert.Equal(t, "/echo hi", got[0].Text)
	assert.Equal(t, "/echo hi", got[len(got)-1].Text, "the reply's (an echo)")
}

// A subscriber that does not read loses events, counted, and never slows
// the Bot: every message is handled and answered.
func TestFeed_slowSubscriberDrops(t *testing.T) {
	b, fa := newBot(t)
	b.HandleFunc(bot.Command("echo"), echo)
	slow := b.Subscribe(2)
	defer slow.Close()
	bottest.Run(t, b)

	const n = 50
	for i := range n {
		require.NoError(t, fa.Inject(t.Context(), msg("c1", "m"+string(rune('a'+i%26))+string(rune('a'+i/26)), "/echo x")))
	}
	fa.WaitSent(t, n)
	require.Eventually(t, func() bool { return b.Stats().Handled == n }, 5*time.Second, time.Millisecond)
	// 6 events a message, 2 kept. (The sent event of the last reply may
	// come just after the fake adapter recorded it.)
	require.Eventually(t, func() bool { return slow.Dropped() == 6*n-2 }, 5*time.Second, time.Millisecond,
		"dropped %d", slow.Dropped())
	assert.Equal(t, uint64(6*n-2), b.FeedDropped())
	first := <-slow.Events()
	assert.Equal(t, uint64(1), first.Seq)
}

// The subscriptions end when Run returns; one made after starts closed;
// Close is idempotent.
func TestFeed_endsWithRun(t *testing.T) {
	b, _ := newBot(t)
	sub := b.Subscribe(0)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	cancel()
	require.NoError(t, <-done)
	_, open := <-sub.Events()
	assert.False(t, open, "closed when Run returned")
	sub.Close()
	sub.Close()
	late := b.Subscribe(0)
	_, open = <-late.Events()
	assert.False(t, open)
	late.Close()
	assert.False(t, b.Watched())
}

// Emit adds a caller's events; Watched says whether anyone listens.
func TestFeed_emit(t *testing.T) {
	b, _ := newBot(t)
	assert.False(t, b.Watched())
	b.Emit(bot.Event{Type: bot.EventFlowStep}) // nobody listens: nothing happens
	sub := b.Subscribe(0)
	assert.True(t, b.Watched())
	b.Emit(bot.Event{Type: bot.EventFlowStep, Platform: "fake", Conversation: "c1", Flow: "lead", Step: "email", Text: "kept out"})
	e := <-sub.Events()
	assert.Equal(t, bot.Event{Seq: 1, Time: e.Time, Type: bot.EventFlowStep, Platform: "fake", Conversation: "c1",
		Flow: "lead", Step: "email"}, e)
	sub.Close()
	assert.False(t, b.Watched())
}

// explained is a handler that says why its route matched.
type explained struct{}

func (explained) HandleMessage(context.Context, bot.Sender, *bot.Message) error { return nil }
func (explained) Explain(_ context.Context, m *bot.Message) string {
	return "the conversation is " + m.Conversation
}

// A route's Explainer gives the routed event its reason; a nested
// Router's routes are reported as they match, and only the Bot's Router
// reports a message that nothing matched (TestFeed_unroutedAndFailed).
func TestFeed_explainedAndNested(t *testing.T) {
	b, fa := newBot(t)
	inner := bot.NewRouter()
	inner.Handle(bot.Command("inner"), explained{})
	b.Handle(bot.Always(), inner, bot.Observer())
	sub := b.Subscribe(0)
	defer sub.Close()
	bottest.Run(t, b)

	require.NoError(t, fa.Inject(t.Context(), msg("c1", "m1", "/inner")))
	got := collect(t, sub, func(e bot.Event) bool { return e.Type == bot.EventHandled })
	require.Equal(t, []bot.EventType{bot.EventReceived, bot.EventOwner, bot.EventRouted, bot.EventRouted, bot.EventHandled}, types(got))
	assert.Equal(t, "Always()", got[2].Route)
	assert.Equal(t, `Command("inner")`, got[3].Route)
	assert.Equal(t, "the conversation is c1", got[3].Reason)

	require.NoError(t, fa.Inject(t.Context(), msg("c1", "m2", "hello")))
	got = collect(t, sub, func(e bot.Event) bool { return e.Type == bot.EventHandled })
	assert.Equal(t, []bot.EventType{bot.EventReceived, bot.EventOwner, bot.EventRouted, bot.EventHandled}, types(got),
		"the outer route took the message; the inner Router's no match is not the message's")
}

// routeSpy is a rule that counts its Explain calls.
type routeSpy struct {
	bot.Rule
	explained *int
}

func (r routeSpy) Explain(context.Context, *bot.Message) string { *r.explained++; return "spied" }

// A subscription for some types gets those only, and the Bot builds no
// event of a type nobody wants: a rule is not asked to explain itself
// while nobody wants routed events.
func TestFeed_subscribeTypes(t *testing.T) {
	b, fa := newBot(t)
	explained := 0
	b.HandleFunc(routeSpy{Rule: bot.Command("echo"), explained: &explained}, echo)
	sub := b.Subscribe(0, bot.EventReceived, bot.EventSent)
	defer sub.Close()
	assert.True(t, b.Watched())
	assert.True(t, b.Watched(bot.EventSent, bot.EventRetry))
	assert.False(t, b.Watched(bot.EventRouted))
	bottest.Run(t, b)

	require.NoError(t, fa.Inject(t.Context(), msg("c1", "m1", "/echo hi")))
	got := collect(t, sub, func(e bot.Event) bool { return e.Type == bot.EventSent })
	assert.Equal(t, []bot.EventType{bot.EventReceived, bot.EventSent}, types(got))
	assert.Zero(t, explained, "no routed event was built")

	all := b.Subscribe(0)
	defer all.Close()
	require.NoError(t, fa.Inject(t.Context(), msg("c1", "m2", "/echo again")))
	got = collect(t, all, func(e bot.Event) bool { return e.Type == bot.EventRouted })
	assert.Equal(t, "spied", got[len(got)-1].Reason)
	assert.Equal(t, 1, explained)
	got = collect(t, sub, func(e bot.Event) bool { return e.Type == bot.EventSent })
	assert.Equal(t, []bot.EventType{bot.EventReceived, bot.EventSent}, types(got), "still those two only")
}

// A route named with RouteName is reported by its name, on the feed and
// in Routes.
func TestFeed_routeName(t *testing.T) {
	b, fa := newBot(t)
	b.HandleFunc(bot.Command("echo"), echo, bot.RouteName("the echo"))
	sub := b.Subscribe(0, bot.EventRouted)
	defer sub.Close()
	assert.Equal(t, "the echo", b.Routes()[0].Name)
	assert.Equal(t, `Command("echo")`, b.Routes()[0].Rule)
	bottest.Run(t, b)
	require.NoError(t, fa.Inject(t.Context(), msg("c1", "m1", "/echo hi")))
	got := collect(t, sub, func(e bot.Event) bool { return e.Type == bot.EventRouted })
	assert.Equal(t, "the echo", got[0].Route)
}

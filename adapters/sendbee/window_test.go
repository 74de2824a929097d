package sendbee_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// oldCustomer makes a customer write at the emulator's business time
// ago in the past, then puts the clock back to now, and waits for the Bot
// to handle the message. It returns the conversation.
func oldCustomer(t *testing.T, s *setup, phone string, ago time.Duration) string {
	t.Helper()
	now := s.emu.Now()
	s.emu.SetTime(now.Add(-ago))
	conv, id := s.emu.CustomerMessage(phone, "Ana", "hello")
	s.emu.SetTime(now)
	s.handledID(t, id)
	return conv
}

// deadLetters collects the errors of the Bot's dead letters.
type deadLetters struct {
	mu   sync.Mutex
	errs []error
}

func (d *deadLetters) hook(_ context.Context, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.errs = append(d.errs, err)
}

func (d *deadLetters) wait(t *testing.T, n int) []error {
	t.Helper()
	require.Eventually(t, func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return len(d.errs) >= n
	}, 5*time.Second, time.Millisecond)
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]error(nil), d.errs...)
}

// TestWindow_proactiveRefusedAtSend: a customer who wrote 25 hours ago
// cannot be sent a free-form message: Send says so at once, with the
// conversation and when the window closed, and nothing reaches Sendbee.
func TestWindow_proactiveRefusedAtSend(t *testing.T) {
	s := newSetup(t, nil)
	bottest.Run(t, s.b)
	conv := oldCustomer(t, s, "+385911234567", 25*time.Hour)
	closes, ok := s.emu.WindowClosesAt("+385911234567")
	require.True(t, ok)

	err := s.b.Send(t.Context(), &bot.Message{Platform: sendbee.Name, Conversation: conv, Text: "Your order shipped"})
	var wce *bot.WindowClosedError
	require.ErrorAs(t, err, &wce)
	assert.ErrorIs(t, err, bot.ErrWindowClosed)
	assert.Equal(t, conv, wce.Conversation)
	assert.WithinDuration(t, closes, wce.ClosedAt, time.Second)
	assert.Nil(t, wce.Err, "the Bot refused it, not the platform")
	assert.Equal(t, int64(1), s.b.Stats().WindowClosed)
	assert.Equal(t, int64(0), s.b.Stats().Queued)
	assert.Empty(t, s.emu.Sent())

	w, err := s.b.Window(t.Context(), sendbee.Name, conv)
	require.NoError(t, err)
	assert.True(t, w.Applies)
	assert.False(t, w.Open)
	assert.WithinDuration(t, closes, w.ClosesAt, time.Second)

	// A template may be sent at any time.
	require.NoError(t, s.b.Send(t.Context(), &bot.Message{Platform: sendbee.Name, Conversation: conv,
		Payload: bot.Template{Keyword: "welcome", Language: "en", Tags: map[string]string{"1": "Ana"}}}))
	sent := s.emu.WaitSent(t, 1)
	assert.Equal(t, "welcome", sent[0].TemplateKeyword)

	// The customer writes again: the window is open, and the reply goes.
	_, id := s.emu.CustomerMessage("+385911234567", "Ana", "still there?")
	s.handledID(t, id)
	require.NoError(t, s.b.Send(t.Context(), &bot.Message{Platform: sendbee.Name, Conversation: conv, Text: "Yes!"}))
	sent = s.emu.WaitSent(t, 2)
	assert.Equal(t, "Yes!", sent[1].Text)
}

// TestWindow_fallbackTemplate: with a fallback configured, a free-form
// message outside the window is sent as the template, with its text in
// the placeholder, and the Bot says so.
func TestWindow_fallbackTemplate(t *testing.T) {
	sub := make(chan *bot.Subscription, 1)
	s := newSetupWith(t, func(c *sendbee.AdapterConfig) {
		c.WindowFallback = &sendbee.WindowFallback{Keyword: "welcome", Language: "en", TextTag: "1"}
	}, nil)
	sub <- s.b.Subscribe(16, bot.EventSent)
	events := (<-sub).Events()
	bottest.Run(t, s.b)
	conv := oldCustomer(t, s, "+385911234567", 30*time.Hour)

	require.NoError(t, s.b.Send(t.Context(), &bot.Message{Platform: sendbee.Name, Conversation: conv, Text: "Ana"}))
	sent := s.emu.WaitSent(t, 1)
	assert.Equal(t, "/conversations/messages/templates/send", sent[0].Endpoint)
	assert.Equal(t, "welcome", sent[0].TemplateKeyword)
	assert.Equal(t, map[string]string{"1": "Ana"}, sent[0].TemplateTags)
	assert.Equal(t, "Welcome Ana! How can we help you?", sent[0].Text)
	require.NotNil(t, sent[0].PreventBotOff)
	assert.True(t, *sent[0].PreventBotOff, "the fallback keeps the chatbot on, as the reply would have")
	require.Eventually(t, func() bool { st := s.b.Stats(); return st.WindowFallbacks == 1 && st.Sent == 1 }, 5*time.Second, time.Millisecond)
	select {
	case e := <-events:
		assert.Equal(t, bot.EventSent, e.Type)
		assert.Contains(t, e.Reason, "fallback template")
	case <-time.After(5 * time.Second):
		t.Fatal("no sent event")
	}
}

// TestWindow_platformClockAhead: when Sendbee's clock closed the window
// before the Bot's, its refusal is the same typed error: without a
// fallback the message is a dead letter that says why; with one, the
// template goes instead.
func TestWindow_platformClockAhead(t *testing.T) {
	t.Run("no fallback", func(t *testing.T) {
		var dl deadLetters
		s := newSetup(t, nil, bot.WithErrorHandler(dl.hook))
		bottest.Run(t, s.b)
		conv, id := s.emu.CustomerMessage("+385911234567", "Ana", "hello")
		s.handledID(t, id)
		s.emu.Advance(25 * time.Hour)

		require.NoError(t, s.b.Send(t.Context(), &bot.Message{Platform: sendbee.Name, Conversation: conv, Text: "late"}))
		errs := dl.wait(t, 1)
		var wce *bot.WindowClosedError
		require.ErrorAs(t, errs[0], &wce)
		var api *sendbee.APIError
		require.ErrorAs(t, errs[0], &api, "the platform's refusal is kept")
		assert.Equal(t, sendbee.ErrorTypeReEngagement, api.Type)
		assert.Empty(t, s.emu.Sent())
		require.Eventually(t, func() bool { return s.b.Stats().WindowClosed == 1 }, 5*time.Second, time.Millisecond)
		letters, err := s.b.DeadLetters(t.Context())
		require.NoError(t, err)
		require.Len(t, letters, 1)
		assert.Equal(t, "late", letters[0].Message.Text, "the dead letter keeps the message itself")
	})
	t.Run("fallback", func(t *testing.T) {
		s := newSetupWith(t, func(c *sendbee.AdapterConfig) {
			c.WindowFallback = &sendbee.WindowFallback{Keyword: "welcome", Language: "en",
				Tags: func(m *bot.Message) map[string]string { return map[string]string{"1": "friend"} }}
		}, nil)
		bottest.Run(t, s.b)
		conv, id := s.emu.CustomerMessage("+385911234567", "Ana", "hello")
		s.handledID(t, id)
		s.emu.Advance(25 * time.Hour)

		require.NoError(t, s.b.Send(t.Context(), &bot.Message{Platform: sendbee.Name, Conversation: conv, Text: "late"}))
		sent := s.emu.WaitSent(t, 1)
		assert.Equal(t, "Welcome friend! How can we help you?", sent[0].Text)
		require.Eventually(t, func() bool { return s.b.Stats().WindowFallbacks == 1 }, 5*time.Second, time.Millisecond)
	})
}

// TestWindow_seededFromPlatform: a Bot with no record of a conversation
// (a fresh store: the conversation began before this bot) asks Sendbee
// when the customer last wrote, once, and decides on it.
func TestWindow_seededFromPlatform(t *testing.T) {
	var dl deadLetters
	first := newSetup(t, nil)
	stop := bottest.Run(t, first.b)
	open, id := first.emu.CustomerMessage("+385911000001", "Ana", "hello")
	first.handledID(t, id)
	closed := oldCustomer(t, first, "+385911000002", 25*time.Hour)
	stop()

	b, err := bot.New(bot.WithAdapters(first.sb), bot.WithLogger(bottest.Logger(t)), bot.WithErrorHandler(dl.hook))
	require.NoError(t, err)
	bottest.Run(t, b)
	before := len(first.emu.Requests())

	// No record at Send: queued, decided at delivery.
	require.NoError(t, b.Send(t.Context(), &bot.Message{Platform: sendbee.Name, Conversation: open, Text: "open"}))
	require.NoError(t, b.Send(t.Context(), &bot.Message{Platform: sendbee.Name, Conversation: closed, Text: "closed"}))
	sent := first.emu.WaitSent(t, 1)
	assert.Equal(t, "open", sent[0].Text)
	errs := dl.wait(t, 1)
	assert.ErrorIs(t, errs[0], bot.ErrWindowClosed)
	assert.Len(t, first.emu.Sent(), 1)
	lookups := 0
	for _, r := range first.emu.Requests()[before:] {
		if r.Method == "GET" {
			lookups++
		}
	}
	assert.Equal(t, 2, lookups, "one lookup per conversation: its window and its contact's phone")

	// Recorded now: a second send is refused at once.
	err = b.Send(t.Context(), &bot.Message{Platform: sendbee.Name, Conversation: closed, Text: "again"})
	assert.ErrorIs(t, err, bot.ErrWindowClosed)
}

// TestWindow_rules: expression rules see whether the window is open. An
// agent's message (which does not open it) in a conversation whose
// customer wrote 25 hours ago sees it closed.
func TestWindow_rules(t *testing.T) {
	s := newSetup(t, nil)
	var mu sync.Mutex
	seen := map[string]bool{}
	s.b.Handle(bot.MustExpr(`WindowOpen ? WindowClosesAt > Time : WindowClosesAt < now()`), bot.HandlerFunc(
		func(_ context.Context, _ bot.Sender, m *bot.Message) error {
			mu.Lock()
			defer mu.Unlock()
			seen[m.Text] = true
			return nil
		}), bot.Observer()) // an observer: the agent's message makes the conversation human-owned
	s.b.Handle(bot.MustExpr(`WindowOpen`), bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error {
		return errors.New("unreachable: the first rule takes every message")
	}))
	bottest.Run(t, s.b)
	conv := oldCustomer(t, s, "+385911234567", 25*time.Hour)
	id, err := s.emu.AgentReply(conv, "", "an agent writes")
	require.NoError(t, err)
	s.handledID(t, id)
	mu.Lock()
	defer mu.Unlock()
	assert.True(t, seen["hello"], "the customer's message: open")
	assert.True(t, seen["an agent writes"], "the agent's message: closed since")
}

// TestWindow_badFallback: a fallback without its template's keyword or
// language is refused by New, naming the field.
func TestWindow_badFallback(t *testing.T) {
	for _, f := range []*sendbee.WindowFallback{{Language: "en"}, {Keyword: "welcome"}, {Keyword: " ", Language: "en"}} {
		_, err := sendbee.New(sendbee.AdapterConfig{Config: sendbee.Config{APIKey: "k", APISecret: "s"}, WindowFallback: f})
		assert.EqualError(t, err, "sendbee: AdapterConfig.WindowFallback needs Keyword and Language")
	}
}

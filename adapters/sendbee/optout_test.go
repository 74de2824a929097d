package sendbee_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/flow"
)

// TestOptOut_keywordAndBack: a customer who writes "Stop!" is
// unsubscribed on Sendbee and answered once, the message reaches no
// handler, proactive messages are refused from then on while the
// customer's own new messages are still answered, and START undoes it.
func TestOptOut_keywordAndBack(t *testing.T) {
	s := newSetup(t, nil)
	var routed atomic.Int64
	s.b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		if m.Kind.Or() != bot.KindMessage || m.Author.Agent || m.Author.Bot {
			return nil
		}
		routed.Add(1)
		return w.Send(ctx, m.Reply("echo: "+m.Text))
	}))
	consent := s.b.Subscribe(8, bot.EventConsent)
	bottest.Run(t, s.b)
	const phone = "+385911234567"
	conv, id := s.emu.CustomerMessage(phone, "Ana", "Stop!")
	s.handledID(t, id)

	sent := s.emu.WaitSent(t, 1)
	assert.Equal(t, bot.DefaultOptOutReply, sent[0].Text)
	c, ok := s.emu.Conversation(conv)
	require.True(t, ok)
	assert.Equal(t, "unsubscribed", c.Contact.Status, "unsubscribed on the platform")
	assert.Zero(t, routed.Load(), "the keyword is not routed")
	select {
	case e := <-consent.Events():
		assert.Equal(t, "opted out", e.Reason)
		assert.Equal(t, conv, e.Conversation)
	case <-time.After(5 * time.Second):
		t.Fatal("no consent event")
	}
	out, since, err := s.b.OptedOut(t.Context(), sendbee.Name, conv)
	require.NoError(t, err)
	assert.True(t, out)
	assert.WithinDuration(t, time.Now(), since, time.Minute)

	// A proactive message, free-form or template, is refused at once.
	for _, m := range []*bot.Message{
		{Platform: sendbee.Name, Conversation: conv, Text: "Spring sale!"},
		{Platform: sendbee.Name, Conversation: conv, Payload: bot.Template{Keyword: "welcome", Language: "en", Tags: map[string]string{"1": "Ana"}}},
	} {
		err := s.b.Send(t.Context(), m)
		var oe *bot.OptedOutError
		require.ErrorAs(t, err, &oe)
		assert.ErrorIs(t, err, bot.ErrOptedOut)
		assert.Equal(t, conv, oe.Conversation)
	}
	assert.Equal(t, int64(2), s.b.Stats().OptedOut)

	// The customer writes again: answered.
	_, id = s.emu.CustomerMessage(phone, "Ana", "where is my order?")
	s.handledID(t, id)
	sent = s.emu.WaitSent(t, 2)
	assert.Equal(t, "echo: where is my order?", sent[1].Text)

	// START: subscribed again, answered, and proactive messages go.
	_, id = s.emu.CustomerMessage(phone, "Ana", "start")
	s.handledID(t, id)
	sent = s.emu.WaitSent(t, 3)
	assert.Equal(t, bot.DefaultOptInReply, sent[2].Text)
	c, _ = s.emu.Conversation(conv)
	assert.Equal(t, "subscribed", c.Contact.Status)
	require.NoError(t, s.b.Send(t.Context(), &bot.Message{Platform: sendbee.Name, Conversation: conv, Text: "Spring sale!"}))
	sent = s.emu.WaitSent(t, 4)
	assert.Equal(t, "Spring sale!", sent[3].Text)
	st := s.b.Stats()
	assert.Equal(t, int64(1), st.OptOuts)
	assert.Equal(t, int64(1), st.OptIns)
	assert.Equal(t, int64(1), routed.Load())
}

// TestOptOut_languages: the default keywords of other
// languages opt out too, with accents, case, spaces and punctuation
// ignored; a sentence with the word in it does not.
func TestOptOut_languages(t *testing.T) {
	s := newSetup(t, nil)
	bottest.Run(t, s.b)
	for i, word := range []string{"ODJAVA", "stopp", "Arret", "baja.", "  Unsubscribe "} {
		phone := "+38591100000" + string(rune('1'+i))
		conv, id := s.emu.CustomerMessage(phone, "Ana", word)
		s.handledID(t, id)
		out, _, err := s.b.OptedOut(t.Context(), sendbee.Name, conv)
		require.NoError(t, err)
		assert.True(t, out, word)
	}
	require.Eventually(t, func() bool { return len(s.emu.Sent()) == 5 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, int64(5), s.b.Stats().OptOuts)

	// "stop the order" is a sentence, not the keyword.
	conv, id := s.emu.CustomerMessage("+385911000009", "Ana", "stop the order")
	s.handledID(t, id)
	out, _, err := s.b.OptedOut(t.Context(), sendbee.Name, conv)
	require.NoError(t, err)
	assert.False(t, out)
}

// TestOptOut_configured: the keywords and answers can be changed, and the
// handling turned off.
func TestOptOut_configured(t *testing.T) {
	t.Run("own words", func(t *testing.T) {
		s := newSetup(t, nil, bot.WithOptOut(bot.OptOutConfig{Keywords: []string{"ENOUGH"}, Reply: "Fine, bye."}))
		bottest.Run(t, s.b)
		_, id := s.emu.CustomerMessage("+385911234567", "Ana", "stop")
		s.handledID(t, id)
		conv, id := s.emu.CustomerMessage("+385911234567", "Ana", "enough")
		s.handledID(t, id)
		sent := s.emu.WaitSent(t, 1)
		assert.Equal(t, "Fine, bye.", sent[0].Text, "only the configured word opts out")
		out, _, err := s.b.OptedOut(t.Context(), sendbee.Name, conv)
		require.NoError(t, err)
		assert.True(t, out)
	})
	t.Run("off", func(t *testing.T) {
		s := newSetup(t, nil, bot.WithOptOut(bot.OptOutConfig{Off: true}))
		supportRoutes(s.b)
		bottest.Run(t, s.b)
		conv, id := s.emu.CustomerMessage("+385911234567", "Ana", "STOP")
		s.handledID(t, id)
		sent := s.emu.WaitSent(t, 1)
		assert.Equal(t, "echo: STOP", sent[0].Text)
		out, _, err := s.b.OptedOut(t.Context(), sendbee.Name, conv)
		require.NoError(t, err)
		assert.False(t, out)
	})
	t.Run("bad", func(t *testing.T) {
		_, err := bot.New(bot.WithOptOut(bot.OptOutConfig{Keywords: []string{"STOP", "..."}}))
		assert.ErrorContains(t, err, `opt-out keyword "..." is empty`)
		_, err = bot.New(bot.WithOptOut(bot.OptOutConfig{OptInKeywords: []string{"stop"}}))
		assert.ErrorContains(t, err, `"stop" is both an opt-out and an opt-in keyword`)
	})
}

// TestOptOut_unsubscribedOnThePlatform: a contact unsubscribed from
// Sendbee's dashboard is found out at the first template Sendbee refuses
// for it: the opt-out is recorded, the message suppressed (not a dead
// letter), and the next proactive message refused at once.
func TestOptOut_unsubscribedOnThePlatform(t *testing.T) {
	var dl deadLetters
	s := newSetup(t, nil, bot.WithErrorHandler(dl.hook))
	bottest.Run(t, s.b)
	const phone = "+385911234567"
	conv, id := s.emu.CustomerMessage(phone, "Ana", "hello")
	s.handledID(t, id)
	require.NoError(t, s.emu.SetContactStatus(phone, "unsubscribed"))

	welcome := func() *bot.Message {
		return &bot.Message{Platform: sendbee.Name, Conversation: conv,
			Payload: bot.Template{Keyword: "welcome", Language: "en", Tags: map[string]string{"1": "Ana"}}}
	}
	require.NoError(t, s.b.Send(t.Context(), welcome()))
	require.Eventually(t, func() bool { return s.b.Stats().OptedOut == 1 }, 5*time.Second, time.Millisecond)
	out, _, err := s.b.OptedOut(t.Context(), sendbee.Name, conv)
	require.NoError(t, err)
	assert.True(t, out)
	assert.Empty(t, s.emu.Sent())
	assert.Zero(t, s.b.Stats().DeadLettered)

	err = s.b.Send(t.Context(), welcome())
	assert.ErrorIs(t, err, bot.ErrOptedOut)
	dl.mu.Lock()
	defer dl.mu.Unlock()
	assert.Empty(t, dl.errs)
}

// TestOptOut_flowStartedByTheBot: a flow the bot starts for an opted-out
// customer sends nothing and does not fail; when the customer writes,
// the flow's answer to them goes.
func TestOptOut_flowStartedByTheBot(t *testing.T) {
	s := newSetup(t, nil)
	fe := flow.New(s.b)
	require.NoError(t, fe.Define(flow.Flow{Name: "survey", Steps: []flow.Step{
		{Name: "score", Ask: flow.Text("Score 1-5?"), Save: "score"},
		{Name: "why", Ask: flow.Text("Why?")},
	}}))
	fe.Install()
	bottest.Run(t, s.b)
	conv, id := s.emu.CustomerMessage("+385911234567", "Ana", "STOP")
	s.handledID(t, id)
	s.emu.WaitSent(t, 1) // the confirmation

	require.NoError(t, fe.Start(t.Context(), sendbee.Name, conv, "survey", nil))
	st, err := fe.State(t.Context(), sendbee.Name, conv)
	require.NoError(t, err)
	assert.Equal(t, "score", st.Step)
	assert.Len(t, s.emu.Sent(), 1, "the question is not sent to an opted-out customer")

	// The customer answers anyway: the next question answers them.
	_, id = s.emu.CustomerMessage("+385911234567", "Ana", "4")
	s.handledID(t, id)
	assert.Equal(t, "Why?", s.emu.WaitSent(t, 2)[1].Text)
}

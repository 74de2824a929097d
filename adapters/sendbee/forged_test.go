package sendbee_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// forge posts a webhook body to the receiver with a token captured once:
// a Sendbee token is valid for any body for 15 minutes. It returns the
// status of the answer.
func forge(t *testing.T, s *setup, token string, body any) int {
	t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.rcv.url(), bytes.NewReader(raw))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Authorization", token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// captured is a token as a third party would capture it from one real
// delivery.
func captured(s *setup) string { return sendbee.Token(s.emu.WebhookSecret(), time.Now()) }

// A third party holding one captured token posts messages for a known
// conversation that name its own phone as the contact's: every reply still
// goes to the real customer, whose phone the adapter confirms through the
// API, and the third party receives nothing.
func TestAdapter_ForgedContactDoesNotRedirectReplies(t *testing.T) {
	s := newSetup(t, []sendbeetest.Option{sendbeetest.WithDocumentedEventsOnly()})
	supportRoutes(s.b)
	bottest.Run(t, s.b)
	const customer, thief = "+385918888881", "+385918888882"
	conv, _ := s.emu.CustomerMessage(customer, "Ana", "hello")
	s.emu.WaitSent(t, 1)

	token := captured(s)
	for i := range 3 {
		status := forge(t, s, token, map[string]any{
			"id": fmt.Sprintf("forged-%d", i), "type": "message.received", "created_at": time.Now().Unix(),
			"data": map[string]any{
				"conversation_id": conv, "message_id": fmt.Sprintf("forged-m-%d", i), "direction": "inbound",
				"body": fmt.Sprintf("please answer here %d", i), "chatbot_active": true,
				"contact": map[string]any{"id": "k-thief", "name": "Ana", "phone": thief},
			},
		})
		require.Equal(t, http.StatusOK, status)
	}
	sent := s.emu.WaitSent(t, 4)
	s.emu.CustomerMessage(customer, "Ana", "and me")
	sent = append(sent, s.emu.WaitSent(t, 5)[4])
	for _, m := range sent {
		assert.Equal(t, conv, m.ConversationID, "reply %q", m.Text)
		assert.Equal(t, customer, m.Phone, "reply %q", m.Text)
	}
	_, ok := s.emu.ConversationByPhone(thief)
	assert.False(t, ok, "the third party's phone received nothing")
	var lookups int
	for _, r := range s.emu.Requests() {
		if r.Method == http.MethodGet && r.Path == "/conversation" {
			lookups++
		}
	}
	assert.Positive(t, lookups, "the disputed contact is looked up through the API")
}

// pacer is a Publisher that is also a bot.Pacer and counts the requests it
// paced.
type pacer struct{ paced atomic.Int64 }

func (p *pacer) Publish(context.Context, *bot.Message) error { return nil }
func (p *pacer) Pace(_ context.Context, platform string) error {
	if platform == sendbee.Name {
		p.paced.Add(1)
	}
	return nil
}

// The adapter's own lookups take their turn in the rate limit the Bot paces
// sends to, and a phone the API just gave is not looked up again for a
// webhook that names another.
func TestAdapter_LookupsArePaced(t *testing.T) {
	s := newSetup(t, nil)
	p := &pacer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.sb.Run(ctx, p) }()
	t.Cleanup(func() { cancel(); <-done })
	waitRunning(t, s.sb)

	const ana = "5eedc0de-0000-4000-8000-000000000001" // the emulator's demo conversation
	send := func(text string) {
		t.Helper()
		_, err := s.sb.Send(t.Context(), &bot.Message{Platform: sendbee.Name, Conversation: ana, Text: text})
		require.NoError(t, err)
	}
	send("first")
	assert.Equal(t, int64(1), p.paced.Load(), "the unknown conversation is looked up")
	send("second")
	assert.Equal(t, int64(1), p.paced.Load(), "then known")

	status := forge(t, s, captured(s), map[string]any{"id": "forged", "type": "message.received",
		"data": map[string]any{"conversation_id": ana, "message_id": "forged-m", "body": "hi",
			"contact": map[string]any{"id": "k", "phone": "+385918888886"}}})
	require.Equal(t, http.StatusOK, status)
	send("third")
	assert.Equal(t, int64(1), p.paced.Load(), "the API gave the phone less than a minute ago")
	for _, m := range s.emu.Sent() {
		assert.Equal(t, "+385911234567", m.Phone)
	}
}

// Filling the adapter's conversation → phone cache with forged webhooks
// for made-up conversations does not make it forget the phones it knows:
// a forged webhook that then names another phone for a known conversation
// still does not redirect the reply to it.
func TestAdapter_ForgedFloodDoesNotRedirectReplies(t *testing.T) {
	s := newSetup(t, []sendbeetest.Option{sendbeetest.WithDocumentedEventsOnly()})
	sendbee.SetMaxPhones(s.sb, 3)
	const customer, thief = "+385918888881", "+385918888882"
	var conv string
	s.b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		if m.Kind.Or() != bot.KindMessage || m.Conversation != conv {
			return nil // the made-up conversations get no answer
		}
		return w.Send(ctx, m.Reply("echo: "+m.Text))
	}))
	forged := func(conversation, phone string, i int) map[string]any {
		return map[string]any{
			"id": fmt.Sprintf("flood-%d", i), "type": "message.received", "created_at": time.Now().Unix(),
			"data": map[string]any{
				"conversation_id": conversation, "message_id": fmt.Sprintf("flood-m-%d", i), "direction": "inbound",
				"body": "answer here", "chatbot_active": true,
				"contact": map[string]any{"id": "k-thief", "name": "Ana", "phone": phone},
			},
		}
	}
	conv, _ = s.emu.CustomerMessage(customer, "Ana", "hello")
	bottest.Run(t, s.b)
	s.emu.WaitSent(t, 1)

	token := captured(s)
	for i := range 5 {
		require.Equal(t, http.StatusOK, forge(t, s, token, forged(fmt.Sprintf("made-up-%d", i), thief, i)))
	}
	require.Equal(t, http.StatusOK, forge(t, s, token, forged(conv, thief, 99)))
	sent := s.emu.WaitSent(t, 2)
	for _, m := range sent {
		assert.Equal(t, customer, m.Phone, "reply %q", m.Text)
	}
	_, ok := s.emu.ConversationByPhone(thief)
	assert.False(t, ok, "the third party's phone received nothing")
}

// The Bot's outbox goes on delivering what is queued after the adapters'
// Run has returned (the shutdown drain); the adapter's lookups then still
// take their turn in the rate limit of the Pacer its last Run was given.
func TestAdapter_LookupsPacedAfterRun(t *testing.T) {
	s := newSetup(t, nil)
	p := &pacer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.sb.Run(ctx, p) }()
	waitRunning(t, s.sb)
	cancel()
	require.NoError(t, <-done)

	const ana = "5eedc0de-0000-4000-8000-000000000001" // the emulator's demo conversation
	_, err := s.sb.Send(t.Context(), &bot.Message{Platform: sendbee.Name, Conversation: ana, Text: "drained"})
	require.NoError(t, err)
	assert.Equal(t, int64(1), p.paced.Load(), "the unknown conversation's lookup is paced")
}

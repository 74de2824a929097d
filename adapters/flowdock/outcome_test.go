package flowdock_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// A reply whose connection breaks after the request was written is neither
// lost nor posted twice: the adapter is a Confirmer that looks the send's
// uuid up. Over real HTTP, with the emulator dropping the connection
// before it acts and after it acts.
func TestAdapter_UnknownOutcomeNeitherLostNorDoubled(t *testing.T) {
	tests := []struct {
		name          string
		fault         func(*flowdocktest.Server)
		wantConfirmed int64
	}{
		{name: "reset before Flowdock acted", fault: func(s *flowdocktest.Server) { s.ResetRequests(1) }},
		{name: "answer lost after Flowdock acted", fault: func(s *flowdocktest.Server) { s.LoseAnswers(1) },
			wantConfirmed: 1},
		{name: "answer lost, then the first lookup fails", fault: func(s *flowdocktest.Server) {
			s.LoseAnswers(1)
			s.FailRequests(503, 1) // the lookup, which is tried again
		}, wantConfirmed: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu := flowdocktest.NewServer(t)
			a := newAdapter(t, emu)
			b, err := bot.New(bot.WithAdapters(a), bot.WithLogger(bottest.Logger(t)),
				bot.WithOutbox(bot.OutboxConfig{BaseBackoff: 20 * time.Millisecond}))
			require.NoError(t, err)
			b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
				if m.Kind.Or() != bot.KindMessage {
					return nil
				}
				tt.fault(emu) // the reply's request is the next one
				return w.Send(ctx, m.Reply("echo: "+m.Text))
			}))
			stop := bottest.Run(t, b)
			waitConnected(t, a)
			_, err = emu.Post("acme/main", "dana", "hello")
			require.NoError(t, err)
			require.Eventually(t, func() bool { st := b.Stats(); return st.Sent+st.Confirmed == 1 },
				5*time.Second, time.Millisecond)
			require.NoError(t, stop())

			var replies []string
			for _, m := range emu.Messages("acme/main") {
				if m.Content == "echo: hello" {
					replies = append(replies, m.UUID)
				}
			}
			require.Len(t, replies, 1, "exactly one reply in the flow")
			dl, err := b.DeadLetters(t.Context())
			require.NoError(t, err)
			assert.Empty(t, dl)
			assert.Equal(t, tt.wantConfirmed, b.Stats().Confirmed)
		})
	}
}

// A message sent again after its first attempt reached Flowdock (whatever
// the caller believed) is not posted twice: Flowdock refuses the uuid it
// already has, and Send reports the earlier message.
func TestAdapter_SendAgainAfterDelivery(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	a := newAdapter(t, emu)
	m := &bot.Message{Platform: flowdock.Name, Conversation: emu.FlowID("acme/main"), Key: "k-once", Text: "only once"}
	first, err := a.Send(t.Context(), m)
	require.NoError(t, err)
	again, err := a.Send(t.Context(), m)
	require.NoError(t, err, "the uuid is taken: the earlier attempt was delivered")
	assert.Equal(t, first.ID, again.ID)
	n := 0
	for _, msg := range emu.Messages("acme/main") {
		if msg.Content == "only once" {
			n++
		}
	}
	assert.Equal(t, 1, n)

	there, ok, err := a.Delivered(t.Context(), m, time.Time{})
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, first.ID, there.ID)
	_, ok, err = a.Delivered(t.Context(), &bot.Message{Platform: flowdock.Name, Conversation: emu.FlowID("acme/main"), Key: "k-never", Text: "x"}, time.Time{})
	require.NoError(t, err)
	assert.False(t, ok)
}

// The adapter tells the outbox whether Flowdock has a message.
var _ bot.Confirmer = (*flowdock.Adapter)(nil)

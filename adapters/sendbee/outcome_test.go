package sendbee_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// A reply whose connection breaks after the request was written is neither
// lost nor sent twice: the outbox asks Sendbee whether it has the message
// and sends it again only when it does not. Over real HTTP, with the
// emulator dropping the connection before it acts on the request, and
// after it acted on it.
func TestAdapter_UnknownOutcomeNeitherLostNorDoubled(t *testing.T) {
	tests := []struct {
		name          string
		fault         func(*sendbeetest.Server)
		wantConfirmed int64
	}{
		{name: "reset before Sendbee acted", fault: (*sendbeetest.Server).ResetNext},
		{name: "answer lost after Sendbee acted", fault: (*sendbeetest.Server).LoseAnswerNext, wantConfirmed: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, nil, bot.WithOutbox(bot.OutboxConfig{BaseBackoff: 20 * time.Millisecond}))
			s.b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
				if m.Kind.Or() != bot.KindMessage || m.Author.Agent {
					return nil
				}
				tt.fault(s.emu) // the reply's request is the next one
				return w.Send(ctx, m.Reply("echo: "+m.Text))
			}))
			stop := bottest.Run(t, s.b)
			s.emu.CustomerMessage("+385911234567", "Ana", "hello")
			require.Eventually(t, func() bool { st := s.b.Stats(); return st.Sent+st.Confirmed == 1 },
				5*time.Second, time.Millisecond)
			require.NoError(t, stop())

			sent := s.emu.Sent()
			require.Len(t, sent, 1, "exactly one reply on the platform")
			assert.Equal(t, "echo: hello", sent[0].Text)
			dl, err := s.b.DeadLetters(t.Context())
			require.NoError(t, err)
			assert.Empty(t, dl)
			assert.Equal(t, tt.wantConfirmed, s.b.Stats().Confirmed)
			assert.Equal(t, 0, s.emu.PendingFaults())
		})
	}
}

// Nine 429 answers in a row do not use up the outbox's eight attempts:
// waiting for the platform's rate limit is not a failed attempt, and the
// reply goes out once Sendbee takes it.
func TestAdapter_RateLimitAnswersAreNotAttempts(t *testing.T) {
	// Retry-After: 1 is obeyed up to MaxRetryAfter, 50ms here.
	s := newSetup(t, nil, bot.WithOutbox(bot.OutboxConfig{MaxRetryAfter: 50 * time.Millisecond}))
	s.b.Use(func(next bot.Handler) bot.Handler {
		return bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			if m.Kind.Or() == bot.KindMessage { // not for the reply's delivery receipts
				for range 9 {
					s.emu.RateLimitNext(time.Second)
				}
			}
			return next.HandleMessage(ctx, w, m)
		})
	})
	supportRoutes(s.b)
	stop := bottest.Run(t, s.b)
	s.emu.CustomerMessage("+385911234567", "Ana", "hello")
	sent := s.emu.WaitSent(t, 1)
	handled(t, s.b, 3) // the message, and the reply's "sent" and "delivered" receipts
	require.NoError(t, stop())
	assert.Equal(t, "echo: hello", sent[0].Text)
	assert.Equal(t, 0, s.emu.PendingFaults())
	dl, err := s.b.DeadLetters(t.Context())
	require.NoError(t, err)
	assert.Empty(t, dl)
}

// A template whose connection breaks after Sendbee acted on it is not sent
// a second time: the platform stores the rendered text, which the adapter
// cannot match, so Delivered cannot tell, and the outbox gives the message
// to the dead letters as of unknown outcome rather than risk it twice.
func TestAdapter_UnknownOutcomeTemplateNotDoubled(t *testing.T) {
	s := newSetup(t, nil, bot.WithOutbox(bot.OutboxConfig{BaseBackoff: 20 * time.Millisecond}))
	s.b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		if m.Kind.Or() != bot.KindMessage || m.Author.Agent {
			return nil
		}
		r := m.Reply("")
		r.Payload = sendbee.Template{Keyword: "welcome", Language: "en", Tags: map[string]string{"1": "Ana"}}
		s.emu.LoseAnswerNext() // the reply's request is the next one
		return w.Send(ctx, r)
	}))
	stop := bottest.Run(t, s.b)
	s.emu.CustomerMessage("+385911234567", "Ana", "hello")
	require.Eventually(t, func() bool { return s.b.Stats().DeadLettered+s.b.Stats().Sent > 0 },
		5*time.Second, time.Millisecond)
	require.NoError(t, stop())

	sent := s.emu.Sent()
	require.Len(t, sent, 1, "exactly one template on the platform")
	assert.Equal(t, "welcome", sent[0].TemplateKeyword)
	dl, err := s.b.DeadLetters(t.Context())
	require.NoError(t, err)
	require.Len(t, dl, 1)
	assert.ErrorIs(t, dl[0].Err, bot.ErrOutcomeUnknown)
}

package sendbee_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// A reply the outbox gives up on because Sendbee answered 429 is reported
// with an error that names each layer once, whichever request of the send
// was refused.
func TestAdapter_Send_rateLimitedDeliveryErrorText(t *testing.T) {
	tests := []struct {
		name  string
		known bool // the conversation's contact is known from its inbound message
		want  string
	}{
		{
			name:  "the send",
			known: true,
			want: "bot: deliver to sendbee (key k) failed after 0 attempt(s): " +
				"rate limited (retry after 1s): POST /conversations/messages/send: 429 Too Many Requests (throttled)",
		},
		{
			// An unknown conversation is looked up once, for its
			// customer-service window and its contact's phone.
			name: "the conversation lookup",
			want: "bot: deliver to sendbee (key k) failed after 0 attempt(s): look up the conversation's last inbound message: " +
				"rate limited (retry after 1s): GET /conversation: 429 Too Many Requests (throttled)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := make(chan error, 1)
			s := newSetup(t, nil,
				bot.WithOutbox(bot.OutboxConfig{MaxRateLimitWait: time.Millisecond}),
				bot.WithErrorHandler(func(_ context.Context, err error) { errs <- err }))
			bottest.Run(t, s.b)
			conv := "00000000-0000-4000-8000-00000000dead"
			if tt.known {
				conv, _ = s.emu.CustomerMessage("+385911234567", "Ana", "hello")
				handled(t, s.b, 1)
			}
			s.emu.RateLimitNext(time.Second)
			require.NoError(t, s.b.Send(t.Context(), &bot.Message{Platform: sendbee.Name, Conversation: conv, Key: "k", Text: "hi"}))

			var err error
			select {
			case err = <-errs:
			case <-time.After(5 * time.Second):
				t.Fatal("no delivery error within 5s")
			}
			assert.EqualError(t, err, tt.want)
			var rl *bot.RateLimitError
			require.ErrorAs(t, err, &rl)
			assert.Equal(t, time.Second, rl.RetryAfter)
			var apiErr *sendbee.APIError
			assert.ErrorAs(t, err, &apiErr)
		})
	}
}

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

// A rate-limit error of an instance names the instance once and the
// platform's own prefix of the adapter's error not again.
func TestRateLimitError_instance(t *testing.T) {
	err := &bot.RateLimitError{Platform: "sendbee/acme", RetryAfter: time.Second,
		Err: errors.New("sendbee: POST /conversations/messages/send: 429 Too Many Requests")}
	assert.Equal(t, "bot: sendbee/acme: rate limited (retry after 1s): POST /conversations/messages/send: 429 Too Many Requests",
		err.Error())
	de := &bot.DeliveryError{ID: "1", Platform: "sendbee/acme", Key: "k", Attempts: 2, Err: err}
	assert.Equal(t, "bot: deliver to sendbee/acme (key k) failed after 2 attempt(s): "+
		"rate limited (retry after 1s): POST /conversations/messages/send: 429 Too Many Requests", de.Error())
}

// A Router tries a route on Platform for every instance of the platform,
// and one on Adapter for that instance only.
func TestRouter_instanceRules(t *testing.T) {
	r := bot.NewRouter()
	var got []string
	r.Handle(bot.MustExpr(`Adapter == "sendbee/acme"`), bot.HandlerFunc(func(_ context.Context, _ bot.Sender, m *bot.Message) error {
		got = append(got, "adapter "+m.Platform)
		return bot.ErrContinue
	}))
	r.Handle(bot.MustExpr(`Platform == "sendbee" && Text contains "hi"`), bot.HandlerFunc(func(_ context.Context, _ bot.Sender, m *bot.Message) error {
		got = append(got, "platform "+m.Platform)
		return nil
	}))
	for _, p := range []string{"sendbee/acme", "sendbee/globex", "sendbee", "velaflows"} {
		require.NoError(t, r.HandleMessage(t.Context(), &bottest.Recorder{}, &bot.Message{Platform: p, Conversation: "c", Text: "hi"}))
	}
	assert.Equal(t, []string{"adapter sendbee/acme", "platform sendbee/acme", "platform sendbee/globex", "platform sendbee"}, got)
}

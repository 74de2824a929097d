package bot_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/parleybot/parley/bot"
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

package velaflows

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/internal/apiclient"
)

func TestParseRate(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("X-RateLimit-Limit", "100")
	h.Set("X-RateLimit-Remaining", "97")
	h.Set("X-RateLimit-Reset", "1774362600")
	assert.Equal(t, Rate{Limit: 100, Remaining: 97, Reset: time.Unix(1774362600, 0)}, parseRate(h))
	h.Set("X-RateLimit-Limit", "lots")
	h.Set("X-RateLimit-Remaining", "-1")
	h.Set("X-RateLimit-Reset", "0")
	assert.Equal(t, Rate{}, parseRate(h))
}

func TestRetryPolicy_backoff(t *testing.T) {
	t.Parallel()
	p, err := RetryPolicy{}.normalize()
	require.NoError(t, err)
	assert.Equal(t, RetryPolicy{MaxAttempts: 4, BaseDelay: time.Second, MaxDelay: 30 * time.Second, MaxRetryAfter: time.Minute}, p)
	for range 100 {
		for attempt := 1; attempt <= 8; attempt++ {
			d := p.backoff(attempt)
			lo := min(time.Second<<(attempt-1), p.MaxDelay)
			assert.GreaterOrEqual(t, d, lo)
			assert.Less(t, d, min(lo+time.Second, p.MaxDelay+1))
		}
	}
	// Huge attempt numbers do not overflow.
	assert.Equal(t, p.MaxDelay, p.backoff(1000))
	assert.Equal(t, p.MaxDelay, p.backoff(40))
}

func TestRetryPolicy_delay(t *testing.T) {
	t.Parallel()
	p, _ := RetryPolicy{BaseDelay: time.Millisecond}.normalize()
	tests := []struct {
		name string
		err  error
		ok   bool
	}{
		{"5xx", &APIError{StatusCode: 502}, true},
		{"429", &bot.RateLimitError{RetryAfter: 5 * time.Second}, true},
		{"429 beyond cap", &bot.RateLimitError{RetryAfter: 2 * time.Minute}, false},
		{"transport", &apiclient.TransportError{Err: errors.New("connection reset")}, true},
		{"4xx", &APIError{StatusCode: 404}, false},
		{"validation", &ValidationError{}, false},
		{"other", errors.New("x"), false},
	}
	for _, tt := range tests {
		_, ok := p.delay(1, tt.err)
		assert.Equal(t, tt.ok, ok, tt.name)
	}
	d, _ := p.delay(1, &bot.RateLimitError{RetryAfter: 5 * time.Second})
	assert.Equal(t, 5*time.Second, d)
}

func TestIdempotent(t *testing.T) {
	t.Parallel()
	for _, m := range []string{"GET", "HEAD", "PUT", "DELETE", "OPTIONS"} {
		assert.True(t, idempotent(m), m)
	}
	for _, m := range []string{"POST", "PATCH"} {
		assert.False(t, idempotent(m), m)
	}
}

package sendbee_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
)

// A test vector for the token scheme: HMAC-SHA256 of "1700000000" keyed
// with "test-secret", hex-encoded, joined to the timestamp and Base64-encoded.
const (
	vectorSecret = "test-secret"
	vectorUnix   = 1700000000
	vectorHex    = "1b74eaf87da46877ba651ac812b24a3bf01990e9ed0101b88268f60f965729e2"
	vectorToken  = "MTcwMDAwMDAwMC4xYjc0ZWFmODdkYTQ2ODc3YmE2NTFhYzgxMmIyNGEzYmYwMTk5MGU5ZWQwMTAxYjg4MjY4ZjYwZjk2NTcyOWUy"
)

func TestToken_vector(t *testing.T) {
	t.Parallel()
	tok := sendbee.Token(vectorSecret, time.Unix(vectorUnix, 0))
	assert.Equal(t, vectorToken, tok)
	plain, err := base64.StdEncoding.DecodeString(tok)
	require.NoError(t, err)
	assert.Equal(t, "1700000000."+vectorHex, string(plain))
	assert.Len(t, tok, 100)

	// Sub-second precision and the time zone do not matter.
	loc := time.FixedZone("X", 5*3600)
	assert.Equal(t, vectorToken, sendbee.Token(vectorSecret, time.Unix(vectorUnix, 999_999_999).In(loc)))
}

func TestCheckToken(t *testing.T) {
	t.Parallel()
	now := time.Unix(vectorUnix, 0)
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name   string
		secret string
		token  string
		now    time.Time
		window time.Duration
		want   error
	}{
		{name: "vector", secret: vectorSecret, token: vectorToken, now: now},
		{name: "14 minutes old", secret: vectorSecret, token: vectorToken, now: now.Add(14 * time.Minute)},
		{name: "exactly 15 minutes old", secret: vectorSecret, token: vectorToken, now: now.Add(15 * time.Minute)},
		{name: "16 minutes old", secret: vectorSecret, token: vectorToken, now: now.Add(16 * time.Minute), want: sendbee.ErrTokenExpired},
		{name: "custom window", secret: vectorSecret, token: vectorToken, now: now.Add(16 * time.Minute), window: time.Hour},
		{name: "short window", secret: vectorSecret, token: vectorToken, now: now.Add(2 * time.Minute), window: time.Minute, want: sendbee.ErrTokenExpired},
		{name: "negative window is default", secret: vectorSecret, token: vectorToken, now: now.Add(10 * time.Minute), window: -1},
		{name: "60s in the future", secret: vectorSecret, token: vectorToken, now: now.Add(-60 * time.Second)},
		{name: "61s in the future", secret: vectorSecret, token: vectorToken, now: now.Add(-61 * time.Second), want: sendbee.ErrTokenExpired},
		{name: "wrong secret", secret: "other-secret", token: vectorToken, now: now, want: sendbee.ErrTokenInvalid},
		{name: "empty secret", secret: "", token: sendbee.Token("", now), now: now, want: sendbee.ErrTokenInvalid},
		{name: "missing", secret: vectorSecret, token: "", now: now, want: sendbee.ErrTokenMissing},
		{name: "not base64", secret: vectorSecret, token: "%%%not-base64%%%", now: now, want: sendbee.ErrTokenMalformed},
		{name: "url alphabet", secret: vectorSecret, token: base64.URLEncoding.EncodeToString([]byte("1700000000.??>>")), now: now, want: sendbee.ErrTokenMalformed},
		{name: "one part", secret: vectorSecret, token: enc("1700000000" + vectorHex), now: now, want: sendbee.ErrTokenMalformed},
		{name: "three parts", secret: vectorSecret, token: enc("1700000000." + vectorHex + ".x"), now: now, want: sendbee.ErrTokenMalformed},
		{name: "non-decimal timestamp", secret: vectorSecret, token: enc("17e8." + vectorHex), now: now, want: sendbee.ErrTokenMalformed},
		{name: "signed timestamp", secret: vectorSecret, token: enc("+1700000000." + vectorHex), now: now, want: sendbee.ErrTokenMalformed},
		{name: "empty timestamp", secret: vectorSecret, token: enc("." + vectorHex), now: now, want: sendbee.ErrTokenMalformed},
		{name: "uppercase hex", secret: vectorSecret, token: enc("1700000000." + strings.ToUpper(vectorHex)), now: now, want: sendbee.ErrTokenInvalid},
		{name: "old base64-of-ts scheme", secret: vectorSecret, token: enc(enc("1700000000") + ".abc"), now: now, want: sendbee.ErrTokenMalformed},
		{name: "truncated hex", secret: vectorSecret, token: enc("1700000000." + vectorHex[:63]), now: now, want: sendbee.ErrTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := sendbee.CheckToken(tt.secret, tt.token, tt.now, tt.window)
			if tt.want == nil {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "sendbee: auth token "), err.Error())
			if tt.token != "" {
				assert.NotContains(t, err.Error(), tt.token)
			}
			assert.NotContains(t, err.Error(), vectorHex)
		})
	}
}

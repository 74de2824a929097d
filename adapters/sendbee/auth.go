package sendbee

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley/internal/macpool"
)

// Token window defaults of [CheckToken].
const (
	// DefaultTokenWindow is how old a token may be: 15 minutes, the
	// tolerance of both Sendbee SDKs.
	DefaultTokenWindow = 15 * time.Minute
	// TokenFutureSkew is how far in the future a token's timestamp may be,
	// to allow for clock skew between Sendbee and this host.
	TokenFutureSkew = time.Minute
)

// Errors of [CheckToken], wrapped with details; match them with errors.Is.
// Every one of them means: reject the request (HTTP 401).
var (
	// ErrTokenMissing means the token is empty.
	ErrTokenMissing = errors.New("sendbee: auth token missing")
	// ErrTokenMalformed means the token is not Base64 of "<unix>.<hex>".
	ErrTokenMalformed = errors.New("sendbee: auth token malformed")
	// ErrTokenExpired means the token's timestamp is outside the accepted
	// window: older than the window, or more than TokenFutureSkew ahead.
	ErrTokenExpired = errors.New("sendbee: auth token expired")
	// ErrTokenInvalid means the signature does not match the secret (or
	// the secret is empty, which could verify nothing).
	ErrTokenInvalid = errors.New("sendbee: auth token invalid")
)

// Token returns the authentication token Sendbee expects for time t and
// the API secret: standard Base64 of "<unix>.<hex>", where unix
// is t in whole Unix seconds and hex the lowercase hex HMAC-SHA256 of unix
// keyed with secret. The client sends a fresh one in X-Auth-Token with
// every request; Sendbee signs webhooks with the same scheme in
// X-Authorization.
func Token(secret string, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return base64.StdEncoding.EncodeToString([]byte(ts + "." + sign(secret, ts)))
}

// sign is the lowercase hex HMAC-SHA256 of ts keyed with secret.
func sign(secret, ts string) string {
	sum := macpool.Sum(secret, []byte(ts))
	return hex.EncodeToString(sum[:])
}

// CheckToken verifies a token made by [Token], such as the X-Authorization
// header of a Sendbee webhook request. It returns nil if token
// is standard Base64 of exactly "<unix>.<hex>", with a decimal timestamp
// no older than window before now and no more than [TokenFutureSkew] after
// it, and hex equal to the HMAC-SHA256 of the timestamp keyed with secret
// (compared in constant time). A window ≤ 0 means [DefaultTokenWindow].
//
// A failure wraps [ErrTokenMissing], [ErrTokenMalformed], [ErrTokenExpired]
// or [ErrTokenInvalid]. The error text never contains the token or secret.
func CheckToken(secret, token string, now time.Time, window time.Duration) error {
	if window <= 0 {
		window = DefaultTokenWindow
	}
	if token == "" {
		return ErrTokenMissing
	}
	plain, err := base64.StdEncoding.Strict().DecodeString(token)
	if err != nil {
		return fmt.Errorf("%w: not standard Base64", ErrTokenMalformed)
	}
	ts, mac, ok := strings.Cut(string(plain), ".")
	if !ok || strings.Contains(mac, ".") {
		return fmt.Errorf("%w: want exactly two dot-separated parts", ErrTokenMalformed)
	}
	if ts == "" || len(ts) > 18 || strings.Trim(ts, "0123456789") != "" {
		return fmt.Errorf("%w: timestamp is not a decimal number", ErrTokenMalformed)
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp is not a decimal number", ErrTokenMalformed)
	}
	at := time.Unix(unix, 0)
	if at.Before(now.Add(-window)) || at.After(now.Add(TokenFutureSkew)) {
		return fmt.Errorf("%w: timestamp %d outside [now-%s, now+%s]", ErrTokenExpired, unix, window, TokenFutureSkew)
	}
	if secret == "" {
		return fmt.Errorf("%w: empty secret", ErrTokenInvalid)
	}
	if !hmac.Equal([]byte(mac), []byte(sign(secret, ts))) {
		return fmt.Errorf("%w: signature mismatch", ErrTokenInvalid)
	}
	return nil
}

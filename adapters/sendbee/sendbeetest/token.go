package sendbeetest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Token returns the Sendbee authentication token for secret at time t, as
// sent in X-Auth-Token on API requests and in X-Authorization on
// webhooks: standard Base64 of "<unix seconds>.<lowercase hex
// HMAC-SHA256(secret, unix seconds)>". It is safe for concurrent use.
func Token(secret string, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return base64.StdEncoding.EncodeToString([]byte(ts + "." + signTimestamp(secret, ts)))
}

func signTimestamp(secret, ts string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	return hex.EncodeToString(m.Sum(nil))
}

// checkToken verifies token against secret at now, like the PHP SDK's
// webhook check but stricter: canonical standard Base64, exactly
// "<decimal ts>.<hex>", a signature that matches in constant time, and
// now-window <= ts <= now+skew.
func checkToken(secret, token string, now time.Time, window, skew time.Duration) error {
	if token == "" {
		return errors.New("missing X-Auth-Token header")
	}
	plain, err := base64.StdEncoding.Strict().DecodeString(token)
	if err != nil {
		return errors.New("malformed X-Auth-Token: not standard Base64")
	}
	ts, sig, ok := strings.Cut(string(plain), ".")
	if !ok || strings.Contains(sig, ".") {
		return errors.New("malformed X-Auth-Token: expected base64(\"<timestamp>.<signature>\")")
	}
	if ts == "" || len(ts) > 18 || strings.Trim(ts, "0123456789") != "" {
		return errors.New("malformed X-Auth-Token: timestamp is not a decimal Unix time")
	}
	if !hmac.Equal([]byte(sig), []byte(signTimestamp(secret, ts))) {
		return errors.New("invalid X-Auth-Token signature")
	}
	sec, _ := strconv.ParseInt(ts, 10, 64)
	when := time.Unix(sec, 0)
	if when.Before(now.Add(-window)) {
		return fmt.Errorf("X-Auth-Token expired: issued %ds ago, the limit is %ds",
			int64(now.Sub(when)/time.Second), int64(window/time.Second))
	}
	if when.After(now.Add(skew)) {
		return fmt.Errorf("X-Auth-Token timestamp is %ds in the future", int64(when.Sub(now)/time.Second))
	}
	return nil
}

// newUUID returns a random (version 4) UUID string.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// isUUID reports whether s has the 8-4-4-4-12 hexadecimal UUID form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

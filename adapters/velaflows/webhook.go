package velaflows

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley/internal/macpool"
)

// Sign returns the X-Webhook-Signature value of a delivery body:
// "sha256=" and the lowercase hex HMAC-SHA256 of the raw body keyed with
// the subscription secret, "whsec_" prefix included, as VelaFlows documents.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ValidSignature reports whether header is the signature of body under
// secret, comparing in constant time. An empty secret or header is never
// valid.
func ValidSignature(secret string, body []byte, header string) bool {
	if secret == "" || header == "" {
		return false
	}
	var want [sha256.Size]byte
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(hexSum) != 2*sha256.Size {
		return false
	}
	for i := range want { // Sign writes lowercase hex only
		hi, ok1 := lowerHex(hexSum[2*i])
		lo, ok2 := lowerHex(hexSum[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		want[i] = hi<<4 | lo
	}
	got := macpool.Sum(secret, body)
	return hmac.Equal(got[:], want[:])
}

// lowerHex returns the value of the lowercase hex digit c.
func lowerHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// ServeHTTP receives a VelaFlows webhook delivery. It checks the method
// (POST, else 405) and that the adapter is running (else 503). It refuses
// from the headers alone, without waiting for the body and closing the
// connection, a delivery that cannot be genuine: one without an
// X-Webhook-Signature of the form "sha256=<64 hex digits>" (401), or whose
// declared length is over the cap (413). Otherwise it reads the body up to
// the cap (else 413), verifies the signature in constant time before
// parsing anything (else 401), decodes the event (a malformed one gets
// 400), checks its age (below), converts it and publishes it to the Bot,
// answering 200 once the Bot has accepted it — well inside VelaFlows' 10
// seconds; handlers never run inside the request. A full queue or a
// stopping Bot gets 503 with Retry-After, so that VelaFlows delivers again
// and nothing is lost; a redelivery of an event already accepted (same
// eventId) is answered 200 and not handled again. Unknown event types are
// answered 200 and dropped. It never answers 410, which would switch the
// subscription off.
//
// The age check bounds replays: the signature covers the body only, and
// VelaFlows documents no timestamp header, so a captured delivery could be
// sent again at any time. The envelope's timestamp, which is signed with
// the body, says when the event occurred; VelaFlows redelivers an event
// for up to 24 hours after it. An event older than MaxEventAge is answered
// 200 and dropped (delivering it again cannot make it younger). An event
// whose timestamp is missing or not ISO-8601 is answered 400 as
// malformed, since the envelope always carries one and without it the age
// cannot be checked. An event dated more than MaxClockSkew ahead of the
// adapter's clock is answered 400: either clock is wrong, and as VelaFlows
// retries a failed delivery for 24 hours, a later attempt is accepted once
// the clocks agree, while an event accepted now could be replayed for a day
// past its real age. With MaxEventAge negative none of this is checked.
//
// A caller without the secret can still make the adapter read up to
// MaxBodyBytes with a well-formed but wrong signature, because the
// signature is over the whole body. Serve the adapter from an
// http.Server with a ReadTimeout (package adapters/fromenv does), so that
// a body sent slowly is cut off, and bound the requests served at once.
func (a *Adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	pp := a.pub.Load()
	if pp == nil {
		a.unavailable(w)
		return
	}
	sig := r.Header.Get("X-Webhook-Signature")
	if !wellFormedSignature(sig) {
		w.Header().Set("Connection", "close") // the body is not read
		a.badSignature(w, r, false)
		return
	}
	if r.ContentLength > a.cfg.MaxBodyBytes {
		w.Header().Set("Connection", "close")
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	body, err := readBody(w, r, a.cfg.MaxBodyBytes)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if !ValidSignature(a.WebhookSecret(), body, sig) {
		a.badSignature(w, r, true)
		return
	}
	m, at, err := deliveryToMessage(body, a.name)
	if errors.Is(err, errIgnored) {
		w.WriteHeader(http.StatusOK)
		return
	}
	if err != nil {
		a.logger.LogAttrs(r.Context(), slog.LevelWarn, "malformed delivery", slog.Any("error", err))
		http.Error(w, "malformed delivery: "+err.Error(), http.StatusBadRequest)
		return
	}
	if age := a.cfg.MaxEventAge; age > 0 {
		now := a.now()
		switch {
		case at.IsZero():
			a.logger.LogAttrs(r.Context(), slog.LevelWarn, "malformed delivery: no ISO-8601 timestamp", slog.Any("msg", m))
			http.Error(w, "malformed delivery: velaflows: delivery: no ISO-8601 timestamp", http.StatusBadRequest)
			return
		case at.Sub(now) > a.cfg.MaxClockSkew:
			a.logger.LogAttrs(r.Context(), slog.LevelWarn, "delivery refused: timestamp ahead of this clock by more than the allowed skew; check the clocks",
				slog.Any("msg", m), slog.Time("timestamp", at), slog.Duration("ahead", at.Sub(now)))
			http.Error(w, "event timestamp is in the future", http.StatusBadRequest)
			return
		case now.Sub(at) > age:
			a.logger.LogAttrs(r.Context(), slog.LevelWarn, "delivery dropped: event older than the redelivery window",
				slog.Any("msg", m), slog.Time("timestamp", at))
			w.WriteHeader(http.StatusOK)
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.PublishTimeout)
	defer cancel()
	if err := (*pp).Publish(ctx, m); err != nil {
		a.logger.LogAttrs(r.Context(), slog.LevelWarn, "delivery not accepted; asking VelaFlows to retry",
			slog.Any("msg", m), slog.Any("error", err))
		a.unavailable(w)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// readBody reads the body of r, up to limit bytes, as io.ReadAll of an
// http.MaxBytesReader does, into a buffer sized by the declared length
// when there is one within limit.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, limit)
	if n := r.ContentLength; n > 0 && n <= limit {
		// bytes.MinRead of room past the declared length: the read that
		// finds the end needs no growth.
		buf := bytes.NewBuffer(make([]byte, 0, n+bytes.MinRead))
		_, err := buf.ReadFrom(body)
		return buf.Bytes(), err
	}
	return io.ReadAll(body)
}

// wellFormedSignature reports whether header has the form of a signature,
// "sha256=" and 64 lowercase hex digits, whatever its value.
func wellFormedSignature(header string) bool {
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(hexSum) != 2*sha256.Size {
		return false
	}
	for i := range len(hexSum) {
		if c := hexSum[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// rejectLogInterval is how often, at most, a rejected delivery is logged:
// one warning says what to check, and a flood (forged deliveries, or every
// delivery while the secret is stale) does not flood the log.
const rejectLogInterval = time.Minute

// badSignature answers a delivery whose signature is missing or wrong as
// the VelaFlows docs do. It logs at Warn, at most once per
// rejectLogInterval, with the number of rejections held back since; a
// well-formed signature made with another secret (mismatch) names the
// setting to check.
func (a *Adapter) badSignature(w http.ResponseWriter, r *http.Request, mismatch bool) {
	if ok, held := a.rejects.Allow(time.Now()); ok {
		msg := "delivery rejected: bad or missing signature"
		if mismatch {
			msg = "delivery rejected: signed with another secret; check " + a.cfg.SecretSource + " (stale secret?)"
		}
		attrs := []slog.Attr{slog.String("delivery", r.Header.Get("X-Webhook-Delivery-Id"))}
		if held > 0 {
			attrs = append(attrs, slog.Int("rejected_since_last", held))
		}
		a.logger.LogAttrs(r.Context(), slog.LevelWarn, msg, attrs...)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = io.WriteString(w, `{"error":"Invalid signature"}`)
}

func (a *Adapter) unavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(int(a.cfg.RetryAfter.Round(time.Second)/time.Second)))
	http.Error(w, "bot busy or stopping; retry later", http.StatusServiceUnavailable)
}

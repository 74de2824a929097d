package velaflows

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// Sign returns the X-Webhook-Signature value of a delivery body:
// "sha256=" and the lowercase hex HMAC-SHA256 of the raw body keyed with
// the subscription secret, "whsec_" prefix included (spec §9.4).
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
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}

// ServeHTTP receives a VelaFlows webhook delivery. It checks the method
// (POST, else 405) and that the adapter is running (else 503), reads the
// body up to the cap (else 413), verifies X-Webhook-Signature in constant
// time before parsing anything (else 401), decodes the event (a malformed
// one gets 400), converts it and publishes it to the Bot, answering 200 once
// the Bot has accepted it — well inside VelaFlows' 10 seconds; handlers
// never run inside the request. A full queue or a stopping Bot gets 503 with
// Retry-After, so that VelaFlows delivers again and nothing is lost; a
// redelivery of an event already accepted (same eventId) is answered 200
// and not handled again. Unknown event types, and events older than
// MaxEventAge, are answered 200 and dropped. It never answers 410, which
// would switch the subscription off.
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
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if !ValidSignature(a.WebhookSecret(), body, r.Header.Get("X-Webhook-Signature")) {
		a.logger.LogAttrs(r.Context(), slog.LevelWarn, "delivery rejected: bad or missing signature",
			slog.String("delivery", r.Header.Get("X-Webhook-Delivery-Id")))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"Invalid signature"}`)
		return
	}
	m, err := deliveryToMessage(body)
	if errors.Is(err, errIgnored) {
		w.WriteHeader(http.StatusOK)
		return
	}
	if err != nil {
		a.logger.LogAttrs(r.Context(), slog.LevelWarn, "malformed delivery", slog.Any("error", err))
		http.Error(w, "malformed delivery: "+err.Error(), http.StatusBadRequest)
		return
	}
	if age := a.cfg.MaxEventAge; age > 0 && !m.Time.IsZero() && a.now().Sub(m.Time) > age {
		a.logger.LogAttrs(r.Context(), slog.LevelWarn, "delivery dropped: event older than the redelivery window",
			slog.Any("msg", m), slog.Time("timestamp", m.Time))
		w.WriteHeader(http.StatusOK)
		return
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

func (a *Adapter) unavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(int(a.cfg.RetryAfter.Round(time.Second)/time.Second)))
	http.Error(w, "bot busy or stopping; retry later", http.StatusServiceUnavailable)
}

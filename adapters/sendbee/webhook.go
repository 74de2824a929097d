package sendbee

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// ServeHTTP receives a Sendbee webhook. It checks, in this order, before
// reading anything it does not need: the method (POST, else 405), that the
// adapter is running (else 503), the X-Authorization token with the webhook
// secret in constant time (else 401; X-Auth-Token is accepted as a fallback
// name), and the body size (else 413). It then decodes the event (a
// malformed one gets 400), converts it, and publishes it to the Bot,
// answering 200 once the Bot has accepted it; handlers never run inside the
// request. A full queue or a stopping Bot gets 503 with Retry-After, so that
// Sendbee delivers again and nothing is lost. Events of unknown types, and
// the echoes of the bot's own sends, are answered 200 and dropped.
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
	token := r.Header.Get("X-Authorization")
	if token == "" {
		token = r.Header.Get("X-Auth-Token")
	}
	if err := CheckToken(a.cfg.WebhookSecret, token, time.Now(), a.cfg.TokenWindow); err != nil {
		a.rejected(r.Context(), err)
		http.Error(w, "invalid or missing X-Authorization token", http.StatusUnauthorized)
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
	m, err := webhookToMessage(body, a.name)
	if errors.Is(err, errIgnored) {
		w.WriteHeader(http.StatusOK)
		return
	}
	if err != nil {
		a.logger.LogAttrs(r.Context(), slog.LevelWarn, "malformed webhook", slog.Any("error", err))
		http.Error(w, "malformed webhook: "+err.Error(), http.StatusBadRequest)
		return
	}
	if a.learn(m.Conversation, m.Author.Phone) {
		a.logger.LogAttrs(r.Context(), slog.LevelWarn,
			"webhook names another contact phone than the conversation's; it is looked up before the next send",
			slog.Any("msg", m))
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.PublishTimeout)
	defer cancel()
	if err := (*pp).Publish(ctx, m); err != nil {
		a.logger.LogAttrs(r.Context(), slog.LevelWarn, "webhook not accepted; asking Sendbee to retry",
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

// rejectLogInterval is how often, at most, a rejected webhook is logged:
// one warning says what to check, and a flood (forged webhooks, or every
// webhook while the secret is stale) does not flood the log.
const rejectLogInterval = time.Minute

// rejected logs a webhook refused for its token err at Warn, at most once
// per rejectLogInterval, with the number of rejections held back since.
// A token signed with another secret names the setting to check.
func (a *Adapter) rejected(ctx context.Context, err error) {
	ok, held := a.rejects.Allow(time.Now())
	if !ok {
		return
	}
	msg := "webhook rejected"
	if errors.Is(err, ErrTokenInvalid) {
		msg = "webhook rejected: its token is not signed with the webhook secret; check " + a.cfg.SecretSource +
			" (stale credentials?)"
	}
	attrs := []slog.Attr{slog.Any("error", err)}
	if held > 0 {
		attrs = append(attrs, slog.Int("rejected_since_last", held))
	}
	a.logger.LogAttrs(ctx, slog.LevelWarn, msg, attrs...)
}

func (a *Adapter) unavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(int(a.cfg.RetryAfter.Round(time.Second)/time.Second)))
	http.Error(w, "bot busy or stopping; retry later", http.StatusServiceUnavailable)
}

package sendbeetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// An Outcome classifies a webhook delivery attempt by what a person has to
// check: the receiver is not running, it rejects the request, it fails, or
// it hangs.
type Outcome string

// The outcomes of a delivery attempt.
const (
	OutcomeOK          Outcome = "ok"           // a 2xx answer
	OutcomeRefused     Outcome = "refused"      // the connection was refused: nothing listens at the URL
	OutcomeRejected    Outcome = "rejected"     // a 4xx answer
	OutcomeServerError Outcome = "server_error" // a 5xx answer
	OutcomeTimeout     Outcome = "timeout"      // no answer within the delivery timeout
	OutcomeFailed      Outcome = "failed"       // anything else: a reset, DNS, a 1xx or 3xx answer, the server closing
)

// classify returns the outcome of an attempt that got status (0 for
// none) or err.
func classify(status int, err error) Outcome {
	var ne net.Error
	switch {
	case err != nil && errors.Is(err, syscall.ECONNREFUSED):
		return OutcomeRefused
	case err != nil && (errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()):
		return OutcomeTimeout
	case err != nil:
		return OutcomeFailed
	case status >= 200 && status < 300:
		return OutcomeOK
	case status >= 400 && status < 500:
		return OutcomeRejected
	case status >= 500 && status < 600:
		return OutcomeServerError
	}
	return OutcomeFailed
}

// Explain returns one line for a person saying what went wrong with the
// attempt and what to check, or "" when it succeeded. It names the
// variables of a Parley bot run with "parley sim sendbee" in another
// terminal, for example:
//
//	delivery of message.received to http://127.0.0.1:8080/webhooks/sendbee failed: connection refused — is the bot running and listening on 127.0.0.1:8080 (PARLEY_ADDR)?
//
// The line holds no payload, signature or secret: the URL is named
// without its user information and query.
func (d Delivery) Explain() string {
	if d.Outcome == OutcomeOK || d.Outcome == "" && d.OK() {
		return ""
	}
	what := "delivery of " + d.Type + " to " + cleanURL(d.URL)
	if d.Attempt > 1 {
		what += fmt.Sprintf(" (attempt %d)", d.Attempt)
	}
	switch o := d.Outcome; {
	case o == OutcomeRefused:
		host := d.URL
		if u, err := url.Parse(d.URL); err == nil && u.Host != "" {
			host = u.Host
		}
		return what + " failed: connection refused — is the bot running and listening on " + host + " (PARLEY_ADDR)?"
	case o == OutcomeTimeout:
		return what + " timed out after " + roundDuration(d.Duration).String() +
			" — the bot took the connection but did not answer; is a handler stuck? see the bot's log"
	case o == OutcomeRejected && (d.StatusCode == http.StatusUnauthorized || d.StatusCode == http.StatusForbidden):
		return what + fmt.Sprintf(" rejected %d", d.StatusCode) +
			` — the bot's SENDBEE_API_SECRET differs from the emulator's (or the clocks differ); run: eval "$(parley sim env)" and restart the bot`
	case o == OutcomeRejected && (d.StatusCode == http.StatusNotFound || d.StatusCode == http.StatusMethodNotAllowed):
		return what + fmt.Sprintf(" rejected %d", d.StatusCode) +
			" — nothing serves that path: is SENDBEE_API_KEY set in the bot's environment, and is the webhook URL right (SENDBEE_WEBHOOK_URL)?"
	case o == OutcomeRejected:
		return what + fmt.Sprintf(" rejected %d", d.StatusCode) + " — the bot refused the payload; see the bot's log"
	case o == OutcomeServerError && (d.StatusCode == http.StatusServiceUnavailable || d.StatusCode == http.StatusTooManyRequests):
		return what + fmt.Sprintf(" answered %d", d.StatusCode) + " — the bot is busy or stopping; the emulator retries"
	case o == OutcomeServerError:
		return what + fmt.Sprintf(" answered %d", d.StatusCode) + " — the bot failed to handle it; see the bot's log"
	}
	cause := d.Error
	if rest, ok := strings.CutPrefix(cause, `Post "`); ok {
		// The client's error names the URL with only its password masked.
		if _, after, found := strings.Cut(rest, `": `); found {
			cause = after
		}
	}
	if cause == "" {
		cause = fmt.Sprintf("answered %d", d.StatusCode)
	}
	return what + " failed: " + cause + " — check the webhook URL (SENDBEE_WEBHOOK_URL) and the bot's log"
}

// cleanURL returns raw without user information, query and fragment, the
// places where a webhook URL can carry a secret; "(the webhook URL)" when
// it does not parse.
func cleanURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(the webhook URL)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

// roundDuration rounds d for a person: "10s" rather than "10.001234s".
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= 100*time.Millisecond:
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

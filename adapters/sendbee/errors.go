package sendbee

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/internal/apiclient"
)

// platformName is the platform name put in [bot.RateLimitError.Platform].
const platformName = "sendbee"

// An APIError is returned when the Sendbee API answers with a non-2xx
// status (other than 429, which is a [*bot.RateLimitError] wrapping an
// APIError). Match it with errors.As.
type APIError struct {
	// Method is the HTTP method, such as "POST".
	Method string
	// Path is the API path, such as "/conversations/messages/send"; never
	// a query string, a host or credentials.
	Path string
	// StatusCode is the HTTP status code.
	StatusCode int
	// Type is the platform's error type ("validation_error"), empty when
	// the body had none.
	Type string
	// Detail is the platform's human-readable explanation, empty when the
	// body had none. An unparseable 404 has Detail "endpoint not found".
	Detail string
	// Body is the raw response body, capped at 64 KiB.
	Body []byte
	// Header holds the response headers.
	Header http.Header
}

// Error renders the error as
// "sendbee: POST /conversations/messages/send: 400 validation_error: phone is required".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("sendbee: ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Path)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	switch {
	case e.Type != "" && e.Detail != "":
		b.WriteString(" " + e.Type + ": " + e.Detail)
	case e.Type != "":
		b.WriteString(" " + e.Type)
	case e.Detail != "":
		b.WriteString(": " + e.Detail)
	default:
		if t := http.StatusText(e.StatusCode); t != "" {
			b.WriteString(" " + t)
		}
	}
	return b.String()
}

// Temporary reports whether the request may succeed if sent again: true
// for 5xx answers. (A 429 is reported as a [*bot.RateLimitError], which is
// temporary too.)
func (e *APIError) Temporary() bool { return e.StatusCode >= 500 }

// checkResponse turns a non-2xx answer into an error: a
// *bot.RateLimitError for 429, an *APIError otherwise. body is the capped
// raw body.
func checkResponse(method, apiPath string, r *http.Response, body []byte, now time.Time) error {
	apiErr := &APIError{
		Method:     method,
		Path:       apiPath,
		StatusCode: r.StatusCode,
		Body:       body,
		Header:     r.Header.Clone(),
	}
	if env, err := decodeEnvelope(body); err == nil {
		apiErr.Detail, apiErr.Type, _ = env.errorFields()
	}
	if r.StatusCode == http.StatusNotFound && apiErr.Detail == "" && apiErr.Type == "" {
		apiErr.Detail = "endpoint not found"
	}
	if r.StatusCode == http.StatusTooManyRequests {
		return &bot.RateLimitError{
			Platform:   platformName,
			RetryAfter: apiclient.RetryAfter(r.Header.Get("Retry-After"), now),
			Err:        apiErr,
		}
	}
	return apiErr
}

// A ValidationError reports invalid input to a [Client] method. It is
// returned before any request is sent, so nothing changed on the
// platform, and sending the same input again cannot succeed.
type ValidationError struct {
	// Op names the operation, such as "send message".
	Op string
	// Field is the JSON name of the offending field, such as "phone".
	Field string
	// Problem says what is wrong, such as "is required".
	Problem string
}

// Error renders the error as "sendbee: send message: phone is required".
func (e *ValidationError) Error() string {
	return fmt.Sprintf("sendbee: %s: %s %s", e.Op, e.Field, e.Problem)
}

func invalid(op, field, problem string) error {
	return &ValidationError{Op: op, Field: field, Problem: problem}
}

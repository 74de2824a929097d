package sendbee

import (
	"fmt"
	"net/http"
	"time"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/internal/apiclient"
	"github.com/parleybot/parley/internal/errtext"
)

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
	// It may quote customer data (a validation error quotes the phone
	// number), so Error leaves it out: log it only where that is allowed.
	Detail string
	// Body is the raw response body, capped at 64 KiB. Like Detail, it
	// may hold customer data and is not part of Error.
	Body []byte
	// Header holds the response headers.
	Header http.Header
}

// Error renders the error as
// "sendbee: POST /conversations/messages/send: 400 Bad Request (validation_error)":
// the method, path, status and Type, never Detail or Body. Sendbee's
// details quote what was sent, such as the customer's phone number, and
// error strings end up in logs; read Detail or Body for them.
func (e *APIError) Error() string {
	return apiclient.ErrorText("sendbee", e.Method, e.Path, e.StatusCode, e.Type, nil)
}

// Temporary reports whether the request may succeed if sent again: true
// for 5xx answers. (A 429 is reported as a [*bot.RateLimitError], which is
// temporary too.)
func (e *APIError) Temporary() bool { return e.StatusCode >= 500 }

// checkResponse turns a non-2xx answer into an error: a
// *bot.RateLimitError of the adapter named platform for 429, an *APIError
// otherwise. body is the capped raw body.
func checkResponse(platform, method, apiPath string, r *http.Response, body []byte, now time.Time) error {
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
			Platform:   platform,
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

// wrapf wraps err with the context of format and args, naming the package
// once: the context goes after the "sendbee: " prefix, and err's own prefix is
// left out ("sendbee: <context>: GET /x: 404 Not Found", never "sendbee: <context>:
// sendbee: GET …"), as is a *bot.RateLimitError's "bot: sendbee: ". Errors of this
// package are built this way wherever they wrap one of its own, such as a
// client call's.
func wrapf(err error, format string, args ...any) error {
	return errtext.Wrap("sendbee: "+fmt.Sprintf(format, args...), err, "sendbee: ", "bot: sendbee: ")
}

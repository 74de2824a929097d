package flowdock

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/internal/apiclient"
	"github.com/parleybot/parley/internal/errtext"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrNotFound is returned by the client-side lookups
	// ([Client.MessageByUUID], [Client.UserIDByName]) when nothing
	// matches. An API 404 is an [*APIError] instead.
	ErrNotFound = errors.New("flowdock: not found")
	// ErrNoToken is wrapped by a [*TokenError]: the call needs a token the
	// client was not configured with.
	ErrNoToken = errors.New("flowdock: token not configured")
)

// An APIError is returned when the Flowdock API answers with a non-2xx
// status (other than 429, which is a [*bot.RateLimitError] wrapping an
// APIError). Match it with errors.As. Flowdock's error body is
// {"message": "...", "errors": {"<field>": ["<problem>", ...]}}.
type APIError struct {
	// Method is the HTTP method, such as "DELETE".
	Method string
	// Path is the API path, such as "/flows/acme/ops/messages/5"; never a
	// query string, a host or a token.
	Path string
	// StatusCode is the HTTP status code.
	StatusCode int
	// Message is the body's "message", such as "not found"; empty when the
	// body had none. It may quote what was sent, so Error leaves it out.
	Message string
	// Errors are the body's field errors, such as {"content": ["can't be
	// blank"]}; nil when the body had none. Error names the fields only.
	Errors map[string][]string
	// Body is the raw response body, capped at 64 KiB; not part of Error.
	Body []byte
	// Header holds the response headers.
	Header http.Header
}

// Error renders the error as
// "flowdock: POST /flows/acme/ops/messages: 400 Bad Request (fields: content)"
// or "flowdock: DELETE /flows/acme/ops/messages/5: 404 Not Found": the
// method, path, status and the names of the fields in error, never
// Message, the field problems or Body. They may quote what was sent, such
// as a customer's details in a bridged message, and error strings end up
// in logs; read Message, Errors or Body for them.
func (e *APIError) Error() string {
	fields := make([]string, 0, len(e.Errors))
	for f := range e.Errors {
		fields = append(fields, f)
	}
	return apiclient.ErrorText("flowdock", e.Method, e.Path, e.StatusCode, "", fields)
}

// Temporary reports whether the request may succeed if sent again: true
// for 5xx answers. (A 429 is reported as a [*bot.RateLimitError], which is
// temporary too.) A 410 Gone, which Flowdock answers to a flow token whose
// source was removed, is permanent.
func (e *APIError) Temporary() bool { return e.StatusCode >= 500 }

// checkResponse turns a non-2xx answer into an error: a
// *bot.RateLimitError of the adapter named platform for 429, an *APIError otherwise. body is the capped
// raw body.
func checkResponse(platform, method, apiPath string, r *http.Response, body []byte, now time.Time) error {
	apiErr := &APIError{
		Method:     method,
		Path:       apiPath,
		StatusCode: r.StatusCode,
		Body:       body,
		Header:     r.Header.Clone(),
	}
	apiErr.Message, apiErr.Errors = parseErrorBody(body)
	if r.StatusCode == http.StatusTooManyRequests {
		return &bot.RateLimitError{
			Platform:   platform,
			RetryAfter: apiclient.RetryAfter(r.Header.Get("Retry-After"), now),
			Err:        apiErr,
		}
	}
	return apiErr
}

// parseErrorBody reads Flowdock's error body. The field errors are lists
// of strings; a single string per field is accepted too. Anything else is
// ignored: the raw body stays in APIError.Body.
func parseErrorBody(body []byte) (string, map[string][]string) {
	var eb struct {
		Message json.RawMessage `json:"message"`
		Errors  json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &eb) != nil {
		return "", nil
	}
	var msg string
	_ = json.Unmarshal(eb.Message, &msg)
	var raw map[string]json.RawMessage
	if json.Unmarshal(eb.Errors, &raw) != nil || len(raw) == 0 {
		return msg, nil
	}
	fields := make(map[string][]string, len(raw))
	for f, v := range raw {
		var list []string
		if json.Unmarshal(v, &list) == nil {
			fields[f] = list
			continue
		}
		var one string
		if json.Unmarshal(v, &one) == nil {
			fields[f] = []string{one}
			continue
		}
		fields[f] = []string{string(v)}
	}
	return msg, fields
}

// A ValidationError reports invalid input to a [Client] method or a
// constructor. A method returns it before any request is sent, so nothing
// changed on the platform, and sending the same input again cannot
// succeed.
type ValidationError struct {
	// Op names the operation, such as "send message".
	Op string
	// Field is the JSON name of the offending field, such as "content".
	Field string
	// Problem says what is wrong, such as "is required".
	Problem string
}

// Error renders the error as "flowdock: send message: content is required".
func (e *ValidationError) Error() string {
	return fmt.Sprintf("flowdock: %s: %s %s", e.Op, e.Field, e.Problem)
}

func invalid(op, field, problem string) error {
	return &ValidationError{Op: op, Field: field, Problem: problem}
}

// A TokenError reports that a call needs a token the [Client] was not
// configured with: the personal API token for everything but the
// flow-token posts, the flow token for those. It is returned before any
// request and wraps [ErrNoToken].
type TokenError struct {
	// Op names the operation, such as "send message".
	Op string
	// FlowToken is true when the call needs the flow token, false when it
	// needs the personal API token.
	FlowToken bool
}

// Error renders the error as "flowdock: send message: needs the personal
// API token: set Config.Token (env FLOWDOCK_API_TOKEN)".
func (e *TokenError) Error() string {
	if e.FlowToken {
		return "flowdock: " + e.Op + ": needs the flow token of an integration: set Config.FlowToken (env " + EnvFlowToken + ")"
	}
	return "flowdock: " + e.Op + ": needs the personal API token: set Config.Token (env " + EnvToken + ")"
}

// Unwrap returns [ErrNoToken].
func (e *TokenError) Unwrap() error { return ErrNoToken }

// wrapf wraps err with the context of format and args, naming the package
// once: the context goes after the "flowdock: " prefix, and err's own prefix is
// left out ("flowdock: <context>: GET /x: 404 Not Found", never "flowdock: <context>:
// flowdock: GET …"), as is a *bot.RateLimitError's "bot: flowdock: ". Errors of this
// package are built this way wherever they wrap one of its own, such as a
// client call's.
func wrapf(err error, format string, args ...any) error {
	return errtext.Wrap("flowdock: "+fmt.Sprintf(format, args...), err, "flowdock: ", "bot: flowdock: ")
}

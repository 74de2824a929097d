package velaflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/internal/apiclient"
	"github.com/parleybot/parley/internal/errtext"
)

// Error codes of the envelope's error.code, as VelaFlows documents them. Compare them with
// [APIError.Code] or use [IsCode].
const (
	CodeBadRequest      = "BAD_REQUEST"       // 400: malformed body, missing fields, bad parameters
	CodeUnauthorized    = "UNAUTHORIZED"      // 401: token missing, invalid or expired
	CodeForbidden       = "FORBIDDEN"         // 403: the token lacks the scope, or the workspace is not the token's
	CodeNotFound        = "NOT_FOUND"         // 404: no such resource (details may hold resourceId)
	CodeConflict        = "CONFLICT"          // 409: resource exists, or a state conflict
	CodeValidation      = "VALIDATION_ERROR"  // 400 or 422: the body failed validation (details.errors)
	CodeTooManyRequests = "TOO_MANY_REQUESTS" // 429: rate limit exceeded
	CodeInternal        = "INTERNAL_ERROR"    // 500: server error
	// CodeUnknown is the code of an error answer that carried none and
	// whose status has no documented code, as in the docs' Python helper.
	CodeUnknown = "UNKNOWN"
)

// statusCodes are the codes VelaFlows documents for each status. They
// fill APIError.Code when an error body carries no code.
var statusCodes = map[int]string{
	http.StatusBadRequest:          CodeBadRequest,
	http.StatusUnauthorized:        CodeUnauthorized,
	http.StatusForbidden:           CodeForbidden,
	http.StatusNotFound:            CodeNotFound,
	http.StatusConflict:            CodeConflict,
	http.StatusUnprocessableEntity: CodeValidation,
	http.StatusTooManyRequests:     CodeTooManyRequests,
	http.StatusInternalServerError: CodeInternal,
}

// An APIError is returned when the VelaFlows API answers with a non-2xx
// status, or with a body whose success is not true (HTTP 429 is a
// [*bot.RateLimitError] wrapping an APIError). Match it with errors.As and
// branch on Code, or use [IsCode]:
//
//	var apiErr *velaflows.APIError
//	if errors.As(err, &apiErr) && apiErr.Code == velaflows.CodeValidation {
//		for _, fe := range apiErr.FieldErrors() { … }
//	}
type APIError struct {
	// Method is the HTTP method, such as "POST".
	Method string
	// Path is the API path relative to the base URL, such as "/crm/leads";
	// never a query string, a host or credentials.
	Path string
	// StatusCode is the HTTP status code.
	StatusCode int
	// Code is the envelope's error.code, such as CodeValidation. When the
	// body carries none (a gateway's HTML 502, an empty 401), it is the
	// code VelaFlows documents for the status, or CodeUnknown.
	Code string
	// Message is the envelope's error.message; when the body carries none,
	// the HTTP status text. It may quote customer data, so Error leaves it
	// out: log it only where that is allowed.
	Message string
	// Details is the envelope's error.details as sent, nil when absent.
	// Its shape varies: {"errors":[{"path","message"}]} for validation
	// errors (see FieldErrors), {"resourceId":"…"} for 404 (ResourceID).
	Details json.RawMessage
	// Body is the raw response body, capped at 64 KiB. Like Message, it
	// may hold customer data and is not part of Error.
	Body []byte
	// Header holds the response headers.
	Header http.Header
}

// Error renders the error as
// "velaflows: POST /crm/leads: 400 Bad Request (VALIDATION_ERROR; fields: email)":
// the method, path, status, Code and the paths of the field errors, never
// Message, the field errors' messages or Body. Error messages may quote
// what was sent, such as a customer's e-mail address, and error strings
// end up in logs; read Message, FieldErrors or Body for them.
func (e *APIError) Error() string {
	var fields []string
	for _, fe := range e.FieldErrors() {
		fields = append(fields, fe.Path)
	}
	return apiclient.ErrorText("velaflows", e.Method, e.Path, e.StatusCode, e.Code, fields)
}

// Temporary reports whether the request may succeed if sent again: true
// for 5xx answers. (A 429 is reported as a [*bot.RateLimitError], which is
// temporary too.)
func (e *APIError) Temporary() bool { return e.StatusCode >= 500 }

// A FieldError is one entry of a validation error's details.errors.
type FieldError struct {
	// Path is the offending field, such as "email".
	Path string `json:"path"`
	// Message says what is wrong with it.
	Message string `json:"message"`
}

// FieldErrors returns the per-field problems of details.errors, or nil
// when the details have none.
func (e *APIError) FieldErrors() []FieldError {
	var d struct {
		Errors []FieldError `json:"errors"`
	}
	if len(e.Details) == 0 || json.Unmarshal(e.Details, &d) != nil {
		return nil
	}
	return d.Errors
}

// ResourceID returns details.resourceId (sent with 404 answers), or "".
func (e *APIError) ResourceID() string {
	var d struct {
		ResourceID string `json:"resourceId"`
	}
	if len(e.Details) == 0 || json.Unmarshal(e.Details, &d) != nil {
		return ""
	}
	return d.ResourceID
}

// DetailsMap returns the details decoded as a JSON object, or nil when
// they are absent or not an object.
func (e *APIError) DetailsMap() map[string]any {
	var m map[string]any
	if len(e.Details) == 0 || json.Unmarshal(e.Details, &m) != nil {
		return nil
	}
	return m
}

// IsCode reports whether err is, or wraps, an [*APIError] whose Code is
// code. A 429 [*bot.RateLimitError] wraps one with CodeTooManyRequests.
// Client-side [*ValidationError]s have no code: use [IsValidation] to
// catch both kinds of validation failure.
func IsCode(err error, code string) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Code == code
}

// IsValidation reports whether err says the input was invalid: a
// client-side [*ValidationError] (nothing was sent), or an [*APIError]
// with CodeValidation or CodeBadRequest, or status 400 or 422 (the docs
// file validation failures under both). Sending the same input
// again cannot succeed.
func IsValidation(err error) bool {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return true
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.Code == CodeValidation || apiErr.Code == CodeBadRequest ||
		apiErr.StatusCode == http.StatusBadRequest || apiErr.StatusCode == http.StatusUnprocessableEntity
}

// checkResponse turns an error answer into an error: a *bot.RateLimitError
// for 429, an *APIError otherwise. body is the capped raw body.
func (c *Client) checkResponse(method, apiPath string, r *http.Response, body []byte) error {
	apiErr := &APIError{
		Method:     method,
		Path:       apiPath,
		StatusCode: r.StatusCode,
		Body:       body,
		Header:     r.Header.Clone(),
	}
	var env apiEnvelope
	if json.Unmarshal(body, &env) == nil && env.Error != nil {
		apiErr.Code = env.Error.Code
		apiErr.Message = env.Error.Message
		if !isNull(env.Error.Details) {
			apiErr.Details = env.Error.Details
		}
	}
	if apiErr.Code == "" {
		apiErr.Code = statusCodes[r.StatusCode]
		if apiErr.Code == "" {
			apiErr.Code = CodeUnknown
		}
	}
	if apiErr.Message == "" {
		apiErr.Message = http.StatusText(r.StatusCode)
		if apiErr.Message == "" || r.StatusCode < 300 {
			apiErr.Message = "Unknown error"
		}
	}
	if r.StatusCode == http.StatusTooManyRequests {
		now := c.now()
		wait := apiclient.RetryAfter(r.Header.Get("Retry-After"), now)
		if wait == 0 {
			// No usable Retry-After: the end of the exhausted window.
			if rate := parseRate(r.Header); rate.Remaining == 0 && rate.Reset.After(now) {
				wait = rate.Reset.Sub(now)
			}
		}
		return &bot.RateLimitError{Platform: c.platform, RetryAfter: wait, Err: apiErr}
	}
	return apiErr
}

// A ConfigError reports a missing or invalid setting of [Config] found by
// [NewClient]. It names both the Config field and the environment
// variable the field defaults from, and never contains the token.
type ConfigError struct {
	// Field is the Config field, such as "Token".
	Field string
	// Env is the environment variable, such as "VELAFLOWS_API_TOKEN".
	Env string
	// Problem says what is wrong, such as "missing API token".
	Problem string
}

// Error renders the error as
// "velaflows: missing API token: set VELAFLOWS_API_TOKEN (or Config.Token)".
func (e *ConfigError) Error() string {
	return fmt.Sprintf("velaflows: %s: set %s (or Config.%s)", e.Problem, e.Env, e.Field)
}

// A ValidationError reports invalid input to a [Client] method. It is
// returned before any request is sent, so nothing changed on the
// platform, and sending the same input again cannot succeed.
type ValidationError struct {
	// Op names the operation, such as "create lead".
	Op string
	// Field is the JSON name of the offending field or parameter, such as
	// "firstName".
	Field string
	// Problem says what is wrong, such as "is required".
	Problem string
}

// Error renders the error as "velaflows: create lead: firstName is required".
func (e *ValidationError) Error() string {
	return fmt.Sprintf("velaflows: %s: %s %s", e.Op, e.Field, e.Problem)
}

func invalid(op, field, problem string) error {
	return &ValidationError{Op: op, Field: field, Problem: problem}
}

// wrapf wraps err with the context of format and args, naming the package
// once: the context goes after the "velaflows: " prefix, and err's own prefix is
// left out ("velaflows: <context>: GET /x: 404 Not Found", never "velaflows: <context>:
// velaflows: GET …"), as is a *bot.RateLimitError's "bot: velaflows: ". Errors of this
// package are built this way wherever they wrap one of its own, such as a
// client call's.
func wrapf(err error, format string, args ...any) error {
	return errtext.Wrap("velaflows: "+fmt.Sprintf(format, args...), err, "velaflows: ", "bot: velaflows: ")
}

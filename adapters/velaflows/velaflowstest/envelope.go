package velaflowstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	maxBody    = 1 << 20 // request body cap
	maxLimit   = 100     // largest page size (documented)
	maxTextLen = 4096    // message text limit (not documented; WhatsApp's)
)

// Error codes. The last three are not documented.
const (
	codeBadRequest       = "BAD_REQUEST"
	codeUnauthorized     = "UNAUTHORIZED"
	codeForbidden        = "FORBIDDEN"
	codeNotFound         = "NOT_FOUND"
	codeConflict         = "CONFLICT"
	codeValidation       = "VALIDATION_ERROR"
	codeTooManyRequests  = "TOO_MANY_REQUESTS"
	codeInternal         = "INTERNAL_ERROR"
	codeMethodNotAllowed = "METHOD_NOT_ALLOWED"
	codeTooLarge         = "PAYLOAD_TOO_LARGE"
	codeUnavailable      = "SERVICE_UNAVAILABLE"
)

// An apiError is a failed request, rendered as
// {"success":false,"error":{"code","message","details"}}.
type apiError struct {
	status     int
	code       string
	message    string
	details    any    // omitted when nil
	retryAfter int    // seconds; 429 only
	allow      string // 405 only
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message) }

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeBadRequest, message: fmt.Sprintf(format, args...)}
}

func notFound(kind, id string) *apiError {
	return &apiError{
		status: http.StatusNotFound, code: codeNotFound,
		message: kind + " not found", details: map[string]any{"resourceId": id},
	}
}

func conflict(format string, args ...any) *apiError {
	return &apiError{status: http.StatusConflict, code: codeConflict, message: fmt.Sprintf(format, args...)}
}

// A fieldError is one entry of details.errors (documented).
type fieldError struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (s *Server) validationError(errs []fieldError) *apiError {
	return &apiError{
		status: s.cfg.validationStatus, code: codeValidation,
		message: "Request body failed validation",
		details: map[string]any{"errors": errs},
	}
}

// Wire envelopes, as documented.
type wireSuccess struct {
	Success bool `json:"success"`
	Data    any  `json:"data"`
}

type wireErrorBody struct {
	Success bool      `json:"success"`
	Error   wireError `json:"error"`
}

type wireError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

type wirePage struct {
	Items      any            `json:"items"`
	Pagination wirePagination `json:"pagination"`
}

type wirePagination struct {
	Page       int `json:"page"`
	Limit      int `json:"limit"`
	Total      int `json:"total"`
	TotalPages int `json:"totalPages"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		status = http.StatusInternalServerError
		fmt.Fprintf(&buf, `{"success":false,"error":{"code":%q,"message":%q}}`+"\n", codeInternal, "encode: "+err.Error())
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	if e.allow != "" {
		w.Header().Set("Allow", e.allow)
	}
	writeJSON(w, e.status, wireErrorBody{Error: wireError{Code: e.code, Message: e.message, Details: e.details}})
}

// A pageReq is the validated page, limit, sortBy and sortOrder of a list
// request.
type pageReq struct {
	page, limit int
	sortBy      string
	desc        bool
}

// parsePage reads the pagination parameters (page, limit, sortBy,
// sortOrder). Invalid values are 400 BAD_REQUEST,
// including a limit above 100 (the API may clamp instead, which is not
// documented; the fake answers 400 so that tests catch a client that asks
// for too much).
func (s *Server) parsePage(q url.Values, sortable []string, defaultDesc bool) (pageReq, *apiError) {
	p := pageReq{page: 1, limit: s.cfg.pageSize, sortBy: "createdAt", desc: defaultDesc}
	var errs []fieldError
	if v, ok := queryValue(q, "page"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fieldError{"page", "page must be an integer of at least 1"})
		} else {
			p.page = n
		}
	}
	if v, ok := queryValue(q, "limit"); ok {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 1:
			errs = append(errs, fieldError{"limit", "limit must be an integer of at least 1"})
		case n > maxLimit:
			errs = append(errs, fieldError{"limit", fmt.Sprintf("limit must not exceed %d", maxLimit)})
		default:
			p.limit = n
		}
	}
	if v, ok := queryValue(q, "sortBy"); ok {
		if !slices.Contains(sortable, v) {
			errs = append(errs, fieldError{"sortBy", "sortBy must be one of " + strings.Join(sortable, ", ")})
		} else {
			p.sortBy = v
		}
	}
	if v, ok := queryValue(q, "sortOrder"); ok {
		switch v {
		case "asc":
			p.desc = false
		case "desc":
			p.desc = true
		default:
			errs = append(errs, fieldError{"sortOrder", "sortOrder must be asc or desc"})
		}
	}
	if len(errs) > 0 {
		return p, &apiError{
			status: http.StatusBadRequest, code: codeBadRequest,
			message: "Invalid query parameters", details: map[string]any{"errors": errs},
		}
	}
	return p, nil
}

// queryValue returns the last non-empty value of key. Empty values count as
// absent, as the documented JS helper drops them anyway.
func queryValue(q url.Values, key string) (string, bool) {
	vs := q[key]
	for i := len(vs) - 1; i >= 0; i-- {
		if v := strings.TrimSpace(vs[i]); v != "" {
			return v, true
		}
	}
	return "", false
}

// paginate cuts items (already filtered and sorted) to the requested page
// and renders that page with render. A page past the end has no items and
// the true totals.
func paginate[T, W any](items []T, p pageReq, render func(T) W) wirePage {
	total := len(items)
	pages := (total + p.limit - 1) / p.limit
	start := min((p.page-1)*p.limit, total)
	end := min(start+p.limit, total)
	out := make([]W, 0, end-start)
	for _, it := range items[start:end] {
		out = append(out, render(it))
	}
	return wirePage{Items: out, Pagination: wirePagination{Page: p.page, Limit: p.limit, Total: total, TotalPages: pages}}
}

// A body is a decoded JSON object request body, read field by field so
// that field names are checked literally and every problem is reported in
// details.errors.
type body struct {
	m    map[string]json.RawMessage
	errs []fieldError
}

// decodeBody parses raw as a JSON object; empty means {}.
func decodeBody(raw []byte) (*body, *apiError) {
	b := &body{m: map[string]json.RawMessage{}}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return b, nil
	}
	if raw[0] != '{' {
		return nil, badRequest("Request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&b.m); err != nil {
		return nil, badRequest("Malformed JSON body: %v", err)
	}
	if dec.More() {
		return nil, badRequest("Malformed JSON body: trailing data after the object")
	}
	return b, nil
}

func (b *body) fail(path, msg string) { b.errs = append(b.errs, fieldError{path, msg}) }

func (b *body) has(name string) bool { _, ok := b.m[name]; return ok }

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// str reads an optional string field. present is false when the field is
// absent; a null or non-string value is an error.
func (b *body) str(name string) (v string, present bool) {
	raw, ok := b.m[name]
	if !ok {
		return "", false
	}
	if err := json.Unmarshal(raw, &v); err != nil || isNull(raw) {
		b.fail(name, name+" must be a string")
		return "", false
	}
	return v, true
}

// nullableStr reads a field that may be a string or null: (nil, true) is an
// explicit null.
func (b *body) nullableStr(name string) (v *string, present bool) {
	raw, ok := b.m[name]
	if !ok {
		return nil, false
	}
	if isNull(raw) {
		return nil, true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		b.fail(name, name+" must be a string or null")
		return nil, false
	}
	return &s, true
}

// requiredStr reads a string that must be present and not blank.
func (b *body) requiredStr(name string) string {
	v, ok := b.str(name)
	if !ok && !b.has(name) {
		b.fail(name, name+" is required")
	} else if ok && strings.TrimSpace(v) == "" {
		b.fail(name, name+" must not be empty")
	}
	return strings.TrimSpace(v)
}

func (b *body) boolean(name string) (v bool, present bool) {
	raw, ok := b.m[name]
	if !ok {
		return false, false
	}
	if err := json.Unmarshal(raw, &v); err != nil || isNull(raw) {
		b.fail(name, name+" must be a boolean")
		return false, false
	}
	return v, true
}

func (b *body) number(name string) (v *float64, present bool) {
	raw, ok := b.m[name]
	if !ok {
		return nil, false
	}
	if isNull(raw) {
		return nil, true
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		b.fail(name, name+" must be a number or null")
		return nil, false
	}
	return &f, true
}

func (b *body) strings(name string) (v []string, present bool) {
	raw, ok := b.m[name]
	if !ok {
		return nil, false
	}
	if err := json.Unmarshal(raw, &v); err != nil || isNull(raw) {
		b.fail(name, name+" must be an array of strings")
		return nil, false
	}
	return v, true
}

// only reports every field not in allowed as unknown: the emulator is
// strict about field names so that a misspelt field fails a test instead
// of being silently ignored.
func (b *body) only(allowed ...string) {
	var unknown []string
	for k := range b.m {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		b.fail(k, "Unknown field "+k)
	}
}

var (
	emailRE = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
	phoneRE = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

func (b *body) checkEmail(name, v string) {
	if v != "" && !emailRE.MatchString(v) {
		b.fail(name, "Invalid email address")
	}
}

func (b *body) checkPhone(name, v string) {
	if v != "" && !phoneRE.MatchString(v) {
		b.fail(name, "Invalid phone number (want E.164, such as +15550100)")
	}
}

func (b *body) checkLen(name, v string, max int) {
	if utf8.RuneCountInString(v) > max {
		b.fail(name, fmt.Sprintf("%s must be at most %d characters", name, max))
	}
}

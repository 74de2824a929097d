package sendbeetest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	maxBody  = 1 << 20
	maxLimit = 100
)

// A handler serves one endpoint. It runs after authentication and rate
// limiting, returns the response data or an error (an *apiError becomes the
// platform error body), and must not write to the ResponseWriter itself.
type handler func(c *call) (*result, error)

// A route maps HTTP methods to the handlers of one path.
type route map[string]handler

func (s *Server) apiRoutes() map[string]route {
	return map[string]route{
		"/contacts":                              {http.MethodGet: s.listContacts, http.MethodPut: s.updateContact},
		"/contacts/subscribe":                    {http.MethodPost: s.subscribeContact},
		"/contacts/tags":                         {http.MethodGet: s.listTags, http.MethodPost: s.createTag, http.MethodPut: s.updateTag, http.MethodDelete: s.deleteTag},
		"/contacts/fields":                       {http.MethodGet: s.listFields, http.MethodPost: s.createField, http.MethodPut: s.updateField, http.MethodDelete: s.deleteField},
		"/conversations":                         {http.MethodGet: s.listConversations},
		"/conversation":                          {http.MethodGet: s.getConversation, http.MethodPost: s.updateConversation},
		"/conversations/messages":                {http.MethodGet: s.listMessages},
		"/conversations/messages/templates":      {http.MethodGet: s.listTemplates},
		"/conversations/messages/templates/send": {http.MethodPost: s.sendTemplate},
		"/conversations/messages/send":           {http.MethodPost: s.sendMessage},
		"/teams/teams":                           {http.MethodGet: s.listTeams},
		"/teams/members":                         {http.MethodGet: s.listMembers},
		"/automation/chatbot/activity":           {http.MethodPut: s.setChatbotActivity},
		"/automation/chatbot/activity/status":    {http.MethodGet: s.chatbotStatus},
		"/rate-limit/error-test":                 {http.MethodGet: s.rateLimitErrorTest},
		"/rate-limit/request-test":               {http.MethodGet: s.rateLimitRequestTest},
	}
}

// An apiError is a failed request, rendered as the standard error envelope
// {"error":{"detail","type"}}, or for 429 as the flat throttle body.
type apiError struct {
	status     int
	typ        string
	detail     string
	retryAfter time.Duration // 429 only; < 0 omits Retry-After
	allow      string        // 405 only
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.typ, e.detail) }

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "validation_error", detail: fmt.Sprintf(format, args...)}
}

// reEngagement refuses a free-form send outside the customer-service
// window (an assumption: Sendbee does not document this error).
func reEngagement(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "re_engagement_required", detail: fmt.Sprintf(format, args...)}
}

// unsubscribed refuses a template send to an unsubscribed contact (an
// assumption: Sendbee does not document this error).
func unsubscribed(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "contact_unsubscribed", detail: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{status: http.StatusNotFound, typ: "not_found", detail: fmt.Sprintf(format, args...)}
}

// A result is a successful response: data plus, for lists, meta and links.
type result struct {
	data  any
	meta  *wireMeta
	links *wireLinks
}

func one(data any) (*result, error) { return &result{data: data}, nil }

// A call is one API request being served.
type call struct {
	s        *Server
	r        *http.Request
	path     string
	q        query
	raw      []byte
	body     map[string]json.RawMessage
	warnings []string
}

func (c *call) warn(format string, args ...any) {
	w := fmt.Sprintf(format, args...)
	if !slices.Contains(c.warnings, w) {
		c.warnings = append(c.warnings, w)
	}
}

// allowQuery warns about query parameters the endpoint does not know. Such
// parameters are otherwise ignored, as the real API does.
func (c *call) allowQuery(keys ...string) {
	for _, k := range c.q.keys {
		if !slices.Contains(keys, k) {
			c.warn("unknown query parameter ignored: %s", k)
		}
	}
}

// parseBody decodes the JSON object body and warns about unknown keys. An
// empty body reads as {}.
func (c *call) parseBody(keys ...string) error {
	c.body = map[string]json.RawMessage{}
	raw := bytes.TrimSpace(c.raw)
	if len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, &c.body); err != nil {
		return badRequest("request body must be a JSON object: %v", err)
	}
	for k := range c.body {
		if !slices.Contains(keys, k) {
			c.warn("unknown field ignored: %s", k)
		}
	}
	return nil
}

// field returns the raw value of key; null counts as absent.
func (c *call) field(key string) (json.RawMessage, bool) {
	v, ok := c.body[key]
	if !ok || string(v) == "null" {
		return nil, false
	}
	return v, true
}

// str reads a string field. A present value must be a JSON string.
func (c *call) str(key string, required bool) (string, bool, error) {
	v, ok := c.field(key)
	if !ok {
		if required {
			return "", false, badRequest("%s is required", key)
		}
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false, badRequest("%s must be a string", key)
	}
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", false, badRequest("%s is required", key)
	}
	return s, true, nil
}

// id reads a required UUID field.
func (c *call) id(key string) (string, error) {
	s, _, err := c.str(key, true)
	if err != nil {
		return "", err
	}
	if !isUUID(s) {
		return "", badRequest("%s must be a UUID, got %q", key, s)
	}
	return s, nil
}

// boolean reads an optional boolean field, reporting it as received.
func (c *call) boolean(key string) (*bool, error) {
	v, ok := c.field(key)
	if !ok {
		return nil, nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		return nil, badRequest("%s must be a boolean (true or false)", key)
	}
	return &b, nil
}

// strList reads an optional array of strings.
func (c *call) strList(key string) ([]string, bool, error) {
	v, ok := c.field(key)
	if !ok {
		return nil, false, nil
	}
	var l []string
	if err := json.Unmarshal(v, &l); err != nil {
		return nil, false, badRequest("%s must be an array of strings", key)
	}
	out := make([]string, 0, len(l))
	for _, s := range l {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, true, nil
}

// object reads an optional JSON object of scalar values as strings. A null
// value is reported as a nil pointer.
func (c *call) object(key string) (map[string]*string, bool, error) {
	v, ok := c.field(key)
	if !ok {
		return nil, false, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil || m == nil {
		return nil, false, badRequest("%s must be a JSON object", key)
	}
	out := make(map[string]*string, len(m))
	for k, raw := range m {
		if string(raw) == "null" {
			out[k] = nil
			continue
		}
		s, err := scalarString(raw)
		if err != nil {
			return nil, false, badRequest("%s.%s must be a string, number or boolean", key, k)
		}
		out[k] = &s
	}
	return out, true, nil
}

func scalarString(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return strconv.FormatBool(b), nil
	}
	return "", errors.New("not a scalar")
}

// queryID reads a required UUID query parameter.
func (c *call) queryID(key string) (string, error) {
	v, ok := c.q.get(key)
	if !ok || v == "" {
		return "", badRequest("%s is required", key)
	}
	if !isUUID(v) {
		return "", badRequest("%s must be a UUID, got %q", key, v)
	}
	return v, nil
}

// optionalQueryID reads an optional UUID query parameter.
func (c *call) optionalQueryID(key string) (string, error) {
	v, ok := c.q.get(key)
	if !ok || v == "" {
		return "", nil
	}
	if !isUUID(v) {
		return "", badRequest("%s must be a UUID, got %q", key, v)
	}
	return v, nil
}

// queryEnum reads an optional query parameter that must be one of allowed.
func (c *call) queryEnum(key string, allowed ...string) (string, error) {
	v, ok := c.q.get(key)
	if !ok || v == "" {
		return "", nil
	}
	if !slices.Contains(allowed, v) {
		return "", badRequest("%s must be one of %s, got %q", key, strings.Join(allowed, ", "), v)
	}
	return v, nil
}

// queryInt reads an optional integer query parameter of at least lo.
func (c *call) queryInt(key string, def, lo int64) (int64, error) {
	v, ok := c.q.get(key)
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo {
		return 0, badRequest("%s must be an integer of at least %d, got %q", key, lo, v)
	}
	return n, nil
}

// paginate cuts one page out of items according to page and limit and
// builds meta and links. A page past the end is 200 with data [].
func paginate[T any](c *call, items []T) (*result, error) {
	page64, err := c.queryInt("page", 1, 1)
	if err != nil {
		return nil, err
	}
	limit64, err := c.queryInt("limit", int64(c.s.cfg.pageSize), 1)
	if err != nil {
		return nil, err
	}
	if limit64 > maxLimit {
		c.warn("limit %d exceeds the maximum of %d; %d items per page returned", limit64, maxLimit, maxLimit)
		limit64 = maxLimit
	}
	limit := int(limit64)
	total := len(items)
	last := max(1, (total+limit-1)/limit)
	page := int(min(page64, 1<<40))
	m := &wireMeta{CurrentPage: page, LastPage: last, PerPage: limit, Total: total}
	data := []T{}
	if page <= last && (page-1)*limit < total {
		from := (page - 1) * limit
		to := min(from+limit, total)
		data = append(data, items[from:to]...)
		m.From, m.To = from+1, to
	}
	base := "http://" + c.r.Host + c.s.cfg.prefix + c.path + "?"
	link := func(p int) *string { u := base + c.q.encode("page", strconv.Itoa(p)); return &u }
	l := &wireLinks{First: link(1), Last: link(last)}
	if page > 1 {
		l.Prev = link(min(page-1, last))
	}
	if page < last {
		l.Next = link(page + 1)
	}
	return &result{data: data, meta: m, links: l}, nil
}

// statusWriter records the status code written and calls before(code)
// just before the header goes out, so that a request is recorded before
// the client can see the answer.
type statusWriter struct {
	http.ResponseWriter
	status int
	before func()
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		if w.before != nil {
			w.before()
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// discardWriter is a ResponseWriter that keeps nothing: the answer of a
// request whose answer is to be lost.
type discardWriter struct{ header http.Header }

func (d discardWriter) Header() http.Header         { return d.header }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

// serveAPI runs the request pipeline: record, read body, prefix check
// (404), injected fault, route (404), authentication (401), method (405), rate limit (429),
// content type (415), handler.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, apiPath string, inside bool) {
	sw := &statusWriter{ResponseWriter: w}
	rec := Request{
		Method: r.Method, Path: apiPath, RawQuery: r.URL.RawQuery,
		APIKey: r.Header.Get("X-Api-Key"), HasAuthToken: r.Header.Get("X-Auth-Token") != "",
		ContentType: r.Header.Get("Content-Type"), Accept: r.Header.Get("Accept"),
		UserAgent: r.Header.Get("User-Agent"), Time: s.now(),
	}
	recorded := false
	record := func() {
		if !recorded {
			recorded = true
			rec.Status = sw.status
			s.addRequest(rec)
			s.logf("%s %s -> %d", r.Method, r.URL.Path, sw.status)
		}
	}
	sw.before = record
	defer record()

	body, err := io.ReadAll(http.MaxBytesReader(sw, r.Body, maxBody))
	rec.Body = body
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.writeError(sw, &apiError{status: http.StatusRequestEntityTooLarge, typ: "request_too_large",
				detail: fmt.Sprintf("request body exceeds %d bytes", maxBody)})
			return
		}
		s.writeError(sw, badRequest("cannot read request body: %v", err))
		return
	}

	if !inside {
		s.writeError(sw, notFound("no endpoint at %s: the API is served under %s (is the client building absolute paths?)",
			r.URL.Path, s.URL()))
		return
	}

	if f, ok := s.popFault(); ok {
		rec.Fault = f.name()
		if f.kind == faultReset {
			record() // before the client can see the connection drop
		}
		if f.kind == faultLoseAnswer {
			// Serve the request into a writer that keeps nothing, then
			// drop the connection.
			defer s.applyFault(w, sw, r, fault{kind: faultReset})
			sw = &statusWriter{ResponseWriter: discardWriter{header: http.Header{}}, before: record}
		} else if s.applyFault(w, sw, r, f) {
			return
		}
	}
	rt, ok := s.routes[apiPath]
	if !ok {
		detail := fmt.Sprintf("endpoint not found: %s %s", r.Method, apiPath)
		if _, ok := s.routes[strings.TrimSuffix(apiPath, "/")]; ok && strings.HasSuffix(apiPath, "/") {
			detail += fmt.Sprintf(" (did you mean %s?)", strings.TrimSuffix(apiPath, "/"))
		}
		s.writeError(sw, &apiError{status: http.StatusNotFound, typ: "not_found", detail: detail})
		return
	}

	if err := s.authenticate(r); err != nil {
		rec.AuthError = err.Error()
		s.writeError(sw, &apiError{status: http.StatusUnauthorized, typ: "authentication_error", detail: err.Error()})
		return
	}
	rec.Authenticated = true

	h, ok := rt[r.Method]
	if !ok {
		var allowed []string
		for m := range rt {
			allowed = append(allowed, m)
		}
		slices.Sort(allowed)
		s.writeError(sw, &apiError{status: http.StatusMethodNotAllowed, typ: "method_not_allowed",
			detail: fmt.Sprintf("method %s not allowed on %s; allowed: %s", r.Method, apiPath, strings.Join(allowed, ", ")),
			allow:  strings.Join(allowed, ", ")})
		return
	}

	if wait, limited := s.takeRate(); limited {
		s.writeError(sw, throttled(wait))
		return
	}

	if r.Method != http.MethodGet && len(bytes.TrimSpace(body)) > 0 {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			s.writeError(sw, &apiError{status: http.StatusUnsupportedMediaType, typ: "unsupported_media_type",
				detail: fmt.Sprintf("Content-Type must be application/json, got %q", r.Header.Get("Content-Type"))})
			return
		}
	}

	c := &call{s: s, r: r, path: apiPath, q: parseQuery(r.URL.RawQuery), raw: body}
	res, err := h(c)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{status: http.StatusInternalServerError, typ: "server_error", detail: err.Error()}
		}
		s.writeError(sw, ae)
		return
	}
	env := envelope{Data: res.data, Meta: res.meta, Links: res.links}
	s.mu.Lock()
	if len(s.warnNext) > 0 {
		c.warnings = append(c.warnings, s.warnNext[0])
		s.warnNext = s.warnNext[1:]
	}
	s.mu.Unlock()
	env.Warning = strings.Join(c.warnings, "; ")
	s.writeJSON(sw, http.StatusOK, env)
}

// authenticate checks X-Api-Key and X-Auth-Token.
func (s *Server) authenticate(r *http.Request) error {
	key := r.Header.Get("X-Api-Key")
	if key == "" {
		return errors.New("missing X-Api-Key header")
	}
	if s.refuse || subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.apiKey)) != 1 {
		return errors.New("invalid API key")
	}
	return checkToken(s.cfg.apiSecret, r.Header.Get("X-Auth-Token"), s.now(), s.cfg.tokenWindow, s.cfg.tokenSkew)
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	s.setRateHeaders(w.Header())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	if e.allow != "" {
		w.Header().Set("Allow", e.allow)
	}
	if e.status == http.StatusTooManyRequests {
		if e.retryAfter >= 0 {
			w.Header().Set("Retry-After", strconv.FormatInt(ceilSeconds(e.retryAfter), 10))
		}
		s.writeJSON(w, e.status, wireThrottle{Detail: e.detail, Error: true, Type: e.typ})
		return
	}
	s.writeJSON(w, e.status, wireErrorBody{Error: wireError{Detail: e.detail, Type: e.typ}})
}

func ceilSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

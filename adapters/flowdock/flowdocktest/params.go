package flowdocktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const (
	maxJSONBody   = 1 << 20  // 1 MiB for JSON and form bodies
	maxUploadBody = 32 << 20 // 32 MiB for multipart uploads
)

// params holds request parameters from the query string, a JSON object
// body, a form body or a multipart form. Values are string, json.Number,
// bool, nil, []any, map[string]any or []string (repeated form keys).
type params map[string]any

// upload is a file part of a multipart request.
type upload struct {
	field, name, ctype string
	data               []byte
}

// readParams parses the request body (JSON, form or multipart) on top of
// the query string; body values win. A body without Content-Type is 415, as
// Flowdock documents that the header must be set whenever there is a body.
func readParams(w http.ResponseWriter, r *http.Request) (params, []upload, []byte, *apiError) {
	p := params{}
	addForm(p, r.URL.Query())
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if mt == "multipart/form-data" {
		r.Body = http.MaxBytesReader(w, r.Body, maxUploadBody)
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, nil, nil, errBadRequest("invalid multipart body")
		}
		var ups []upload
		form := url.Values{}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, nil, nil, errBadRequest("invalid multipart body")
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return nil, nil, nil, &apiError{status: http.StatusRequestEntityTooLarge, message: "request too large"}
			}
			if part.FileName() != "" {
				ups = append(ups, upload{field: part.FormName(), name: part.FileName(), ctype: partType(part), data: data})
			} else {
				form.Add(part.FormName(), string(data))
			}
		}
		addForm(p, form)
		return p, ups, nil, nil
	}
	body, err := readBody(w, r, maxJSONBody)
	if err != nil {
		return nil, nil, nil, &apiError{status: http.StatusRequestEntityTooLarge, message: "request too large"}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil, body, nil
	}
	switch mt {
	case "application/json":
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, nil, body, errBadRequest("invalid JSON body")
		}
		switch m := v.(type) {
		case map[string]any:
			for k, x := range m {
				p[k] = x
			}
		case nil:
		default:
			return nil, nil, body, errBadRequest("the JSON body must be an object")
		}
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, nil, body, errBadRequest("invalid form body")
		}
		addForm(p, vals)
	case "":
		return nil, nil, body, &apiError{status: http.StatusUnsupportedMediaType, message: "Content-Type is required with a request body"}
	default:
		return nil, nil, body, &apiError{status: http.StatusUnsupportedMediaType, message: fmt.Sprintf("unsupported Content-Type %q; send application/json, application/x-www-form-urlencoded or multipart/form-data", mt)}
	}
	return p, nil, body, nil
}

func partType(part *multipart.Part) string { return part.Header.Get("Content-Type") }

// addForm copies form values: a key given once becomes a string, repeated
// keys a []string; "tags[]" is folded into "tags".
func addForm(p params, vals url.Values) {
	for k, vs := range vals {
		key := strings.TrimSuffix(k, "[]")
		if key != k {
			if old, ok := p[key].([]string); ok {
				p[key] = append(old, vs...)
			} else {
				p[key] = append([]string(nil), vs...)
			}
			continue
		}
		if len(vs) == 1 {
			p[key] = vs[0]
		} else {
			p[key] = append([]string(nil), vs...)
		}
	}
}

// present reports whether key is set to something other than JSON null.
func (p params) present(key string) bool {
	v, ok := p[key]
	return ok && v != nil
}

// str returns a string parameter. Numbers are accepted in their literal
// form. ok is false when the key is absent or null.
func (p params) str(key string) (v string, ok bool, err error) {
	switch x := p[key].(type) {
	case nil:
		return "", false, nil
	case string:
		return x, true, nil
	case json.Number:
		return x.String(), true, nil
	case []string:
		if len(x) > 0 {
			return x[len(x)-1], true, nil
		}
		return "", false, nil
	default:
		return "", true, fmt.Errorf("must be a string")
	}
}

// integer returns an integer parameter given as a JSON number or a decimal
// string.
func (p params) integer(key string) (v int, ok bool, err error) {
	switch x := p[key].(type) {
	case nil:
		return 0, false, nil
	case json.Number:
		n, err := strconv.Atoi(x.String())
		if err != nil {
			return 0, true, fmt.Errorf("is not an integer")
		}
		return n, true, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return 0, false, nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, true, fmt.Errorf("is not an integer")
		}
		return n, true, nil
	default:
		return 0, true, fmt.Errorf("is not an integer")
	}
}

// list returns a list parameter given as a JSON array of strings, a comma
// separated string, or repeated form keys. Empty items are dropped.
func (p params) list(key string) (v []string, ok bool, err error) {
	var raw []string
	switch x := p[key].(type) {
	case nil:
		return nil, false, nil
	case string:
		raw = strings.Split(x, ",")
	case []string:
		for _, s := range x {
			raw = append(raw, strings.Split(s, ",")...)
		}
	case []any:
		for _, e := range x {
			s, isStr := e.(string)
			if !isStr {
				return nil, true, fmt.Errorf("must be a list of strings")
			}
			raw = append(raw, s)
		}
	default:
		return nil, true, fmt.Errorf("must be a list of strings or a comma separated string")
	}
	out := []string{}
	for _, s := range raw {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, true, nil
}

// boolean accepts JSON booleans and "true"/"false"/"1"/"0".
func (p params) boolean(key string) (v bool, ok bool, err error) {
	switch x := p[key].(type) {
	case nil:
		return false, false, nil
	case bool:
		return x, true, nil
	case json.Number:
		return x.String() != "0", true, nil
	case string:
		b, err := strconv.ParseBool(x)
		if err != nil {
			return false, true, fmt.Errorf("must be true or false")
		}
		return b, true, nil
	default:
		return false, true, fmt.Errorf("must be true or false")
	}
}

// object returns a JSON object parameter.
func (p params) object(key string) (map[string]any, bool, error) {
	switch x := p[key].(type) {
	case nil:
		return nil, false, nil
	case map[string]any:
		return x, true, nil
	case string:
		// A form or multipart post may carry a JSON-encoded object.
		dec := json.NewDecoder(strings.NewReader(x))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil || m == nil {
			return nil, true, fmt.Errorf("must be an object")
		}
		return m, true, nil
	default:
		return nil, true, fmt.Errorf("must be an object")
	}
}

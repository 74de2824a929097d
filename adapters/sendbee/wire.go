package sendbee

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// envelope is the top level of every JSON answer from Sendbee:
// {data, meta, links, warning, error}. Error is kept raw because it is an
// object {detail, type} in the standard form and a boolean in the flat
// form, where detail and type sit at the top level instead (the form the
// Sendbee SDKs parse for rate-limit errors).
type envelope struct {
	Data    json.RawMessage `json:"data"`
	Meta    *Meta           `json:"meta"`
	Links   *Links          `json:"links"`
	Warning json.RawMessage `json:"warning"`
	Error   json.RawMessage `json:"error"`
	Detail  json.RawMessage `json:"detail"`
	Type    json.RawMessage `json:"type"`
}

// errorObject is the standard error form {"error": {"detail", "type"}}.
type errorObject struct {
	Detail json.RawMessage `json:"detail"`
	Type   json.RawMessage `json:"type"`
}

// decodeEnvelope decodes a response body. An empty body (204, or a 200
// without content) is an empty envelope.
func decodeEnvelope(raw []byte) (*envelope, error) {
	env := &envelope{}
	if len(bytes.TrimSpace(raw)) == 0 {
		return env, nil
	}
	if err := json.Unmarshal(raw, env); err != nil {
		return nil, err
	}
	return env, nil
}

// warning returns the envelope's warning as text. The API sends a string;
// any other JSON value is kept as its JSON text rather than lost.
func (e *envelope) warning() string {
	return jsonText(e.Warning)
}

// errorFields returns detail and type from either error form, and whether
// the body had any error information at all.
func (e *envelope) errorFields() (detail, typ string, ok bool) {
	var obj errorObject
	if isJSONObject(e.Error) && json.Unmarshal(e.Error, &obj) == nil {
		detail, typ = jsonText(obj.Detail), jsonText(obj.Type)
	}
	if detail == "" {
		detail = jsonText(e.Detail)
	}
	if typ == "" {
		typ = jsonText(e.Type)
	}
	if detail == "" && typ == "" && isJSONString(e.Error) {
		// {"error": "text"}: not a documented form, but plainly an error text.
		detail = jsonText(e.Error)
	}
	return detail, typ, detail != "" || typ != ""
}

// jsonText renders a JSON value as text: a string as its contents, null or
// absent as "", anything else as its compact JSON.
func jsonText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil {
		return buf.String()
	}
	return string(raw)
}

func isJSONObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

func isJSONString(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '"'
}

func isJSONNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// decodeOne decodes the data of a single-item endpoint. Both SDKs accept a
// bare object or a one-element array. Absent, null or empty
// data gives the zero value, never nil: a 2xx answer means the operation
// happened, and the raw body is still on the Response.
func decodeOne[T any](raw json.RawMessage) (*T, error) {
	v := new(T)
	if isJSONNull(raw) {
		return v, nil
	}
	if t := bytes.TrimSpace(raw); t[0] == '[' {
		var items []T
		if err := json.Unmarshal(t, &items); err != nil {
			return nil, err
		}
		if len(items) > 0 {
			*v = items[0]
		}
		return v, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, err
	}
	return v, nil
}

// decodeList decodes the data of a list endpoint: an array, or leniently
// a single object as a one-item list. Absent or null data is an empty
// list.
func decodeList[T any](raw json.RawMessage) ([]T, error) {
	if isJSONNull(raw) {
		return []T{}, nil
	}
	if isJSONObject(raw) {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		return []T{v}, nil
	}
	items := []T{}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	return items, nil
}

// flexString decodes a JSON scalar as text: a string as is, a number or a
// boolean as its JSON text, null as "". The API documents these fields as
// strings; this keeps one unexpected type from failing a whole list.
type flexString string

// UnmarshalJSON implements [json.Unmarshaler].
func (s *flexString) UnmarshalJSON(b []byte) error {
	*s = flexString(jsonText(b))
	return nil
}

// flexBool decodes a JSON boolean, or its common string and number
// spellings ("true", "1", 1, …), as a bool. The PHP Member model reads
// online/available as booleans and the Python models as strings; which
// one the API sends is not documented, so both are accepted.
type flexBool bool

var errFlexBool = errors.New("not a boolean")

// UnmarshalJSON implements [json.Unmarshaler].
func (v *flexBool) UnmarshalJSON(b []byte) error {
	s := strings.ToLower(strings.Trim(strings.TrimSpace(string(b)), `"`))
	switch s {
	case "true", "1", "yes", "on":
		*v = true
	case "false", "0", "", "null", "no", "off":
		*v = false
	default:
		return errFlexBool
	}
	return nil
}

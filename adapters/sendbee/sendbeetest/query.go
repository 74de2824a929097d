package sendbeetest

import (
	"net/url"
	"strings"
)

// query is a leniently parsed query string.
//
// Sendbee's Python client does not URL-encode GET values: a phone number
// arrives as "search_query=+385911234567" and must keep its "+". A
// form-encoding client (Go's url.Values, PHP's Guzzle) sends "+" as "%2B" and
// a space as "+". So every value is kept in two readings: lit, where only
// %XX escapes are decoded and "+" stays a plus, and form, where "+" is a
// space. Identifiers, numbers and enums use lit; text filters (search_query,
// name, tags) match if either reading matches. A "%" that does not start a
// valid escape is kept as is. "tags[]=a" and "tags[0]=a" (PHP arrays) are
// read as "tags=a".
type query struct {
	keys []string
	lit  map[string][]string
	form map[string][]string
}

func parseQuery(raw string) query {
	q := query{lit: map[string][]string{}, form: map[string][]string{}}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key := unescapeLiteral(k)
		if i := strings.IndexByte(key, '['); i > 0 && strings.HasSuffix(key, "]") {
			key = key[:i]
		}
		if key == "" {
			continue
		}
		if _, seen := q.lit[key]; !seen {
			q.keys = append(q.keys, key)
		}
		q.lit[key] = append(q.lit[key], unescapeLiteral(v))
		q.form[key] = append(q.form[key], unescapeForm(v))
	}
	return q
}

func unescapeLiteral(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

func unescapeForm(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return strings.ReplaceAll(s, "+", " ")
}

// get returns the literal reading of the first value of key, trimmed.
func (q query) get(key string) (string, bool) {
	v, ok := q.lit[key]
	if !ok || len(v) == 0 {
		return "", false
	}
	return strings.TrimSpace(v[0]), true
}

// texts returns the distinct non-empty readings of the first value of key.
func (q query) texts(key string) []string {
	if len(q.lit[key]) == 0 {
		return nil
	}
	return dedupe([]string{strings.TrimSpace(q.lit[key][0]), strings.TrimSpace(q.form[key][0])})
}

// list returns every comma-separated item of every value of key, in both
// readings.
func (q query) list(key string) []string {
	var out []string
	for _, vals := range [][]string{q.lit[key], q.form[key]} {
		for _, v := range vals {
			for _, item := range strings.Split(v, ",") {
				out = append(out, strings.TrimSpace(item))
			}
		}
	}
	return dedupe(out)
}

// encode re-encodes q in form encoding with key set to value, for links.
func (q query) encode(key, value string) string {
	v := url.Values{}
	for _, k := range q.keys {
		if k != key {
			v[k] = append([]string(nil), q.lit[k]...)
		}
	}
	v.Set(key, value)
	return v.Encode()
}

func dedupe(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// matchAny reports whether any of the needles is a case-insensitive
// substring of any of the haystacks. No needles match everything.
func matchAny(needles []string, haystacks ...string) bool {
	if len(needles) == 0 {
		return true
	}
	for _, n := range needles {
		n = strings.ToLower(n)
		for _, h := range haystacks {
			if h != "" && strings.Contains(strings.ToLower(h), n) {
				return true
			}
		}
	}
	return false
}

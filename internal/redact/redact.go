// Package redact removes the places where a value shown to people (a
// start-up summary, an error, a log line) can carry a secret.
package redact

import (
	"net/url"
	"strings"
)

// unparsable stands for a URL that cannot be cleaned.
const unparsable = "(a URL that does not parse)"

// URL returns raw without user information, query and fragment, the
// places where a URL can carry a secret. A value that is not an absolute
// URL (a host name without a scheme) is returned as it is unless it holds
// one of '@', '?' or '#'; a URL that does not parse becomes
// "(a URL that does not parse)".
func URL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil:
		return unparsable
	case u.Host == "":
		if strings.ContainsAny(raw, "@?#") {
			return unparsable
		}
		return raw
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

// URLList returns raw, a comma-separated list of URLs such as the server
// list a NATS client accepts, with each URL cleaned by [URL] and the
// spaces around them removed.
func URLList(raw string) string {
	if strings.TrimSpace(raw) == "" {
		return ""
	}
	parts := strings.Split(raw, ",")
	for i, p := range parts {
		parts[i] = URL(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}

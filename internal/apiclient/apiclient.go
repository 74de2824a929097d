// Package apiclient holds what the platform API clients of Parley share:
// checking a configured base URL, the default User-Agent, and reading a
// Retry-After header.
package apiclient

import (
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// modulePath is the module whose version goes into the User-Agent.
const modulePath = "github.com/parleybot/parley"

// BaseURL checks that raw is an absolute http(s) URL without user
// information (a credential there would be logged and shown in errors),
// query or fragment, and returns it with exactly one trailing slash on its
// path, so that relative references resolve below it. Errors start with
// pkg, the client's package name ("sendbee: invalid Config.BaseURL …").
func BaseURL(pkg, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: invalid Config.BaseURL: cannot parse it as a URL", pkg)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s: invalid Config.BaseURL: must not contain user information", pkg)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%s: invalid Config.BaseURL %q: must be an absolute http or https URL", pkg, raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%s: invalid Config.BaseURL %q: missing host", pkg, raw)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("%s: invalid Config.BaseURL %q: must not have a query or fragment", pkg, raw)
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/"
	if u.RawPath != "" {
		u.RawPath = strings.TrimRight(u.RawPath, "/") + "/"
	}
	return u, nil
}

var version = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	v := ""
	if bi.Main.Path == modulePath {
		v = bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath {
			v = d.Version
		}
	}
	if v == "" || v == "(devel)" {
		return "dev"
	}
	return v
})

// UserAgent returns "parley-<product>/<version>", the version being the
// parley module's as recorded in the build information ("dev" when none).
func UserAgent(product string) string { return "parley-" + product + "/" + version() }

// HTTPClient returns the default HTTP client of an API client: its own
// connection pool (so that closing its idle connections touches nothing
// else in the process), the given overall timeout, and no automatic
// redirects, so that credential headers never follow a redirect to another
// host.
func HTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Transport: http.DefaultTransport.(*http.Transport).Clone(),
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// RetryAfter reads a Retry-After value: delay seconds, or an HTTP date
// (RFC 9110 §10.2.3) taken relative to now. A missing, malformed or past
// value is zero.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs != secs || secs > float64(1<<31) {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

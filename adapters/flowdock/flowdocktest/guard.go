package flowdocktest

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// foreignPage reports why r, a request to a control endpoint (/_sim/),
// may come from a web page of another site, which the controls do not
// answer: a page can make a browser post a customer's message to an
// emulator on this machine, or, through DNS rebinding, read what it holds.
// It refuses a request whose Origin is not the emulator's own (browsers
// send one with every cross-site post), and, on a loopback listener, one
// addressed to a name that is not a loopback one. It returns "" for a
// request that may go on.
func foreignPage(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return "the request comes from a page of another site (Origin " + o + ")"
		}
	}
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if tcp, ok := local.(*net.TCPAddr); ok && tcp.IP.IsLoopback() && !loopbackName(r.Host) {
		return "the emulator listens on a loopback address, and the request names " + r.Host
	}
	return ""
}

// loopbackName reports whether hostport names this machine: localhost, a
// name under .localhost, or a loopback address.
func loopbackName(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

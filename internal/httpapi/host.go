package httpapi

import (
	"net/http"
	"net/netip"
	"strings"
)

// errNotLocal is the 421 of a request, to a service without keys, whose
// Host is not a loopback name or address.
var errNotLocal = &httpError{http.StatusMisdirectedRequest,
	"Without API keys this service answers local callers only: the Host header must be localhost, an address in 127.0.0.0/8 or [::1]."}

// localCallersOnly is the rule of a service without API keys: it answers
// local callers only, so a request whose Host is not a loopback name or
// address (IsLoopbackHost) is a 421 Misdirected Request (RFC 9110 section
// 15.5.20: this server will not answer for that name). Listening on
// loopback keeps other hosts out; this keeps out the web pages a local
// browser opens, which can rebind a name of their own to 127.0.0.1 (DNS
// rebinding) and then read and change every bond as their own origin: the
// browser still sends their name as Host. A request without a Host (HTTP/1.0
// allows it; net/http refuses an HTTP/1.1 one) names no other server, and
// no browser sends one, so it passes.
func localCallersOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "" && !IsLoopbackHost(r.Host) {
			writeError(w, r, errNotLocal)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// IsLoopbackHost reports whether hostport, a Host header's value (RFC 9110
// section 7.2: host, then an optional ":" and port digits, RFC 3986 section
// 3.2.2), names the local machine: the name localhost, in any case and with
// or without the trailing dot of its absolute form (RFC 6761 section 6.3:
// it never leaves the machine, so no one else's DNS can answer for it), an
// IPv4 address in 127.0.0.0/8, or an IPv6 loopback address in brackets
// ([::1], and 127.0.0.0/8 mapped to IPv6), without a zone. Any other name
// is not, nor is an empty string.
func IsLoopbackHost(hostport string) bool {
	host, port := hostport, ""
	if rest, ok := strings.CutPrefix(hostport, "["); ok {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return false
		}
		host, port = rest[:end], rest[end+1:]
		addr, err := netip.ParseAddr(host)
		if err != nil || !addr.Is6() || addr.Zone() != "" || !addr.IsLoopback() {
			return false
		}
		return validPort(port)
	}
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		host, port = hostport[:i], hostport[i:]
	}
	if !validPort(port) {
		return false
	}
	if strings.EqualFold(host, "localhost") || strings.EqualFold(host, "localhost.") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Is4() && addr.IsLoopback()
}

// validPort reports whether p is empty or ":" and digits (RFC 3986: port =
// *DIGIT).
func validPort(p string) bool {
	if p == "" {
		return true
	}
	if p[0] != ':' {
		return false
	}
	for _, c := range []byte(p[1:]) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

package httpapi

import (
	"net/http"
	"net/url"
	"strings"
)

// normalizePath decodes the percent-encoded unreserved characters of a
// request's path before it is routed (RFC 3986 section 6.2.2.2: %41 and A
// are the same character, so /bo%6Eds/W%31 is /bonds/W1). net/url keeps the
// path as sent in RawPath when it holds an escape, and chi routes on
// RawPath: without this, such a spelling of a route was a 404, and its
// parameters kept their escapes. Other escapes (%2F, %20) stay as sent.
func normalizePath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if raw := r.URL.RawPath; raw != "" {
			raw = decodeUnreserved(raw)
			if raw == (&url.URL{Path: r.URL.Path}).EscapedPath() {
				raw = "" // the default spelling of Path: routed on Path itself
			}
			r.URL.RawPath = raw
		}
		next.ServeHTTP(w, r)
	})
}

// decodeUnreserved returns p with each %XX that encodes an unreserved
// character (ALPHA, DIGIT, '-', '.', '_', '~'; RFC 3986 section 2.3)
// replaced by the character.
func decodeUnreserved(p string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) {
			if c, err := url.PathUnescape(p[i : i+3]); err == nil && isUnreserved(c[0]) {
				b.WriteByte(c[0])
				i += 2
				continue
			}
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// isUnreserved reports whether c is an RFC 3986 unreserved character.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

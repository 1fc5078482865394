package httpapi

import "net/http"

// securityHeaders sets, on every answer, the headers that keep a browser
// from reading it as something else or showing it in another site's frame:
// X-Content-Type-Options: nosniff (the declared Content-Type is the type),
// X-Frame-Options: DENY, and a Content-Security-Policy that allows nothing
// (default-src 'none'; frame-ancestors 'none'), since a JSON answer loads
// nothing. The Swagger UI page replaces the policy with its own
// (api.DocsHandler).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}

// personalData marks the answers of routes that hold bonds, and so names and
// emails, as Cache-Control: private, no-cache. RFC 9111 section 5.2.2.7:
// a shared cache (a proxy, a CDN) must not store a private response;
// section 5.2.2.4: a cache that does store it (the client's own) must
// revalidate it with the origin before each use, which the ETag makes
// cheap (If-None-Match, 304). no-store would forbid that revalidation.
func personalData(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private, no-cache")
		next.ServeHTTP(w, r)
	})
}

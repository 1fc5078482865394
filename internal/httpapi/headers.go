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
		h["X-Content-Type-Options"] = valueNosniff
		h["X-Frame-Options"] = valueDeny
		h["Content-Security-Policy"] = valueNoContent
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
		w.Header()["Cache-Control"] = valuePrivate
		next.ServeHTTP(w, r)
	})
}

// The header values set on every answer, built once. Header.Set would
// build a new one-element slice each time; these are assigned to the
// header map under their canonical names (http.CanonicalHeaderKey) instead.
// Each has capacity 1, so Header.Add appends to a copy, never into the
// shared array, and Set replaces the slice.
var (
	valueNosniff   = fixedValue("nosniff")
	valueDeny      = fixedValue("DENY")
	valueNoContent = fixedValue("default-src 'none'; frame-ancestors 'none'")
	valuePrivate   = fixedValue("private, no-cache")
	valueJSON      = fixedValue("application/json")
)

// fixedValue returns the header value v as a field's values.
func fixedValue(v string) []string { return []string{v}[:1:1] }

// setHeader sets the field key, which must be in canonical form (Etag,
// X-Request-Id), to v: Header.Set would allocate to canonicalise a name
// such as ETag on each call.
func setHeader(h http.Header, key, v string) { h[key] = []string{v} }

package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// SameAnswer holds the bare server to the service's header fields: one of
// another value or a missing one is a difference; Date, X-Request-Id,
// Content-Length and ETag only need to be there.
func TestSameAnswer(t *testing.T) {
	d := Generate(3, 1)
	bare := httptest.NewServer(BareHandler(d))
	defer bare.Close()
	other := httptest.NewServer(BareHandler(d))
	defer other.Close()
	path := "/bonds/" + BondID(1)
	if err := SameAnswer(bare.URL, other.URL, path); err != nil {
		t.Fatalf("two bare servers differ: %v", err)
	}
	for name, change := range map[string]func(http.Header){
		"a fixed field changed": func(h http.Header) { h.Set("X-Frame-Options", "SAMEORIGIN") },
		"a field missing":       func(h http.Header) { h.Del("Cache-Control") },
		"no request id":         func(h http.Header) { h.Del("X-Request-Id") },
	} {
		changed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			BareHandler(d).ServeHTTP(rec, r)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			change(w.Header())
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		}))
		if err := SameAnswer(bare.URL, changed.URL, path); err == nil {
			t.Errorf("%s: no difference found", name)
		}
		changed.Close()
	}
}

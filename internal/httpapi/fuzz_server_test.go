package httpapi_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/bondregistry/bond-registry/internal/boltstore"
	"github.com/bondregistry/bond-registry/internal/httpapi"
)

// FuzzRequestLine sends any request line (method and target, /docs/* and
// /openapi.* among the seeds, testdata/fuzz/FuzzRequestLine) that net/http
// parses to the whole server: no input reaches a library error that
// becomes a 5xx (http-swagger answered GET /docs/a%FFb with a 500).
func FuzzRequestLine(f *testing.F) {
	for _, s := range [][2]string{
		{"GET", "/docs/a%FFb"}, {"GET", "/docs/index.html"}, {"GET", "/docs/x/doc.json"}, {"GET", "/docs/a:b"},
		{"GET", "/docs/%zz"}, {"HEAD", "/docs/swagger-ui.css?x=1"}, {"GET", "/docs/..%2f..%2fetc%2fpasswd"},
		{"GET", "/openapi.json"}, {"GET", "/openapi.yaml?a=%FF"}, {"GET", "/bonds?limit=%FF"},
		{"POST", "/bonds/%FF/subscribers"}, {"GET", "*"}, {"OPTIONS", "*"}, {"GET", "http://x/docs/%2e%2e/"},
	} {
		f.Add(s[0], s[1])
	}
	repo, err := boltstore.Open(filepath.Join(f.TempDir(), "bonds.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = repo.Close() })
	h := httpapi.NewServer(zerolog.Nop(), repo, httpapi.Config{})
	f.Fuzz(func(t *testing.T, method, target string) {
		line := method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n"
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(line)))
		if err != nil || strings.ContainsAny(method+target, " \r\n") {
			return // net/http answers it itself (400), before any handler
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code >= 500 {
			t.Fatalf("%q: %d %s", line, rec.Code, rec.Body)
		}
	})
}

package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
)

// inlineScript matches a script element without attributes: the page's own
// start-up code, which a Content-Security-Policy must name by hash.
var inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)

// docsCSP is the Content-Security-Policy of the Swagger UI page (CSP Level
// 3): scripts, styles, images and fetches from the service itself only;
// the page's one inline script by its SHA-256, so no injected script runs;
// inline styles, which Swagger UI sets on its elements; no plugins, no
// <base>, and no framing (frame-ancestors 'none', as X-Frame-Options: DENY
// says to older browsers), so a page that holds a key after Authorize
// cannot be framed by another site.
func docsCSP(ui http.Handler) string {
	policy := []string{"default-src 'none'", "script-src 'self'" + scriptHashes(ui),
		"style-src 'self' 'unsafe-inline'", "img-src 'self' data:", "connect-src 'self'", "font-src 'self'",
		"object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"}
	return strings.Join(policy, "; ")
}

// scriptHashes renders the UI's index page once and returns the CSP
// sources (" 'sha256-...'") of its inline scripts.
func scriptHashes(ui http.Handler) string {
	page := &pageBuffer{header: http.Header{}}
	req, _ := http.NewRequest(http.MethodGet, DocsPrefix+"/index.html", nil) // a constant URL parses
	req.RequestURI = DocsPrefix + "/index.html"
	ui.ServeHTTP(page, req)
	var out strings.Builder
	for _, m := range inlineScript.FindAllSubmatch(page.body.Bytes(), -1) {
		sum := sha256.Sum256(m[1])
		out.WriteString(" 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'")
	}
	return out.String()
}

// pageBuffer is the http.ResponseWriter that scriptHashes renders into.
type pageBuffer struct {
	header http.Header
	body   bytes.Buffer
}

func (p *pageBuffer) Header() http.Header         { return p.header }
func (p *pageBuffer) Write(b []byte) (int, error) { return p.body.Write(b) }
func (p *pageBuffer) WriteHeader(int)             {}

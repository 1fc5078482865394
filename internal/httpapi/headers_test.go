package httpapi_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/httpapi/apitest"
	"github.com/bondregistry/bond-registry/internal/metrics"
)

// Every answer, success or error, says nosniff and may not be framed; the
// answers that hold bonds (names, emails) are private, no-cache, and a
// cached copy still revalidates with its ETag (304).
func TestServer_SecurityHeaders(t *testing.T) {
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{Metrics: metrics.New("test")}))
	create := `{"bond_id": "B1", "host_account_id": "H", "sub_account_id": "S", "host_cost_center": "c", "sub_cost_center": "d",
		"subscribers": {"bob": {"sid": "bob", "name": "Bob", "email": "bob@example.com"}}}`
	for _, r := range []struct {
		method, path, body string
		status             int
		personal           bool
	}{
		{http.MethodPost, "/bonds", create, 201, true},
		{http.MethodGet, "/bonds", "", 200, true},
		{http.MethodGet, "/bonds/", "", 200, true},
		{http.MethodGet, "/bonds/B1", "", 200, true},
		{http.MethodHead, "/bonds/B1", "", 200, true},
		{http.MethodPut, "/bonds/B1", `{"host_cost_center": "red"}`, 200, true},
		{http.MethodGet, "/bonds/B1/subscribers", "", 200, true},
		{http.MethodGet, "/bonds/B1/subscribers/bob", "", 200, true},
		{http.MethodPost, "/bonds/B1/subscribers", `{"sid": "eve", "name": "Eve", "email": "eve@example.com"}`, 200, true},
		{http.MethodDelete, "/bonds/B1/subscribers/eve", "", 200, true},
		{http.MethodGet, "/bonds/NOPE", "", 404, true},
		{http.MethodPost, "/bonds", "{", 422, true},
		{http.MethodGet, "/healthz", "", 200, false},
		{http.MethodGet, "/readyz", "", 200, false},
		{http.MethodGet, "/health_check", "", 200, false},
		{http.MethodGet, "/metrics", "", 200, false},
		{http.MethodGet, "/openapi.json", "", 200, false},
		{http.MethodGet, "/no/such/path", "", 404, false},
		{http.MethodPatch, "/bonds/B1", "", 405, false},
	} {
		res := c.Do(t, r.method, r.path, r.body, nil)
		name := r.method + " " + r.path
		require.Equal(t, r.status, res.Status, "%s: %s", name, res.Body)
		assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"), name)
		assert.Equal(t, "DENY", res.Header.Get("X-Frame-Options"), name)
		assert.Equal(t, "default-src 'none'; frame-ancestors 'none'", res.Header.Get("Content-Security-Policy"), name)
		if r.personal {
			assert.Equal(t, "private, no-cache", res.Header.Get("Cache-Control"), name)
		} else {
			assert.Empty(t, res.Header.Get("Cache-Control"), name)
		}
	}
	res := c.Do(t, http.MethodGet, "/bonds/B1", "", nil)
	etag := res.Header.Get("ETag")
	require.NotEmpty(t, etag)
	res = c.Do(t, http.MethodGet, "/bonds/B1", "", map[string]string{"If-None-Match": etag})
	assert.Equal(t, http.StatusNotModified, res.Status, "revalidation with the ETag")
	assert.Equal(t, "private, no-cache", res.Header.Get("Cache-Control"), "a 304 repeats Cache-Control (RFC 9110 section 15.4.5)")
}

// The Swagger UI page has its own policy: its inline script by hash, its
// files, its document, nothing from elsewhere, and no framing.
func TestDocs_SecurityHeaders(t *testing.T) {
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{}))
	for _, path := range []string{"/docs/index.html", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"} {
		res := c.Do(t, http.MethodGet, path, "", nil)
		require.Equal(t, http.StatusOK, res.Status, path)
		csp := res.Header.Get("Content-Security-Policy")
		assert.Equal(t, "DENY", res.Header.Get("X-Frame-Options"), path)
		assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"), path)
		for _, want := range []string{"default-src 'none'", "connect-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
			assert.Contains(t, csp, want, path)
		}
		assert.NotContains(t, csp, "http", "no other origin: %s", csp)
		for _, d := range strings.Split(csp, "; ") {
			if strings.HasPrefix(d, "script-src ") {
				assert.Equal(t, "script-src 'self' '"+scriptHash(t, c), d, "the page's own inline script only")
			}
		}
	}
}

// scriptHash is the CSP source of the one inline script of the docs page,
// without its leading quote.
func scriptHash(t *testing.T, c *apitest.Client) string {
	t.Helper()
	page := c.Do(t, http.MethodGet, "/docs/index.html", "", nil).Body
	m := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllSubmatch(page, -1)
	require.Len(t, m, 1, "one inline script")
	sum := sha256.Sum256(m[0][1])
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

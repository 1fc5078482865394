package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/httpapi"
)

func TestServer_Docs(t *testing.T) {
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{}))
	c.HTTP.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	t.Run("openapi.json", func(t *testing.T) {
		res := c.Do(t, http.MethodGet, "/openapi.json", "", nil)
		require.Equal(t, http.StatusOK, res.Status)
		assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
		var doc struct {
			OpenAPI string `json:"openapi"`
		}
		require.NoError(t, json.Unmarshal(res.Body, &doc))
		assert.Regexp(t, `^3\.`, doc.OpenAPI)
	})
	t.Run("openapi.yaml", func(t *testing.T) {
		res := c.Do(t, http.MethodGet, "/openapi.yaml", "", nil)
		require.Equal(t, http.StatusOK, res.Status)
		assert.Equal(t, "application/yaml", res.Header.Get("Content-Type"))
		assert.Contains(t, string(res.Body), "openapi: ")
	})
	t.Run("docs redirects to the UI", func(t *testing.T) {
		res := c.Do(t, http.MethodGet, "/docs", "", nil)
		assert.Contains(t, []int{http.StatusFound, http.StatusMovedPermanently}, res.Status)
		assert.Equal(t, "/docs/index.html", res.Header.Get("Location"))
	})
	t.Run("docs UI", func(t *testing.T) {
		res := c.Do(t, http.MethodGet, "/docs/index.html", "", nil)
		require.Equal(t, http.StatusOK, res.Status)
		assert.Contains(t, res.Header.Get("Content-Type"), "text/html")
	})
}

// HEAD is served on every GET route, the Swagger UI's assets included (the
// attacker found 405 there).
func TestDocs_Head(t *testing.T) {
	h := httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{})
	for _, path := range []string{"/docs/index.html", "/docs/swagger-ui.css", "/openapi.json"} {
		get, head := httptest.NewRecorder(), httptest.NewRecorder()
		h.ServeHTTP(get, httptest.NewRequest(http.MethodGet, path, nil))
		h.ServeHTTP(head, httptest.NewRequest(http.MethodHead, path, nil))
		assert.Equal(t, http.StatusOK, get.Code, path)
		assert.Equal(t, get.Code, head.Code, path)
		assert.Equal(t, get.Header().Get("Content-Type"), head.Header().Get("Content-Type"), path)
	}
}

// Nothing under /docs is a library error: http-swagger answered a name
// that is not UTF-8 (a%FFb) with a 500, and doc.json below /docs/ too
// (it reads an empty registry there). The fuzz target FuzzRequestLine
// searches for more.
func TestDocs_NoLibraryErrors(t *testing.T) {
	h := httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{})
	for path, want := range map[string]int{
		"/docs/a%FFb":          http.StatusNotFound,
		"/docs/a:b":            http.StatusNotFound, // was the directory listing of the UI's files
		"/docs/nope.js":        http.StatusNotFound,
		"/docs/x/doc.json":     http.StatusOK,
		"/docs/swagger-ui.css": http.StatusOK,
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		assert.Equal(t, want, rec.Code, path)
		if want >= 400 {
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"), path)
		}
	}
}

package httpapi_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/api"
	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/httpapi/apitest"
	"github.com/bondregistry/bond-registry/internal/metrics"
	"github.com/bondregistry/bond-registry/internal/transfer"
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
		h.ServeHTTP(get, httptest.NewRequest(http.MethodGet, "http://localhost"+path, nil))
		h.ServeHTTP(head, httptest.NewRequest(http.MethodHead, "http://localhost"+path, nil))
		assert.Equal(t, http.StatusOK, get.Code, path)
		assert.Equal(t, get.Code, head.Code, path)
		assert.Equal(t, get.Header().Get("Content-Type"), head.Header().Get("Content-Type"), path)
	}
}

// Nothing under /docs is a library error: http-swagger answered a name
// that is not UTF-8 (a%FFb) with a 500, and doc.json below /docs/ too
// (it reads an empty registry there); it served the last segment of any
// path (/docs/nope/index.html was the page) and redirected one ending in
// "/" with an HTML 301. Only the UI's exact names directly under /docs/
// are served. The fuzz target FuzzRequestLine searches for more.
func TestDocs_NoLibraryErrors(t *testing.T) {
	h := httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{})
	for path, want := range map[string]int{
		"/docs/a%FFb":                         http.StatusNotFound,
		"/docs/a:b":                           http.StatusNotFound, // was the directory listing of the UI's files
		"/docs/nope.js":                       http.StatusNotFound,
		"/docs/x/doc.json":                    http.StatusNotFound,
		"/docs/nope/index.html":               http.StatusNotFound,
		"/docs/a/b/c/index.html":              http.StatusNotFound,
		"/docs/swagger-ui.css/swagger-ui.css": http.StatusNotFound,
		"/docs/swagger-ui.css/":               http.StatusNotFound,
		"/docs/doc.json":                      http.StatusOK,
		"/docs/swagger-ui.css":                http.StatusOK,
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://localhost"+path, nil))
		assert.Equal(t, want, rec.Code, path)
		if want >= 400 {
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"), path)
		}
	}
}

// The docs page works as a newcomer uses it: "Try it out" fills each
// parameter with its example (or its schema's default), so every read
// operation of the document, sent with those values, succeeds against the
// seed data of `make run` (localdb/02-load-data.json); preconditions have
// none (a made-up version is a 412), and the create example is a bond the
// seed does not have (FOO was a 409).
func TestDocs_TryItOutDefaults(t *testing.T) {
	repo := newBoltRepo(t)
	f, err := os.Open(filepath.Join("..", "..", "localdb", "02-load-data.json"))
	require.NoError(t, err)
	defer f.Close()
	rep, err := transfer.Import(t.Context(), repo, f)
	require.NoError(t, err)
	require.Empty(t, rep.Refused)
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), repo, httpapi.Config{Metrics: metrics.New("test")}))

	doc, err := openapi3.NewLoader().LoadFromData(api.YAML())
	require.NoError(t, err)
	reads := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			params := append(slices.Clone(item.Parameters), op.Parameters...)
			target, query, header := path, url.Values{}, apitest.Header{}
			for _, ref := range params {
				p := ref.Value
				v, ok := tryItOutValue(p)
				if p.In == openapi3.ParameterInHeader && (p.Name == "If-Match" || p.Name == "If-None-Match") {
					assert.False(t, ok, "%s %s: the precondition %s has an example or default (%q)", method, path, p.Name, v)
				}
				if !ok {
					require.False(t, p.Required, "%s %s: the required %s has no example", method, path, p.Name)
					continue
				}
				switch p.In {
				case openapi3.ParameterInPath:
					target = strings.ReplaceAll(target, "{"+p.Name+"}", url.PathEscape(v))
				case openapi3.ParameterInQuery:
					query.Set(p.Name, v)
				case openapi3.ParameterInHeader:
					header[p.Name] = v
				}
			}
			if len(query) > 0 {
				target += "?" + query.Encode()
			}
			switch method {
			case http.MethodGet, http.MethodHead:
				reads++
				res := c.Do(t, method, target, "", header)
				assert.True(t, res.Status >= 200 && res.Status < 300, "%s %s: %d %.300s", method, target, res.Status, res.Body)
			case http.MethodPost:
				if path != "/bonds" {
					continue
				}
				for name, ex := range op.RequestBody.Value.Content["application/json"].Examples {
					b, err := json.Marshal(ex.Value.Value)
					require.NoError(t, err)
					res := c.Do(t, method, target, string(b), apitest.Header{"Content-Type": "application/json"})
					assert.Equal(t, http.StatusCreated, res.Status, "the create example %s: %.300s", name, res.Body)
				}
			}
		}
	}
	assert.GreaterOrEqual(t, reads, 6, "the document's read operations")
}

// tryItOutValue is what Swagger UI fills a parameter with: its example, the
// first of its examples, or its schema's example or default.
func tryItOutValue(p *openapi3.Parameter) (string, bool) {
	var v any
	switch {
	case p.Example != nil:
		v = p.Example
	case len(p.Examples) > 0:
		v = p.Examples[slices.Sorted(maps.Keys(p.Examples))[0]].Value.Value
	case p.Schema != nil && p.Schema.Value.Example != nil:
		v = p.Schema.Value.Example
	case p.Schema != nil && p.Schema.Value.Default != nil:
		v = p.Schema.Value.Default
	default:
		return "", false
	}
	return fmt.Sprint(v), true
}

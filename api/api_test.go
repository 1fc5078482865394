package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/bondregistry/bond-registry/api"
)

func mustLoad(t *testing.T, data []byte) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(data)
	require.NoError(t, err, "load the document")
	return doc
}

func TestDocument_Validates(t *testing.T) {
	for name, data := range map[string][]byte{"yaml": api.YAML(), "json": api.JSON()} {
		t.Run(name, func(t *testing.T) {
			doc := mustLoad(t, data)
			// Validate also checks every example against its schema.
			require.NoError(t, doc.Validate(context.Background()))
			assert.Equal(t, "3.0.3", doc.OpenAPI)
			assert.Equal(t, "1.0.0", doc.Info.Version)
		})
	}
}

// TestDocument_Routes pins the routes of the README ("The API in brief") and the status codes
// each can answer with, so that dropping one from the document fails here too.
// internal/httpapi's TestContract_EveryStatus makes the service answer each of
// them (or names it unreachable, with why) and nothing else, so this table and
// the service cannot drift apart.
func TestDocument_Routes(t *testing.T) {
	doc := mustLoad(t, api.YAML())
	tests := []struct {
		method, path string
		statuses     []string
	}{
		{"GET", "/health_check", []string{"200", "421", "431", "500", "503"}},
		{"GET", "/healthz", []string{"200", "421", "431"}},
		{"GET", "/readyz", []string{"200", "421", "431", "500", "503"}},
		{"GET", "/bonds", []string{"200", "400", "401", "403", "409", "421", "422", "431", "500", "503"}},
		{"POST", "/bonds", []string{"201", "400", "401", "403", "409", "413", "415", "421", "422", "431", "500", "503"}},
		{"GET", "/bonds/{bond_id}", []string{"200", "304", "400", "401", "403", "404", "409", "412", "421", "422", "431", "500", "503"}},
		{"PUT", "/bonds/{bond_id}", []string{"200", "400", "401", "403", "404", "409", "412", "413", "415", "421", "422", "431", "500", "503"}},
		{"DELETE", "/bonds/{bond_id}", []string{"204", "400", "401", "403", "409", "412", "421", "422", "431", "500", "503"}},
		{"GET", "/bonds/{bond_id}/subscribers", []string{"200", "304", "400", "401", "403", "404", "409", "412", "421", "422", "431", "500", "503"}},
		{"POST", "/bonds/{bond_id}/subscribers", []string{"200", "400", "401", "403", "404", "409", "412", "413", "415", "421", "422", "431", "500", "503"}},
		{"GET", "/bonds/{bond_id}/revisions", []string{"200", "400", "401", "403", "404", "409", "421", "422", "431", "500", "503"}},
		{"GET", "/bonds/{bond_id}/revisions/{revision}", []string{"200", "304", "400", "401", "403", "404", "409", "412", "421", "422", "431", "500", "503"}},
		{"POST", "/bonds/{bond_id}/revisions/{revision}/restore", []string{"200", "400", "401", "403", "404", "409", "412", "421", "422", "431", "500", "503"}},
		{"GET", "/bonds/{bond_id}/subscribers/{sid}", []string{"200", "304", "400", "401", "403", "404", "409", "412", "421", "422", "431", "500", "503"}},
		{"DELETE", "/bonds/{bond_id}/subscribers/{sid}", []string{"200", "400", "401", "403", "404", "409", "412", "421", "422", "431", "500", "503"}},
		{"GET", "/metrics", []string{"200", "400", "401", "403", "404", "421", "431", "500", "503"}},
		{"GET", "/openapi.json", []string{"200", "400", "401", "403", "421", "431", "500", "503"}},
		{"GET", "/openapi.yaml", []string{"200", "400", "401", "403", "421", "431", "500", "503"}},
	}
	var want []string
	for _, tt := range tests {
		want = append(want, tt.method+" "+tt.path)
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			item := doc.Paths.Value(tt.path)
			require.NotNil(t, item, "path")
			op := item.GetOperation(tt.method)
			require.NotNil(t, op, "operation")
			var got []string
			for code, ref := range op.Responses.Map() {
				got = append(got, code)
				require.NotNil(t, ref.Value, code)
				assert.Contains(t, ref.Value.Headers, "X-Request-ID", "response %s", code)
			}
			slices.Sort(got)
			assert.Equal(t, tt.statuses, got)
			assert.Nil(t, op.Responses.Default(), "no default response: an undocumented status must fail the contract check")
			if slices.Contains(tt.statuses, "503") {
				assert.Equal(t, "#/components/responses/InternalError", op.Responses.Value("500").Ref, "a store-backed route can fail")
			}
			assert.NotEmpty(t, op.Summary)
			assert.NotEmpty(t, op.OperationID)
			if slices.Contains(tt.statuses, "401") {
				assert.Contains(t, []any{"bonds:read", "bonds:write"}, op.Extensions["x-scope"], "a guarded operation names its scope")
				assert.Contains(t, op.Responses.Value("401").Value.Headers, "WWW-Authenticate")
			} else {
				require.NotNil(t, op.Security, "an open operation says so (security: [])")
				assert.Empty(t, *op.Security)
			}
		})
	}
	t.Run("no other operations", func(t *testing.T) {
		var got []string
		for path, item := range doc.Paths.Map() {
			for method := range item.Operations() {
				got = append(got, method+" "+path)
			}
		}
		assert.ElementsMatch(t, want, got)
	})
}

func TestDocument_Headers(t *testing.T) {
	doc := mustLoad(t, api.YAML())
	header := func(path, method, status, name string) *openapi3.Header {
		t.Helper()
		ref := doc.Paths.Value(path).GetOperation(method).Responses.Value(status)
		require.NotNil(t, ref, "%s %s %s", method, path, status)
		h := ref.Value.Headers[name]
		require.NotNil(t, h, "%s %s %s: header %s", method, path, status, name)
		return h.Value
	}
	tests := []struct {
		name                        string
		path, method, status, hname string
		required                    bool
	}{
		{"ETag on GET", "/bonds/{bond_id}", "GET", "200", "ETag", true},
		{"ETag on 304", "/bonds/{bond_id}", "GET", "304", "ETag", true},
		{"ETag on PUT", "/bonds/{bond_id}", "PUT", "200", "ETag", true},
		{"ETag on create", "/bonds", "POST", "201", "ETag", true},
		{"Location on create", "/bonds", "POST", "201", "Location", true},
		{"ETag on subscriber add", "/bonds/{bond_id}/subscribers", "POST", "200", "ETag", true},
		{"ETag on subscriber remove", "/bonds/{bond_id}/subscribers/{sid}", "DELETE", "200", "ETag", true},
		{"Link on list", "/bonds", "GET", "200", "Link", false},
		{"Retry-After on 503", "/bonds", "GET", "503", "Retry-After", true},
		{"Retry-After on readyz", "/readyz", "GET", "503", "Retry-After", true},
		{"X-Request-ID", "/healthz", "GET", "200", "X-Request-ID", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := header(tt.path, tt.method, tt.status, tt.hname)
			assert.Equal(t, tt.required, got.Required)
		})
	}
	t.Run("request headers", func(t *testing.T) {
		op := doc.Paths.Value("/bonds/{bond_id}").Put
		var names []string
		for _, p := range op.Parameters {
			names = append(names, p.Value.In+":"+p.Value.Name)
		}
		assert.Subset(t, names, []string{"header:If-Match", "header:X-Request-ID"})
		get := doc.Paths.Value("/bonds/{bond_id}").Get
		assert.NotNil(t, get.Parameters.GetByInAndName("header", "If-None-Match"))
	})
}

func TestDocument_BondSchema(t *testing.T) {
	doc := mustLoad(t, api.YAML())
	bond := doc.Components.Schemas["Bond"].Value
	foo := doc.Components.Examples["BondFOO"].Value.Value
	tests := []struct {
		name   string
		mutate func(m map[string]any)
		ok     bool
	}{
		{"example FOO", func(map[string]any) {}, true},
		{"extra field", func(m map[string]any) { m["version"] = 3 }, false},
		{"missing subscribers", func(m map[string]any) { delete(m, "subscribers") }, false},
		{"slash in bond_id", func(m map[string]any) { m["bond_id"] = "a/b" }, false},
		{"empty account", func(m map[string]any) { m["host_account_id"] = "" }, false},
		{"long cost center", func(m map[string]any) { m["sub_cost_center"] = strings.Repeat("x", 129) }, false},
		{"number for a string", func(m map[string]any) { m["sub_account_id"] = 7.0 }, false},
		{"subscriber without email", func(m map[string]any) {
			subs := m["subscribers"].(map[string]any)
			subs["x"] = map[string]any{"sid": "x", "name": "X"}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			b, err := json.Marshal(foo)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &m))
			tt.mutate(m)
			err = bond.VisitJSON(m, openapi3.VisitAsResponse())
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	t.Run("equals the YAML", func(t *testing.T) {
		var fromYAML any
		require.NoError(t, yaml.Unmarshal(api.YAML(), &fromYAML))
		normalized, err := json.Marshal(fromYAML) // map[string]any all the way down
		require.NoError(t, err)
		var want, got any
		require.NoError(t, json.Unmarshal(normalized, &want))
		require.NoError(t, json.Unmarshal(api.JSON(), &got))
		assert.Equal(t, want, got)
	})
	t.Run("keeps the order of the YAML", func(t *testing.T) {
		js := string(api.JSON())
		first := strings.Index(js, `"/bonds":`)
		last := strings.Index(js, `"/openapi.yaml":`)
		require.Positive(t, first)
		assert.Less(t, first, last)
		assert.True(t, strings.HasPrefix(js, `{"openapi":"3.0.3","info":`), js[:40])
	})
	t.Run("same bytes every call", func(t *testing.T) {
		assert.Equal(t, &api.JSON()[0], &api.JSON()[0])
	})
}

func get(t *testing.T, h http.Handler, target string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

// assetRefs are the src and href attributes of a page.
var assetRefs = regexp.MustCompile(`(?:src|href)\s*=\s*"([^"]*)"`)

func TestDocsHandler(t *testing.T) {
	h := api.DocsHandler()

	for _, path := range []string{"/docs", "/docs/"} {
		t.Run("redirect "+path, func(t *testing.T) {
			res := get(t, h, path)
			assert.Equal(t, http.StatusFound, res.StatusCode)
			assert.Equal(t, "/docs/index.html", res.Header.Get("Location"))
		})
	}

	res := get(t, h, "/docs/index.html")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	page := body(t, res)

	t.Run("index points at /openapi.json", func(t *testing.T) {
		// html/template escapes "/" in a JS string; the browser reads "/openapi.json".
		assert.Contains(t, page, `url: "\/openapi.json"`)
		assert.Contains(t, page, `validatorUrl: null`)
		assert.NotContains(t, page, "doc.json")
	})

	refs := assetRefs.FindAllStringSubmatch(page, -1)
	require.GreaterOrEqual(t, len(refs), 3, "the page links its scripts and styles")
	for _, m := range refs {
		ref := m[1]
		t.Run("asset "+ref, func(t *testing.T) {
			assert.True(t, strings.HasPrefix(ref, "./"), "relative to /docs/, never another host: %q", ref)
			res := get(t, h, "/docs/"+strings.TrimPrefix(ref, "./"))
			assert.Equal(t, http.StatusOK, res.StatusCode)
			assert.NotEmpty(t, body(t, res))
		})
	}

	t.Run("no external host in the page", func(t *testing.T) {
		// The only absolute URLs in the page are XML namespace names of
		// the inline SVG, which are never fetched.
		for _, u := range regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.-]+[^"\s]*`).FindAllString(page, -1) {
			assert.Contains(t, []string{"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, u)
		}
		script := page[strings.LastIndex(page, "<script>"):]
		assert.NotContains(t, script, "http")
		assert.NotContains(t, script, "//")
	})

	t.Run("stylesheet fetches nothing", func(t *testing.T) {
		css := body(t, get(t, h, "/docs/swagger-ui.css"))
		require.NotEmpty(t, css)
		assert.NotContains(t, css, "@import")
		for _, u := range regexp.MustCompile(`url\(\s*"?([^)"]*)`).FindAllStringSubmatch(css, -1) {
			assert.True(t, strings.HasPrefix(u[1], "data:"), "css url(%s)", u[1])
		}
	})

	t.Run("query string", func(t *testing.T) {
		res := get(t, h, "/docs/index.html?x=1")
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Contains(t, body(t, res), "SwaggerUIBundle")
	})

	t.Run("doc.json is the document", func(t *testing.T) {
		res := get(t, h, "/docs/doc.json")
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.JSONEq(t, string(api.JSON()), body(t, res))
	})

	t.Run("unknown asset", func(t *testing.T) {
		assert.Equal(t, http.StatusNotFound, get(t, h, "/docs/nope.js").StatusCode)
	})

	// http-swagger serves the last segment of any path: these were the
	// page, the stylesheet, or an HTML 301. Only the exact names directly
	// under /docs/ are served.
	for _, p := range []string{"/docs/nope/index.html", "/docs/a/b/c/index.html",
		"/docs/swagger-ui.css/swagger-ui.css", "/docs/swagger-ui.css/", "/docs/x/", "/docs//index.html",
		"/docs/x/doc.json", "/docs/./index.html", "/docs/index%2Ehtml", "/docs/swagger-ui%2Ecss", "/docs/%2E%2E/index.html"} {
		t.Run("not a file "+p, func(t *testing.T) {
			res := get(t, h, p)
			assert.Equal(t, http.StatusNotFound, res.StatusCode)
			assert.Empty(t, res.Header.Get("Location"))
		})
	}

	t.Run("outside /docs", func(t *testing.T) {
		assert.Equal(t, http.StatusNotFound, get(t, h, "/docsx/index.html").StatusCode)
	})

	t.Run("POST", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/docs/index.html", nil))
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	})
}

// The release version is written once, in the VERSION file: the OpenAPI
// document's info.version and CHANGELOG.md's latest release equal it.
func TestDocument_VersionIsTheRelease(t *testing.T) {
	b, err := os.ReadFile("../VERSION")
	require.NoError(t, err)
	release := strings.TrimSpace(string(b))
	assert.Regexp(t, `^[0-9]+\.[0-9]+\.[0-9]+$`, release, "VERSION is a semantic version")
	assert.Equal(t, release, mustLoad(t, api.YAML()).Info.Version, "api/openapi.yaml info.version")

	changelog, err := os.ReadFile("../CHANGELOG.md")
	require.NoError(t, err)
	latest := regexp.MustCompile(`(?m)^## \[([0-9]+\.[0-9]+\.[0-9]+)\] - [0-9]{4}-[0-9]{2}-[0-9]{2}$`).FindSubmatch(changelog)
	require.NotNil(t, latest, "CHANGELOG.md has a release heading")
	assert.Equal(t, release, string(latest[1]), "CHANGELOG.md's latest release")
	assert.Contains(t, string(changelog), "\n[Unreleased]: ", "the Unreleased link")
}

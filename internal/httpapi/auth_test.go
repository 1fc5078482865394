package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/api"
	"github.com/bondregistry/bond-registry/internal/apikey"
	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/httpapi/apitest"
	"github.com/bondregistry/bond-registry/internal/metrics"
	"github.com/bondregistry/bond-registry/internal/openapicheck"
)

// testKeys makes a key set of a reader (bonds:read), a writer (bonds:write)
// and an admin (both) and returns it with the three keys.
func testKeys(t *testing.T) (set *apikey.Set, read, write, admin string) {
	t.Helper()
	var keys []apikey.Key
	for _, k := range []struct {
		name   string
		scopes []string
		key    *string
	}{
		{"reader", []string{apikey.ScopeRead}, &read},
		{"writer", []string{apikey.ScopeWrite}, &write},
		{"admin", []string{apikey.ScopeRead, apikey.ScopeWrite}, &admin},
	} {
		key, parsed, err := apikey.Generate(k.name, k.scopes)
		require.NoError(t, err)
		*k.key = key
		keys = append(keys, parsed)
	}
	set, err := apikey.NewSet(keys)
	require.NoError(t, err)
	return set, read, write, admin
}

func bearer(key string) apitest.Header { return apitest.Header{"Authorization": "Bearer " + key} }

// TestAuth_EveryRoute sends every route with no key, a wrong key, a read key
// and a write key, and checks the route's guard (routes.go) against the
// scope the document gives it (x-scope); every exchange is also checked
// against the document.
func TestAuth_EveryRoute(t *testing.T) {
	set, read, write, admin := testKeys(t)
	var logs syncBuffer
	log := newECSLogger(&logs)
	c := newClient(t, httpapi.NewServer(log, newBoltRepo(t), httpapi.Config{
		APIKeys: set, Metrics: metrics.New("test"),
	}))
	bond := `{"bond_id": "%s", "host_account_id": "H%s", "sub_account_id": "S%s", "host_cost_center": "c", "sub_cost_center": "d",
		"subscribers": {"bob": {"sid": "bob", "name": "Bob", "email": "bob@example.com"}}}`
	require.Equal(t, http.StatusCreated, c.Do(t, http.MethodPost, "/bonds", strings.ReplaceAll(bond, "%s", "B1"), bearer(admin)).Status)

	routes := []struct {
		method, path, body string
		scope              string // "" is open
		ok                 int    // the status with a key that has the scope
	}{
		{http.MethodGet, "/healthz", "", "", 200},
		{http.MethodGet, "/readyz", "", "", 200},
		{http.MethodGet, "/health_check", "", "", 200},
		{http.MethodGet, "/bonds", "", apikey.ScopeRead, 200},
		{http.MethodGet, "/bonds/", "", apikey.ScopeRead, 200},
		{http.MethodGet, "/bonds/B1", "", apikey.ScopeRead, 200},
		{http.MethodGet, "/bonds/B1/subscribers", "", apikey.ScopeRead, 200},
		{http.MethodGet, "/bonds/B1/subscribers/", "", apikey.ScopeRead, 200},
		{http.MethodGet, "/bonds/B1/subscribers/bob", "", apikey.ScopeRead, 200},
		{http.MethodGet, "/metrics", "", apikey.ScopeRead, 200},
		{http.MethodGet, "/openapi.json", "", apikey.ScopeRead, 200},
		{http.MethodGet, "/openapi.yaml", "", apikey.ScopeRead, 200},
		{http.MethodPost, "/bonds", strings.ReplaceAll(bond, "%s", "B2"), apikey.ScopeWrite, 201},
		{http.MethodPost, "/bonds/", strings.ReplaceAll(bond, "%s", "B3"), apikey.ScopeWrite, 201},
		{http.MethodPut, "/bonds/B2", `{"host_cost_center": "red"}`, apikey.ScopeWrite, 200},
		{http.MethodDelete, "/bonds/B3", "", apikey.ScopeWrite, 204},
		{http.MethodPost, "/bonds/B1/subscribers", `{"sid": "carol", "name": "Carol", "email": "carol@example.com"}`, apikey.ScopeWrite, 200},
		{http.MethodPost, "/bonds/B1/subscribers/", `{"sid": "dave", "name": "Dave", "email": "dave@example.com"}`, apikey.ScopeWrite, 200},
		{http.MethodDelete, "/bonds/B1/subscribers/bob", "", apikey.ScopeWrite, 200},
	}
	doc, err := openapi3.NewLoader().LoadFromData(api.YAML())
	require.NoError(t, err)
	router := mustRouter(t, doc)
	for _, r := range routes {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			// The guard of routes.go is the scope the document states.
			route, _, err := router.FindRoute(httptest.NewRequest(r.method, "http://localhost"+r.path, nil))
			require.NoError(t, err)
			if r.scope == "" {
				require.NotNil(t, route.Operation.Security)
				assert.Empty(t, *route.Operation.Security, "an open route is security: [] in the document")
			} else {
				assert.Equal(t, r.scope, route.Operation.Extensions["x-scope"], "x-scope of the document")
			}

			if r.scope == "" {
				assert.Equal(t, r.ok, c.Do(t, r.method, r.path, r.body, nil).Status, "no key")
				assert.Equal(t, r.ok, c.Do(t, r.method, r.path, r.body, bearer("brk_wrong")).Status, "wrong key")
				return
			}
			res := c.Do(t, r.method, r.path, r.body, nil)
			assert.Contains(t, wantError(t, res, http.StatusUnauthorized), "API key is required")
			assert.Equal(t, `Bearer realm="bond-registry"`, res.Header.Get("WWW-Authenticate"))

			for _, h := range []apitest.Header{bearer("brk_wrong"), bearer(read + "x"), {"X-API-Key": "brk_wrong"}} {
				res = c.Do(t, r.method, r.path, r.body, h)
				assert.Equal(t, "The API key is not valid.", wantError(t, res, http.StatusUnauthorized))
				assert.Equal(t, `Bearer realm="bond-registry", error="invalid_token"`, res.Header.Get("WWW-Authenticate"))
			}
			res = c.Do(t, r.method, r.path, r.body, apitest.Header{"Authorization": "Basic " + read})
			wantError(t, res, http.StatusUnauthorized)
			assert.NotEmpty(t, res.Header.Get("WWW-Authenticate"))

			// The key without the scope first, so that a write happens once.
			allowed, denied := read, write
			if r.scope == apikey.ScopeWrite {
				allowed, denied = write, read
			}
			res = c.Do(t, r.method, r.path, r.body, bearer(denied))
			assert.Equal(t, "The API key does not have the scope "+r.scope+".", wantError(t, res, http.StatusForbidden))
			assert.Empty(t, res.Header.Get("WWW-Authenticate"))
			if r.method == http.MethodGet {
				res = c.Do(t, r.method, r.path, r.body, apitest.Header{"X-API-Key": allowed})
				assert.Equal(t, r.ok, res.Status, "X-API-Key: %s", res.Body)
			}
			res = c.Do(t, r.method, r.path, r.body, apitest.Header{"Authorization": "bearer " + allowed}) // the scheme is case-insensitive
			assert.Equal(t, r.ok, res.Status, "%s", res.Body)
		})
	}

	// The access line names the key (ECS user.name), never the key itself.
	lines := waitLines(t, &logs, 1)
	names := map[string]int{}
	for _, l := range lines {
		if l["message"] == "request" {
			if n, ok := l["user.name"].(string); ok {
				names[n]++
			}
		}
	}
	assert.Positive(t, names["reader"])
	assert.Positive(t, names["writer"])
	assert.Positive(t, names["admin"])
	all := logs.String()
	for _, key := range []string{read, write, admin} {
		assert.NotContains(t, all, key)
		assert.NotContains(t, all, strings.TrimPrefix(key, apikey.Prefix))
	}
}

// TestAuth_PublicMetricsAndDocs: the settings open /metrics and the
// documents while the bond routes stay guarded.
func TestAuth_PublicMetricsAndDocs(t *testing.T) {
	set, _, _, _ := testKeys(t)
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{
		APIKeys: set, Metrics: metrics.New("test"), PublicMetrics: true, PublicDocs: true,
	}))
	for _, path := range []string{"/metrics", "/openapi.json", "/openapi.yaml", "/docs/index.html"} {
		assert.Equal(t, http.StatusOK, c.Do(t, http.MethodGet, path, "", nil).Status, path)
	}
	wantError(t, c.Do(t, http.MethodGet, "/bonds", "", nil), http.StatusUnauthorized)
}

// TestAuth_NoKeysNoGuard: the zero Config asks for no key (cmd/bond-registry
// then listens on loopback only).
func TestAuth_NoKeysNoGuard(t *testing.T) {
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{Metrics: metrics.New("test")}))
	for _, path := range []string{"/bonds", "/metrics", "/openapi.json"} {
		assert.Equal(t, http.StatusOK, c.Do(t, http.MethodGet, path, "", nil).Status, path)
	}
	assert.Equal(t, http.StatusOK, c.Do(t, http.MethodGet, "/bonds", "", bearer("brk_anything")).Status)
}

// A request presents one credential: two Authorization lines, two X-API-Key
// lines, or the two headers with different keys are a JSON 400 (RFC 9110
// section 5.3, RFC 6750 section 3.1), never decided by the first line. The
// same key in both headers is one credential.
func TestAuth_OneCredential(t *testing.T) {
	set, read, write, admin := testKeys(t)
	srv := httptest.NewServer(httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{APIKeys: set}))
	t.Cleanup(srv.Close)
	v := openapicheck.New(t)
	send := func(t *testing.T, method, path string, lines [][2]string) (*http.Response, []byte) {
		t.Helper()
		return sendChecked(t, srv, v, method, path, "", func(req *http.Request) {
			for _, l := range lines {
				req.Header.Add(l[0], l[1])
			}
		})
	}
	for name, lines := range map[string][][2]string{
		"two Authorization, admin first": {{"Authorization", "Bearer " + admin}, {"Authorization", "Bearer " + read}},
		"two Authorization, same key":    {{"Authorization", "Bearer " + write}, {"Authorization", "Bearer " + write}},
		"two X-API-Key":                  {{"X-API-Key", admin}, {"X-API-Key", "brk_wrong"}},
		"both headers, different keys":   {{"Authorization", "Bearer " + admin}, {"X-API-Key", read}},
		"two Authorization, one empty":   {{"Authorization", "Bearer " + admin}, {"Authorization", ""}},
	} {
		t.Run(name, func(t *testing.T) {
			for _, route := range [][2]string{{http.MethodGet, "/bonds"}, {http.MethodPost, "/bonds"}, {http.MethodDelete, "/bonds/B1"}} {
				res, body := send(t, route[0], route[1], lines)
				require.Equal(t, http.StatusBadRequest, res.StatusCode, "%s %s: %s", route[0], route[1], body)
				assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
				assert.Contains(t, string(body), "Send one API key, once")
				assert.Equal(t, `Bearer realm="bond-registry", error="invalid_request"`, res.Header.Get("WWW-Authenticate"))
			}
		})
	}
	res, body := send(t, http.MethodGet, "/bonds", [][2]string{{"Authorization", "Bearer " + read}, {"X-API-Key", read}})
	assert.Equal(t, http.StatusOK, res.StatusCode, "the same key in both headers: %s", body)
}

// mustRouter returns a kin-openapi router of doc.
func mustRouter(t *testing.T, doc *openapi3.T) routers.Router {
	t.Helper()
	r, err := legacy.NewRouter(doc)
	require.NoError(t, err)
	return r
}

package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/bond/bondfake"
	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/httpapi/apitest"
)

// storeRoutes is one request per route that calls the store.
var storeRoutes = []struct {
	method, path, body string
}{
	{http.MethodGet, "/health_check", ""},
	{http.MethodGet, "/readyz", ""},
	{http.MethodGet, "/bonds", ""},
	{http.MethodPost, "/bonds", `{"bond_id": "B1", "host_account_id": "H", "sub_account_id": "S", "host_cost_center": "c", "sub_cost_center": "d"}`},
	{http.MethodGet, "/bonds/B1", ""},
	{http.MethodPut, "/bonds/B1", `{"host_cost_center": "red"}`},
	{http.MethodDelete, "/bonds/B1", ""},
	{http.MethodGet, "/bonds/B1/subscribers", ""},
	{http.MethodPost, "/bonds/B1/subscribers", `{"sid": "bob", "name": "Bob", "email": "bob@example.com"}`},
	{http.MethodGet, "/bonds/B1/subscribers/bob", ""},
	{http.MethodDelete, "/bonds/B1/subscribers/bob", ""},
	{http.MethodGet, "/bonds/B1/revisions", ""},
	{http.MethodGet, "/bonds/B1/revisions/1", ""},
	{http.MethodPost, "/bonds/B1/revisions/1/restore", ""},
}

// wantError checks a JSON error body with the given status.
func wantError(t *testing.T, res apitest.Response, status int) string {
	t.Helper()
	require.Equal(t, status, res.Status, "body: %s", res.Body)
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	var body struct {
		Detail string `json:"detail"`
	}
	require.NoError(t, json.Unmarshal(res.Body, &body), "body: %s", res.Body)
	require.NotEmpty(t, body.Detail)
	return body.Detail
}

func TestServer_StoreUnavailable(t *testing.T) {
	down := bond.Unavailable("get item", errors.New("dial tcp 127.0.0.1:8000: connection refused"))
	repo := failing(newBoltRepo(t), down, false)
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), repo, httpapi.Config{}))

	for _, r := range storeRoutes {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			res := c.Do(t, r.method, r.path, r.body, nil)
			detail := wantError(t, res, http.StatusServiceUnavailable)
			assert.Equal(t, "1", res.Header.Get("Retry-After"))
			assert.NotContains(t, detail, "127.0.0.1", "the cause stays out of the response")
		})
	}
	t.Run("healthz does not call the store", func(t *testing.T) {
		assert.Equal(t, http.StatusOK, c.Do(t, http.MethodGet, "/healthz", "", nil).Status)
	})
}

func TestServer_PingFailureWithoutKindIs503(t *testing.T) {
	repo := &bondfake.Repo{Repository: newBoltRepo(t), PingFn: func(context.Context) error { return errors.New("boom") }}
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), repo, httpapi.Config{}))
	for _, path := range []string{"/health_check", "/readyz"} {
		res := c.Do(t, http.MethodGet, path, "", nil)
		wantError(t, res, http.StatusServiceUnavailable)
		assert.Equal(t, "1", res.Header.Get("Retry-After"))
	}
}

func TestServer_Deadline(t *testing.T) {
	const timeout = 50 * time.Millisecond
	repo := failing(newBoltRepo(t), nil, true) // every call waits for its context to end

	for _, r := range storeRoutes {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			// A server each: the probes share one store check a second,
			// so a second probe would get the first one's answer at once.
			c := newClient(t, httpapi.NewServer(zerolog.Nop(), repo, httpapi.Config{RequestTimeout: timeout}))
			start := time.Now()
			res := c.Do(t, r.method, r.path, r.body, nil)
			elapsed := time.Since(start)
			wantError(t, res, http.StatusServiceUnavailable)
			assert.Equal(t, "1", res.Header.Get("Retry-After"))
			assert.GreaterOrEqual(t, elapsed, timeout, "waited for the deadline")
			assert.Less(t, elapsed, 2*time.Second, "answered soon after the deadline")
		})
	}
}

// The 500 tests: api/openapi.yaml lists 500 (InternalError) on every
// store-backed operation, for a failure no client input may cause.
func TestServer_InternalError(t *testing.T) {
	var logs syncBuffer
	log := newECSLogger(&logs)
	repo := &bondfake.Repo{Repository: newBoltRepo(t), ReadFn: func(context.Context, string) (bond.Bond, bool, error) {
		return bond.Bond{}, false, errors.New("read page 7: checksum mismatch")
	}}
	c := newClient(t, httpapi.NewServer(log, repo, httpapi.Config{}))

	res := c.Do(t, http.MethodGet, "/bonds/B1", "", apitest.Header{"X-Request-ID": "req-500"})
	detail := wantError(t, res, http.StatusInternalServerError)
	assert.Equal(t, "Internal server error.", detail)
	assert.NotContains(t, string(res.Body), "checksum")

	lines := waitLines(t, &logs, 2)
	var errLines []map[string]any
	for _, l := range lines {
		if l["log.level"] == "error" {
			errLines = append(errLines, l)
		}
	}
	require.Len(t, errLines, 1, "the cause is logged once: %v", lines)
	assert.Equal(t, "req-500", errLines[0]["http.request.id"])
	assert.Contains(t, errLines[0]["error.message"], "checksum mismatch")
}

func TestServer_Panic(t *testing.T) {
	var logs syncBuffer
	log := newECSLogger(&logs)
	repo := &bondfake.Repo{Repository: newBoltRepo(t), ReadFn: func(context.Context, string) (bond.Bond, bool, error) {
		panic("nil map somewhere")
	}}
	c := newClient(t, httpapi.NewServer(log, repo, httpapi.Config{}))

	res := c.Do(t, http.MethodGet, "/bonds/B1", "", nil)
	assert.Equal(t, "Internal server error.", wantError(t, res, http.StatusInternalServerError))
	assert.NotContains(t, string(res.Body), "nil map")
	assert.NotEmpty(t, res.Header.Get("X-Request-ID"))

	lines := waitLines(t, &logs, 2)
	var sawPanic, sawAccess bool
	for _, l := range lines {
		switch l["message"] {
		case "handler panicked":
			sawPanic = true
			assert.Equal(t, "error", l["log.level"])
			assert.Equal(t, res.Header.Get("X-Request-ID"), l["http.request.id"])
			assert.Equal(t, "nil map somewhere", l["error.message"])
			assert.Contains(t, l["error.stack_trace"], "runtime/debug.Stack")
		case "request":
			sawAccess = true
			assert.InDelta(t, 500, l["http.response.status_code"], 0)
		}
	}
	assert.True(t, sawPanic, "panic logged: %v", lines)
	assert.True(t, sawAccess, "access line written: %v", lines)
}

func TestServer_StoreRejectsCursor(t *testing.T) {
	repo := &bondfake.Repo{Repository: newBoltRepo(t), ListFn: func(context.Context, bond.Filter, string, int, func(bond.Bond, func() string) bool) error {
		return bond.ErrBadCursor()
	}}
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), repo, httpapi.Config{}))
	res := c.Do(t, http.MethodGet, "/bonds", "", nil)
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	assert.Contains(t, string(res.Body), `"loc":["query","next_token"]`)
}

// TestServer_TokenKey checks that instances with the same key accept each
// other's page tokens, and that instances with different keys do not.
func TestServer_TokenKey(t *testing.T) {
	repo := newBoltRepo(t)
	for _, id := range []string{"A", "B", "C"} {
		_, err := bond.Create(t.Context(), repo, bond.Bond{BondID: id, HostAccountID: "H" + id, SubAccountID: "S" + id,
			HostCostCenter: "c", SubCostCenter: "d"})
		require.NoError(t, err)
	}
	server := func(key string) *apitest.Client {
		return newClient(t, httpapi.NewServer(zerolog.Nop(), repo, httpapi.Config{TokenKey: []byte(key)}))
	}
	one, two, other := server("shared-key"), server("shared-key"), server("other-key")

	res := one.Do(t, http.MethodGet, "/bonds?limit=1", "", nil)
	require.Equal(t, http.StatusOK, res.Status)
	link := res.Header.Get("Link")
	require.NotEmpty(t, link)
	next := strings.TrimPrefix(strings.SplitN(link, ">", 2)[0], "<")

	assert.Equal(t, http.StatusOK, two.Do(t, http.MethodGet, next, "", nil).Status, "same key: accepted")
	assert.Equal(t, http.StatusUnprocessableEntity, other.Do(t, http.MethodGet, next, "", nil).Status, "other key: refused")
}

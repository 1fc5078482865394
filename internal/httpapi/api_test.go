package httpapi_test

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/boltstore"
	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/httpapi/apitest"
	"github.com/bondregistry/bond-registry/internal/openapicheck"
)

// newBoltRepo opens a fresh bolt store in the test's temporary directory.
func newBoltRepo(t *testing.T) bond.Repository {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "bonds.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// TestAPI_Bolt runs the HTTP suite on the bolt store (the suite checks every
// request/response pair against api/openapi.yaml).
func TestAPI_Bolt(t *testing.T) {
	apitest.RunAPITests(t, newBoltRepo)
}

// newClient serves h for the test; every exchange is checked against
// api/openapi.yaml, as in the suite.
func newClient(t *testing.T, h http.Handler) *apitest.Client {
	t.Helper()
	v := openapicheck.New(t)
	return apitest.NewClient(t, h, apitest.WithCheck(
		func(t *testing.T, req *http.Request, res *http.Response, body []byte) {
			v.Check(t, req, res, body)
		}))
}

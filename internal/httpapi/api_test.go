package httpapi_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/boltstore"
	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/httpapi/apitest"
)

// newBoltRepo opens a fresh bolt store in the test's temporary directory.
func newBoltRepo(t *testing.T) bond.Repository {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "bonds.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestAPI_Bolt(t *testing.T) {
	apitest.RunAPITests(t, newBoltRepo)
}

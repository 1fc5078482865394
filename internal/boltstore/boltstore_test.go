package boltstore_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/boltstore"
	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/bond/bondtest"
)

// mustOpen opens a store in a fresh temporary directory, closed at cleanup.
func mustOpen(tb testing.TB) *boltstore.Store {
	tb.Helper()
	s, err := boltstore.Open(filepath.Join(tb.TempDir(), "data", "bonds.db"))
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore_Repository(t *testing.T) {
	bondtest.RunRepositoryTests(t, func(t *testing.T) bond.Repository { return mustOpen(t) })
}

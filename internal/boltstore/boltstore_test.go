package boltstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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

func TestOpen(t *testing.T) {
	t.Run("OK creates the parent directories", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a", "b", "bonds.db")
		s, err := boltstore.Open(path)
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		_, err = os.Stat(path)
		require.NoError(t, err)
	})
	t.Run("OK reopen keeps the data", func(t *testing.T) {
		ctx := t.Context()
		path := filepath.Join(t.TempDir(), "bonds.db")
		s, err := boltstore.Open(path)
		require.NoError(t, err)
		_, err = bond.Create(ctx, s, newBond("A", "H", "S"))
		require.NoError(t, err)
		_, err = bond.Create(ctx, s, newBond("B", "H", "S2"))
		require.NoError(t, err)
		want, err := bond.PutSubscriber(ctx, s, "A", bond.Subscriber{SID: "bob", Name: "Bob", Email: "bob@example.com"}, bond.IfVersion(1))
		require.NoError(t, err)
		require.NoError(t, bond.Delete(ctx, s, "B", bond.IfVersion(bond.AnyVersion)))
		require.NoError(t, s.Close())

		s, err = boltstore.Open(path)
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		got, err := bond.Get(ctx, s, "A")
		require.NoError(t, err)
		assert.Equal(t, want, got)
		_, err = bond.Get(ctx, s, "B")
		assert.Equal(t, bond.KindNotFound, bond.KindOf(err))
		page, err := bond.ListPage(ctx, s, bond.Filter{ByHost: true, Account: "H"}, 10, "")
		require.NoError(t, err)
		assert.Equal(t, []bond.Bond{want}, page.Bonds, "indexes survive")
		_, err = bond.Create(ctx, s, newBond("C", "H", "S"))
		assert.Equal(t, bond.KindPairTaken, bond.KindOf(err), "the pair index survives")
	})
	t.Run("ErrLocked: a second open fails within the lock timeout", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "bonds.db")
		first, err := boltstore.Open(path)
		require.NoError(t, err)

		start := time.Now()
		second, err := boltstore.Open(path)
		elapsed := time.Since(start)
		if err == nil {
			_ = second.Close()
		}
		require.Error(t, err)
		assert.Contains(t, err.Error(), "locked by another process")
		assert.Contains(t, err.Error(), path)
		assert.Greater(t, elapsed, boltstore.LockTimeout/2, "it waits for the lock")
		assert.Less(t, elapsed, boltstore.LockTimeout+2*time.Second, "then gives up")

		require.NoError(t, first.Close())
		third, err := boltstore.Open(path)
		require.NoError(t, err, "open after the holder closed")
		require.NoError(t, third.Close())
	})
	t.Run("Err not a bolt file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "bonds.db")
		require.NoError(t, os.WriteFile(path, []byte(strings.Repeat("not a database ", 1000)), 0o600))
		_, err := boltstore.Open(path)
		require.Error(t, err)
		assert.Contains(t, err.Error(), path)
	})
}

func TestStore_Unavailable(t *testing.T) {
	// Every method, for a store that cannot serve it.
	calls := map[string]func(ctx context.Context, s *boltstore.Store) error{
		"Get": func(ctx context.Context, s *boltstore.Store) error { _, err := bond.Get(ctx, s, "A"); return err },
		"Create": func(ctx context.Context, s *boltstore.Store) error {
			_, err := bond.Create(ctx, s, newBond("N", "H", "S9"))
			return err
		},
		"Update": func(ctx context.Context, s *boltstore.Store) error {
			_, err := bond.UpdateBond(ctx, s, "A", bond.Update{}, bond.IfVersion(bond.AnyVersion))
			return err
		},
		"Delete": func(ctx context.Context, s *boltstore.Store) error {
			return bond.Delete(ctx, s, "A", bond.IfVersion(bond.AnyVersion))
		},
		"PutSubscriber": func(ctx context.Context, s *boltstore.Store) error {
			_, err := bond.PutSubscriber(ctx, s, "A", bond.Subscriber{SID: "x", Name: "x", Email: "x@x.io"}, bond.IfVersion(bond.AnyVersion))
			return err
		},
		"RemoveSubscriber": func(ctx context.Context, s *boltstore.Store) error {
			_, err := bond.RemoveSubscriber(ctx, s, "A", "rharper", bond.IfVersion(bond.AnyVersion))
			return err
		},
		"List": func(ctx context.Context, s *boltstore.Store) error {
			_, err := bond.ListPage(ctx, s, bond.Filter{}, 10, "")
			return err
		},
		"Ping": func(ctx context.Context, s *boltstore.Store) error { return s.Ping(ctx) },
	}
	t.Run("canceled context", func(t *testing.T) {
		s := mustOpen(t)
		_, err := bond.Create(t.Context(), s, newBond("A", "H", "S"))
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		for name, call := range calls {
			err := call(ctx, s)
			assert.Equal(t, bond.KindUnavailable, bond.KindOf(err), "%s: %v", name, err)
			assert.ErrorIs(t, err, context.Canceled, name)
		}
		got, err := bond.Get(t.Context(), s, "A")
		require.NoError(t, err)
		assert.Equal(t, int64(1), got.Version, "no write happened")
	})
	t.Run("closed store", func(t *testing.T) {
		s := mustOpen(t)
		require.NoError(t, s.Close())
		for name, call := range calls {
			err := call(t.Context(), s)
			assert.Equal(t, bond.KindUnavailable, bond.KindOf(err), "%s: %v", name, err)
		}
	})
}

func TestStore_List(t *testing.T) {
	ctx := t.Context()
	s := mustOpen(t)
	for i := range 5 {
		_, err := bond.Create(ctx, s, newBond(fmt.Sprintf("B%d", i), "H", fmt.Sprintf("S%d", i)))
		require.NoError(t, err)
	}
	hostH := bond.Filter{ByHost: true, Account: "H"}
	first, err := bond.ListPage(ctx, s, hostH, 2, "")
	require.NoError(t, err)
	require.NotEmpty(t, first.Next)

	t.Run("ErrInvalid cursor of another filter", func(t *testing.T) {
		for _, f := range []bond.Filter{
			{}, {Account: "H"}, {ByHost: true, Account: "H2"}, {ByHost: true, Account: "H", CostCenter: "teal"},
			{ByHost: true, CostCenter: "teal"},
		} {
			_, err := bond.ListPage(ctx, s, f, 2, first.Next)
			assert.Equal(t, bond.KindInvalid, bond.KindOf(err), "filter %+v: %v", f, err)
		}
	})
	t.Run("ErrInvalid limit below 1", func(t *testing.T) {
		_, err := bond.ListPage(ctx, s, hostH, 0, "")
		assert.Equal(t, bond.KindInvalid, bond.KindOf(err))
	})
	t.Run("OK cursor of a deleted bond still resumes after it", func(t *testing.T) {
		last := first.Bonds[len(first.Bonds)-1].BondID
		require.NoError(t, bond.Delete(ctx, s, last, bond.IfVersion(bond.AnyVersion)))
		rest, err := bond.ListPage(ctx, s, hostH, 10, first.Next)
		require.NoError(t, err)
		assert.Len(t, rest.Bonds, 3)
		assert.Empty(t, rest.Next)
	})
	t.Run("OK last full page has no Next", func(t *testing.T) {
		page, err := bond.ListPage(ctx, s, bond.Filter{}, 4, "")
		require.NoError(t, err)
		assert.Len(t, page.Bonds, 4)
		assert.Empty(t, page.Next, "4 bonds left, page of 4")
	})
}

func newBond(id, host, sub string) bond.Bond {
	return bond.Bond{BondID: id, HostAccountID: host, SubAccountID: sub, HostCostCenter: "teal", SubCostCenter: "yellow",
		Subscribers: map[string]bond.Subscriber{"rharper": {SID: "rharper", Name: "Richard Harper", Email: "rh@example.com"}}}
}

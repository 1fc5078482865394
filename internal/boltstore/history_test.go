package boltstore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/boltstore"
	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/bond/bondtest"
)

// revisionNumbers lists the numbers of id's revisions, newest first (none
// when it has no history).
func revisionNumbers(t *testing.T, s bond.Repository, id string) []int64 {
	t.Helper()
	page, err := bond.ListRevisions(context.Background(), s, id, bond.MaxPageLimit, 0)
	if bond.KindOf(err) == bond.KindNotFound {
		return nil
	}
	require.NoError(t, err)
	var ns []int64
	for _, r := range page.Revisions {
		ns = append(ns, r.Revision)
	}
	return ns
}

// TestStore_Sweep drives the retention sweep with its clock: a revision
// expires retention after the write that superseded it (a delete's after
// the delete), not before; the newest revision of an existing bond never
// does, however late the sweep.
func TestStore_Sweep(t *testing.T) {
	const retention = time.Hour
	ctx := context.Background()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "bonds.db"), boltstore.WithRetention(retention))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	before := time.Now().Add(-time.Second) // revision times are cut to the millisecond
	bondtest.WriteHistory(t, s)
	after := time.Now().Add(time.Second)
	require.Equal(t, []int64{3, 2, 1}, revisionNumbers(t, s, "A"))
	require.Equal(t, []int64{2, 1}, revisionNumbers(t, s, "B"))

	n, err := s.Sweep(ctx, before.Add(retention))
	require.NoError(t, err)
	assert.Zero(t, n, "nothing is due before the retention has passed")
	assert.Equal(t, []int64{3, 2, 1}, revisionNumbers(t, s, "A"))
	assert.Equal(t, []int64{2, 1}, revisionNumbers(t, s, "B"))

	n, err = s.Sweep(ctx, after.Add(retention))
	require.NoError(t, err)
	assert.Equal(t, 4, n, "A's two superseded revisions, B's two (the delete's included)")
	assert.Equal(t, []int64{3}, revisionNumbers(t, s, "A"), "the newest revision of an existing bond stays")
	assert.Empty(t, revisionNumbers(t, s, "B"), "a deleted bond's history expires whole")

	n, err = s.Sweep(ctx, after.Add(100*365*24*time.Hour))
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, []int64{3}, revisionNumbers(t, s, "A"), "never, however late the sweep")

	// A write after the sweep supersedes the kept revision: it expires in
	// its turn; numbering goes on.
	_, err = bond.RemoveSubscriber(ctx, s, "A", "s", bond.Precondition{})
	require.NoError(t, err)
	n, err = s.Sweep(ctx, time.Now().Add(retention+time.Second))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, []int64{4}, revisionNumbers(t, s, "A"))
	// B re-created after its history expired: its numbers go on too.
	_, err = bond.Create(ctx, s, bond.Bond{BondID: "B", HostAccountID: "H2", SubAccountID: "S", HostCostCenter: "c", SubCostCenter: "d"})
	require.NoError(t, err)
	assert.Equal(t, []int64{3}, revisionNumbers(t, s, "B"))
}

// TestStore_SweepWithoutRetention: a store without a retention keeps every
// revision.
func TestStore_SweepWithoutRetention(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	_, err := bond.Create(ctx, s, bond.Bond{BondID: "A", HostAccountID: "H", SubAccountID: "S", HostCostCenter: "c", SubCostCenter: "d"})
	require.NoError(t, err)
	require.NoError(t, bond.Delete(ctx, s, "A", bond.Precondition{}))
	n, err := s.Sweep(ctx, time.Now().Add(100*365*24*time.Hour))
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, []int64{2, 1}, revisionNumbers(t, s, "A"))
}

package boltstore

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// A damaged entry of the gone bucket makes the id unreadable at once; it
// used to count as the largest version, so that a create of the id was
// stored at a version the next read refused.
func TestGone_DamagedEntryIsUnreadable(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "bonds.db"))
	require.NoError(t, err)
	for id, v := range map[string][]byte{
		"G1": {0xff},                                                 // a truncated uvarint
		"G2": {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10}, // past bond.MaxVersion
		"G3": {0x03, 0x01, 0x00},                                     // trailing bytes
	} {
		require.NoError(t, s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketGone).Put([]byte(id), v) }))
		b := bond.Bond{BondID: id, HostAccountID: "H" + id, SubAccountID: "S", HostCostCenter: "c", SubCostCenter: "d"}
		_, err := bond.Create(t.Context(), s, b)
		require.Equal(t, bond.KindUnreadable, bond.KindOf(err), "%s: %v", id, err)
		_, err = bond.Get(t.Context(), s, id)
		require.Equal(t, bond.KindUnreadable, bond.KindOf(err), "%s: %v", id, err)
	}
	path := s.db.Path()
	require.NoError(t, s.Close())
	err = Check(path)
	require.ErrorIs(t, err, ErrDamaged, "check reads the gone bucket too")
	require.Contains(t, err.Error(), "3 problems")
}

// A record whose revision counter is behind its kept revisions is
// unreadable on its next write, which is undone whole: a kept revision is
// never replaced (the attacker's review found it replaced on DynamoDB).
func TestRevision_NeverReplaced(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "bonds.db"))
	require.NoError(t, err)
	defer s.Close()
	ctx := t.Context()
	b := bond.Bond{BondID: "RC", HostAccountID: "H", SubAccountID: "S", HostCostCenter: "c", SubCostCenter: "d"}
	_, err = bond.Create(ctx, s, b)
	require.NoError(t, err)
	v2 := "v2"
	cur, err := bond.UpdateBond(ctx, s, "RC", bond.Update{SubCostCenter: &v2}, bond.Precondition{})
	require.NoError(t, err)
	cur.Revision = 1 // wound back, as a record restored without its revisions
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketBonds).Put([]byte("RC"), encodeRecord(cur)) }))

	v3 := "v3"
	_, err = bond.UpdateBond(ctx, s, "RC", bond.Update{SubCostCenter: &v3}, bond.Precondition{})
	require.Equal(t, bond.KindUnreadable, bond.KindOf(err), "%v", err)
	require.Contains(t, err.Error(), "revision: 2 is already kept")
	r, err := bond.GetRevision(ctx, s, "RC", 2)
	require.NoError(t, err)
	require.Equal(t, "v2", r.Bond.SubCostCenter, "the kept revision is unchanged")
	got, err := bond.Get(ctx, s, "RC")
	require.NoError(t, err)
	require.Equal(t, "v2", got.SubCostCenter, "the refused change is undone whole")
}

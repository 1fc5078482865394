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

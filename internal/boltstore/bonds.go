package boltstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// Get returns the bond. KindNotFound.
func (s *Store) Get(ctx context.Context, id string) (bond.Bond, error) {
	var b bond.Bond
	err := s.view(ctx, "get bond "+id, func(tx *bolt.Tx) error {
		got, ok, err := getBond(tx, id)
		switch {
		case err != nil:
			return err
		case !ok:
			return bond.ErrNotFound(id)
		}
		b = got
		return nil
	})
	return b, err
}

// Create stores b as given. KindExists, KindPairTaken.
func (s *Store) Create(ctx context.Context, b bond.Bond) error {
	return s.write(ctx, "create bond "+b.BondID, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketBonds).Get([]byte(b.BondID)) != nil {
			return bond.ErrExists(b.BondID)
		}
		return putBond(tx, nil, b)
	})
}

// Modify is the read-check-write of bond id in one write transaction (see
// bond.Repository.Modify): transactions are serialised, so the bond cannot
// change between the read and the write.
func (s *Store) Modify(ctx context.Context, id string, pre bond.Precondition, change bond.Change) (bond.Bond, error) {
	var result bond.Bond
	err := s.write(ctx, "modify bond "+id, func(tx *bolt.Tx) error {
		cur, err := checkedBond(tx, id, pre)
		switch {
		case err != nil:
			return err
		case cur == nil:
			return bond.ErrNotFound(id)
		}
		next, changed, err := change(cur.Clone())
		if err != nil || !changed {
			result = *cur
			return err
		}
		next.Version = cur.Version + 1
		if err := putBond(tx, cur, next); err != nil {
			return err
		}
		result = next
		return nil
	})
	if err != nil {
		return bond.Bond{}, err
	}
	return result, nil
}

// Delete removes the bond after checking pre; a missing bond that pre
// allows is no error.
func (s *Store) Delete(ctx context.Context, id string, pre bond.Precondition) error {
	return s.write(ctx, "delete bond "+id, func(tx *bolt.Tx) error {
		cur, err := checkedBond(tx, id, pre)
		if err != nil || cur == nil {
			return err
		}
		return deleteBond(tx, *cur)
	})
}

// checkedBond reads bond id (nil when it does not exist) and checks pre
// against it.
func checkedBond(tx *bolt.Tx, id string, pre bond.Precondition) (*bond.Bond, error) {
	b, ok, err := getBond(tx, id)
	if err != nil {
		return nil, err
	}
	cur := &b
	if !ok {
		cur = nil
	}
	return cur, pre.Check(id, cur)
}

// getBond reads bond id; ok is false when it does not exist.
func getBond(tx *bolt.Tx, id string) (b bond.Bond, ok bool, err error) {
	data := tx.Bucket(bucketBonds).Get([]byte(id))
	if data == nil {
		return bond.Bond{}, false, nil
	}
	b, err = decodeRecord(id, data)
	return b, err == nil, err
}

// putBond writes b (replacing old when it is not nil) and its index entries.
// It checks the pair before writing anything, so its ErrPairTaken leaves the
// transaction clean (see Store.write).
func putBond(tx *bolt.Tx, old *bond.Bond, b bond.Bond) error {
	pairs := tx.Bucket(bucketPairs)
	pk := pairKey(b.HostAccountID, b.SubAccountID)
	if owner := pairs.Get(pk); owner != nil && string(owner) != b.BondID {
		return bond.ErrPairTaken(b.HostAccountID, b.SubAccountID, string(owner))
	}
	if old != nil {
		if err := deleteIndexes(tx, *old); err != nil {
			return err
		}
	}
	if err := pairs.Put(pk, []byte(b.BondID)); err != nil {
		return fmt.Errorf("put pair: %w", err)
	}
	for _, e := range indexEntries(b) {
		if err := tx.Bucket(e.bucket).Put(e.key, nil); err != nil {
			return fmt.Errorf("put %s index: %w", e.bucket, err)
		}
	}
	if err := tx.Bucket(bucketBonds).Put([]byte(b.BondID), encodeRecord(b)); err != nil {
		return fmt.Errorf("put bond: %w", err)
	}
	return nil
}

// deleteBond removes b and its index entries.
func deleteBond(tx *bolt.Tx, b bond.Bond) error {
	if err := deleteIndexes(tx, b); err != nil {
		return err
	}
	if err := tx.Bucket(bucketBonds).Delete([]byte(b.BondID)); err != nil {
		return fmt.Errorf("delete bond: %w", err)
	}
	return nil
}

func deleteIndexes(tx *bolt.Tx, b bond.Bond) error {
	pk := pairKey(b.HostAccountID, b.SubAccountID)
	pairs := tx.Bucket(bucketPairs)
	if owner := pairs.Get(pk); string(owner) == b.BondID {
		if err := pairs.Delete(pk); err != nil {
			return fmt.Errorf("delete pair: %w", err)
		}
	}
	for _, e := range indexEntries(b) {
		if err := tx.Bucket(e.bucket).Delete(e.key); err != nil {
			return fmt.Errorf("delete %s index: %w", e.bucket, err)
		}
	}
	return nil
}

type indexEntry struct {
	bucket []byte
	key    []byte
}

// indexEntries returns the secondary index keys of b (see the package doc).
func indexEntries(b bond.Bond) []indexEntry {
	return []indexEntry{
		{bucketHostAccount, indexKey(b.BondID, b.HostAccountID, b.HostCostCenter)},
		{bucketSubAccount, indexKey(b.BondID, b.SubAccountID, b.SubCostCenter)},
		{bucketHostCostCenter, indexKey(b.BondID, b.HostCostCenter)},
		{bucketSubCostCenter, indexKey(b.BondID, b.SubCostCenter)},
	}
}

package boltstore

import (
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// Read returns the stored bond id, or (found false) the last version and
// revision of its previous life from the gone bucket (see
// bond.Repository.Read).
// KindUnreadable.
func (s *Store) Read(ctx context.Context, id string) (b bond.Bond, found bool, err error) {
	err = s.view(ctx, "read bond "+id, func(tx *bolt.Tx) error {
		b, found, err = getBond(tx, id)
		return err
	})
	return b, found, err
}

// Create stores b and j where no bond has its id and the id's last life
// ended at prev (and, when j appends a revision, at revision b.Revision-1).
// KindExists, bond.ErrRace, KindPairTaken.
func (s *Store) Create(ctx context.Context, b bond.Bond, prev int64, j bond.Journal) error {
	return s.writeChange(ctx, "create bond "+b.BondID, j, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketBonds).Get([]byte(b.BondID)) != nil {
			return bond.ErrExists(b.BondID)
		}
		v, r, err := lastLife(tx, b.BondID)
		if err != nil {
			return err
		}
		if v != prev || (j.Revision != nil && r != b.Revision-1) {
			return bond.ErrRace
		}
		if err := putBond(tx, nil, b); err != nil {
			return err
		}
		if err := tx.Bucket(bucketGone).Delete([]byte(b.BondID)); err != nil {
			return fmt.Errorf("delete gone version: %w", err)
		}
		return nil
	})
}

// Replace stores next over old, and j, when the stored bond is still at
// old's version. bond.ErrRace, KindPairTaken.
func (s *Store) Replace(ctx context.Context, old, next bond.Bond, j bond.Journal) error {
	return s.writeChange(ctx, "replace bond "+old.BondID, j, func(tx *bolt.Tx) error {
		cur, err := current(tx, old)
		if err != nil {
			return err
		}
		if err := putBond(tx, &cur, next); err != nil {
			return err
		}
		return nil
	})
}

// Remove deletes old and stores j when the stored bond is still at old's
// version, and keeps that version and the last revision in the gone
// bucket. bond.ErrRace.
func (s *Store) Remove(ctx context.Context, old bond.Bond, j bond.Journal) error {
	return s.writeChange(ctx, "remove bond "+old.BondID, j, func(tx *bolt.Tx) error {
		cur, err := current(tx, old)
		if err != nil {
			return err
		}
		if err := deleteBond(tx, cur); err != nil {
			return err
		}
		gone := binary.AppendUvarint(binary.AppendUvarint(nil, uint64(old.Version)), uint64(j.LastRevision(old.Revision)))
		if err := tx.Bucket(bucketGone).Put([]byte(old.BondID), gone); err != nil {
			return fmt.Errorf("put gone version: %w", err)
		}
		return nil
	})
}

// writeChange runs change in one write transaction with j: first the check
// that no live record holds the key of j's idempotency record
// (bond.ErrKeyTaken, before anything is written, so the transaction stays
// clean: see Store.write), then change, then j's revision and record.
func (s *Store) writeChange(ctx context.Context, op string, j bond.Journal, change func(tx *bolt.Tx) error) error {
	return s.write(ctx, op, func(tx *bolt.Tx) error {
		if err := keyTaken(tx, j.Idempotency, j.IdempotencyAt); err != nil {
			return err
		}
		if err := change(tx); err != nil {
			return err
		}
		if r := j.Revision; r != nil && tx.Bucket(bucketRevisions).Get(revisionKey(r.BondID, r.Revision)) != nil {
			// A revision is never replaced; the change is undone with it.
			return rolledBack{bond.ErrRevisionKept(r.BondID, r.Revision)}
		}
		if err := s.putJournal(tx, j); err != nil {
			return err
		}
		return putRecord(tx, j.Idempotency, j.IdempotencyAt)
	})
}

// current reads the stored bond of old's id, bond.ErrRace when it is gone
// or no longer at old's version.
func current(tx *bolt.Tx, old bond.Bond) (bond.Bond, error) {
	cur, found, err := getBond(tx, old.BondID)
	switch {
	case err != nil:
		return bond.Bond{}, err
	case !found || cur.Version != old.Version:
		return bond.Bond{}, bond.ErrRace
	}
	return cur, nil
}

// lastLife returns the last version and revision of id's previous life, 0
// when it had none (an entry written before history holds no revision). An
// entry that does not decode is bond.ErrUnreadable: guessing a value could
// let a version repeat, or make every create of the id lose its race.
func lastLife(tx *bolt.Tx, id string) (version, revision int64, err error) {
	v := tx.Bucket(bucketGone).Get([]byte(id))
	if v == nil {
		return 0, 0, nil
	}
	damaged := bond.ErrUnreadable(id, "the record of its last life (gone bucket) is damaged")
	n, w := binary.Uvarint(v)
	if w <= 0 || n > bond.MaxVersion {
		return 0, 0, damaged
	}
	if len(v) == w {
		return int64(n), 0, nil
	}
	r, w2 := binary.Uvarint(v[w:])
	if w2 <= 0 || w+w2 != len(v) || r > bond.MaxRevision {
		return 0, 0, damaged
	}
	return int64(n), int64(r), nil
}

// getBond reads bond id; ok is false when it does not exist, and b.Version
// is then the last version of its previous life.
func getBond(tx *bolt.Tx, id string) (b bond.Bond, ok bool, err error) {
	data := tx.Bucket(bucketBonds).Get([]byte(id))
	if data == nil {
		v, r, err := lastLife(tx, id)
		return bond.Bond{Version: v, Revision: r}, false, err
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

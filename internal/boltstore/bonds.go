package boltstore

import (
	"context"
	"fmt"
	"maps"

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

// Create stores b at version 1. KindExists, KindPairTaken.
func (s *Store) Create(ctx context.Context, b bond.Bond) (bond.Bond, error) {
	b.Version = 1
	b.Subscribers = maps.Clone(b.Subscribers)
	if b.Subscribers == nil {
		b.Subscribers = map[string]bond.Subscriber{}
	}
	err := s.write(ctx, "create bond "+b.BondID, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketBonds).Get([]byte(b.BondID)) != nil {
			return bond.ErrExists(b.BondID)
		}
		return putBond(tx, nil, b)
	})
	if err != nil {
		return bond.Bond{}, err
	}
	return b, nil
}

// Update applies u to the stored bond. KindNotFound, KindPairTaken,
// KindVersionMismatch, KindInvalid (too many subscribers, too large).
func (s *Store) Update(ctx context.Context, id string, u bond.Update, ifVersion int64) (bond.Bond, error) {
	if u.Subscribers != nil {
		// Apply shares the map; the stored bond must not share the caller's.
		subs := maps.Clone(*u.Subscribers)
		u.Subscribers = &subs
	}
	return s.modify(ctx, "update bond "+id, id, ifVersion, bond.ErrNotFound(id),
		func(b bond.Bond) (bond.Bond, bool, error) {
			b = u.Apply(b)
			if len(b.Subscribers) > bond.MaxSubscribers {
				return b, false, bond.ErrTooManySubscribers("body", "subscribers")
			}
			if bond.ItemSize(b) > bond.MaxItemBytes {
				return b, false, bond.ErrTooLarge("body")
			}
			return b, true, nil
		})
}

// Delete removes the bond. A missing bond is no error unless ifVersion is
// given (KindVersionMismatch, as for a stale version).
func (s *Store) Delete(ctx context.Context, id string, ifVersion int64) error {
	return s.write(ctx, "delete bond "+id, func(tx *bolt.Tx) error {
		old, ok, err := getBond(tx, id)
		switch {
		case err != nil:
			return err
		case !ok && ifVersion != bond.AnyVersion:
			return bond.ErrVersionMismatch(id, ifVersion)
		case !ok:
			return nil
		case ifVersion != bond.AnyVersion && old.Version != ifVersion:
			return bond.ErrVersionMismatch(id, ifVersion)
		}
		return deleteBond(tx, old)
	})
}

// PutSubscriber adds sub, or replaces the subscriber with its sid.
// KindNotFound, KindVersionMismatch, KindInvalid.
func (s *Store) PutSubscriber(ctx context.Context, id string, sub bond.Subscriber, ifVersion int64) (bond.Bond, error) {
	return s.modify(ctx, "put subscriber of bond "+id, id, ifVersion, bond.ErrSubscriberAddNotFound(id, sub.SID),
		func(b bond.Bond) (bond.Bond, bool, error) {
			cur, replace := b.Subscribers[sub.SID]
			if replace && cur == sub {
				return b, false, nil // already there as it is: no change, no new version
			}
			if !replace && len(b.Subscribers) >= bond.MaxSubscribers {
				return b, false, bond.ErrTooManySubscribers("body")
			}
			b.Subscribers[sub.SID] = sub
			if bond.ItemSize(b) > bond.MaxItemBytes {
				return b, false, bond.ErrTooLarge("body")
			}
			return b, true, nil
		})
}

// RemoveSubscriber removes subscriber sid; an absent sid changes nothing (and
// keeps the version). KindNotFound, KindVersionMismatch.
func (s *Store) RemoveSubscriber(ctx context.Context, id, sid string, ifVersion int64) (bond.Bond, error) {
	return s.modify(ctx, "remove subscriber of bond "+id, id, ifVersion, bond.ErrSubscriberRemoveNotFound(id, sid),
		func(b bond.Bond) (bond.Bond, bool, error) {
			if _, ok := b.Subscribers[sid]; !ok {
				return b, false, nil
			}
			delete(b.Subscribers, sid)
			return b, true, nil
		})
}

// modify is the read-check-write of every change to an existing bond: read
// it, check the version, let change compute the new bond (or refuse, or
// report no change), then store it with the next version. change gets its
// own copy of the bond and may modify it.
func (s *Store) modify(ctx context.Context, op, id string, ifVersion int64, notFound *bond.Error,
	change func(b bond.Bond) (next bond.Bond, changed bool, err error)) (bond.Bond, error) {
	var result bond.Bond
	err := s.write(ctx, op, func(tx *bolt.Tx) error {
		old, ok, err := getBond(tx, id)
		switch {
		case err != nil:
			return err
		case !ok:
			return notFound
		case ifVersion != bond.AnyVersion && old.Version != ifVersion:
			return bond.ErrVersionMismatch(id, ifVersion)
		}
		cur := old
		cur.Subscribers = maps.Clone(old.Subscribers)
		next, changed, err := change(cur)
		if err != nil || !changed {
			result = old
			return err
		}
		next.Version = old.Version + 1
		if err := putBond(tx, &old, next); err != nil {
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

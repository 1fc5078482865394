package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// Revisions. The revisions bucket maps revisionKey(id, n), the
// length-prefixed id and the big-endian revision number, to the revision's
// JSON (bond.MarshalRevision): the keys of one id are contiguous and in
// revision order, so a listing newest first is a cursor walking back. It is
// written in the transaction of the change (putJournal).
//
// Retention. With a retention, the expiry bucket holds one empty entry per
// revision that may expire, keyed by the big-endian Unix millisecond it
// expires at and the revision's key: a revision expires retention after
// the write that superseded it, and a delete's revision retention after
// the delete, so the newest revision of an existing bond has no entry and
// never expires. sweep deletes what is due, oldest first, in bounded
// transactions; the store runs it every sweepEvery.

// revisionKey is the key of revision n of bond id.
func revisionKey(id string, n int64) []byte {
	return binary.BigEndian.AppendUint64(prefixKey(id), uint64(n))
}

// putJournal writes what j holds in tx.
func (s *Store) putJournal(tx *bolt.Tx, j bond.Journal) error {
	r := j.Revision
	if r == nil {
		return nil
	}
	data, err := bond.MarshalRevision(*r)
	if err != nil {
		return fmt.Errorf("encode revision: %w", err)
	}
	revs := tx.Bucket(bucketRevisions)
	if err := revs.Put(revisionKey(r.BondID, r.Revision), data); err != nil {
		return fmt.Errorf("put revision: %w", err)
	}
	if s.retention <= 0 {
		return nil
	}
	expires := r.Time.Add(s.retention)
	if prev := revisionKey(r.BondID, r.Revision-1); r.Revision > 1 && revs.Get(prev) != nil {
		if err := putExpiry(tx, expires, prev); err != nil {
			return err
		}
	}
	if r.Deleted {
		return putExpiry(tx, expires, revisionKey(r.BondID, r.Revision))
	}
	return nil
}

func putExpiry(tx *bolt.Tx, at time.Time, revKey []byte) error {
	k := binary.BigEndian.AppendUint64(nil, uint64(max(at.UnixMilli(), 0)))
	if err := tx.Bucket(bucketExpiry).Put(append(k, revKey...), nil); err != nil {
		return fmt.Errorf("put revision expiry: %w", err)
	}
	return nil
}

// ReadRevision returns revision n of bond id. KindUnreadable.
func (s *Store) ReadRevision(ctx context.Context, id string, n int64) (r bond.Revision, found bool, err error) {
	err = s.view(ctx, "read revision of bond "+id, func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketRevisions).Get(revisionKey(id, n))
		if data == nil {
			return nil
		}
		r, err = decodeRevision(id, n, data)
		found = err == nil
		return err
	})
	return r, found, err
}

// decodeRevision reads the revision stored under revisionKey(id, n).
func decodeRevision(id string, n int64, data []byte) (bond.Revision, error) {
	r, err := bond.UnmarshalRevision(id, data)
	if err == nil && r.Revision != n {
		err = bond.ErrUnreadable(id, fmt.Sprintf("revision %d: stored under %d", r.Revision, n))
	}
	return r, err
}

// ListRevisions yields the revisions of id newest first, below revision
// below (0: all), reading batch of them per read transaction.
// KindUnreadable.
func (s *Store) ListRevisions(ctx context.Context, id string, below int64, batch int, yield func(bond.Revision) bool) error {
	prefix := prefixKey(id)
	if below <= 0 {
		below = math.MaxInt64
	}
	batch = max(batch, 1)
	for {
		var page []bond.Revision
		err := s.view(ctx, "list revisions of bond "+id, func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketRevisions).Cursor()
			k, _ := c.Seek(revisionKey(id, below))
			var v []byte
			if k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
			for ; k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8 && len(page) < batch; k, v = c.Prev() {
				n := int64(binary.BigEndian.Uint64(k[len(prefix):]))
				r, err := decodeRevision(id, n, v)
				if err != nil {
					return err
				}
				page = append(page, r)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range page {
			if !yield(r) {
				return nil
			}
		}
		if len(page) < batch {
			return nil
		}
		below = page[len(page)-1].Revision
	}
}

// sweepBatch bounds the revisions one sweep transaction deletes.
const sweepBatch = 1000

// Sweep deletes the revisions whose expiry is at or before now (see
// Retention above) and returns how many it deleted. The store runs it
// every sweepEvery when it has a retention; tests call it.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	until := binary.BigEndian.AppendUint64(nil, uint64(max(now.UnixMilli(), 0)))
	total := 0
	for {
		n := 0
		err := s.write(ctx, "sweep revisions", func(tx *bolt.Tx) error {
			n = 0
			exp, revs := tx.Bucket(bucketExpiry), tx.Bucket(bucketRevisions)
			c := exp.Cursor()
			for k, _ := c.First(); k != nil && n < sweepBatch && (len(k) < 8 || bytes.Compare(k[:8], until) <= 0); k, _ = c.First() {
				if len(k) > 8 {
					if err := revs.Delete(k[8:]); err != nil {
						return fmt.Errorf("delete revision: %w", err)
					}
				}
				if err := c.Delete(); err != nil {
					return fmt.Errorf("delete revision expiry: %w", err)
				}
				n++
			}
			return nil
		})
		total += n
		if err != nil || n < sweepBatch {
			return total, err
		}
	}
}

// sweepEvery is how often a store with a retention sweeps: often enough
// that a revision outlives its expiry by little, rarely enough to cost
// nothing (a sweep with nothing due reads one key).
const sweepEvery = time.Minute

// sweepLoop runs Sweep every sweepEvery until stop is closed.
func (s *Store) sweepLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			_, _ = s.Sweep(context.Background(), now)
		}
	}
}

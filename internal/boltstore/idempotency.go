package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/idempotency"
)

// Idempotency records live in two buckets of their own, created on first
// use: idempotency maps a record's storage key (idempotency.Key.StorageKey)
// to the record (JSON, idemRecord), and idempotency_expiry orders them by
// expiry (key: 8-byte big-endian Unix nanoseconds of Expires, then the
// storage key; empty value). Listings, exports and Check never read them.
//
// Sweep: every put of a record (Complete, or the record of a change) also
// deletes up to idemSweepBatch records that expired, oldest first, in the
// same transaction, so that the buckets hold the live records and at most a
// few expired ones: each put adds at most one.
var (
	bucketIdem       = []byte("idempotency")
	bucketIdemExpiry = []byte("idempotency_expiry")
)

// idemSweepBatch is the most expired records one put deletes.
const idemSweepBatch = 8

// idemStore is the idempotency.Store of a Store.
type idemStore struct{ s *Store }

var _ idempotency.Provider = (*Store)(nil)

// Idempotency returns the store of idempotency records, in the same file as
// the bonds.
func (s *Store) Idempotency() idempotency.Store { return idemStore{s} }

// idemRecord is the stored form of an idempotency.Record (its key is the
// bucket key, not repeated).
type idemRecord struct {
	Fingerprint []byte `json:"f"`
	Token       string `json:"t"`
	Done        bool   `json:"d,omitempty"`
	LeaseEnd    int64  `json:"l,omitempty"` // Unix nanoseconds; in flight only (an earlier release's)
	Expires     int64  `json:"e"`           // Unix nanoseconds
	Status      int    `json:"s,omitempty"`
	Location    string `json:"lo,omitempty"`
	ETag        string `json:"et,omitempty"`
	ContentType string `json:"ct,omitempty"`
	Body        []byte `json:"b,omitempty"` // packed
}

func encodeIdem(rec idempotency.Record) []byte {
	var lease int64
	if !rec.Done {
		lease = rec.LeaseEnd.UnixNano()
	}
	js, _ := json.Marshal(idemRecord{ // plain types: cannot fail
		Fingerprint: rec.Fingerprint[:], Token: rec.Token, Done: rec.Done,
		LeaseEnd: lease, Expires: rec.Expires.UnixNano(),
		Status: rec.Answer.Status, Location: rec.Answer.Location, ETag: rec.Answer.ETag,
		ContentType: rec.Answer.ContentType, Body: rec.Answer.Body,
	})
	return js
}

// decodeIdem reads a stored record of key k, under the rules of
// idempotency.Record.Check.
func decodeIdem(k idempotency.Key, data []byte) (idempotency.Record, error) {
	var ir idemRecord
	if err := json.Unmarshal(data, &ir); err != nil {
		return idempotency.Record{}, fmt.Errorf("%w: %w", idempotency.ErrUnreadable, err)
	}
	rec := idempotency.Record{Key: k, Token: ir.Token, Done: ir.Done, Expires: time.Unix(0, ir.Expires),
		Answer: idempotency.Answer{Status: ir.Status, Location: ir.Location, ETag: ir.ETag,
			ContentType: ir.ContentType, Body: ir.Body}}
	if len(ir.Fingerprint) != len(rec.Fingerprint) {
		return idempotency.Record{}, fmt.Errorf("%w: fingerprint of %d bytes", idempotency.ErrUnreadable, len(ir.Fingerprint))
	}
	copy(rec.Fingerprint[:], ir.Fingerprint)
	if !rec.Done {
		rec.LeaseEnd = time.Unix(0, ir.LeaseEnd)
	}
	return rec, rec.Check()
}

// expiryKey is the key of rec's entry in the expiry bucket.
func expiryKey(expires time.Time, storageKey string) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(expires.UnixNano())), storageKey...)
}

// Lookup returns the record of k when it is Live at now (see
// idempotency.Store).
func (i idemStore) Lookup(ctx context.Context, k idempotency.Key, now time.Time) (cur idempotency.Record, found bool, err error) {
	err = i.s.view(ctx, "look up idempotency record", func(tx *bolt.Tx) error {
		cur, found = idempotency.Record{}, false
		recs := tx.Bucket(bucketIdem)
		if recs == nil {
			return nil
		}
		data := recs.Get([]byte(k.StorageKey()))
		if data == nil {
			return nil
		}
		rec, err := decodeIdem(k, data)
		if err != nil {
			return err
		}
		cur, found = rec, rec.Live(now)
		return nil
	})
	return cur, found, err
}

// Complete stores the completed rec where no record is Live at now.
// idempotency.ErrKeyTaken (as bond.ErrKeyTaken, which wraps it).
func (i idemStore) Complete(ctx context.Context, rec idempotency.Record, now time.Time) error {
	return i.s.write(ctx, "complete idempotency record", func(tx *bolt.Tx) error {
		if err := keyTaken(tx, &rec, now); err != nil {
			return err
		}
		return putRecord(tx, &rec, now)
	})
}

// keyTaken returns bond.ErrKeyTaken when a record Live at now holds the key
// of rec (nil: none) in tx, or one that does not read (it may be live). It
// writes nothing.
func keyTaken(tx *bolt.Tx, rec *idempotency.Record, now time.Time) error {
	if rec == nil {
		return nil
	}
	recs := tx.Bucket(bucketIdem)
	if recs == nil {
		return nil
	}
	data := recs.Get([]byte(rec.Key.StorageKey()))
	if data == nil {
		return nil
	}
	if old, err := decodeIdem(rec.Key, data); err != nil || old.Live(now) {
		return bond.ErrKeyTaken
	}
	return nil
}

// putRecord stores rec (nil: none) over the record of its key, which
// keyTaken found free in the same transaction, and sweeps records expired
// at now.
func putRecord(tx *bolt.Tx, rec *idempotency.Record, now time.Time) error {
	if rec == nil {
		return nil
	}
	recs, expiry, err := idemBuckets(tx)
	if err != nil {
		return err
	}
	sk := rec.Key.StorageKey()
	if data := recs.Get([]byte(sk)); data != nil {
		var old idemRecord
		if json.Unmarshal(data, &old) == nil {
			if err := expiry.Delete(expiryKey(time.Unix(0, old.Expires), sk)); err != nil {
				return fmt.Errorf("delete expiry entry: %w", err)
			}
		}
	}
	if err := putIdem(recs, expiry, sk, *rec); err != nil {
		return err
	}
	return sweep(recs, expiry, now)
}

// idemBuckets returns the two buckets of the records, creating them.
func idemBuckets(tx *bolt.Tx) (recs, expiry *bolt.Bucket, err error) {
	if recs, err = tx.CreateBucketIfNotExists(bucketIdem); err != nil {
		return nil, nil, fmt.Errorf("create bucket %s: %w", bucketIdem, err)
	}
	if expiry, err = tx.CreateBucketIfNotExists(bucketIdemExpiry); err != nil {
		return nil, nil, fmt.Errorf("create bucket %s: %w", bucketIdemExpiry, err)
	}
	return recs, expiry, nil
}

func putIdem(recs, expiry *bolt.Bucket, sk string, rec idempotency.Record) error {
	if err := recs.Put([]byte(sk), encodeIdem(rec)); err != nil {
		return fmt.Errorf("put idempotency record: %w", err)
	}
	if err := expiry.Put(expiryKey(rec.Expires, sk), nil); err != nil {
		return fmt.Errorf("put expiry entry: %w", err)
	}
	return nil
}

// sweep deletes up to idemSweepBatch records that expired before now, oldest
// first. An entry whose record now has another expiry (it was taken over)
// only loses its entry.
func sweep(recs, expiry *bolt.Bucket, now time.Time) error {
	limit := binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano()))
	c := expiry.Cursor()
	var stale [][]byte
	for k, _ := c.First(); k != nil && len(stale) < idemSweepBatch && bytes.Compare(k[:min(8, len(k))], limit) < 0; k, _ = c.Next() {
		stale = append(stale, bytes.Clone(k))
	}
	for _, k := range stale {
		if err := expiry.Delete(k); err != nil {
			return fmt.Errorf("sweep expiry entry: %w", err)
		}
		if len(k) <= 8 {
			continue
		}
		sk := k[8:]
		data := recs.Get(sk)
		if data == nil {
			continue
		}
		var ir idemRecord
		if json.Unmarshal(data, &ir) != nil || uint64(ir.Expires) == binary.BigEndian.Uint64(k[:8]) {
			if err := recs.Delete(sk); err != nil {
				return fmt.Errorf("sweep idempotency record: %w", err)
			}
		}
	}
	return nil
}

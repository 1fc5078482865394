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
// Sweep: every Begin also deletes up to idemSweepBatch records that expired,
// oldest first, in the same transaction, so that the buckets hold the live
// records and at most a few expired ones: each Begin adds at most one.
var (
	bucketIdem       = []byte("idempotency")
	bucketIdemExpiry = []byte("idempotency_expiry")
)

// idemSweepBatch is the most expired records one Begin deletes.
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
	LeaseEnd    int64  `json:"l"` // Unix nanoseconds
	Expires     int64  `json:"e"` // Unix nanoseconds
	Status      int    `json:"s,omitempty"`
	Location    string `json:"lo,omitempty"`
	ETag        string `json:"et,omitempty"`
	ContentType string `json:"ct,omitempty"`
	Body        []byte `json:"b,omitempty"` // packed
}

func encodeIdem(rec idempotency.Record) []byte {
	js, _ := json.Marshal(idemRecord{ // plain types: cannot fail
		Fingerprint: rec.Fingerprint[:], Token: rec.Token, Done: rec.Done,
		LeaseEnd: rec.LeaseEnd.UnixNano(), Expires: rec.Expires.UnixNano(),
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
	rec := idempotency.Record{Key: k, Token: ir.Token, Done: ir.Done,
		LeaseEnd: time.Unix(0, ir.LeaseEnd), Expires: time.Unix(0, ir.Expires),
		Answer: idempotency.Answer{Status: ir.Status, Location: ir.Location, ETag: ir.ETag,
			ContentType: ir.ContentType, Body: ir.Body}}
	if len(ir.Fingerprint) != len(rec.Fingerprint) {
		return idempotency.Record{}, fmt.Errorf("%w: fingerprint of %d bytes", idempotency.ErrUnreadable, len(ir.Fingerprint))
	}
	copy(rec.Fingerprint[:], ir.Fingerprint)
	return rec, rec.Check()
}

// expiryKey is the key of rec's entry in the expiry bucket.
func expiryKey(expires time.Time, storageKey string) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(expires.UnixNano())), storageKey...)
}

// Begin stores rec unless a live record holds its key (see
// idempotency.Store), and sweeps expired records.
func (i idemStore) Begin(ctx context.Context, rec idempotency.Record, now time.Time) (cur idempotency.Record, started bool, err error) {
	sk := rec.Key.StorageKey()
	err = i.s.write(ctx, "begin idempotency record", func(tx *bolt.Tx) error {
		cur, started = idempotency.Record{}, false
		recs, expiry, err := idemBuckets(tx)
		if err != nil {
			return err
		}
		if data := recs.Get([]byte(sk)); data != nil {
			old, err := decodeIdem(rec.Key, data)
			if err != nil {
				return err
			}
			if old.Live(now) {
				cur = old
				return nil
			}
			if err := expiry.Delete(expiryKey(old.Expires, sk)); err != nil {
				return fmt.Errorf("delete expiry entry: %w", err)
			}
		}
		if err := putIdem(recs, expiry, sk, rec); err != nil {
			return err
		}
		started = true
		return sweep(recs, expiry, now)
	})
	return cur, started, err
}

// Complete stores the completed rec when its key is still in flight under
// rec.Token. idempotency.ErrLeaseLost (as bond.ErrLeaseLost, which wraps
// it).
func (i idemStore) Complete(ctx context.Context, rec idempotency.Record) error {
	return i.s.write(ctx, "complete idempotency record", func(tx *bolt.Tx) error {
		if err := holdsLease(tx, &rec); err != nil {
			return err
		}
		return putCompleted(tx, &rec)
	})
}

// holdsLease returns bond.ErrLeaseLost when rec (nil: none) is not in
// flight under its token in tx. It writes nothing.
func holdsLease(tx *bolt.Tx, rec *idempotency.Record) error {
	if rec == nil {
		return nil
	}
	recs := tx.Bucket(bucketIdem)
	if recs == nil {
		return bond.ErrLeaseLost
	}
	if _, held := heldBy(recs, rec.Key, rec.Key.StorageKey(), rec.Token); !held {
		return bond.ErrLeaseLost
	}
	return nil
}

// putCompleted stores the completed rec (nil: none) over its in-flight
// record, which holdsLease checked in the same transaction.
func putCompleted(tx *bolt.Tx, rec *idempotency.Record) error {
	if rec == nil {
		return nil
	}
	recs, expiry, err := idemBuckets(tx)
	if err != nil {
		return err
	}
	sk := rec.Key.StorageKey()
	old, _ := heldBy(recs, rec.Key, sk, rec.Token)
	if err := expiry.Delete(expiryKey(old.Expires, sk)); err != nil {
		return fmt.Errorf("delete expiry entry: %w", err)
	}
	return putIdem(recs, expiry, sk, *rec)
}

// Release deletes the record of k when it is still in flight under token.
func (i idemStore) Release(ctx context.Context, k idempotency.Key, token string) error {
	sk := k.StorageKey()
	return i.s.write(ctx, "release idempotency record", func(tx *bolt.Tx) error {
		recs, expiry, err := idemBuckets(tx)
		if err != nil {
			return err
		}
		old, held := heldBy(recs, k, sk, token)
		if !held {
			return nil
		}
		return deleteIdem(recs, expiry, sk, old.Expires)
	})
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

// heldBy returns the stored record of k and whether it is in flight under
// token (a record that does not read is held by nobody).
func heldBy(recs *bolt.Bucket, k idempotency.Key, sk, token string) (idempotency.Record, bool) {
	data := recs.Get([]byte(sk))
	if data == nil {
		return idempotency.Record{}, false
	}
	old, err := decodeIdem(k, data)
	return old, err == nil && !old.Done && old.Token == token
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

func deleteIdem(recs, expiry *bolt.Bucket, sk string, expires time.Time) error {
	if err := recs.Delete([]byte(sk)); err != nil {
		return fmt.Errorf("delete idempotency record: %w", err)
	}
	if err := expiry.Delete(expiryKey(expires, sk)); err != nil {
		return fmt.Errorf("delete expiry entry: %w", err)
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

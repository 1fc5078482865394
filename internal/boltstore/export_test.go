package boltstore

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/bondregistry/bond-registry/internal/idempotency"
)

// PutIdemRecord writes rec without a condition, as an earlier release's
// Begin wrote an in-flight record.
func PutIdemRecord(ctx context.Context, s *Store, rec idempotency.Record) error {
	return s.write(ctx, "put idempotency record", func(tx *bolt.Tx) error {
		recs, expiry, err := idemBuckets(tx)
		if err != nil {
			return err
		}
		return putIdem(recs, expiry, rec.Key.StorageKey(), rec)
	})
}

// Package boltstore is the embedded bond.Repository: one bbolt file, no
// server to install.
//
// Layout. The bonds bucket maps a bond id to its record (codec.go). A pair
// bucket maps (host account, subscriber account) to the bond id that owns the
// pair; it is written in the same transaction as the bond, so the pair is
// unique. Four index buckets make filtered listings cost O(page):
// host and subscriber account (key: account, cost center, id) and host and
// subscriber cost center (key: cost center, id). Index values are empty. Every
// string in a key but the last is length-prefixed (keys.go), so no id or
// value can be mistaken for another whatever characters it holds.
//
// Writes. Every write is one read-write transaction run through DB.Batch, so
// concurrent writers share one commit (and one fsync) instead of queueing for
// one each; DB.Batch returns only after the commit is on disk.
package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// LockTimeout is how long Open waits for the file lock held by another
// process (another server on the same file) before it fails.
const LockTimeout = time.Second

// batchDelay is how long DB.Batch waits for more writers to join a batch;
// every lone write pays it. bbolt's default (10 ms) buys no more coalescing
// than a short delay does, because writers arriving during a commit's fsync
// wait for the next batch anyway; 0 coalesces little. BenchmarkCreate and
// BenchmarkCreateParallel measure the trade-off (README, Performance).
const batchDelay = time.Millisecond

// schemaVersion is stored in the meta bucket; Open refuses other versions.
const schemaVersion = "1"

var (
	bucketMeta           = []byte("meta")
	bucketBonds          = []byte("bonds")
	bucketPairs          = []byte("pairs")
	bucketHostAccount    = []byte("host_account")
	bucketSubAccount     = []byte("sub_account")
	bucketHostCostCenter = []byte("host_cost_center")
	bucketSubCostCenter  = []byte("sub_cost_center")

	keySchema = []byte("schema")
)

// Store is a bond.Repository on a bbolt file. It is safe for concurrent use.
type Store struct {
	db *bolt.DB
}

var _ bond.Repository = (*Store)(nil)

// Open opens (creating it and its directory if needed) the store at path.
// It fails after LockTimeout when another process has the file open.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open bolt store: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: LockTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open bolt store %s: the file is locked by another process (waited %s); stop it or set another path: %w",
			path, LockTimeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open bolt store %s: %w", path, err)
	}
	db.MaxBatchDelay = batchDelay
	if err := db.Update(initSchema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open bolt store %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// initSchema creates the buckets and checks the schema version.
func initSchema(tx *bolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketMeta, err)
	}
	switch v := meta.Get(keySchema); {
	case v == nil:
		if err := meta.Put(keySchema, []byte(schemaVersion)); err != nil {
			return fmt.Errorf("write schema version: %w", err)
		}
	case string(v) != schemaVersion:
		return fmt.Errorf("schema version %q, this build reads %q", v, schemaVersion)
	}
	for _, name := range [][]byte{bucketBonds, bucketPairs, bucketHostAccount, bucketSubAccount,
		bucketHostCostCenter, bucketSubCostCenter} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// Close closes the file. Calls after Close fail with bond.KindUnavailable.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close bolt store: %w", err)
	}
	return nil
}

// Ping reports whether the store answers: a read transaction can start.
func (s *Store) Ping(ctx context.Context) error {
	return s.view(ctx, "ping", func(tx *bolt.Tx) error {
		if tx.Bucket(bucketBonds) == nil {
			return fmt.Errorf("bucket %s missing", bucketBonds)
		}
		return nil
	})
}

// view runs fn in a read transaction. A *bond.Error from fn is returned as
// is; any other error is wrapped with op.
func (s *Store) view(ctx context.Context, op string, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return bond.Unavailable(op, err)
	}
	return storeError(op, s.db.View(fn))
}

// write runs fn in a read-write transaction through DB.Batch. fn may run more
// than once (bbolt re-runs a batch without a failed member), so it must read
// everything it needs inside tx and set its results afresh on each run.
//
// fn returns a *bond.Error (not found, pair taken, ...) only before it has
// written anything: such an error is then kept aside and the transaction
// commits nothing, so one caller's rejected write does not make bbolt re-run
// the other writers of its batch. Any other error rolls the batch back.
func (s *Store) write(ctx context.Context, op string, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return bond.Unavailable(op, err)
	}
	var domainErr *bond.Error
	err := s.db.Batch(func(tx *bolt.Tx) error {
		domainErr = nil
		err := fn(tx)
		if e, ok := errors.AsType[*bond.Error](err); ok {
			domainErr = e
			return nil
		}
		return err
	})
	if err != nil {
		return storeError(op, err)
	}
	if domainErr != nil {
		return domainErr
	}
	return nil
}

// storeError wraps a bbolt error with the operation name. Domain errors pass
// through; a closed database is unavailable (a retry may reach a live one);
// anything else is internal.
func storeError(op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*bond.Error](err); ok {
		return err
	}
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return bond.Unavailable(op, err)
	}
	return fmt.Errorf("bolt store: %s: %w", op, err)
}

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
// History. The revisions and expiry buckets hold the bonds' revisions
// (history.go), written in the transaction of each change.
//
// Writes. Every write is one read-write transaction run through DB.Batch, so
// concurrent writers share one commit (and one fsync) instead of queueing for
// one each; DB.Batch returns only after the commit is on disk.
package boltstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
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
// BenchmarkCreateParallel measure the trade-off (docs/performance.md).
const batchDelay = time.Millisecond

// schemaVersion is stored in the meta bucket; Open refuses other versions.
// Version 2 added records of format 3 (with the revision) and the
// revisions and expiry buckets; Open moves a file of version 1 to 2 (a
// build of version 1 then refuses it, rather than misread it).
const (
	schemaVersion   = "2"
	schemaVersionV1 = "1"
)

var (
	bucketMeta           = []byte("meta")
	bucketBonds          = []byte("bonds")
	bucketPairs          = []byte("pairs")
	bucketHostAccount    = []byte("host_account")
	bucketSubAccount     = []byte("sub_account")
	bucketHostCostCenter = []byte("host_cost_center")
	bucketSubCostCenter  = []byte("sub_cost_center")
	bucketGone           = []byte("gone") // id -> uvarint last version and revision of a deleted bond
	bucketRevisions      = []byte("revisions")
	bucketExpiry         = []byte("revision_expiry")

	keySchema = []byte("schema")
)

// Store is a bond.Repository on a bbolt file. It is safe for concurrent use.
type Store struct {
	db        *bolt.DB
	retention time.Duration // of revisions; 0 keeps them forever
	stop      chan struct{} // closed by Close, ends the sweep
	swept     chan struct{} // closed when the sweep ended
	closing   sync.Once
}

// Option sets up a store at Open.
type Option func(*Store)

// WithRetention keeps a revision for d after the write that superseded it
// (a delete's, after the delete); 0 keeps every revision forever. The
// newest revision of an existing bond never expires. Revisions written
// without a retention keep no expiry.
func WithRetention(d time.Duration) Option { return func(s *Store) { s.retention = d } }

var _ bond.Repository = (*Store)(nil)

// ErrDamaged is the error of a store file that does not match its own meta
// pages (Open, Check) or fails bbolt's consistency check (Check).
var ErrDamaged = errors.New("the file is damaged")

// Open opens the store at path, creating it (and its directory) only when
// nothing exists at path. It fails after LockTimeout when another process has
// the file open.
//
// An existing path is checked first, read-only, so that nothing is written
// to a file that is refused (inspect): a directory, a path under a file, a
// file that is not a regular file, or one the process may not read or write,
// or on a read-only filesystem, gets its own one-line error naming the path
// and what to do (pathError); an empty file (the usual result of a failed
// copy or restore), a file whose meta pages are invalid (bbolt checks their
// checksums) or that lacks pages they count (a truncated file would be
// mapped past its end, and the first read of a missing page kills the
// process with SIGBUS) is refused with ErrDamaged; a valid bbolt file of
// another program (buckets, but no meta/schema) with ErrForeign, and one of
// an unknown schema version with its own error (recognize). Check verifies
// the whole file.
func Open(path string, opts ...Option) (*Store, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := create(path); err != nil {
			return nil, err
		}
	} else if err := inspect(path, false); err != nil {
		return nil, err
	}
	db, err := openWritable(path)
	if err != nil {
		return nil, err
	}
	db.MaxBatchDelay = batchDelay
	if err := db.Update(guard(initSchema)); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open bolt store %s: %w", path, err)
	}
	s := &Store{db: db, stop: make(chan struct{}), swept: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	if s.retention > 0 {
		go s.sweepLoop(s.stop, s.swept)
	} else {
		close(s.swept)
	}
	return s, nil
}

// openWritable is bolt.Open for writing. Unlike a read-only open (inspect),
// it reads the freelist page, and bbolt panics on one that is damaged: that
// panic (or a fault reading the page) is an error wrapping ErrDamaged
// instead of the end of the process. The file bbolt had opened then stays
// open until the process exits, which it does on this error at start.
func openWritable(path string) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			db, err = nil, fmt.Errorf("open bolt store %s: %w: reading it failed (%v); restore it from a backup", path, ErrDamaged, p)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: LockTimeout})
	if err != nil {
		return nil, openError(path, err)
	}
	return db, nil
}

// create makes the empty file of a new store at path (and its directory),
// exclusively: a file that appeared meanwhile is not taken over, it is
// inspected by the next Open. bolt.Open then writes its first pages.
func create(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return pathError(path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return pathError(path, err)
	}
	if err := f.Close(); err != nil {
		return pathError(path, err)
	}
	return nil
}

// Check verifies the store file at path without writing to it: the checks
// of Open, then bbolt's consistency check (tx.Check: every page reachable or
// free, none freed twice, keys in order, ...). It returns nil for a sound
// file, an error wrapping ErrDamaged (listing at most the first 10 problems
// bbolt found) for a damaged one, an error wrapping ErrForeign for another
// program's bbolt file, or the error that kept it from reading the file.
func Check(path string) error { return inspect(path, true) }

// inspect checks the existing path read-only (a shared lock, no write): it
// must be a regular, non-empty file whose meta pages are valid and which
// holds the pages they count, and recognize must accept it; with full it
// also runs tx.Check and decodes every bond record. Reading a page of the
// mapped file past its end raises SIGBUS; it is turned into a panic here
// (debug.SetPanicOnFault) and reported as damage instead of killing the
// process.
func inspect(path string, full bool) (err error) {
	info, err := os.Stat(path)
	switch {
	case err != nil:
		return pathError(path, err)
	case info.IsDir():
		return fmt.Errorf("open bolt store %s: it is a directory: set BOLT_PATH to a file, such as %s",
			path, filepath.Join(path, "bonds.db"))
	case !info.Mode().IsRegular():
		return fmt.Errorf("open bolt store %s: it is not a regular file (%s): set BOLT_PATH to a file", path, info.Mode().Type())
	case info.Size() == 0:
		return fmt.Errorf("open bolt store %s: %w: the file is empty (a failed copy or restore leaves one): "+
			"restore it from a backup, or remove it to start an empty store", path, ErrDamaged)
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("open bolt store %s: %w: reading it faulted (%v)", path, ErrDamaged, p)
		}
	}()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: LockTimeout})
	if err != nil {
		return openError(path, err)
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		if need := tx.Size(); info.Size() < need {
			return fmt.Errorf("open bolt store %s: %w: it is %d bytes, but its meta page counts %d pages of %d bytes (%d bytes): "+
				"it was truncated; restore it from a backup", path, ErrDamaged, info.Size(), need/int64(db.Info().PageSize), db.Info().PageSize, need)
		}
		if _, err := recognize(tx); err != nil {
			return fmt.Errorf("open bolt store %s: %w", path, err)
		}
		if !full {
			return nil
		}
		var problems []string
		n := 0
		for err := range tx.Check() {
			if n++; n <= 10 {
				problems = append(problems, err.Error())
			}
		}
		if n == 0 {
			// bbolt checks its pages, not our records: decode every bond,
			// and every record of a deleted bond's last life.
			note := func(err error) {
				if n++; n <= 10 {
					problems = append(problems, err.Error())
				}
			}
			if b := tx.Bucket(bucketBonds); b != nil {
				_ = b.ForEach(func(k, v []byte) error {
					if _, err := decodeRecord(string(k), v); err != nil {
						note(err)
					}
					return nil
				})
			}
			if b := tx.Bucket(bucketGone); b != nil {
				_ = b.ForEach(func(k, _ []byte) error {
					if _, _, err := lastLife(tx, string(k)); err != nil {
						note(err)
					}
					return nil
				})
			}
		}
		if n > 0 {
			return fmt.Errorf("bolt store %s: %w: %d problems: %s", path, ErrDamaged, n, strings.Join(problems, "; "))
		}
		return nil
	})
}

// pathError explains an error of the filesystem about path (not about its
// content) in one line that says what to do; it wraps err, so errors.Is
// still sees fs.ErrNotExist, fs.ErrPermission or the errno.
func pathError(path string, err error) error {
	var hint string
	switch {
	case errors.Is(err, syscall.EROFS):
		hint = "it is on a read-only filesystem: mount it read-write, or set BOLT_PATH to a writable place"
	case errors.Is(err, fs.ErrPermission):
		hint = "permission denied: give the service's user read and write access to the file and its directory, or set BOLT_PATH to another path"
	case errors.Is(err, syscall.ENOTDIR):
		hint = "a part of the path before the file name is a file, not a directory: set BOLT_PATH to a file in a directory"
	case errors.Is(err, syscall.EISDIR):
		hint = "it is a directory: set BOLT_PATH to a file"
	case errors.Is(err, fs.ErrNotExist):
		hint = "it does not exist"
	default:
		return fmt.Errorf("open bolt store %s: %w", path, err)
	}
	return fmt.Errorf("open bolt store %s: %s (%w)", path, hint, unwrapPath(err))
}

// unwrapPath returns the errno under a *fs.PathError, whose text would
// repeat the path.
func unwrapPath(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}

// openError explains an error of bolt.Open on path.
func openError(path string, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("open bolt store %s: the file is locked by another process (waited %s); stop it or set another path: %w",
			path, LockTimeout, err)
	case errors.As(err, new(*fs.PathError)):
		return pathError(path, err) // permissions, read-only, I/O: not the file's content
	}
	// bbolt refused the content: meta pages invalid (ErrInvalid, ErrChecksum,
	// ErrVersionMismatch) or a file shorter than its two meta pages.
	return fmt.Errorf("open bolt store %s: %w: it is not a valid bbolt file (%w); restore it from a backup", path, ErrDamaged, err)
}

// ErrForeign is the error of a bbolt file that holds buckets but no schema
// version of this store (meta/schema): another program's file, which Open
// and Check refuse without writing to it.
var ErrForeign = errors.New("not a bond-registry store")

// recognize reports whether tx is a store of this build: new (it holds no
// bucket at all, as bolt.Open leaves a file it has just created) or with a
// schema version this build reads. It returns ErrForeign for a file with
// other buckets and no schema version, and an error for an unknown version.
func recognize(tx *bolt.Tx) (isNew bool, err error) {
	if meta := tx.Bucket(bucketMeta); meta != nil {
		if v := meta.Get(keySchema); v != nil {
			if string(v) != schemaVersion && string(v) != schemaVersionV1 {
				return false, fmt.Errorf("schema version %q, this build reads %q", v, schemaVersion)
			}
			return false, nil
		}
	}
	var names []string
	_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		names = append(names, fmt.Sprintf("%q", name))
		return nil
	})
	if len(names) == 0 {
		return true, nil
	}
	if len(names) > 5 {
		names = append(names[:5], "...")
	}
	return false, fmt.Errorf("%w: it holds the buckets %s but no %s/%s; set BOLT_PATH to another file",
		ErrForeign, strings.Join(names, ", "), bucketMeta, keySchema)
}

// initSchema creates the buckets of a new store and moves a store of schema
// version 1 to 2; it refuses a file recognize refuses, writing nothing.
func initSchema(tx *bolt.Tx) error {
	isNew, err := recognize(tx)
	if err != nil {
		return err
	}
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketMeta, err)
	}
	if isNew || string(meta.Get(keySchema)) == schemaVersionV1 {
		if err := meta.Put(keySchema, []byte(schemaVersion)); err != nil {
			return fmt.Errorf("write schema version: %w", err)
		}
	}
	for _, name := range [][]byte{bucketBonds, bucketPairs, bucketHostAccount, bucketSubAccount,
		bucketHostCostCenter, bucketSubCostCenter, bucketGone, bucketRevisions, bucketExpiry} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// Close closes the file. Calls after Close fail with bond.KindUnavailable.
func (s *Store) Close() error {
	s.closing.Do(func() { close(s.stop) })
	<-s.swept
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
	return storeError(op, s.db.View(guard(fn)))
}

// guard runs fn so that a damaged file gives an error wrapping ErrDamaged
// instead of ending the process: reading a page past the end of the mapped
// file (truncated after Open) raises SIGBUS, which debug.SetPanicOnFault
// turns into a panic, and bbolt panics on a page that is not what its
// parent says it is; both are recovered here. Every transaction function of
// the store runs through guard.
func guard(fn func(tx *bolt.Tx) error) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) (err error) {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("%w: reading it failed: %v", ErrDamaged, p)
			}
		}()
		return fn(tx)
	}
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
		err := guard(fn)(tx)
		if e, ok := errors.AsType[*bond.Error](err); ok {
			domainErr = e
			return nil
		}
		return err
	})
	if rb, ok := errors.AsType[rolledBack](err); ok {
		return rb.err
	}
	if err != nil {
		return storeError(op, err)
	}
	if domainErr != nil {
		return domainErr
	}
	return nil
}

// rolledBack is the error of a transaction function that refuses a write
// after it has written part of it: to DB.Batch it is not a *bond.Error (it
// does not unwrap to one), so the transaction rolls back; write then
// returns the domain error it holds.
type rolledBack struct{ err *bond.Error }

func (r rolledBack) Error() string { return r.err.Error() }

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

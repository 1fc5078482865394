package boltstore_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/boltstore"
	"github.com/bondregistry/bond-registry/internal/bond"
)

// filledStore writes n bonds of 40 subscribers each to a new store file and
// returns its path, closed.
func filledStore(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bonds.db")
	s, err := boltstore.Open(path)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < n; i += 16 {
				b := newBond(fmt.Sprintf("B%05d", i), fmt.Sprintf("H%05d", i), "S")
				for j := range 40 {
					sid := fmt.Sprintf("sub%02d", j)
					b.Subscribers[sid] = bond.Subscriber{SID: sid, Name: "Name " + sid, Email: sid + "@example.com"}
				}
				_, err := bond.Create(t.Context(), s, b)
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	require.NoError(t, s.Close())
	return path
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return sha256.Sum256(data)
}

// listAll pages through every bond.
func listAll(t *testing.T, s *boltstore.Store) (int, error) {
	n, cursor := 0, ""
	for {
		page, err := bond.ListPage(t.Context(), s, bond.Filter{}, 100, cursor)
		if err != nil {
			return n, err
		}
		n += len(page.Bonds)
		if page.Next == "" {
			return n, nil
		}
		cursor = page.Next
	}
}

func TestCheck_SoundFile(t *testing.T) {
	path := filledStore(t, 300)
	before := fileSum(t, path)
	require.NoError(t, boltstore.Check(path))
	assert.Equal(t, before, fileSum(t, path), "Check writes nothing")

	err := boltstore.Check(filepath.Join(t.TempDir(), "missing.db"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// A bbolt file truncated to half its size opened, /readyz said
// 200, and the first full listing killed the process with SIGBUS. Open now
// refuses it, with one line, without writing to it; Check says the same.
func TestOpen_RefusesATruncatedFile(t *testing.T) {
	path := filledStore(t, 300)
	info, err := os.Stat(path)
	require.NoError(t, err)
	// bbolt grows a file ahead of its pages: cut it to half the pages its
	// meta page counts (half the file's size may still hold them all).
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	var used int64
	require.NoError(t, db.View(func(tx *bolt.Tx) error { used = tx.Size(); return nil }))
	require.NoError(t, db.Close())
	t.Logf("store file: %d bytes, %d of them counted by its meta page", info.Size(), used)
	require.NoError(t, os.Truncate(path, used/2))
	before := fileSum(t, path)

	_, err = boltstore.Open(path)
	require.ErrorIs(t, err, boltstore.ErrDamaged)
	assert.Contains(t, err.Error(), "truncated")
	assert.NotContains(t, err.Error(), "\n")
	assert.Equal(t, before, fileSum(t, path), "nothing is written to a damaged file")

	assert.ErrorIs(t, boltstore.Check(path), boltstore.ErrDamaged)
	assert.Equal(t, before, fileSum(t, path))

	// Shorter than its two meta pages: bbolt would map them past the end.
	require.NoError(t, os.Truncate(path, 5000))
	_, err = boltstore.Open(path)
	assert.ErrorIs(t, err, boltstore.ErrDamaged)
}

// Pages overwritten with garbage, the size unchanged: Check finds it, and
// reading the damaged part is an error of the request, not a crash.
func TestCheck_FindsDamagedPages(t *testing.T) {
	path := filledStore(t, 300)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	for off := len(data) / 4; off < len(data)*3/4; off += 16 << 10 {
		copy(data[off:], bytes.Repeat([]byte{0xA5}, 4096)) // every fourth 4 KiB page in the middle half
	}
	require.NoError(t, os.WriteFile(path, data, 0o600))

	err = boltstore.Check(path)
	require.ErrorIs(t, err, boltstore.ErrDamaged)
	t.Logf("check: %.300s", err)

	s, err := boltstore.Open(path)
	if err != nil {
		assert.ErrorIs(t, err, boltstore.ErrDamaged)
		return
	}
	defer s.Close()
	n, err := listAll(t, s)
	t.Logf("listed %d bonds, then %v", n, err)
	if err != nil { // bbolt's page checks, or our record codec, saw the damage
		// A damaged page is a 500; a damaged record is unreadable (409):
		// never a crash, never a bond served from damaged bytes.
		assert.Contains(t, []bond.Kind{bond.KindInternal, bond.KindUnreadable}, bond.KindOf(err), "a damaged file is an error, never a crash: %v", err)
	}
}

// A file damaged after Open (truncated under the running store) makes the
// reads that reach past its end fail; the process goes on.
func TestStore_FileTruncatedWhileOpen(t *testing.T) {
	path := filledStore(t, 300)
	s, err := boltstore.Open(path)
	require.NoError(t, err)
	defer s.Close()
	n, err := listAll(t, s)
	require.NoError(t, err)
	require.Equal(t, 300, n)

	info, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(path, info.Size()/4))
	_, err = listAll(t, s)
	require.Error(t, err)
	assert.ErrorIs(t, err, boltstore.ErrDamaged)
	assert.Equal(t, bond.KindInternal, bond.KindOf(err))

	// Writes read the index pages first: they fail the same way.
	var failed int
	for i := range 300 {
		id := fmt.Sprintf("B%05d", i)
		if _, err := bond.Get(t.Context(), s, id); err != nil {
			assert.NotEqual(t, bond.KindNotFound, bond.KindOf(err), id)
			failed++
		}
		_, err := bond.Create(t.Context(), s, newBond("N"+id, "NH"+id, "S"))
		if err != nil {
			assert.ErrorIs(t, err, boltstore.ErrDamaged)
		}
	}
	t.Logf("%d of 300 reads failed after the truncation", failed)
	assert.Positive(t, failed)
}

// The attacker's case: a record bbolt's own check cannot see (its pages are
// sound, its bytes are not a bond) made check say ok while GET answered
// 500. check decodes every record.
func TestCheck_FindsUndecodableRecords(t *testing.T) {
	path := filledStore(t, 20)
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("bonds")).Put([]byte("B00003"), []byte{1, 1, 0xff})
	}))
	require.NoError(t, db.Close())
	err = boltstore.Check(path)
	require.ErrorIs(t, err, boltstore.ErrDamaged)
	assert.Contains(t, err.Error(), "Bond B00003 is stored in a form this service cannot read")
}

// A valid bbolt file of another program (a widgets bucket, no meta/schema)
// was taken for a new store: check said ok and serve added its buckets to
// the file. Open and Check refuse it now, writing nothing; a bbolt file with
// no bucket at all (as bolt.Open creates it) is still a new store, and a
// store of an unknown schema version is refused by Check as by Open.
func TestOpen_RefusesAForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "foreign.db")
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("widgets"))
		return err
	}))
	require.NoError(t, db.Close())
	before := fileSum(t, path)

	_, err = boltstore.Open(path)
	require.ErrorIs(t, err, boltstore.ErrForeign)
	assert.Contains(t, err.Error(), path)
	assert.NotContains(t, err.Error(), "\n")
	assert.ErrorIs(t, boltstore.Check(path), boltstore.ErrForeign)
	assert.Equal(t, before, fileSum(t, path), "nothing is written to a foreign file")

	empty := filepath.Join(t.TempDir(), "empty.db")
	db, err = bolt.Open(empty, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.NoError(t, boltstore.Check(empty), "a bbolt file with no bucket is a new store")
	s, err := boltstore.Open(empty)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, boltstore.Check(empty))

	db, err = bolt.Open(empty, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte("99"))
	}))
	require.NoError(t, db.Close())
	assert.ErrorContains(t, boltstore.Check(empty), `schema version "99"`)
	_, err = boltstore.Open(empty)
	assert.ErrorContains(t, err, `schema version "99"`)
}

// Garbage on the freelist page made Open panic (bbolt reads the freelist
// only when it opens a file for writing, so the read-only checks before
// did not see it): TestCheck_FindsDamagedPages crashed whenever the
// freelist fell among its damaged pages. Open now refuses the file.
func TestOpen_DamagedFreelistIsAnError(t *testing.T) {
	path := filledStore(t, 50)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	const pageSize = 4096 // bbolt's page size on this file: os.Getpagesize
	require.Equal(t, pageSize, os.Getpagesize())
	// The meta page with the higher transaction id is the current one:
	// page header 16 bytes, then magic, version, page size, flags (4 each),
	// root bucket (16), freelist page id (8), high water mark (8), txid (8).
	freelist, txid := uint64(0), uint64(0)
	for m := range 2 {
		meta := data[m*pageSize+16:]
		if id := binary.LittleEndian.Uint64(meta[48:]); id >= txid {
			txid, freelist = id, binary.LittleEndian.Uint64(meta[32:])
		}
	}
	require.Greater(t, freelist, uint64(1), "the freelist page id")
	copy(data[freelist*pageSize:], bytes.Repeat([]byte{0xA5}, pageSize))
	require.NoError(t, os.WriteFile(path, data, 0o600))

	s, err := boltstore.Open(path)
	if err == nil {
		_ = s.Close()
	}
	require.ErrorIs(t, err, boltstore.ErrDamaged)
	assert.Contains(t, err.Error(), path)
}

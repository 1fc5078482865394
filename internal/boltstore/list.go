package boltstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// scan is where a listing reads: a bucket, the key prefix of the filter's
// value(s), and how many length-prefixed strings precede the id in a key.
type scan struct {
	tag    byte // names the kind of scan in a cursor
	bucket []byte
	prefix []byte
	skip   int
}

// scanFor picks the cheapest scan for f: the account index when an account
// is given (its keys hold the cost center next, so account and cost center
// together are one prefix too), else the cost center index, else all bonds.
// Every key under the prefix matches f: no page reads a bond it then drops.
func scanFor(f bond.Filter) scan {
	side := func(host, sub []byte) []byte {
		if f.ByHost {
			return host
		}
		return sub
	}
	switch {
	case f.Account != "" && f.CostCenter != "":
		return scan{'p', side(bucketHostAccount, bucketSubAccount), prefixKey(f.Account, f.CostCenter), 2}
	case f.Account != "":
		return scan{'a', side(bucketHostAccount, bucketSubAccount), prefixKey(f.Account), 2}
	case f.CostCenter != "":
		return scan{'c', side(bucketHostCostCenter, bucketSubCostCenter), prefixKey(f.CostCenter), 1}
	}
	return scan{'b', bucketBonds, nil, 0}
}

// Cursors are base64url(cursorFormat, scan tag, host/sub side, last key).
const (
	cursorFormat = 1
	maxCursorLen = 4096 // far above any real key: ids and values are short
)

func (sc scan) side(f bond.Filter) byte {
	if sc.tag != 'b' && f.ByHost {
		return 'h'
	}
	return 's'
}

func encodeCursor(sc scan, f bond.Filter, key []byte) string {
	raw := append([]byte{cursorFormat, sc.tag, sc.side(f)}, key...)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// decodeCursor returns the last key of the previous page, checking that the
// cursor was made by this store for this kind of scan and filter value.
func decodeCursor(sc scan, f bond.Filter, cursor string) ([]byte, error) {
	invalid := bond.ErrBadCursor()
	if len(cursor) > maxCursorLen {
		return nil, invalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(raw) < 4 || raw[0] != cursorFormat || raw[1] != sc.tag || raw[2] != sc.side(f) {
		return nil, invalid
	}
	key := raw[3:]
	if !bytes.HasPrefix(key, sc.prefix) {
		return nil, invalid
	}
	if _, err := splitKey(key, sc.skip); err != nil {
		return nil, invalid
	}
	return key, nil
}

// List yields the bonds matching f after cursor, in key order of the scan's
// bucket, inside one read transaction (see bond.Repository.List). A page
// costs O(page): one seek, then one step and one bond read per bond taken.
// KindInvalid (bond.ErrBadCursor) for a cursor this store did not make for f.
func (s *Store) List(ctx context.Context, f bond.Filter, cursor string, _ int, yield func(bond.Bond, func() string) bool) error {
	sc := scanFor(f)
	var after []byte
	if cursor != "" {
		var err error
		if after, err = decodeCursor(sc, f, cursor); err != nil {
			return err
		}
	}
	return s.view(ctx, "list bonds", func(tx *bolt.Tx) error {
		c := tx.Bucket(sc.bucket).Cursor()
		var k []byte
		if after == nil {
			k, _ = c.Seek(sc.prefix)
		} else if k, _ = c.Seek(after); bytes.Equal(k, after) {
			k, _ = c.Next()
		}
		for ; k != nil && bytes.HasPrefix(k, sc.prefix); k, _ = c.Next() {
			id, err := splitKey(k, sc.skip)
			if err != nil {
				return fmt.Errorf("index %s key %q: %w", sc.bucket, k, err)
			}
			b, ok, err := getBond(tx, string(id))
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("index %s names missing bond %q", sc.bucket, id)
			}
			key := k // resume is called after the cursor has moved on
			if !yield(b, func() string { return encodeCursor(sc, f, key) }) {
				return nil
			}
		}
		return nil
	})
}

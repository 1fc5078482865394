package boltstore

import (
	"encoding/binary"
	"errors"
)

// Keys. A key is a sequence of strings; each but the last is prefixed with its
// length (uvarint), the last (the bond id) runs to the end. Length prefixes
// make the encoding prefix-free: the key of ("QY1", "teal", id) never starts
// with the prefix of ("QY", ...) or of ("QY1", "te"), whatever bytes the
// strings contain, so a prefix scan returns exactly one value's entries.

// appendLP appends the length-prefixed s to dst.
func appendLP(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// prefixKey returns the length-prefixed vals, the scan prefix of an index.
func prefixKey(vals ...string) []byte {
	var k []byte
	for _, v := range vals {
		k = appendLP(k, v)
	}
	return k
}

// indexKey returns the index key of bond id under vals.
func indexKey(id string, vals ...string) []byte { return append(prefixKey(vals...), id...) }

// pairKey is the key of the pair bucket: the length-prefixed host account,
// then the subscriber account.
func pairKey(host, sub string) []byte { return append(prefixKey(host), sub...) }

var errBadKey = errors.New("malformed index key")

// splitKey skips n length-prefixed strings of k and returns the rest (the id).
func splitKey(k []byte, n int) ([]byte, error) {
	for range n {
		l, w := binary.Uvarint(k)
		if w <= 0 || uint64(len(k)-w) < l {
			return nil, errBadKey
		}
		k = k[w+int(l):]
	}
	if len(k) == 0 {
		return nil, errBadKey
	}
	return k, nil
}

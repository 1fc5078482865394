package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// A record is the stored form of a bond, under its id in the bonds bucket:
//
//	format byte (1) | version uvarint | host, sub, host cost center,
//	sub cost center | subscriber count uvarint | per subscriber, by key:
//	key, sid, name, email
//
// where each string is a uvarint length and its bytes. The id is the bucket
// key and is not repeated. It is kept over encoding/json because it pays
// for itself end to end: GET /bonds/{id} over HTTP serves markedly more
// requests per second with it (bondbench compare; figures in the README,
// Performance); BenchmarkCodec measures size and speed of the two codecs.
const recordFormat = 1

// encodeRecord returns the stored form of b.
func encodeRecord(b bond.Bond) []byte {
	n := 1 + binary.MaxVarintLen64*2 + len(b.HostAccountID) + len(b.SubAccountID) +
		len(b.HostCostCenter) + len(b.SubCostCenter) + 4*binary.MaxVarintLen16
	keys := make([]string, 0, len(b.Subscribers))
	for k, s := range b.Subscribers {
		keys = append(keys, k)
		n += len(k) + len(s.SID) + len(s.Name) + len(s.Email) + 4*binary.MaxVarintLen16
	}
	slices.Sort(keys) // the same bond always has the same bytes
	buf := make([]byte, 0, n)
	buf = append(buf, recordFormat)
	buf = binary.AppendUvarint(buf, uint64(b.Version))
	for _, s := range []string{b.HostAccountID, b.SubAccountID, b.HostCostCenter, b.SubCostCenter} {
		buf = appendLP(buf, s)
	}
	buf = binary.AppendUvarint(buf, uint64(len(keys)))
	for _, k := range keys {
		s := b.Subscribers[k]
		buf = appendLP(buf, k)
		buf = appendLP(buf, s.SID)
		buf = appendLP(buf, s.Name)
		buf = appendLP(buf, s.Email)
	}
	return buf
}

var errShortRecord = errors.New("record truncated")

// decodeRecord returns the bond stored under id. It copies data, which
// bbolt owns only for the transaction, into one string, and every field is a
// substring of it: one allocation for all the strings of a bond.
func decodeRecord(id string, data []byte) (bond.Bond, error) {
	d := recordDecoder{s: string(data)}
	if f := d.byte(); f != recordFormat {
		return bond.Bond{}, fmt.Errorf("decode bond %s: record format %d, want %d", id, f, recordFormat)
	}
	b := bond.Bond{BondID: id}
	b.Version = int64(d.uvarint())
	b.HostAccountID = d.str()
	b.SubAccountID = d.str()
	b.HostCostCenter = d.str()
	b.SubCostCenter = d.str()
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.s)) { // each subscriber takes at least 4 bytes
		d.err = errShortRecord
	}
	if d.err != nil {
		return bond.Bond{}, fmt.Errorf("decode bond %s: %w", id, d.err)
	}
	b.Subscribers = make(map[string]bond.Subscriber, n)
	for range n {
		k := d.str()
		b.Subscribers[k] = bond.Subscriber{SID: d.str(), Name: d.str(), Email: d.str()}
	}
	if d.err == nil && len(d.s) != 0 {
		d.err = fmt.Errorf("%d trailing bytes", len(d.s))
	}
	if d.err != nil {
		return bond.Bond{}, fmt.Errorf("decode bond %s: %w", id, d.err)
	}
	return b, nil
}

// recordDecoder reads a record front to back; the first error sticks.
type recordDecoder struct {
	s   string // what is left to read
	err error
}

func (d *recordDecoder) byte() byte {
	if d.err != nil || len(d.s) == 0 {
		d.err = errShortRecord
		return 0
	}
	c := d.s[0]
	d.s = d.s[1:]
	return c
}

// uvarint reads an unsigned varint (encoding/binary's format).
func (d *recordDecoder) uvarint() uint64 {
	var v uint64
	for i := 0; d.err == nil && i < binary.MaxVarintLen64; i++ {
		c := d.byte()
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break // overflows 64 bits
			}
			return v
		}
	}
	d.err = errShortRecord
	return 0
}

func (d *recordDecoder) str() string {
	l := d.uvarint()
	if d.err != nil {
		return ""
	}
	if l > uint64(len(d.s)) {
		d.err = errShortRecord
		return ""
	}
	v := d.s[:l]
	d.s = d.s[l:]
	return v
}

package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// A record is the stored form of a bond, under its id in the bonds bucket,
// derived from the declaration of a bond's fields (bond.BondFields,
// bond.SubscriberFields):
//
//	format byte (3) | version uvarint | revision uvarint | field count
//	uvarint | the bond's
//	fields | subscriber count uvarint | per subscriber, by key: key, field
//	count uvarint, the subscriber's fields
//
// where each string is a uvarint length and its bytes, and the fields are in
// the order of their declaration. A record with fewer fields than this build
// declares (written before a field was added) reads them as empty, which
// the rules then judge; one with more is unreadable. Format 2 (no
// revision, read as 0) and format 1 (no revision, the four account and cost
// center fields and three subscriber fields, no counts) are still read. The id is the bucket key and is not repeated. It is kept over
// encoding/json because it pays for itself end to end (docs/performance.md);
// BenchmarkCodec measures size and speed of the two codecs.
const (
	recordFormat   = 3
	recordFormatV2 = 2
	recordFormatV1 = 1
)

// encodeRecord returns the stored form of b.
func encodeRecord(b bond.Bond) []byte {
	n := 1 + binary.MaxVarintLen64*3
	for _, f := range bond.BondFields {
		n += len(f.Get(b)) + binary.MaxVarintLen16
	}
	keys := make([]string, 0, len(b.Subscribers))
	for k, s := range b.Subscribers {
		keys = append(keys, k)
		n += len(k) + 2*binary.MaxVarintLen16
		for _, f := range bond.SubscriberFields {
			n += len(f.Get(s)) + binary.MaxVarintLen16
		}
	}
	slices.Sort(keys) // the same bond always has the same bytes
	buf := make([]byte, 0, n)
	buf = append(buf, recordFormat)
	buf = binary.AppendUvarint(buf, uint64(b.Version))
	buf = binary.AppendUvarint(buf, uint64(b.Revision))
	buf = binary.AppendUvarint(buf, uint64(len(bond.BondFields)))
	for _, f := range bond.BondFields {
		buf = appendLP(buf, f.Get(b))
	}
	buf = binary.AppendUvarint(buf, uint64(len(keys)))
	for _, k := range keys {
		s := b.Subscribers[k]
		buf = appendLP(buf, k)
		buf = binary.AppendUvarint(buf, uint64(len(bond.SubscriberFields)))
		for _, f := range bond.SubscriberFields {
			buf = appendLP(buf, f.Get(s))
		}
	}
	return buf
}

var errShortRecord = errors.New("record truncated")

// decodeRecord returns the bond stored under id, held to the rules of a
// request (bond.CheckStored): a record that does not decode, or decodes to a
// bond the rules refuse, is bond.ErrUnreadable naming the bond. It copies
// data, which bbolt owns only for the transaction, into one string, and
// every field is a substring of it: one allocation for all the strings of a
// bond.
func decodeRecord(id string, data []byte) (bond.Bond, error) {
	b, err := decodeFields(id, data)
	if err != nil {
		return bond.Bond{}, bond.ErrUnreadable(id, err.Error())
	}
	if err := bond.CheckStored(b); err != nil {
		return bond.Bond{}, err
	}
	return b, nil
}

// decodeFields reads a record of either format into a bond.
func decodeFields(id string, data []byte) (bond.Bond, error) {
	d := recordDecoder{s: string(data)}
	format := d.byte()
	if d.err == nil && format != recordFormat && format != recordFormatV2 && format != recordFormatV1 {
		return bond.Bond{}, fmt.Errorf("record format %d, this build reads %d to %d", format, recordFormatV1, recordFormat)
	}
	b := bond.Bond{BondID: id}
	b.Version = -1 // out of range, for CheckStored, unless it fits
	if v := d.uvarint(); v <= bond.MaxVersion {
		b.Version = int64(v)
	}
	if format == recordFormat {
		if v := d.uvarint(); v <= bond.MaxRevision {
			b.Revision = int64(v)
		} else {
			return bond.Bond{}, errors.New("revision out of range")
		}
	}
	nBond, nSub := uint64(4), uint64(3) // format 1
	if format != recordFormatV1 {
		nBond = d.uvarint()
	}
	if d.err == nil && nBond > uint64(len(bond.BondFields)) {
		return bond.Bond{}, fmt.Errorf("record has %d fields, this build knows %d", nBond, len(bond.BondFields))
	}
	for _, f := range bond.BondFields[:nBond] {
		f.Set(&b, d.str())
	}
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.s)) { // each subscriber takes at least 2 bytes
		d.err = errShortRecord
	}
	if d.err != nil {
		return bond.Bond{}, d.err
	}
	b.Subscribers = make(map[string]bond.Subscriber, n)
	for range n {
		k := d.str()
		if format != recordFormatV1 {
			nSub = d.uvarint()
		}
		if d.err == nil && nSub > uint64(len(bond.SubscriberFields)) {
			return bond.Bond{}, fmt.Errorf("subscribers.%s: record has %d fields, this build knows %d", k, nSub, len(bond.SubscriberFields))
		}
		var s bond.Subscriber
		for _, f := range bond.SubscriberFields[:nSub] {
			f.Set(&s, d.str())
		}
		if _, dup := b.Subscribers[k]; dup && d.err == nil {
			return bond.Bond{}, fmt.Errorf("subscribers.%s: twice in the record", k)
		}
		b.Subscribers[k] = s
	}
	if d.err == nil && len(d.s) != 0 {
		d.err = fmt.Errorf("%d trailing bytes", len(d.s))
	}
	return b, d.err
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

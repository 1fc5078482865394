package boltstore

// An internal test: the record codec and key encoding are unexported, and
// BenchmarkCodec compares the codec with encoding/json (the end-to-end
// measurement behind the choice is bondbench compare, docs/performance.md).

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/bondregistry/bond-registry/internal/bond"
)

func codecBond(subscribers int) bond.Bond {
	b := bond.Bond{BondID: "ID007", HostAccountID: "QYSS37952707405491", SubAccountID: "SQSY48031267772693",
		HostCostCenter: "teal", SubCostCenter: "yellow ✓", Subscribers: map[string]bond.Subscriber{}, Version: 300}
	for i := range subscribers {
		sid := fmt.Sprintf("user%04d", i)
		b.Subscribers[sid] = bond.Subscriber{SID: sid, Name: "Richard Harper", Email: "richharper@gmail.com"}
	}
	return b
}

func TestRecord(t *testing.T) {
	t.Run("OK round trip", func(t *testing.T) {
		for _, want := range []bond.Bond{codecBond(0), codecBond(3), codecBond(1000)} {
			got, err := decodeRecord(want.BondID, encodeRecord(want))
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.NotNil(t, got.Subscribers)
		}
	})
	t.Run("OK format 1 is still read", func(t *testing.T) {
		// Format 1 holds the first four bond fields and three subscriber
		// fields, without counts; fields declared since read as empty.
		want := codecBond(2)
		v1 := binary.AppendUvarint([]byte{recordFormatV1}, uint64(want.Version))
		for _, f := range bond.BondFields[:4] {
			v1 = appendLP(v1, f.Get(want))
		}
		v1 = binary.AppendUvarint(v1, uint64(len(want.Subscribers)))
		for _, k := range slices.Sorted(maps.Keys(want.Subscribers)) {
			v1 = appendLP(v1, k)
			for _, f := range bond.SubscriberFields[:3] {
				v1 = appendLP(v1, f.Get(want.Subscribers[k]))
			}
		}
		got, err := decodeFields(want.BondID, v1)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	})
	t.Run("Err a record the rules refuse is unreadable", func(t *testing.T) {
		for name, b := range map[string]bond.Bond{
			"subscribers..sid: ensure this value has at least 1 characters": {BondID: "x", HostAccountID: "H", SubAccountID: "S",
				HostCostCenter: "c", SubCostCenter: "d", Subscribers: map[string]bond.Subscriber{"": {}}, Version: 1},
			"sub_cost_center: ensure this value has at least 1 characters": {BondID: "x", HostAccountID: "H", SubAccountID: "S",
				HostCostCenter: "c", Version: 1},
			"subscribers.bob.email: value is not a valid email address": {BondID: "x", HostAccountID: "H", SubAccountID: "S",
				HostCostCenter: "c", SubCostCenter: "d", Version: 1,
				Subscribers: map[string]bond.Subscriber{"bob": {SID: "bob", Name: "Bob", Email: "not-an-address"}}},
		} {
			_, err := decodeRecord(b.BondID, encodeRecord(b))
			require.Equal(t, bond.KindUnreadable, bond.KindOf(err), "%v", err)
			assert.Contains(t, err.Error(), "("+name+")")
			assert.NotContains(t, err.Error(), "not-an-address", "the value is never shown")
		}
	})
	t.Run("Err generated damage is unreadable, never a crash or a changed bond", func(t *testing.T) {
		rapid.Check(t, func(rt *rapid.T) {
			want := codecBond(rapid.IntRange(0, 4).Draw(rt, "subscribers"))
			data := encodeRecord(want)
			switch rapid.IntRange(0, 2).Draw(rt, "damage") {
			case 0: // a byte changed
				i := rapid.IntRange(0, len(data)-1).Draw(rt, "at")
				data[i] = rapid.Byte().Filter(func(c byte) bool { return c != data[i] }).Draw(rt, "to")
			case 1: // bytes removed
				i := rapid.IntRange(0, len(data)-1).Draw(rt, "at")
				n := rapid.IntRange(1, len(data)-i).Draw(rt, "n")
				data = append(data[:i:i], data[i+n:]...)
			case 2: // bytes inserted
				i := rapid.IntRange(0, len(data)).Draw(rt, "at")
				ins := rapid.SliceOfN(rapid.Byte(), 1, 8).Draw(rt, "bytes")
				data = append(data[:i:i], append(ins, data[i:]...)...)
			}
			got, err := decodeRecord(want.BondID, data)
			if err != nil {
				require.Equal(rt, bond.KindUnreadable, bond.KindOf(err), "%v", err)
				return
			}
			require.NoError(rt, bond.CheckStored(got), "a record that decodes holds to the rules")
		})
	})
	t.Run("OK deterministic", func(t *testing.T) {
		b := codecBond(50)
		assert.Equal(t, encodeRecord(b), encodeRecord(b))
	})
	t.Run("Err every truncation and trailing bytes", func(t *testing.T) {
		data := encodeRecord(codecBond(3))
		for n := range len(data) {
			_, err := decodeRecord("ID007", data[:n])
			assert.Error(t, err, "truncated to %d of %d bytes", n, len(data))
		}
		_, err := decodeRecord("ID007", append(data, 0))
		assert.Error(t, err, "trailing byte")
	})
	t.Run("Err huge counts do not allocate", func(t *testing.T) {
		data := []byte{recordFormat, 1, 1, 4, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}
		_, err := decodeRecord("x", data)
		assert.Error(t, err)
	})
}

func TestKeys(t *testing.T) {
	t.Run("OK split returns the id", func(t *testing.T) {
		id, err := splitKey(indexKey("B1|x", "QY1", "teal green"), 2)
		require.NoError(t, err)
		assert.Equal(t, "B1|x", string(id))
	})
	t.Run("OK prefixes of one value never cover another", func(t *testing.T) {
		vals := []string{"QY", "QY1", "QY12", "QY1|2", "Q", "", "\u00e9", "\u00e9\u00e9"}
		for _, a := range vals {
			for _, b := range vals {
				k := indexKey("id", b, "cc")
				if a != b {
					assert.False(t, hasPrefix(k, prefixKey(a)), "key of %q under prefix of %q", b, a)
				}
			}
		}
	})
	t.Run("Err malformed", func(t *testing.T) {
		for _, k := range [][]byte{nil, {5, 'a'}, {0}, {0xff}, prefixKey("QY", "teal")} {
			_, err := splitKey(k, 2)
			assert.Error(t, err, "%q", k)
		}
	})
}

func hasPrefix(k, p []byte) bool { return len(k) >= len(p) && string(k[:len(p)]) == string(p) }

// jsonRecord is what a JSON record would be: the bond plus its version.
type jsonRecord struct {
	bond.Bond
	Version int64 `json:"version"`
}

// BenchmarkCodec compares the record codec with encoding/json; it reports
// the encoded size as bytes/record.
func BenchmarkCodec(b *testing.B) {
	for _, n := range []int{3, 100} {
		bd := codecBond(n)
		b.Run(fmt.Sprintf("binary/subscribers=%d/encode", n), func(b *testing.B) {
			b.ReportAllocs()
			var data []byte
			for b.Loop() {
				data = encodeRecord(bd)
			}
			b.ReportMetric(float64(len(data)), "bytes/record")
		})
		b.Run(fmt.Sprintf("binary/subscribers=%d/decode", n), func(b *testing.B) {
			data := encodeRecord(bd)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decodeRecord(bd.BondID, data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("json/subscribers=%d/encode", n), func(b *testing.B) {
			b.ReportAllocs()
			var data []byte
			for b.Loop() {
				data, _ = json.Marshal(jsonRecord{bd, bd.Version})
			}
			b.ReportMetric(float64(len(data)), "bytes/record")
		})
		b.Run(fmt.Sprintf("json/subscribers=%d/decode", n), func(b *testing.B) {
			data, _ := json.Marshal(jsonRecord{bd, bd.Version})
			b.ReportAllocs()
			for b.Loop() {
				var r jsonRecord
				if err := json.Unmarshal(data, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

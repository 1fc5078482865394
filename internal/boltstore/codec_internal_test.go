package boltstore

// An internal test: the record codec and key encoding are unexported, and
// BenchmarkCodec compares the codec with encoding/json (the end-to-end
// measurement behind the choice is bondbench compare, README Performance).

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		for _, want := range []bond.Bond{codecBond(0), codecBond(3), codecBond(1000),
			{BondID: "x", Subscribers: map[string]bond.Subscriber{"": {}}, Version: 1}} {
			got, err := decodeRecord(want.BondID, encodeRecord(want))
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.NotNil(t, got.Subscribers)
		}
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
		data := []byte{recordFormat, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}
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

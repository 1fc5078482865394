package bond_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// Micro-benchmarks of request decoding with validation and of response
// encoding, without HTTP. Compare two versions with benchstat:
//
//	go test -run '^$' -bench . -benchmem -count 6 ./internal/... > new.txt
//	go run golang.org/x/perf/cmd/benchstat@latest old.txt new.txt

// createBody is a POST /bonds body with n subscribers.
func createBody(n int) []byte {
	var s strings.Builder
	s.WriteString(`{"bond_id": "ID007", "host_account_id": "QYSS37952707405491", "sub_account_id": "SQSY48031267772693",` +
		`"host_cost_center": "teal", "sub_cost_center": "yellow", "subscribers": {`)
	for i := range n {
		if i > 0 {
			s.WriteString(",")
		}
		fmt.Fprintf(&s, `"user%04d": {"sid": "user%04d", "name": "Richard Harper %d", "email": "rich%04d@gmail.com"}`, i, i, i, i)
	}
	s.WriteString("}}")
	return []byte(s.String())
}

// newBond is the bond of createBody(n).
func newBond(b *testing.B, n int) bond.Bond {
	var bd bond.Bond
	if err := json.Unmarshal(createBody(n), &bd); err != nil {
		b.Fatal(err)
	}
	return bd
}

// BenchmarkEncodeBond is the response body of one bond: AppendJSON, as the
// HTTP layer writes it, beside encoding/json, which it replaced.
func BenchmarkEncodeBond(b *testing.B) {
	for _, n := range []int{3, 100} {
		bd := newBond(b, n)
		b.Run(fmt.Sprintf("AppendJSON/subscribers=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				buf = bd.AppendJSON(buf[:0])
				if len(buf) < 100 {
					b.Fatalf("AppendJSON: %d bytes", len(buf))
				}
			}
		})
		b.Run(fmt.Sprintf("encoding-json/subscribers=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out, err := json.Marshal(bd)
				if err != nil || len(out) < 100 {
					b.Fatalf("Marshal: %d bytes, %v", len(out), err)
				}
			}
		})
	}
}

func BenchmarkItemSize(b *testing.B) {
	bd := newBond(b, 100)
	b.ReportAllocs()
	for b.Loop() {
		if bond.ItemSize(bd) <= 0 {
			b.Fatal("ItemSize <= 0")
		}
	}
}

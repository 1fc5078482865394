package bond_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// Micro-benchmarks of the domain's rules, without HTTP (the decoders'
// are in internal/httpapi). Compare two versions with benchstat:
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

func BenchmarkItemSize(b *testing.B) {
	bd := newBond(b, 100)
	b.ReportAllocs()
	for b.Loop() {
		if bond.ItemSize(bd) <= 0 {
			b.Fatal("ItemSize <= 0")
		}
	}
}

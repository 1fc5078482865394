package bond_test

import (
	"fmt"
	"testing"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// Micro-benchmarks of the domain's rules, without HTTP (the decoders' are in
// internal/httpapi). Compare two versions with benchstat:
//
//	go test -run '^$' -bench . -benchmem -count 6 ./internal/... > new.txt
//	go run golang.org/x/perf/cmd/benchstat@latest old.txt new.txt

func BenchmarkItemSize(b *testing.B) {
	bd := bond.Bond{BondID: "ID007", HostAccountID: "QYSS37952707405491", SubAccountID: "SQSY48031267772693",
		HostCostCenter: "teal", SubCostCenter: "yellow", Subscribers: map[string]bond.Subscriber{}}
	for i := range 100 {
		sid := fmt.Sprintf("user%04d", i)
		bd.Subscribers[sid] = bond.Subscriber{SID: sid, Name: fmt.Sprintf("Richard Harper %d", i), Email: sid + "@gmail.com"}
	}
	b.ReportAllocs()
	for b.Loop() {
		if bond.ItemSize(bd) <= 0 {
			b.Fatal("ItemSize <= 0")
		}
	}
}

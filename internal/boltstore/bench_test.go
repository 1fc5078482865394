package boltstore_test

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/boltstore"
	"github.com/bondregistry/bond-registry/internal/bond"
)

// benchBond is bond i of a benchmark data set: 10 host cost centers, 50
// host accounts, 3 subscribers.
func benchBond(i int) bond.Bond {
	b := bond.Bond{
		BondID:         fmt.Sprintf("BOND%06d", i),
		HostAccountID:  fmt.Sprintf("HOST%04d", i%50),
		SubAccountID:   fmt.Sprintf("SUB%06d", i),
		HostCostCenter: fmt.Sprintf("cc%d", i%50%10),
		SubCostCenter:  "blue",
		Subscribers:    map[string]bond.Subscriber{},
	}
	for _, sid := range []string{"aaronorr", "christopherwashington", "jessicadavis"} {
		b.Subscribers[sid] = bond.Subscriber{SID: sid, Name: "Lori Rodriguez", Email: "mistymoore@example.com"}
	}
	return b
}

// load creates n bench bonds from 64 goroutines (batched commits).
func load(b *testing.B, s *boltstore.Store, n int) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if _, err := bond.Create(b.Context(), s, benchBond(i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	require.NoError(b, <-errs)
}

func BenchmarkGet(b *testing.B) {
	s := mustOpen(b)
	load(b, s, 1000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := bond.Get(b.Context(), s, benchBond(i%1000).BondID); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkCreate is one writer: each create waits for its own commit.
// BenchmarkCreateParallel has 32 writers, whose creates share commits.
func BenchmarkCreate(b *testing.B) {
	s := mustOpen(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := bond.Create(b.Context(), s, benchBond(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkCreateParallel(b *testing.B) {
	s := mustOpen(b)
	b.ReportAllocs()
	b.SetParallelism(32 / max(1, runtimeProcs()))
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := bond.Create(b.Context(), s, benchBond(int(next.Add(1)))); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPutSubscriber adds or replaces one of 100 subscribers of a bond.
func BenchmarkPutSubscriber(b *testing.B) {
	s := mustOpen(b)
	load(b, s, 1)
	id := benchBond(0).BondID
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		sid := fmt.Sprintf("s%03d", i%100)
		if _, err := bond.PutSubscriber(b.Context(), s, id, bond.Subscriber{SID: sid, Name: "n", Email: "e@example.com"}, bond.Precondition{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkList reads one page of 100 from 10,000 bonds: the first page, or
// a page after a cursor, with and without a filter.
func BenchmarkList(b *testing.B) {
	s := mustOpen(b)
	load(b, s, 10_000)
	for _, bc := range []struct {
		name string
		f    bond.Filter
	}{
		{"all", bond.Filter{}},
		{"host cost center", bond.Filter{ByHost: true, CostCenter: "cc3"}},
		{"host account", bond.Filter{ByHost: true, Account: "HOST0042"}},
	} {
		first, err := bond.ListPage(b.Context(), s, bc.f, 100, "")
		require.NoError(b, err)
		require.Len(b, first.Bonds, 100, bc.name)
		require.NotEmpty(b, first.Next, bc.name)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				page, err := bond.ListPage(b.Context(), s, bc.f, 100, first.Next)
				if err != nil || len(page.Bonds) != 100 {
					b.Fatal(err, len(page.Bonds))
				}
			}
		})
	}
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

package transfer_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/transfer"
)

// BenchmarkExport exports a bolt store of 5000 bonds of 10 subscribers;
// B/op over the bonds shows that memory does not grow with the store.
func BenchmarkExport(b *testing.B) {
	repo := newStore(b, b.TempDir())
	const n = 5000
	for i := range n {
		bd := bond.Bond{BondID: fmt.Sprintf("B%05d", i), HostAccountID: fmt.Sprintf("H%05d", i), SubAccountID: "S",
			HostCostCenter: "c", SubCostCenter: "d", Subscribers: map[string]bond.Subscriber{}}
		for j := range 10 {
			sid := fmt.Sprintf("sub%02d", j)
			bd.Subscribers[sid] = bond.Subscriber{SID: sid, Name: "Name " + sid, Email: sid + "@example.com"}
		}
		_, err := bond.Create(context.Background(), repo, bd)
		require.NoError(b, err)
	}
	b.ResetTimer()
	for b.Loop() {
		got, err := transfer.Export(context.Background(), repo, io.Discard)
		require.NoError(b, err)
		require.Equal(b, n, got)
	}
}

// BenchmarkImport imports 1000 NDJSON lines into an empty bolt store.
func BenchmarkImport(b *testing.B) {
	var sb strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&sb, okLine+"\n", fmt.Sprintf("B%05d", i))
	}
	in := sb.String()
	for b.Loop() {
		b.StopTimer()
		repo := newStore(b, b.TempDir())
		b.StartTimer()
		rep, err := transfer.Import(context.Background(), repo, strings.NewReader(in))
		require.NoError(b, err)
		require.Equal(b, 1000, rep.Created)
	}
}

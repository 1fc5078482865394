package httpapi

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// Micro-benchmarks of request decoding with validation, without HTTP.

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

func BenchmarkDecodeBond(b *testing.B) {
	for _, n := range []int{3, 100, 1000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			data := createBody(n)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				got, err := decodeBond(data)
				if err != nil || len(got.Subscribers) != n {
					b.Fatalf("DecodeBond: %d subscribers, %v", len(got.Subscribers), err)
				}
			}
		})
	}
}

// BenchmarkDecodeBondInvalid is a body with a problem in every field: the
// cost of reporting all of them.
func BenchmarkDecodeBondInvalid(b *testing.B) {
	data := []byte(`{"bond_id": "a/b", "host_account_id": 7, "sub_account_id": "", "host_cost_center": null,` +
		`"sub_cost_center": " x", "subscribers": {"bob": {"sid": "alice", "name": "", "email": "nope"}}, "extra": 1}`)
	b.ReportAllocs()
	for b.Loop() {
		_, err := decodeBond(data)
		if e, ok := errors.AsType[*bond.Error](err); !ok || len(e.Problems) < 5 {
			b.Fatalf("DecodeBond: want many problems, got %v", err)
		}
	}
}

func BenchmarkDecodeSubscriber(b *testing.B) {
	data := []byte(`{"sid": "rharper", "name": "Richard Harper", "email": "richharper@gmail.com"}`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if s, err := decodeSubscriber(data); err != nil || s.SID != "rharper" {
			b.Fatalf("DecodeSubscriber: %+v, %v", s, err)
		}
	}
}

func BenchmarkDecodeUpdate(b *testing.B) {
	data := []byte(`{"host_cost_center": "navy", "sub_cost_center": "lime"}`)
	b.ReportAllocs()
	for b.Loop() {
		if u, err := decodeUpdate(data, "ID007"); err != nil || u.HostCostCenter == nil {
			b.Fatalf("DecodeUpdate: %+v, %v", u, err)
		}
	}
}

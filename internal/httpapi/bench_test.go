package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/bondregistry/bond-registry/internal/boltstore"
	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/bond/bondfake"
	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/metrics"
)

// The benchmarks measure the HTTP layer alone (routing, middleware, decoding
// and validation, encoding) over a store that answers at once.

func benchBond(nSubs int) bond.Bond {
	b := bond.Bond{BondID: "FOO", HostAccountID: "TAPV54703350425479", SubAccountID: "IMII87361536320662",
		HostCostCenter: "olive", SubCostCenter: "blue", Version: 3, Subscribers: map[string]bond.Subscriber{}}
	for i := range nSubs {
		sid := fmt.Sprintf("subscriber%03d", i)
		b.Subscribers[sid] = bond.Subscriber{SID: sid, Name: "Name " + sid, Email: sid + "@example.com"}
	}
	return b
}

func benchBody(nSubs int) string {
	var s strings.Builder
	s.WriteString(`{"bond_id": "FOO", "host_account_id": "TAPV54703350425479", "sub_account_id": "IMII87361536320662",
		"host_cost_center": "olive", "sub_cost_center": "blue", "subscribers": {`)
	for i := range nSubs {
		if i > 0 {
			s.WriteString(",")
		}
		fmt.Fprintf(&s, `"subscriber%03d": {"sid": "subscriber%03d", "name": "Name %d", "email": "subscriber%03d@example.com"}`, i, i, i, i)
	}
	s.WriteString("}}")
	return s.String()
}

// instant is a store that answers every call at once with fixed data.
func instant(b bond.Bond, page []bond.Bond) *bondfake.Repo {
	return &bondfake.Repo{
		ReadFn:   func(context.Context, string) (bond.Bond, bool, error) { return b, true, nil },
		CreateFn: func(context.Context, bond.Bond, int64, bond.Journal) error { return nil },
		ListFn: func(_ context.Context, _ bond.Filter, _ string, _ int, yield func(bond.Bond, func() string) bool) error {
			for _, b := range page {
				if !yield(b, func() string { return "cursor" }) {
					break
				}
			}
			return nil
		},
	}
}

func serve(b *testing.B, h http.Handler, method, target, body string, want int) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Host = "localhost" // a service without keys answers local callers only
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("status %d, want %d: %s", rec.Code, want, rec.Body)
		}
	}
}

// BenchmarkCreate is POST /bonds: body reading, strict decoding and
// validation of every field, then encoding the created bond.
func BenchmarkCreate(b *testing.B) {
	for _, n := range []int{3, 100} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			body := benchBody(n)
			b.SetBytes(int64(len(body)))
			h := httpapi.NewServer(zerolog.Nop(), instant(bond.Bond{}, nil), httpapi.Config{})
			serve(b, h, http.MethodPost, "/bonds", body, http.StatusCreated)
		})
	}
}

// BenchmarkGet is GET /bonds/{bond_id}: routing and encoding one bond.
func BenchmarkGet(b *testing.B) {
	for _, n := range []int{3, 100} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			h := httpapi.NewServer(zerolog.Nop(), instant(benchBond(n), nil), httpapi.Config{})
			serve(b, h, http.MethodGet, "/bonds/FOO", "", http.StatusOK)
		})
	}
}

// BenchmarkList is GET /bonds: query parsing, token verification and
// signing, and encoding a page of 100 bonds.
func BenchmarkList(b *testing.B) {
	page := make([]bond.Bond, 100)
	for i := range page {
		page[i] = benchBond(3)
	}
	h := httpapi.NewServer(zerolog.Nop(), instant(bond.Bond{}, page), httpapi.Config{})
	serve(b, h, http.MethodGet, "/bonds?cost_center_id=olive&limit=100", "", http.StatusOK)
}

// BenchmarkGetProduction is GET /bonds/{bond_id} as the service runs it: the
// bolt store, metrics, and JSON access lines (to io.Discard).
func BenchmarkGetProduction(b *testing.B) {
	repo, err := boltstore.Open(filepath.Join(b.TempDir(), "bonds.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer repo.Close()
	m := metrics.New("bench")
	if _, err := bond.Create(context.Background(), repo, benchBond(3)); err != nil {
		b.Fatal(err)
	}
	log := zerolog.New(io.Discard).With().Timestamp().Logger()
	h := httpapi.NewServer(log, m.Instrument(repo), httpapi.Config{Metrics: m})
	serve(b, h, http.MethodGet, "/bonds/FOO", "", http.StatusOK)
}

// BenchmarkCreateKeyed is POST /bonds on the bolt store, without a key and
// with a fresh Idempotency-Key per request (the record begun in its own
// transaction, completed in the create's): the cost of a safe retry.
func BenchmarkCreateKeyed(b *testing.B) {
	for _, keyed := range []bool{false, true} {
		b.Run(fmt.Sprintf("key=%t", keyed), func(b *testing.B) {
			repo, err := boltstore.Open(filepath.Join(b.TempDir(), "bonds.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer repo.Close()
			h := httpapi.NewServer(zerolog.Nop(), repo, httpapi.Config{Idempotency: repo.Idempotency()})
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n++
				body := fmt.Sprintf(`{"bond_id":"K%d","host_account_id":"H%d","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d"}`, n, n)
				req := httptest.NewRequest(http.MethodPost, "/bonds", strings.NewReader(body))
				req.Host = "localhost"
				req.Header.Set("Content-Type", "application/json")
				if keyed {
					req.Header.Set(httpapi.IdempotencyKeyHeader, fmt.Sprintf(`"k%d"`, n))
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusCreated {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

package dynamostore

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/dynamotest"
	"github.com/bondregistry/bond-registry/internal/idempotency"
)

// benchClients is the number of concurrent callers of BenchmarkPaired, as
// make bench loads the service.
const benchClients = 32

// BenchmarkPaired measures each store operation beside the bare SDK call it
// makes: the very input the store builds (getItemInput, createInput,
// replaceInput, with the revision the journal carries), sent with the same
// client, so the ratio is the cost of the
// store's own work (decoding, error translation) and nothing else. The two
// sides alternate in four rounds of b.N calls each, by benchClients
// goroutines, and the median round ratio is reported, so drift of a shared
// machine cannot bias it: store/sdk-x is the store's calls per second over
// the SDK's (1.0 = no overhead). An untimed pass of each side comes first,
// and the order of the sides alternates by round. make bench runs it on
// DynamoDB Local:
//
//	DYNAMODB_TEST_ENDPOINT=http://127.0.0.1:8000 go test -run '^$' -bench Paired -benchtime 400x ./internal/dynamostore/
func BenchmarkPaired(b *testing.B) {
	endpoint := aws.ToString(dynamotest.Endpoint(b).Options().BaseEndpoint)
	client, err := NewClient(b.Context(), endpoint, "us-east-1",
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		b.Fatal(err)
	}
	s := New(client, dynamotest.NewTable(b, dynamotest.Endpoint(b)))
	foo := bond.Bond{BondID: "FOO", HostAccountID: "H", SubAccountID: "S", HostCostCenter: "teal", SubCostCenter: "yellow", Version: 1, Revision: 1,
		Subscribers: map[string]bond.Subscriber{"rharper": {SID: "rharper", Name: "Richard Harper", Email: "richharper@example.com"}}}
	if err := s.Create(b.Context(), foo, 0, journal(foo, bond.OpCreate)); err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	newBond := func() bond.Bond {
		n := seq.Add(1)
		nb := foo
		nb.BondID, nb.HostAccountID = fmt.Sprintf("B%d", n), fmt.Sprintf("H%d", n)
		return nb
	}
	// Replace: a subscriber put (the write of POST /bonds/{id}/subscribers)
	// on one of a pool of bonds, each held by one caller at a time, so its
	// version condition always holds.
	pool := make([]struct {
		sync.Mutex
		b bond.Bond
	}, 2*benchClients)
	for i := range pool {
		pool[i].b = newBond()
		if err := s.Create(b.Context(), pool[i].b, 0, journal(pool[i].b, bond.OpCreate)); err != nil {
			b.Fatal(err)
		}
	}
	putSubscriber := func(write func(cur, next bond.Bond, j bond.Journal) error) error {
		e := &pool[seq.Add(1)%int64(len(pool))]
		e.Lock()
		defer e.Unlock()
		next := e.b.Clone()
		n := seq.Add(1)
		next.Subscribers[fmt.Sprintf("s%02d", n%50)] = bond.Subscriber{SID: fmt.Sprintf("s%02d", n%50), Name: fmt.Sprintf("Name %d", n), Email: "s@example.com"}
		next.Version, next.Revision = e.b.Version+1, e.b.Revision+1
		if err := write(e.b, next, journal(next, bond.OpSubscriberPut)); err != nil {
			return err
		}
		e.b = next
		return nil
	}
	// Keyed: the record's Lookup (a strongly consistent GetItem) and the
	// write with the completed record in its transaction, as a request with
	// an Idempotency-Key makes them; the SDK side sends the same two inputs.
	idem := idemStore{s}
	keyed := func(b bond.Bond, op string) (idempotency.Key, bond.Journal) {
		now := time.Now()
		rec := idempotency.Record{Key: idempotency.Key{Scope: "bench", Value: rand.Text()},
			Fingerprint: idempotency.FingerprintOf("POST", "/bonds", []byte(b.BondID)), Token: rand.Text(),
			Expires: now.Add(24 * time.Hour), Done: true}
		body, _ := idempotency.PackBody(answerBody(b))
		rec.Answer = idempotency.Answer{Status: 201, Location: "/bonds/" + b.BondID, ETag: `"1"`, ContentType: "application/json", Body: body}
		j := journal(b, op)
		j.Idempotency, j.IdempotencyAt = &rec, now
		return rec.Key, j
	}
	sdkLookup := func(ctx context.Context, k idempotency.Key) error {
		_, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: idemKey(k), ConsistentRead: aws.Bool(true)})
		return err
	}
	storeLookup := func(ctx context.Context, k idempotency.Key) error {
		_, found, err := idem.Lookup(ctx, k, time.Now())
		if err == nil && found {
			err = fmt.Errorf("key %s found", k.Value)
		}
		return err
	}
	// Remove: the delete of a bond made beforehand (prepare, untimed), at
	// its version, with its delete's revision.
	removable := make(chan bond.Bond, 2*benchClients)
	prepare := func(n int) {
		removable = make(chan bond.Bond, n)
		for range n {
			nb := newBond()
			if err := s.Create(b.Context(), nb, 0, journal(nb, bond.OpCreate)); err != nil {
				b.Fatal(err)
			}
			removable <- nb
		}
	}
	removeJournal := func(old bond.Bond) bond.Journal {
		gone := old
		gone.Revision++
		return journal(gone, bond.OpDelete)
	}
	for _, p := range []struct {
		name       string
		store, sdk func(ctx context.Context) error
		prepare    func(n int) // before each side of a round, untimed
	}{
		{"Get_vs_GetItem",
			func(ctx context.Context) error { _, _, err := s.Read(ctx, "FOO"); return err },
			func(ctx context.Context) error { _, err := client.GetItem(ctx, s.getItemInput("FOO")); return err }, nil},
		{"Create_vs_TransactWriteItems",
			func(ctx context.Context) error {
				nb := newBond()
				return s.Create(ctx, nb, 0, journal(nb, bond.OpCreate))
			},
			func(ctx context.Context) error {
				nb := newBond()
				in, err := s.createInput(nb, 0, journal(nb, bond.OpCreate))
				if err == nil {
					_, err = client.TransactWriteItems(ctx, in)
				}
				return err
			}, nil},
		{"Replace_vs_TransactWriteItems",
			func(ctx context.Context) error {
				return putSubscriber(func(cur, next bond.Bond, j bond.Journal) error { return s.Replace(ctx, cur, next, j) })
			},
			func(ctx context.Context) error {
				return putSubscriber(func(cur, next bond.Bond, j bond.Journal) error {
					in, err := s.replaceInput(cur, next, j)
					if err == nil {
						_, err = client.TransactWriteItems(ctx, in)
					}
					return err
				})
			}, nil},
		{"KeyedCreate_vs_GetItem_TransactWriteItems",
			func(ctx context.Context) error {
				nb := newBond()
				k, j := keyed(nb, bond.OpCreate)
				if err := storeLookup(ctx, k); err != nil {
					return err
				}
				return s.Create(ctx, nb, 0, j)
			},
			func(ctx context.Context) error {
				nb := newBond()
				k, j := keyed(nb, bond.OpCreate)
				if err := sdkLookup(ctx, k); err != nil {
					return err
				}
				in, err := s.createInput(nb, 0, j)
				if err == nil {
					_, err = client.TransactWriteItems(ctx, in)
				}
				return err
			}, nil},
		{"KeyedReplace_vs_GetItem_TransactWriteItems",
			func(ctx context.Context) error {
				return putSubscriber(func(cur, next bond.Bond, _ bond.Journal) error {
					k, j := keyed(next, bond.OpSubscriberPut)
					if err := storeLookup(ctx, k); err != nil {
						return err
					}
					return s.Replace(ctx, cur, next, j)
				})
			},
			func(ctx context.Context) error {
				return putSubscriber(func(cur, next bond.Bond, _ bond.Journal) error {
					k, j := keyed(next, bond.OpSubscriberPut)
					if err := sdkLookup(ctx, k); err != nil {
						return err
					}
					in, err := s.replaceInput(cur, next, j)
					if err == nil {
						_, err = client.TransactWriteItems(ctx, in)
					}
					return err
				})
			}, nil},
		{"Remove_vs_TransactWriteItems",
			func(ctx context.Context) error {
				old := <-removable
				return s.Remove(ctx, old, removeJournal(old))
			},
			func(ctx context.Context) error {
				old := <-removable
				items, err := s.removeItems(old, removeJournal(old))
				if err != nil {
					return err
				}
				guard, err := s.oldGuardDelete(old)
				if err == nil {
					_, err = client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: append(items, guard)})
				}
				return err
			}, prepare},
	} {
		b.Run(p.name, func(b *testing.B) {
			var ratios []float64
			var storeTime, sdkTime time.Duration
			side := func(f func(ctx context.Context) error) time.Duration {
				if p.prepare != nil {
					p.prepare(b.N)
				}
				return hammer(b, b.N, f)
			}
			// Warm-up, untimed: both sides fill the client's connection
			// pool and DynamoDB Local's JIT before the first round.
			side(p.store)
			side(p.sdk)
			for i := range 4 {
				var st, sd time.Duration
				if i%2 == 0 {
					st = side(p.store)
					sd = side(p.sdk)
				} else { // every other round the SDK goes first: no side always follows the other
					sd = side(p.sdk)
					st = side(p.store)
				}
				storeTime, sdkTime = storeTime+st, sdkTime+sd
				ratios = append(ratios, sd.Seconds()/st.Seconds())
			}
			slices.Sort(ratios)
			b.ReportMetric((ratios[1]+ratios[2])/2, "store/sdk-x")
			b.ReportMetric(float64(4*b.N)/storeTime.Seconds(), "store-req/s")
			b.ReportMetric(float64(4*b.N)/sdkTime.Seconds(), "sdk-req/s")
		})
	}
}

// answerBody is the JSON of b, about the size of the answer a record keeps.
func answerBody(b bond.Bond) []byte {
	js, _ := json.Marshal(b) // plain fields: cannot fail
	return js
}

// journal is the journal of a write of b (its version and revision set) by
// operation op, as the domain builds it.
func journal(b bond.Bond, op string) bond.Journal {
	return bond.Journal{Revision: &bond.Revision{Revision: b.Revision, BondID: b.BondID, Operation: op, Version: b.Version,
		Time: bond.NewTimestamp(time.Now()), Actor: "bench", RequestID: "req", Bond: b.Clone()}}
}

// hammer makes n calls of f from benchClients goroutines and returns how
// long they took.
func hammer(b *testing.B, n int, f func(ctx context.Context) error) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range benchClients {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if err := f(b.Context()); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

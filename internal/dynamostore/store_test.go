package dynamostore_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/bond/bondtest"
	"github.com/bondregistry/bond-registry/internal/dynamostore"
	"github.com/bondregistry/bond-registry/internal/dynamotest"
	"github.com/bondregistry/bond-registry/internal/httpapi/apitest"
)

// newRepoOn returns a newRepo for the suites: a store on a fresh table of
// client's DynamoDB Local.
func newRepoOn(client *dynamodb.Client) func(t *testing.T) bond.Repository {
	return func(t *testing.T) bond.Repository {
		return dynamostore.New(client, dynamotest.NewTable(t, client))
	}
}

// The suites run once, on whichever DynamoDB Local dynamotest.Local gives;
// how each provider reaches DynamoDB Local is dynamotest's own test.

func TestStore(t *testing.T) {
	t.Parallel()
	bondtest.RunRepositoryTests(t, newRepoOn(serviceClient(t)))
}

// TestStore_TwoInstances runs the concurrent-writer tests on two stores,
// each with its own client, on one table: calls alternate between them, as
// requests do between two servers behind a load balancer.
func TestStore_TwoInstances(t *testing.T) {
	t.Parallel()
	a, b := serviceClient(t), serviceClient(t)
	bondtest.RunConcurrencyTests(t, func(t *testing.T) bond.Repository {
		table := dynamotest.NewTable(t, a)
		return &alternating{stores: [2]*dynamostore.Store{dynamostore.New(a, table), dynamostore.New(b, table)}}
	})
}

// alternating is a bond.Repository that sends each call to the next of two
// stores.
type alternating struct {
	stores [2]*dynamostore.Store
	n      atomic.Uint64
}

func (r *alternating) next() *dynamostore.Store { return r.stores[r.n.Add(1)%2] }

func (r *alternating) Read(ctx context.Context, id string) (bond.Bond, bool, error) {
	return r.next().Read(ctx, id)
}
func (r *alternating) Create(ctx context.Context, b bond.Bond, prev int64, j bond.Journal) error {
	return r.next().Create(ctx, b, prev, j)
}
func (r *alternating) Replace(ctx context.Context, old, next bond.Bond, j bond.Journal) error {
	return r.next().Replace(ctx, old, next, j)
}
func (r *alternating) Remove(ctx context.Context, old bond.Bond, j bond.Journal) error {
	return r.next().Remove(ctx, old, j)
}
func (r *alternating) ReadRevision(ctx context.Context, id string, n int64) (bond.Revision, bool, error) {
	return r.next().ReadRevision(ctx, id, n)
}
func (r *alternating) ListRevisions(ctx context.Context, id string, below int64, batch int, yield func(bond.Revision) bool) error {
	return r.next().ListRevisions(ctx, id, below, batch, yield)
}
func (r *alternating) List(ctx context.Context, f bond.Filter, cursor string, batch int, yield func(bond.Bond, func() string) bool) error {
	return r.next().List(ctx, f, cursor, batch, yield)
}
func (r *alternating) Ping(ctx context.Context) error { return r.next().Ping(ctx) }
func (r *alternating) Close() error                   { return nil }

// TestStore_ChunkedRevisions runs the suite with small chunks (so that the
// revisions of large bonds are split into chunk items) and a retention (so
// that every write's transaction updates the previous revision's expiry).
func TestStore_ChunkedRevisions(t *testing.T) {
	t.Parallel()
	client := serviceClient(t)
	bondtest.RunRepositoryTests(t, func(t *testing.T) bond.Repository {
		s := dynamostore.New(client, dynamotest.NewTable(t, client), dynamostore.WithRetention(time.Hour))
		dynamostore.SetInline(s, 64_000) // the bond at the size limit takes several chunks
		return s
	})
}

func TestAPI(t *testing.T) {
	t.Parallel()
	apitest.RunAPITests(t, newRepoOn(serviceClient(t)))
}

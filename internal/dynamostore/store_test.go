package dynamostore_test

import (
	"context"
	"sync/atomic"
	"testing"

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
func (r *alternating) Create(ctx context.Context, b bond.Bond, prev int64) error {
	return r.next().Create(ctx, b, prev)
}
func (r *alternating) Replace(ctx context.Context, old, next bond.Bond) error {
	return r.next().Replace(ctx, old, next)
}
func (r *alternating) Remove(ctx context.Context, old bond.Bond) error {
	return r.next().Remove(ctx, old)
}
func (r *alternating) List(ctx context.Context, f bond.Filter, cursor string, batch int, yield func(bond.Bond, func() string) bool) error {
	return r.next().List(ctx, f, cursor, batch, yield)
}
func (r *alternating) Ping(ctx context.Context) error { return r.next().Ping(ctx) }
func (r *alternating) Close() error                   { return nil }

func TestAPI(t *testing.T) {
	t.Parallel()
	apitest.RunAPITests(t, newRepoOn(serviceClient(t)))
}

package dynamostore_test

import (
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

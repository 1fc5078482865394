package dynamostore_test

import (
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

func TestAPI(t *testing.T) {
	t.Parallel()
	apitest.RunAPITests(t, newRepoOn(serviceClient(t)))
}

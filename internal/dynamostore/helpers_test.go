package dynamostore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/dynamostore"
	"github.com/bondregistry/bond-registry/internal/dynamotest"
	"github.com/bondregistry/bond-registry/localdb"
)

// serviceClient returns the client the service would build for the DynamoDB
// Local of the endpoint provider (dynamostore.NewClient: its retryer and
// HTTP tuning), with the dummy credentials of DynamoDB Local.
func serviceClient(t *testing.T) *dynamodb.Client {
	t.Helper()
	endpoint := aws.ToString(dynamotest.Endpoint(t).Options().BaseEndpoint)
	client, err := dynamostore.NewClient(t.Context(), endpoint, "us-east-1",
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	require.NoError(t, err)
	return client
}

var tableSeq atomic.Int64

// TEMPORARY until dynamotest.NewTable lands.
func newTable(t *testing.T, c *dynamodb.Client) string {
	name := fmt.Sprintf("bond-%d-%d", time.Now().UnixNano(), tableSeq.Add(1))
	in, err := localdb.CreateTableInput(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTable(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name}) })
	return name
}

package dynamostore_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/dynamostore"
	"github.com/bondregistry/bond-registry/internal/dynamotest"
)

// TestMain ends the shared DynamoDB Local container of dynamotest.Container.
func TestMain(m *testing.M) { dynamotest.Main(m) }

// serviceClient returns the client the service would build
// (dynamostore.NewClient: its retryer and HTTP tuning) for the DynamoDB
// Local of dynamotest.Local, with DynamoDB Local's dummy credentials.
func serviceClient(t *testing.T) *dynamodb.Client {
	t.Helper()
	endpoint := aws.ToString(dynamotest.Local(t).Options().BaseEndpoint)
	client, err := dynamostore.NewClient(t.Context(), endpoint, "us-east-1",
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	require.NoError(t, err)
	return client
}

package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/dynamostore"
	"github.com/bondregistry/bond-registry/localdb"
)

// migrateAt runs Migrate against endpoint with dummy credentials.
func migrateAt(t *testing.T, endpoint string) error {
	t.Helper()
	client, err := dynamostore.NewClient(context.Background(), endpoint, "us-east-1",
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = dynamostore.Migrate(ctx, client, "bond", localdb.TableDefinition, zerolog.Nop())
	return err
}

// answering returns the URL of a server that answers every request with
// status, content type ct and body.
func answering(t *testing.T, status int, ct, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Migrate against something that is not DynamoDB is an *EndpointError whose
// message is one short line naming the URL, not the SDK's error chain.
func TestMigrate_NotDynamoDB(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for name, c := range map[string]struct {
		url, want string
	}{
		"404-text":      {answering(t, 404, "text/plain; charset=utf-8", "404 page not found\n"), "is not DynamoDB: DescribeTable got HTTP 404 (text/plain; charset=utf-8) that is not DynamoDB's JSON"},
		"404-json":      {answering(t, 404, "application/json", `{"detail":"Not Found"}`), "is not DynamoDB: DescribeTable got HTTP 404 (application/json) without a DynamoDB error type"},
		"200-html":      {answering(t, 200, "text/html", "<html><body>hello</body></html>"), "is not DynamoDB: DescribeTable got HTTP 200 (text/html) that is not DynamoDB's JSON"},
		"500-html":      {answering(t, 500, "text/html", "<html>oops</html>"), "is not DynamoDB: DescribeTable got HTTP 500 (text/html) that is not DynamoDB's JSON"},
		"200-no-table":  {answering(t, 200, "application/x-amz-json-1.0", `{}`), "is not DynamoDB: DescribeTable answered without a table"},
		"nothing-there": {closed.URL, "does not answer: "},
	} {
		t.Run(name, func(t *testing.T) {
			err := migrateAt(t, c.url)
			var ee *dynamostore.EndpointError
			require.ErrorAs(t, err, &ee)
			assert.Contains(t, err.Error(), c.want)
			if name != "200-no-table" {
				assert.True(t, strings.HasPrefix(err.Error(), c.url), "names the URL: %q", err)
			}
			assert.NotContains(t, err.Error(), "\n")
			assert.NotContains(t, err.Error(), "operation error", "not the SDK's chain: %q", err)
		})
	}
}

// An error DynamoDB itself names is no EndpointError: the endpoint is right.
func TestMigrate_DynamoDBErrorIsNoEndpointError(t *testing.T) {
	err := migrateAt(t, answering(t, 400, "application/x-amz-json-1.0",
		`{"__type":"com.amazonaws.dynamodb.v20120810#UnrecognizedClientException","message":"The security token included in the request is invalid."}`))
	require.Error(t, err)
	var ee *dynamostore.EndpointError
	assert.False(t, errors.As(err, &ee), "%v", err)
}

// Package dynamotest gives tests a *dynamodb.Client on a real DynamoDB
// Local, in one of two ways, and a fresh table per test.
//
//   - [Endpoint] uses the DynamoDB Local at $DYNAMODB_TEST_ENDPOINT
//     (scripts/dynamodb-local.sh start prints one).
//   - [Container] starts one DynamoDB Local container per test binary with
//     testcontainers-go's DynamoDB module (image $DYNAMODB_LOCAL_IMAGE,
//     default amazon/dynamodb-local:2.6.1) on any Docker-compatible engine;
//     in CI that is podman (scripts/podman.sh).
//
// [Local] picks one of them, so that a suite runs once: the container where
// an engine answers, else the endpoint. The two providers differ only in
// how DynamoDB Local is reached, which this package's own tests cover.
//
// When its dependency is missing a provider skips the test with one line,
// unless CI=true, where it fails the test instead. [NewTable] creates a
// uniquely named table from localdb/01-create-table.json and deletes it when
// the test ends, so tests using it can run in parallel on one server.
//
// A package using [Container] should run its tests through [Main]:
//
//	func TestMain(m *testing.M) { dynamotest.Main(m) }
//
// The endpoint URL of a client, for code configured by URL rather than by
// client, is aws.ToString(client.Options().BaseEndpoint).
package dynamotest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Environment variables read by this package.
const (
	// EnvEndpoint names the DynamoDB endpoint that [Endpoint] uses.
	EnvEndpoint = "DYNAMODB_TEST_ENDPOINT"
	// EnvImage names the image that [Container] runs.
	EnvImage = "DYNAMODB_LOCAL_IMAGE"
	// DefaultImage is the image [Container] runs when EnvImage is unset.
	DefaultImage = "amazon/dynamodb-local:2.6.1"
)

// Provider returns a client on a DynamoDB Local, or skips or fails tb.
type Provider func(tb testing.TB) *dynamodb.Client

// Local returns a client on whichever DynamoDB Local the environment gives:
// [Container] when a Docker-compatible engine answers (the way integration
// tests run in CI), else [Endpoint] when $DYNAMODB_TEST_ENDPOINT is set. It
// skips tb when neither is there (fails it when CI=true), and fails tb as
// the chosen provider does.
func Local(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	err := engineHealth(tb.Context())
	if err == nil {
		return Container(tb)
	}
	if os.Getenv(EnvEndpoint) != "" {
		return Endpoint(tb)
	}
	skipOrFail(tb, "%v and %s is not set (run scripts/podman.sh or scripts/dynamodb-local.sh, see docs/testing.md)", err, EnvEndpoint)
	return nil // skipOrFail has ended tb
}

// Endpoint returns a client for the DynamoDB at $DYNAMODB_TEST_ENDPOINT with
// the dummy credentials local/local. It skips tb when the variable is unset
// (fails it when CI=true) and fails tb when nothing answers there.
func Endpoint(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	endpoint := os.Getenv(EnvEndpoint)
	if endpoint == "" {
		skipOrFail(tb, "%s is not set (start DynamoDB Local with scripts/dynamodb-local.sh start and export its endpoint)", EnvEndpoint)
	}
	client := NewClient(endpoint)
	if err := ping(tb.Context(), client); err != nil {
		tb.Fatalf("dynamotest: DynamoDB at %s=%s does not answer: %v", EnvEndpoint, endpoint, err)
	}
	return client
}

// NewClient returns a DynamoDB client for a local endpoint: static dummy
// credentials local/local (DynamoDB Local accepts any secret but only an
// alphanumeric access key id), region $AWS_REGION or us-east-1, and no
// shared config or credential files read.
func NewClient(endpoint string) *dynamodb.Client {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = "us-east-1"
	}
	return dynamodb.New(dynamodb.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

// ping checks that DynamoDB answers, within a few seconds.
func ping(ctx context.Context, client *dynamodb.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := client.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)}); err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	return nil
}

// inCI reports whether CI is set to a true value: then a missing
// dependency fails the test instead of skipping it.
func inCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// skipOrFail skips tb with one line, or fails it when running in CI.
func skipOrFail(tb testing.TB, format string, args ...any) {
	tb.Helper()
	// One line, even when an error message spans several.
	msg := "dynamotest: " + strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " ")
	if inCI() {
		tb.Fatal(msg + " [CI=true: not skipping]")
	}
	tb.Skip(msg)
}

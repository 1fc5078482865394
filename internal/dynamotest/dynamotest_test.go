package dynamotest_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/dynamotest"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// TestEndpoint and TestContainer are the smoke tests of the two providers:
// a client on the loopback interface, a table of 01-create-table.json with
// its indexes, an item written and read back. Everything else runs once, on
// whichever Local gives.
func TestEndpoint(t *testing.T) {
	t.Parallel()
	smoke(t, dynamotest.Endpoint(t))
}

func TestContainer(t *testing.T) {
	t.Parallel()
	smoke(t, dynamotest.Container(t))
}

func smoke(t *testing.T, client *dynamodb.Client) {
	got := aws.ToString(client.Options().BaseEndpoint)
	assert.True(t, strings.HasPrefix(got, "http://127.0.0.1:") || strings.HasPrefix(got, "http://localhost:"),
		"endpoint %q is not on the loopback interface", got)

	table := dynamotest.NewTable(t, client)
	item := map[string]types.AttributeValue{
		"bond_id":          &types.AttributeValueMemberS{Value: "FOO"},
		"host_cost_center": &types.AttributeValueMemberS{Value: "olive"},
	}
	_, err := client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item})
	require.NoError(t, err)

	out, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"bond_id": &types.AttributeValueMemberS{Value: "FOO"}},
		ConsistentRead: aws.Bool(true),
	})
	require.NoError(t, err)
	assert.Equal(t, item, out.Item)

	// The GSIs of 01-create-table.json exist and are queryable.
	q, err := client.Query(t.Context(), &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		IndexName:                 aws.String("bond-host_cost_center-index"),
		KeyConditionExpression:    aws.String("host_cost_center = :cc"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":cc": &types.AttributeValueMemberS{Value: "olive"}},
	})
	require.NoError(t, err)
	assert.Equal(t, int32(1), q.Count)
}

func TestNewTable(t *testing.T) {
	t.Parallel()
	client := dynamotest.Local(t)

	t.Run("UniqueTables", func(t *testing.T) {
		t.Parallel()
		a, b := dynamotest.NewTable(t, client), dynamotest.NewTable(t, client)
		assert.NotEqual(t, a, b)
		desc, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(a)})
		require.NoError(t, err)
		assert.Equal(t, types.TableStatusActive, desc.Table.TableStatus)
		assert.Len(t, desc.Table.GlobalSecondaryIndexes, 4)
	})

	t.Run("TableDeletedWhenTestEnds", func(t *testing.T) {
		t.Parallel()
		var table string
		t.Run("inner", func(t *testing.T) { table = dynamotest.NewTable(t, client) })
		require.NotEmpty(t, table)
		_, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		var nf *types.ResourceNotFoundException
		assert.True(t, errors.As(err, &nf), "DescribeTable after the test ended: got %v, want ResourceNotFoundException", err)
	})
}

func TestEndpoint_Unset(t *testing.T) {
	t.Setenv(dynamotest.EnvEndpoint, "")

	t.Run("SkipsOutsideCI", func(t *testing.T) {
		t.Setenv("CI", "")
		got := run(t, dynamotest.Endpoint)
		assert.True(t, got.skipped, "want a skip, got %+v", got)
		assert.False(t, got.failed)
		assert.Contains(t, got.msg, dynamotest.EnvEndpoint)
		assert.NotContains(t, got.msg, "\n", "the skip message is one line")
	})

	t.Run("FailsInCI", func(t *testing.T) {
		t.Setenv("CI", "true")
		got := run(t, dynamotest.Endpoint)
		assert.True(t, got.failed, "want a failure, got %+v", got)
		assert.False(t, got.skipped)
		assert.Contains(t, got.msg, dynamotest.EnvEndpoint)
	})
}

func TestEndpoint_NotAnswering(t *testing.T) {
	t.Setenv(dynamotest.EnvEndpoint, "http://127.0.0.1:1")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	got := run(t, dynamotest.Endpoint)
	assert.True(t, got.failed, "want a failure, got %+v", got)
	assert.Contains(t, got.msg, "does not answer")
}

// fakeTB records how a provider ended the test; Skip and Fatal end the
// calling goroutine, as the real ones do. Other methods go to the real test.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Skip(args ...any) {
	f.skipped, f.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fakeTB) Fatal(args ...any) {
	f.failed, f.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func run(t *testing.T, provider dynamotest.Provider) *fakeTB {
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		provider(f)
	}()
	<-done
	return f
}

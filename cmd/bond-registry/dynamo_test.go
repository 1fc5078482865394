package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/dynamotest"
	"github.com/bondregistry/bond-registry/localdb"
)

// TestRun_DynamoDBMigrateSeedServe is the path of `make init` on DynamoDB
// Local: migrate creates the table, a bond written in the FastAPI original's
// layout (no version, no guard item) is already there, seed loads the sample
// data, and the API serves both.
func TestRun_DynamoDBMigrateSeedServe(t *testing.T) {
	client := dynamotest.Endpoint(t)
	endpoint := aws.ToString(client.Options().BaseEndpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "local") // the SDK's own credential chain reads these
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	table := fmt.Sprintf("cmd-test-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	port := freePort(t)
	env := map[string]string{"STORE": "dynamodb", "DYNAMODB_ENDPOINT": endpoint, "DYNAMODB_TABLE": table, "PORT": strconv.Itoa(port)}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()

	var out syncBuffer
	require.NoError(t, run(ctx, []string{"bond-registry", "migrate"}, getenv, &out, io.Discard))
	assert.Contains(t, out.String(), `"table_created":true`)

	// An item as the original service wrote it.
	_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"bond_id":          &types.AttributeValueMemberS{Value: "LEGACY"},
		"host_account_id":  &types.AttributeValueMemberS{Value: "TAPV54703350425479"},
		"sub_account_id":   &types.AttributeValueMemberS{Value: "OLD0000000000001"},
		"host_cost_center": &types.AttributeValueMemberS{Value: "olive"},
		"sub_cost_center":  &types.AttributeValueMemberS{Value: "grey"},
		"subscribers":      &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
	}})
	require.NoError(t, err)
	require.NoError(t, run(ctx, []string{"bond-registry", "migrate"}, getenv, &out, io.Discard), "migrate runs again")
	assert.Contains(t, out.String(), `"guards_created":1`)
	require.NoError(t, run(ctx, []string{"bond-registry", "seed", "../../localdb/02-load-data.json"}, getenv, &out, io.Discard))
	assert.Contains(t, out.String(), `"created":25`)

	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(sctx, []string{"bond-registry", "serve"}, getenv, &out, io.Discard) }()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitForReady(t, base+"/readyz")

	for id, wantETag := range map[string]string{"FOO": `"1"`, "LEGACY": `"0"`} {
		res, err := http.Get(base + "/bonds/" + id)
		require.NoError(t, err)
		var got map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&got))
		res.Body.Close()
		assert.Equal(t, http.StatusOK, res.StatusCode, id)
		assert.Equal(t, id, got["bond_id"])
		assert.Equal(t, wantETag, res.Header.Get("ETag"), id)
	}
	// The backfilled guard makes the legacy pair unique.
	res, err := http.Post(base+"/bonds", "application/json", strings.NewReader(`{"bond_id":"CLASH","host_account_id":"TAPV54703350425479",
		"sub_account_id":"OLD0000000000001","host_cost_center":"olive","sub_cost_center":"grey"}`))
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusConflict, res.StatusCode)

	cancel()
	require.NoError(t, <-done)
}

// TestRun_DynamoDBMigrateRefusesTable: `migrate` on a table whose cost
// center index projects KEYS_ONLY (once answered "migrated") stops with one
// line naming the index and what differs.
func TestRun_DynamoDBMigrateRefusesTable(t *testing.T) {
	client := dynamotest.Endpoint(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	table := fmt.Sprintf("cmd-test-%d", time.Now().UnixNano())
	in, err := localdb.CreateTableInput(table)
	require.NoError(t, err)
	in.GlobalSecondaryIndexes[0].Projection = &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}
	_, err = client.CreateTable(t.Context(), in)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	env := map[string]string{"STORE": "dynamodb", "DYNAMODB_ENDPOINT": aws.ToString(client.Options().BaseEndpoint), "DYNAMODB_TABLE": table}
	var out syncBuffer
	err = run(t.Context(), []string{"bond-registry", "migrate"}, func(k string) string { return env[k] }, &out, io.Discard)
	require.Error(t, err)
	assert.Equal(t, "migrate: table "+table+": index bond-host_cost_center-index projects KEYS_ONLY; the service reads "+
		"host_account_id, sub_account_id, sub_cost_center, subscribers, version: it must project ALL", err.Error())
	assert.NotContains(t, out.String(), "migrated")
}

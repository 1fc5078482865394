package dynamostore_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/rs/zerolog"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/dynamostore"
	"github.com/bondregistry/bond-registry/internal/dynamotest"
	"github.com/bondregistry/bond-registry/internal/httpapi"
)

// clients is the number of concurrent clients of the benchmarks.
const clients = 32

// BenchmarkDynamo measures requests per second with 32 concurrent clients on
// DynamoDB Local (the endpoint provider): through the HTTP API (a real
// server on 127.0.0.1) and, for comparison, direct SDK calls of the same
// shape (a consistent GetItem; a PutItem of a bond-sized item).
//
//	DYNAMODB_TEST_ENDPOINT=http://127.0.0.1:8000 go test -run '^$' -bench Dynamo -benchtime 2000x ./internal/dynamostore/
func BenchmarkDynamo(b *testing.B) {
	endpoint := aws.ToString(dynamotest.Endpoint(b).Options().BaseEndpoint)
	client, err := dynamostore.NewClient(b.Context(), endpoint, "us-east-1",
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		b.Fatal(err)
	}
	table := dynamotest.NewTable(b, client)
	store := dynamostore.New(client, table)
	foo := bond.Bond{BondID: "FOO", HostAccountID: "H", SubAccountID: "S", HostCostCenter: "teal", SubCostCenter: "yellow",
		Subscribers: map[string]bond.Subscriber{"rharper": {SID: "rharper", Name: "Richard Harper", Email: "richharper@example.com"}}}
	if err := store.Create(b.Context(), foo); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.NewServer(zerolog.Nop(), store, httpapi.Config{}))
	b.Cleanup(srv.Close)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * clients}}
	var seq atomic.Int64

	do := func(b *testing.B, req *http.Request, want int) {
		res, err := hc.Do(req)
		if err != nil {
			b.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		if res.StatusCode != want {
			b.Errorf("%s %s: status %d", req.Method, req.URL.Path, res.StatusCode)
		}
	}
	run := func(name string, f func(b *testing.B)) {
		b.Run(name, func(b *testing.B) {
			procs := runtime.GOMAXPROCS(0)
			b.SetParallelism((clients + procs - 1) / procs) // goroutines = parallelism * GOMAXPROCS
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					f(b)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}

	run("HTTP_GET_bond", func(b *testing.B) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/bonds/FOO", nil)
		do(b, req, http.StatusOK)
	})
	run("HTTP_POST_bonds", func(b *testing.B) {
		n := seq.Add(1)
		body := fmt.Sprintf(`{"bond_id":"P%d","host_account_id":"H%d","sub_account_id":"S","host_cost_center":"teal","sub_cost_center":"yellow",`+
			`"subscribers":{"rharper":{"sid":"rharper","name":"Richard Harper","email":"richharper@example.com"}}}`, n, n)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/bonds", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		do(b, req, http.StatusCreated)
	})
	key, _ := attributevalue.MarshalMap(map[string]string{"bond_id": "FOO"})
	run("SDK_GetItem", func(b *testing.B) {
		out, err := client.GetItem(b.Context(), &dynamodb.GetItemInput{TableName: &table, Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil || out.Item == nil {
			b.Error("get item", err)
		}
	})
	run("SDK_PutItem", func(b *testing.B) {
		n := seq.Add(1)
		item, _ := attributevalue.MarshalMap(map[string]any{"bond_id": fmt.Sprintf("D%d", n), "host_account_id": fmt.Sprintf("H%d", n),
			"sub_account_id": "S", "host_cost_center": "teal", "sub_cost_center": "yellow", "version": 1,
			"subscribers": map[string]any{"rharper": map[string]string{"sid": "rharper", "name": "Richard Harper", "email": "richharper@example.com"}}})
		if _, err := client.PutItem(b.Context(), &dynamodb.PutItemInput{TableName: &table, Item: item}); err != nil {
			b.Error("put item", err)
		}
	})
	// What POST /bonds costs DynamoDB: the bond and its guard in one transaction.
	run("SDK_TransactWriteItems_bond_and_guard", func(b *testing.B) {
		n := seq.Add(1)
		item, _ := attributevalue.MarshalMap(map[string]any{"bond_id": fmt.Sprintf("T%d", n), "host_account_id": fmt.Sprintf("H%d", n),
			"sub_account_id": "S", "host_cost_center": "teal", "sub_cost_center": "yellow", "version": 1,
			"subscribers": map[string]any{"rharper": map[string]string{"sid": "rharper", "name": "Richard Harper", "email": "richharper@example.com"}}})
		guard, _ := attributevalue.MarshalMap(map[string]any{"bond_id": fmt.Sprintf("pair/H%d/S", n), "guard_owner": fmt.Sprintf("T%d", n)})
		cond := aws.String("attribute_not_exists(bond_id)") // a literal expression: benchmark only
		_, err := client.TransactWriteItems(b.Context(), &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: &table, Item: item, ConditionExpression: cond}},
			{Put: &types.Put{TableName: &table, Item: guard, ConditionExpression: cond}},
		}})
		if err != nil {
			b.Error("transact write items", err)
		}
	})
}

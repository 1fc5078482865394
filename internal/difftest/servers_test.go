package difftest

// The one file that knows how the service is built: the rest of the
// package talks HTTP only. Adapt this file when httpapi.NewServer or a
// store constructor changes.

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/rs/zerolog"

	"github.com/bondregistry/bond-registry/internal/boltstore"
	"github.com/bondregistry/bond-registry/internal/dynamostore"
	"github.com/bondregistry/bond-registry/internal/dynamotest"
	"github.com/bondregistry/bond-registry/internal/httpapi"
)

// boltTarget is the service on a bolt store. reset starts a fresh store
// file and server for each sequence.
func boltTarget(t *testing.T) *target {
	t.Helper()
	dir := t.TempDir()
	tg := &target{name: "bolt"}
	var closeCurrent func()
	tg.reset = func() error {
		if closeCurrent != nil {
			closeCurrent()
		}
		d, err := os.MkdirTemp(dir, "seq")
		if err != nil {
			return err
		}
		store, err := boltstore.Open(filepath.Join(d, "bonds.db"))
		if err != nil {
			return err
		}
		srv := httptest.NewServer(httpapi.NewServer(zerolog.Nop(), store, httpapi.Config{}))
		tg.bases = []string{srv.URL}
		closeCurrent = func() {
			srv.Close()
			_ = store.Close()
			_ = os.RemoveAll(d)
		}
		return nil
	}
	t.Cleanup(func() {
		if closeCurrent != nil {
			closeCurrent()
		}
	})
	return tg
}

// dynamoTarget is the service on DynamoDB Local (dynamotest.Local: a
// container, else $DYNAMODB_TEST_ENDPOINT; skipped without either, failed
// when CI=true): instances servers on one
// table, sharing one page-token key, as instances behind a load balancer
// do. reset deletes every item of the table.
func dynamoTarget(t *testing.T, name string, instances int) *target {
	t.Helper()
	raw := dynamotest.Local(t) // skips, or fails in CI, without DynamoDB Local
	table := dynamotest.NewTable(t, raw)
	client, err := dynamostore.NewClient(t.Context(), aws.ToString(raw.Options().BaseEndpoint), "us-east-1",
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		t.Fatalf("dynamodb client: %v", err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	tg := &target{name: name}
	for range instances {
		srv := httptest.NewServer(httpapi.NewServer(zerolog.Nop(), dynamostore.New(client, table),
			httpapi.Config{TokenKey: key, RequestTimeout: 30 * time.Second}))
		t.Cleanup(srv.Close)
		tg.bases = append(tg.bases, srv.URL)
	}
	tg.reset = func() error {
		if err := wipeTable(raw, table, "bond_id"); err != nil {
			return err
		}
		return wipeTable(raw, dynamostore.RevisionsTable(table), "bond_id", "revision")
	}
	return tg
}

// wipeTable deletes every item of table, whose key attributes are keys
// (bonds and guard items alike; revisions and their chunks).
func wipeTable(client *dynamodb.Client, table string, keys ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	names, refs := map[string]string{}, make([]string, len(keys))
	for i, k := range keys { // as names: "revision" may be a reserved word
		refs[i] = "#k" + strconv.Itoa(i)
		names[refs[i]] = k
	}
	p := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{
		TableName:                aws.String(table),
		ProjectionExpression:     aws.String(strings.Join(refs, ", ")),
		ExpressionAttributeNames: names,
		ConsistentRead:           aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("wipe %s: %w", table, err)
		}
		for _, item := range page.Items {
			if _, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
				TableName: aws.String(table),
				Key:       item,
			}); err != nil {
				return fmt.Errorf("wipe %s: %w", table, err)
			}
		}
	}
	return nil
}

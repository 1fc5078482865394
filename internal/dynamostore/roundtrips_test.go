package dynamostore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"

	"github.com/bondregistry/bond-registry/internal/dynamostore"
	"github.com/bondregistry/bond-registry/internal/dynamotest"
	"github.com/bondregistry/bond-registry/internal/httpapi"
)

// countingClient is the service's client that records the name of each
// item call it makes (the table checks are not recorded).
type countingClient struct {
	*dynamodb.Client
	mu    sync.Mutex
	calls []string
}

func (c *countingClient) record(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, name)
}

// take returns the calls recorded since the last take.
func (c *countingClient) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := c.calls
	c.calls = nil
	return calls
}

func (c *countingClient) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.record("GetItem")
	return c.Client.GetItem(ctx, in, o...)
}

func (c *countingClient) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.record("PutItem")
	return c.Client.PutItem(ctx, in, o...)
}

func (c *countingClient) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.record("DeleteItem")
	return c.Client.DeleteItem(ctx, in, o...)
}

func (c *countingClient) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.record("UpdateItem")
	return c.Client.UpdateItem(ctx, in, o...)
}

func (c *countingClient) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.record("TransactWriteItems")
	return c.Client.TransactWriteItems(ctx, in, o...)
}

func (c *countingClient) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.record("Query")
	return c.Client.Query(ctx, in, o...)
}

func (c *countingClient) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	c.record("Scan")
	return c.Client.Scan(ctx, in, o...)
}

// TestAPI_RoundTrips pins the DynamoDB calls of the requests that
// docs/performance.md counts: a create is one transaction, a keyed create
// the record's read and that transaction with the record in it (one write;
// no read of the bond: the first attempt of a create is conditioned on a
// fresh id), its retry the record's read alone, a GET of a bond one GetItem
// and of a missing bond two (the bond, then its gone item).
func TestAPI_RoundTrips(t *testing.T) {
	t.Parallel()
	base := serviceClient(t)
	c := &countingClient{Client: base}
	s := dynamostore.New(c, dynamotest.NewTable(t, base))
	h := httpapi.NewServer(zerolog.Nop(), s, httpapi.Config{RequestTimeout: 10 * time.Second, Idempotency: s.Idempotency()})
	do := func(method, path, body, key string) int {
		r := httptest.NewRequest(method, "http://127.0.0.1"+path, strings.NewReader(body))
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		if key != "" {
			r.Header.Set("Idempotency-Key", key)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	bondBody := func(id string) string {
		return `{"bond_id":"` + id + `","host_account_id":"H` + id + `","sub_account_id":"S","host_cost_center":"teal","sub_cost_center":"red"}`
	}
	for _, tc := range []struct {
		name               string
		method, path, body string
		key                string
		status             int
		calls              []string
	}{
		{"POST /bonds", http.MethodPost, "/bonds", bondBody("B1"), "", http.StatusCreated, []string{"TransactWriteItems"}},
		{"POST /bonds with Idempotency-Key", http.MethodPost, "/bonds", bondBody("B2"), `"k2"`, http.StatusCreated, []string{"GetItem", "TransactWriteItems"}},
		{"its retry", http.MethodPost, "/bonds", bondBody("B2"), `"k2"`, http.StatusCreated, []string{"GetItem"}},
		{"GET /bonds/{id}", http.MethodGet, "/bonds/B1", "", "", http.StatusOK, []string{"GetItem"}},
		{"GET /bonds/{id} of a missing bond", http.MethodGet, "/bonds/B3", "", "", http.StatusNotFound, []string{"GetItem", "GetItem"}},
	} {
		assert.Equal(t, tc.status, do(tc.method, tc.path, tc.body, tc.key), tc.name)
		assert.Equal(t, tc.calls, c.take(), tc.name)
	}
}

package dynamostore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/bond/bondtest"
	"github.com/bondregistry/bond-registry/internal/dynamostore"
	"github.com/bondregistry/bond-registry/internal/dynamotest"
)

// expiries scans the revisions table of table: the expires_at (Unix
// seconds) of every item by "hash key|range key", -1 where it has none.
func expiries(t *testing.T, client *dynamodb.Client, table string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	p := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{TableName: aws.String(dynamostore.RevisionsTable(table)), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		require.NoError(t, err)
		for _, item := range page.Items {
			key := item["bond_id"].(*types.AttributeValueMemberS).Value + "|" + item["revision"].(*types.AttributeValueMemberN).Value
			out[key] = -1
			if v, ok := item["expires_at"].(*types.AttributeValueMemberN); ok {
				n, err := strconv.ParseInt(v.Value, 10, 64)
				require.NoError(t, err)
				out[key] = n
			}
		}
	}
	return out
}

// historyWrites writes A: create, update, subscriber put (revisions 1-3);
// B: create, delete (1-2); and returns the times of the revisions by
// "id|n".
func historyWrites(t *testing.T, s *dynamostore.Store) map[string]time.Time {
	t.Helper()
	ctx := context.Background()
	bondtest.WriteHistory(t, s)
	times := map[string]time.Time{}
	for id, last := range map[string]int64{"A": 3, "B": 2} {
		for n := int64(1); n <= last; n++ {
			r, err := bond.GetRevision(ctx, s, id, n)
			require.NoError(t, err)
			times[id+"|"+strconv.FormatInt(n, 10)] = r.Time.Time
		}
	}
	return times
}

// TestStore_RevisionTTL checks the TTL attribute the writes leave: a
// superseded revision expires retention after the write that superseded
// it, a delete's revision retention after the delete; the newest revision
// of an existing bond has none; without a retention no item has one.
func TestStore_RevisionTTL(t *testing.T) {
	t.Parallel()
	const retention = time.Hour
	client := serviceClient(t)
	at := func(times map[string]time.Time, key string) int64 { return times[key].Add(retention).Unix() }

	t.Run("inline", func(t *testing.T) {
		table := dynamotest.NewTable(t, client)
		times := historyWrites(t, dynamostore.New(client, table, dynamostore.WithRetention(retention)))
		assert.Equal(t, map[string]int64{
			"A|1": at(times, "A|2"), "A|2": at(times, "A|3"), "A|3": -1,
			"B|1": at(times, "B|2"), "B|2": at(times, "B|2"),
		}, expiries(t, client, table))
	})
	t.Run("chunked", func(t *testing.T) {
		table := dynamotest.NewTable(t, client)
		s := dynamostore.New(client, table, dynamostore.WithRetention(retention))
		dynamostore.SetInline(s, 100) // every revision takes several chunks
		times := historyWrites(t, s)
		got := expiries(t, client, table)
		for key, want := range map[string]int64{"A|1": at(times, "A|2"), "A|2": at(times, "A|3"), "A|3": -1,
			"B|1": at(times, "B|2"), "B|2": at(times, "B|2")} {
			assert.Equal(t, want, got[key], key)
		}
		chunks := 0
		for key, exp := range got {
			switch {
			case len(key) > 4 && key[:4] == "B/2|":
				chunks++
				assert.Equal(t, at(times, "B|2"), exp, "%s: a delete's chunks expire with it", key)
			case len(key) > 4 && key[:4] == "A/3|":
				assert.Equal(t, int64(-1), exp, "%s: the newest revision's chunks never expire", key)
			}
		}
		assert.Positive(t, chunks, "the delete's revision was chunked")
	})
	t.Run("no retention", func(t *testing.T) {
		table := dynamotest.NewTable(t, client)
		historyWrites(t, dynamostore.New(client, table))
		for key, exp := range expiries(t, client, table) {
			assert.Equal(t, int64(-1), exp, key)
		}
	})
}

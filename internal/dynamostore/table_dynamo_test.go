package dynamostore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/dynamostore"
	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/httpapi/apitest"
	"github.com/bondregistry/bond-registry/localdb"
)

// newTableLike creates, on DynamoDB Local, a table with a unique name from
// localdb/01-create-table.json changed by edit, waits until it is ACTIVE and
// deletes it when t ends.
func newTableLike(t *testing.T, client *dynamodb.Client, edit func(in *dynamodb.CreateTableInput)) string {
	t.Helper()
	table := fmt.Sprintf("bond_layout_%s_%d", strings.ReplaceAll(strings.ToLower(t.Name()), "/", "_"), time.Now().UnixNano())
	in, err := localdb.CreateTableInput(table)
	require.NoError(t, err)
	edit(in)
	_, err = client.CreateTable(t.Context(), in)
	require.NoError(t, err)
	t.Cleanup(func() { // t.Context() is cancelled when cleanups run
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &table})
		assert.NoError(t, err, "delete table %s", table)
	})
	w := dynamodb.NewTableExistsWaiter(client)
	require.NoError(t, w.Wait(t.Context(), &dynamodb.DescribeTableInput{TableName: &table}, time.Minute))
	return table
}

// projectIndex sets the projection of the index whose hash key is attr.
func projectIndex(attr string, p types.Projection) func(in *dynamodb.CreateTableInput) {
	return func(in *dynamodb.CreateTableInput) {
		for i, g := range in.GlobalSecondaryIndexes {
			if aws.ToString(g.KeySchema[0].AttributeName) == attr {
				in.GlobalSecondaryIndexes[i].Projection = &p
			}
		}
	}
}

// TestTable_Layouts creates real tables, one rule broken at a time, and
// checks what Migrate and the store make of each: a table that passes lists
// full bonds through every index, one that does not is refused with one line
// naming the table or index and what differs, and nothing is written.
func TestTable_Layouts(t *testing.T) {
	t.Parallel()
	client := serviceClient(t)
	for name, tc := range map[string]struct {
		edit func(in *dynamodb.CreateTableInput)
		want string // "" when the table passes, else a part of the one-line reason
	}{
		"localdb": {edit: func(*dynamodb.CreateTableInput) {}},
		"IncludeEverything": {edit: projectIndex("host_cost_center", types.Projection{ProjectionType: types.ProjectionTypeInclude,
			NonKeyAttributes: []string{"host_account_id", "sub_account_id", "sub_cost_center", "subscribers", "version"}})},
		"KeysOnly": {edit: projectIndex("host_cost_center", types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}),
			want: "index bond-host_cost_center-index projects KEYS_ONLY; the service reads host_account_id, sub_account_id, sub_cost_center, subscribers, version: it must project ALL"},
		"IncludeWithoutSubscribers": {edit: projectIndex("sub_account_id", types.Projection{ProjectionType: types.ProjectionTypeInclude,
			NonKeyAttributes: []string{"host_account_id", "host_cost_center", "sub_cost_center", "version"}}),
			want: "index bond-sub_account_id-index projects INCLUDE; the service reads subscribers: it must project ALL"},
		"NoIndexOnSubCostCenter": {edit: func(in *dynamodb.CreateTableInput) {
			in.GlobalSecondaryIndexes = in.GlobalSecondaryIndexes[:2]
			in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
				IndexName: aws.String("by-sub"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
				KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("sub_account_id"), KeyType: types.KeyTypeHash}}})
			in.AttributeDefinitions = in.AttributeDefinitions[:3]
			in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("sub_account_id"), AttributeType: types.ScalarAttributeTypeS})
		}, want: "no global secondary index has the hash key sub_cost_center"},
		"RangeKey": {edit: func(in *dynamodb.CreateTableInput) {
			in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String("host_account_id"), KeyType: types.KeyTypeRange})
		}, want: "has range key host_account_id; the key must be bond_id alone"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			table := newTableLike(t, client, tc.edit)
			b := newBond("B1", "H1", "S1")
			b.Subscribers = map[string]bond.Subscriber{"bob": {SID: "bob", Name: "Bob", Email: "bob@example.com"}}
			_, err := client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: &table, Item: dynamostore.ItemOf(b)})
			require.NoError(t, err)

			report, migrateErr := dynamostore.Migrate(t.Context(), client, table, localdb.TableDefinition, zerolog.Nop())
			store := dynamostore.New(client, table)
			storeErr := store.CheckTable(t.Context())
			if tc.want == "" {
				require.NoError(t, migrateErr)
				require.NoError(t, storeErr)
				assert.Equal(t, 1, report.GuardsCreated)
				b.Version = 0
				for _, f := range []bond.Filter{{}, {CostCenter: "teal", ByHost: true}, {Account: "H1", ByHost: true},
					{CostCenter: "yellow"}, {Account: "S1"}, {Account: "S1", CostCenter: "yellow"}} {
					page, err := bond.ListPage(t.Context(), store, f, 10, "")
					require.NoError(t, err, "%+v", f)
					assert.Equal(t, []bond.Bond{b}, page.Bonds, "%+v", f)
				}
				return
			}
			var te *dynamostore.TableError
			require.ErrorAs(t, migrateErr, &te)
			assert.Equal(t, "table "+table+": ", migrateErr.Error()[:len(table)+8])
			assert.Contains(t, migrateErr.Error(), tc.want)
			assert.NotContains(t, migrateErr.Error(), "\n")
			assert.Zero(t, report.GuardsCreated, "nothing is written to a refused table")
			assert.Equal(t, bond.KindUnavailable, bond.KindOf(storeErr))
			assert.Contains(t, storeErr.(*bond.Error).Message, tc.want)
		})
	}
}

// TestAPI_KeysOnlyIndex is the regression of a table whose cost center index
// projects KEYS_ONLY: a listing through it once answered 200 with the
// accounts and the other cost center blank, and /readyz 200. Every request
// now answers 503 naming the index, and nothing is blank.
func TestAPI_KeysOnlyIndex(t *testing.T) {
	t.Parallel()
	client := serviceClient(t)
	table := newTableLike(t, client, projectIndex("host_cost_center", types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}))
	_, err := client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: &table, Item: dynamostore.ItemOf(newBond("B1", "H1", "S1"))})
	require.NoError(t, err)
	api := apitest.NewClient(t, httpapi.NewServer(zerolog.Nop(), dynamostore.New(client, table), httpapi.Config{}))
	for _, path := range []string{"/bonds?cost_center_id=teal", "/bonds?cost_center_id=teal&by_host=true", "/bonds", "/bonds/B1", "/readyz"} {
		res := api.Do(t, http.MethodGet, path, "", nil)
		require.Equal(t, http.StatusServiceUnavailable, res.Status, "%s: %s", path, res.Body)
		var body struct{ Detail string }
		require.NoError(t, json.Unmarshal(res.Body, &body), path)
		assert.Contains(t, body.Detail, "table "+table+": index bond-host_cost_center-index projects KEYS_ONLY", path)
		assert.Equal(t, "1", res.Header.Get("Retry-After"), path)
	}
}

// TestAPI_PairMoveTooLarge is the regression of a PUT that moves the account
// pair and takes the item past DynamoDB's 400 KB: the transaction is
// cancelled with reason ValidationError, which once answered 500; it is the
// 422 "bond too large" that the same growth without a pair move gets. The
// item carries an attribute written by another tool, which the service
// keeps and does not count, so only DynamoDB sees the limit.
func TestAPI_PairMoveTooLarge(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	item := legacy("B1", "H1", "S1")
	item["blob"] = strings.Repeat("x", 409_600-400)
	f.putRaw(t, item)
	api := apitest.NewClient(t, httpapi.NewServer(zerolog.Nop(), f.store, httpapi.Config{}))
	long := strings.Repeat("y", bond.MaxIDLen)
	for name, body := range map[string]string{
		"moving the pair":  `{"sub_account_id": "` + long + `", "sub_cost_center": "` + long + `"}`,
		"keeping the pair": `{"host_cost_center": "` + long + `", "sub_cost_center": "` + long + `"}`,
	} {
		res := api.Do(t, http.MethodPut, "/bonds/B1", body, nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.Body)
		assert.Contains(t, string(res.Body), "value_error.bond_too_large", name)
	}
	got, err := bond.Get(t.Context(), f.store, "B1")
	require.NoError(t, err)
	assert.Equal(t, "S1", got.SubAccountID, "nothing was written")
	assert.Equal(t, []string{"B1"}, f.ids(t), "no guard was moved")
}

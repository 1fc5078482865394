package dynamostore_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/dynamostore"
	"github.com/bondregistry/bond-registry/localdb"
)

// TestCheckDefinition: the table of localdb/01-create-table.json, which the
// AWS CLI (localdb/init.sh), Migrate's CreateTable and the tests create,
// passes the table rules, and so does every table the store is tested on.
func TestCheckDefinition(t *testing.T) {
	t.Parallel()
	in, err := localdb.ParseCreateTable(localdb.TableDefinition, "")
	require.NoError(t, err)
	require.NoError(t, dynamostore.CheckDefinition(in))

	keysOnly, err := localdb.CreateTableInput("bond")
	require.NoError(t, err)
	keysOnly.GlobalSecondaryIndexes[0].Projection = &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}
	err = dynamostore.CheckDefinition(keysOnly)
	var te *dynamostore.TableError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "table bond: index bond-host_cost_center-index projects KEYS_ONLY; the service reads "+
		"host_account_id, sub_account_id, sub_cost_center, subscribers, version: it must project ALL", err.Error())
}

// tableClient is a fake DynamoDB holding one bond item in a table described
// by desc: GetItem and Scan return the item, Query returns it as the index
// named projects it (keys, ALL, or INCLUDE of its attributes). It counts the
// calls that read items.
type tableClient struct {
	fakeClient
	desc  atomic.Pointer[types.TableDescription]
	item  map[string]types.AttributeValue
	reads atomic.Int64
	descs atomic.Int64
}

func newTableClient(desc *types.TableDescription, item map[string]types.AttributeValue) *tableClient {
	c := &tableClient{item: item}
	c.desc.Store(desc)
	c.DescribeTableFn = func(in *dynamodb.DescribeTableInput) (*dynamodb.DescribeTableOutput, error) {
		if strings.HasSuffix(aws.ToString(in.TableName), "_revisions") {
			return (&fakeClient{}).DescribeTable(context.Background(), in)
		}
		c.descs.Add(1)
		return &dynamodb.DescribeTableOutput{Table: c.desc.Load()}, nil
	}
	c.GetItemFn = func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
		c.reads.Add(1)
		return &dynamodb.GetItemOutput{Item: c.item}, nil
	}
	c.QueryFn = func(in *dynamodb.QueryInput) (*dynamodb.QueryOutput, error) {
		c.reads.Add(1)
		for _, g := range c.desc.Load().GlobalSecondaryIndexes {
			if aws.ToString(g.IndexName) == aws.ToString(in.IndexName) {
				return &dynamodb.QueryOutput{Items: []map[string]types.AttributeValue{project(c.desc.Load(), g, c.item)}}, nil
			}
		}
		return nil, &types.ResourceNotFoundException{Message: aws.String("no such index")}
	}
	return c
}

func (c *tableClient) Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	c.reads.Add(1)
	return &dynamodb.ScanOutput{Items: []map[string]types.AttributeValue{c.item}}, nil
}

// project is item as index g of table d holds it.
func project(d *types.TableDescription, g types.GlobalSecondaryIndexDescription, item map[string]types.AttributeValue) map[string]types.AttributeValue {
	keep := map[string]bool{}
	for _, k := range append(slices.Clone(d.KeySchema), g.KeySchema...) {
		keep[aws.ToString(k.AttributeName)] = true
	}
	if g.Projection != nil {
		for _, a := range g.Projection.NonKeyAttributes {
			keep[a] = g.Projection.ProjectionType == types.ProjectionTypeInclude
		}
	}
	out := map[string]types.AttributeValue{}
	for k, v := range item {
		if keep[k] || g.Projection != nil && g.Projection.ProjectionType == types.ProjectionTypeAll {
			out[k] = v
		}
	}
	return out
}

// Departures from localdb's table that genTable makes.
var (
	tableFaults = []string{"hash id", "hash type N", "range key"}
	indexFaults = []string{"missing", "doubled", "hash type N", "CREATING", "DELETING", "UPDATING",
		"KEYS_ONLY", "INCLUDE some", "no projection", "range key version", "no range key"}
)

// genTable generates a table description near the one the service needs:
// localdb's table with one departure (a wrong key schema, an index missing,
// doubled, of the wrong type, range key or status, or with another
// projection), or with several, so that tables that pass, tables that break
// exactly one rule and tables that break many all come up often.
func genTable(t *rapid.T) *types.TableDescription {
	attrs := []string{"host_cost_center", "host_account_id", "sub_cost_center", "sub_account_id"}
	tableFault := map[string]bool{}
	indexFault := map[string]map[string]bool{}
	for _, a := range attrs {
		indexFault[a] = map[string]bool{}
	}
	if rapid.Bool().Draw(t, "one departure") {
		if at := rapid.IntRange(-1, len(attrs)-1).Draw(t, "where"); at < 0 {
			tableFault[rapid.SampledFrom(tableFaults).Draw(t, "table fault")] = true
		} else {
			indexFault[attrs[at]][rapid.SampledFrom(indexFaults).Draw(t, "index fault")] = true
		}
	} else {
		for _, f := range rapid.SliceOfDistinct(rapid.SampledFrom(tableFaults), rapid.ID).Draw(t, "table faults") {
			tableFault[f] = true
		}
		for _, a := range attrs {
			for _, f := range rapid.SliceOfDistinct(rapid.SampledFrom(indexFaults), rapid.ID).Draw(t, a+" faults") {
				indexFault[a][f] = true
			}
		}
	}
	attrTypes := map[string]types.ScalarAttributeType{}
	key := func(name string, kt types.KeyType, typeN bool) types.KeySchemaElement {
		if _, ok := attrTypes[name]; !ok {
			attrTypes[name] = types.ScalarAttributeTypeS
			if typeN {
				attrTypes[name] = types.ScalarAttributeTypeN
			}
		}
		return types.KeySchemaElement{AttributeName: aws.String(name), KeyType: kt}
	}
	d := &types.TableDescription{TableName: aws.String("bond")}
	hash := "bond_id"
	if tableFault["hash id"] {
		hash = "id"
	}
	d.KeySchema = []types.KeySchemaElement{key(hash, types.KeyTypeHash, tableFault["hash type N"])}
	if tableFault["range key"] {
		d.KeySchema = append(d.KeySchema, key("created_at", types.KeyTypeRange, false))
	}
	projectable := []string{"bond_id", "host_account_id", "sub_account_id", "host_cost_center", "sub_cost_center", "subscribers", "version", "guard_owner", "other"}
	for _, attr := range attrs {
		f := indexFault[attr]
		count := 1
		switch {
		case f["missing"]:
			count = 0
		case f["doubled"]:
			count = 2
		}
		for i := range count {
			if i == 1 { // the second one as localdb has it: the check takes whichever passes
				f = map[string]bool{}
			}
			g := types.GlobalSecondaryIndexDescription{
				IndexName:   aws.String(attr + "-" + string(rune('a'+i))),
				KeySchema:   []types.KeySchemaElement{key(attr, types.KeyTypeHash, f["hash type N"])},
				IndexStatus: types.IndexStatusActive,
				Projection:  &types.Projection{ProjectionType: types.ProjectionTypeAll},
			}
			for _, st := range []types.IndexStatus{types.IndexStatusCreating, types.IndexStatusDeleting, types.IndexStatusUpdating} {
				if f[string(st)] {
					g.IndexStatus = st
				}
			}
			switch {
			case f["KEYS_ONLY"]:
				g.Projection.ProjectionType = types.ProjectionTypeKeysOnly
			case f["no projection"]:
				g.Projection = nil
			case f["INCLUDE some"]:
				g.Projection.ProjectionType = types.ProjectionTypeInclude
				for _, a := range projectable {
					if rapid.Bool().Draw(t, "include "+a) {
						g.Projection.NonKeyAttributes = append(g.Projection.NonKeyAttributes, a)
					}
				}
			}
			switch {
			case f["range key version"]:
				g.KeySchema = append(g.KeySchema, key("version", types.KeyTypeRange, true))
			case !f["no range key"]:
				g.KeySchema = append(g.KeySchema, key("bond_id", types.KeyTypeRange, false))
			}
			d.GlobalSecondaryIndexes = append(d.GlobalSecondaryIndexes, g)
		}
	}
	for name, at := range attrTypes {
		d.AttributeDefinitions = append(d.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: at})
	}
	return d
}

// TestCheckTable_Generated: every generated table is either accepted, and
// then every listing through it returns the full bond, or refused with one
// line naming the table, and then every request answers 503 with that line
// and reads no item.
func TestCheckTable_Generated(t *testing.T) {
	t.Parallel()
	b := bond.Bond{BondID: "B1", HostAccountID: "H1", SubAccountID: "S1", HostCostCenter: "teal", SubCostCenter: "red", Version: 4,
		Subscribers: map[string]bond.Subscriber{"bob": {SID: "bob", Name: "Bob", Email: "bob@example.com"}}}
	var accepted, refused atomic.Int64
	rapid.Check(t, func(t *rapid.T) {
		client := newTableClient(genTable(t), dynamostore.ItemOf(b))
		store := dynamostore.New(client, "bond")
		ctx := context.Background()
		err := store.CheckTable(ctx)
		filters := []bond.Filter{{}, {CostCenter: "teal", ByHost: true}, {Account: "H1", ByHost: true},
			{CostCenter: "red"}, {Account: "S1"}, {Account: "S1", CostCenter: "red"}}
		if err == nil {
			accepted.Add(1)
			for _, f := range filters {
				page, err := bond.ListPage(ctx, store, f, 10, "")
				require.NoError(t, err, "%+v", f)
				require.Equal(t, []bond.Bond{b}, page.Bonds, "%+v", f)
			}
			return
		}
		refused.Add(1)
		var be *bond.Error
		require.ErrorAs(t, err, &be)
		require.Equal(t, bond.KindUnavailable, be.Kind)
		require.NotContains(t, be.Message, "\n")
		var te *dynamostore.TableError
		require.ErrorAs(t, err, &te)
		require.True(t, strings.HasPrefix(te.Error(), "table bond: "), te.Error())
		require.Contains(t, be.Message, te.Error())
		for _, f := range filters {
			_, err := bond.ListPage(ctx, store, f, 10, "")
			require.Equal(t, be, err, "%+v", f)
		}
		_, err = bond.Get(ctx, store, "B1")
		require.Equal(t, be, err)
		require.Equal(t, be, store.Create(ctx, b, 0, bond.Journal{}))
		require.Equal(t, be, store.Ping(ctx))
		require.Zero(t, client.reads.Load(), "a refused table is never read")
	})
	assert.Positive(t, accepted.Load(), "some generated tables pass")
	assert.Positive(t, refused.Load(), "some generated tables are refused")
}

// TestStore_TableRecheck: a refused table is described again only after the
// store's recheck interval, and a fixed table is then picked up without a
// restart.
func TestStore_TableRecheck(t *testing.T) {
	t.Parallel()
	good, err := localdb.CreateTableInput("bond")
	require.NoError(t, err)
	bad, err := localdb.CreateTableInput("bond")
	require.NoError(t, err)
	bad.GlobalSecondaryIndexes[2].Projection = &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}
	b := bond.Bond{BondID: "B1", HostAccountID: "H1", SubAccountID: "S1", HostCostCenter: "teal", SubCostCenter: "red",
		Subscribers: map[string]bond.Subscriber{}}

	t.Run("held for the interval", func(t *testing.T) {
		client := newTableClient(dynamostore.Description(bad), dynamostore.ItemOf(b))
		store := dynamostore.New(client, "bond") // the interval is seconds: longer than this test
		for range 5 {
			_, err := bond.Get(t.Context(), store, "B1")
			assert.Equal(t, bond.KindUnavailable, bond.KindOf(err))
			client.desc.Store(dynamostore.Description(good))
		}
		assert.Equal(t, int64(1), client.descs.Load(), "one DescribeTable within the interval")
	})
	t.Run("fixed table picked up", func(t *testing.T) {
		client := newTableClient(dynamostore.Description(bad), dynamostore.ItemOf(b))
		store := dynamostore.New(client, "bond")
		dynamostore.SetRecheck(store, 0)
		_, err := bond.ListPage(t.Context(), store, bond.Filter{CostCenter: "red"}, 10, "")
		require.Equal(t, bond.KindUnavailable, bond.KindOf(err))
		assert.Contains(t, err.Error(), "index bond-sub_cost_center-index projects KEYS_ONLY")
		client.desc.Store(dynamostore.Description(good))
		page, err := bond.ListPage(t.Context(), store, bond.Filter{CostCenter: "red"}, 10, "")
		require.NoError(t, err)
		assert.Equal(t, []bond.Bond{b}, page.Bonds)
		for range 3 {
			_, err := bond.Get(t.Context(), store, "B1")
			require.NoError(t, err)
		}
		assert.Equal(t, int64(2), client.descs.Load(), "a table that passed is not described again")
	})
	t.Run("missing table", func(t *testing.T) {
		client := newTableClient(nil, nil)
		client.DescribeTableFn = func(*dynamodb.DescribeTableInput) (*dynamodb.DescribeTableOutput, error) {
			return nil, &types.ResourceNotFoundException{Message: aws.String("Cannot do operations on a non-existent table")}
		}
		err := dynamostore.New(client, "bond").Ping(t.Context())
		require.Equal(t, bond.KindUnavailable, bond.KindOf(err))
		assert.Contains(t, err.Error(), "table bond: does not exist; create it with bond-registry migrate")
	})
}

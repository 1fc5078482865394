package localdb_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/localdb"
)

func TestCreateTableInput(t *testing.T) {
	t.Run("DefaultName", func(t *testing.T) {
		in, err := localdb.CreateTableInput("")
		require.NoError(t, err)
		assert.Equal(t, "bond", aws.ToString(in.TableName))
	})

	t.Run("NameOverride", func(t *testing.T) {
		in, err := localdb.CreateTableInput("bond_test_1")
		require.NoError(t, err)
		assert.Equal(t, "bond_test_1", aws.ToString(in.TableName))
	})

	t.Run("Layout", func(t *testing.T) {
		in, err := localdb.CreateTableInput("")
		require.NoError(t, err)

		assert.Equal(t, types.BillingModePayPerRequest, in.BillingMode)
		require.Len(t, in.KeySchema, 1)
		assert.Equal(t, "bond_id", aws.ToString(in.KeySchema[0].AttributeName))
		assert.Equal(t, types.KeyTypeHash, in.KeySchema[0].KeyType)

		attrs := map[string]types.ScalarAttributeType{}
		for _, a := range in.AttributeDefinitions {
			attrs[aws.ToString(a.AttributeName)] = a.AttributeType
		}
		assert.Equal(t, map[string]types.ScalarAttributeType{
			"bond_id":          types.ScalarAttributeTypeS,
			"host_cost_center": types.ScalarAttributeTypeS,
			"host_account_id":  types.ScalarAttributeTypeS,
			"sub_cost_center":  types.ScalarAttributeTypeS,
			"sub_account_id":   types.ScalarAttributeTypeS,
		}, attrs)

		got := map[string][2]string{}
		for _, g := range in.GlobalSecondaryIndexes {
			require.Len(t, g.KeySchema, 2, aws.ToString(g.IndexName))
			assert.Equal(t, types.KeyTypeHash, g.KeySchema[0].KeyType)
			assert.Equal(t, types.KeyTypeRange, g.KeySchema[1].KeyType)
			require.NotNil(t, g.Projection)
			assert.Equal(t, types.ProjectionTypeAll, g.Projection.ProjectionType)
			got[aws.ToString(g.IndexName)] = [2]string{
				aws.ToString(g.KeySchema[0].AttributeName),
				aws.ToString(g.KeySchema[1].AttributeName),
			}
		}
		want := map[string][2]string{
			"bond-host_cost_center-index": {"host_cost_center", "bond_id"},
			"bond-host_account_id-index":  {"host_account_id", "bond_id"},
			"bond-sub_cost_center-index":  {"sub_cost_center", "bond_id"},
			"bond-sub_account_id-index":   {"sub_account_id", "bond_id"},
		}
		assert.Equal(t, want, got)
	})
}

func TestParseCreateTable(t *testing.T) {
	tests := map[string]string{
		"ErrUnknownMember": `{"TableName":"t","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"GlobalSecondaryIndex":[]}`,
		"ErrNoTableName":   `{"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}]}`,
		"ErrNoKeySchema":   `{"TableName":"t"}`,
		"ErrTrailingData":  `{"TableName":"t","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}]} {}`,
		"ErrNotJSON":       `TableName: t`,
	}
	for name, def := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := localdb.ParseCreateTable([]byte(def), "")
			assert.Error(t, err)
		})
	}

	t.Run("OK", func(t *testing.T) {
		in, err := localdb.ParseCreateTable([]byte(`{"TableName":"t","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"ProvisionedThroughput":{"ReadCapacityUnits":5,"WriteCapacityUnits":5}}`), "")
		require.NoError(t, err)
		assert.Equal(t, "t", aws.ToString(in.TableName))
		require.NotNil(t, in.ProvisionedThroughput)
		assert.Equal(t, int64(5), aws.ToInt64(in.ProvisionedThroughput.ReadCapacityUnits))
	})
}

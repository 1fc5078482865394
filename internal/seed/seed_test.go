package seed_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/seed"
)

const sampleFile = "../../localdb/02-load-data.json"

func TestParse_SampleData(t *testing.T) {
	f, err := os.Open(sampleFile)
	require.NoError(t, err)
	defer f.Close()
	bonds, err := seed.Parse(f)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(bonds), 20)

	pairs := map[[2]string]string{}
	ids := map[string]bool{}
	var foo *bond.Bond
	for i, b := range bonds {
		assert.False(t, ids[b.BondID], "duplicate bond_id %s", b.BondID)
		ids[b.BondID] = true
		pair := [2]string{b.HostAccountID, b.SubAccountID}
		assert.Empty(t, pairs[pair], "bonds %s and %s share an account pair", pairs[pair], b.BondID)
		pairs[pair] = b.BondID
		if b.BondID == "FOO" {
			foo = &bonds[i]
		}
	}
	require.NotNil(t, foo, "bond FOO is in the sample data")
	want := bond.Bond{
		BondID: "FOO", HostAccountID: "TAPV54703350425479", SubAccountID: "IMII87361536320662",
		HostCostCenter: "olive", SubCostCenter: "blue",
		Subscribers: map[string]bond.Subscriber{
			"aaronorr":              {SID: "aaronorr", Name: "Lori Rodriguez", Email: "mistymoore@yahoo.com"},
			"christopherwashington": {SID: "christopherwashington", Name: "David Watkins", Email: "patrickbaker@hotmail.com"},
			"jessicadavis":          {SID: "jessicadavis", Name: "Emily Garrett", Email: "walter59@yahoo.com"},
		},
	}
	assert.Equal(t, want, *foo)
}

// DynamoDB's BatchWriteItem takes at most 25 requests per table and call: the
// AWS CLI in localdb/init.sh sends the file as it is.
func TestSampleData_FitsOneBatchWriteItem(t *testing.T) {
	data, err := os.ReadFile(sampleFile)
	require.NoError(t, err)
	var req map[string][]json.RawMessage
	require.NoError(t, json.Unmarshal(data, &req))
	require.Contains(t, req, "bond")
	for table, writes := range req {
		assert.LessOrEqual(t, len(writes), 25, "table %s", table)
	}
}

func TestParse_Errors(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"not json":       {`{`, "parse seed file"},
		"delete request": {`{"bond":[{"DeleteRequest":{}}]}`, "only PutRequest"},
		"invalid bond":   {`{"bond":[{"PutRequest":{"Item":{"bond_id":{"S":"a/b"}}}}]}`, "bond[0]"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := seed.Parse(strings.NewReader(tc.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

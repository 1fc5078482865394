package dynamostore

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// BenchmarkDecodeBond is the store's own work in a Get: decodeBond (with
// bond.CheckStored) of the item of a bond with one subscriber, as
// BenchmarkPaired's Get_vs_GetItem reads it.
func BenchmarkDecodeBond(b *testing.B) {
	foo := bond.Bond{BondID: "FOO", HostAccountID: "H", SubAccountID: "S", HostCostCenter: "teal", SubCostCenter: "yellow", Version: 1, Revision: 1,
		Subscribers: map[string]bond.Subscriber{"rharper": {SID: "rharper", Name: "Richard Harper", Email: "richharper@example.com"}}}
	item, err := attributevalue.MarshalMap(bondValue(foo))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := decodeBond(item); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

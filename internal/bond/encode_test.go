package bond_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bondregistry/bond-registry/internal/bond"
)

func TestAppendJSON(t *testing.T) {
	b := bond.Bond{BondID: "B1", HostAccountID: "<html> & 'amp'", SubAccountID: `quote " \ back`,
		HostCostCenter: "tab\tline\n", SubCostCenter: "bad utf8 \xff \u2028",
		Subscribers: map[string]bond.Subscriber{
			"zed": {SID: "zed", Name: "Zed", Email: "z@example.com"},
			"amy": {SID: "amy", Name: "Amy ✓", Email: "a@example.com"},
		},
		Version: 7}
	want := `{"bond_id":"B1","host_account_id":"<html> & 'amp'","sub_account_id":"quote \" \\ back",` +
		`"host_cost_center":"tab\tline\n","sub_cost_center":"bad utf8 \ufffd \u2028",` +
		`"subscribers":{"amy":{"sid":"amy","name":"Amy ✓","email":"a@example.com"},"zed":{"sid":"zed","name":"Zed","email":"z@example.com"}}}`

	t.Run("OK a bond: no HTML escaping, subscribers by sid, no version, no newline", func(t *testing.T) {
		assert.Equal(t, want, string(b.AppendJSON(nil)))
	})
	t.Run("OK appends to what dst holds", func(t *testing.T) {
		assert.Equal(t, "["+want, string(b.AppendJSON([]byte("["))))
	})
	t.Run("OK nil subscribers is an empty object", func(t *testing.T) {
		assert.Equal(t, `{"bond_id":"X","host_account_id":"","sub_account_id":"","host_cost_center":"","sub_cost_center":"","subscribers":{}}`,
			string(bond.Bond{BondID: "X"}.AppendJSON(nil)))
		assert.Equal(t, `{}`, string(bond.AppendSubscribersJSON(nil, nil)))
	})
	t.Run("OK a subscriber and a subscriber map", func(t *testing.T) {
		assert.Equal(t, `{"sid":"amy","name":"Amy ✓","email":"a@example.com"}`, string(b.Subscribers["amy"].AppendJSON(nil)))
		assert.Equal(t, `{"zed":{"sid":"zed","name":"Zed","email":"z@example.com"}}`,
			string(bond.AppendSubscribersJSON(nil, map[string]bond.Subscriber{"zed": b.Subscribers["zed"]})))
	})
}

package bond_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bondregistry/bond-registry/internal/bond"
)

func TestFilter_Match(t *testing.T) {
	b := bond.Bond{HostAccountID: "H", SubAccountID: "S", HostCostCenter: "hc", SubCostCenter: "sc"}
	for _, tc := range []struct {
		f    bond.Filter
		want bool
	}{
		{bond.Filter{}, true},
		{bond.Filter{ByHost: true, Account: "H"}, true},
		{bond.Filter{ByHost: true, Account: "S"}, false},
		{bond.Filter{ByHost: false, Account: "S", CostCenter: "sc"}, true},
		{bond.Filter{ByHost: false, Account: "S", CostCenter: "hc"}, false},
		{bond.Filter{ByHost: true, CostCenter: "hc"}, true},
	} {
		assert.Equal(t, tc.want, tc.f.Match(b), "%+v", tc.f)
	}
}

func TestKindOf(t *testing.T) {
	assert.Equal(t, bond.KindNotFound, bond.KindOf(bond.ErrNotFound("x")))
	assert.Equal(t, bond.KindInternal, bond.KindOf(assert.AnError))
	assert.Equal(t, "Bond X not found. Cannot add subscriber S.", bond.ErrSubscriberAddNotFound("X", "S").Message)
	assert.Equal(t, "A bond already exists for host account H and subscriber account S: bond_id=Y", bond.ErrPairTaken("H", "S", "Y").Message)
	assert.Equal(t, "Bond already exists: bond_id=X", bond.ErrExists("X").Message)
	u := bond.Unavailable("get", assert.AnError)
	assert.NotContains(t, u.Message, assert.AnError.Error(), "the cause is not shown to clients")
	assert.ErrorIs(t, u, assert.AnError)
}

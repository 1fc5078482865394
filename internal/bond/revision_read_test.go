package bond_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// A revision read back from a store is held to the rules like a bond is
// (the attacker's review): an actor or request id with control characters,
// a member the service does not know, or a JSON text larger than any
// revision can be is unreadable, and the message names the attribute once.
func TestUnmarshalRevision_Refuses(t *testing.T) {
	good := bond.Revision{Revision: 1, BondID: "R1", Operation: bond.OpCreate, Version: 1,
		Time: bond.NewTimestamp(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)), Actor: "billing", RequestID: "req-1",
		Bond: bond.Bond{BondID: "R1", HostAccountID: "H", SubAccountID: "S", HostCostCenter: "c", SubCostCenter: "d"}}
	data, err := bond.MarshalRevision(good)
	require.NoError(t, err)
	_, err = bond.UnmarshalRevision("R1", data)
	require.NoError(t, err, "%s", data)

	js := string(data)
	for name, tc := range map[string]struct{ data, what string }{
		"actor with control characters": {strings.Replace(js, `"billing"`, `"\u0000evil\u001b[31m"`, 1), "actor: not a name"},
		"request id with a newline":     {strings.Replace(js, `"req-1"`, `"\n\nfake"`, 1), "request_id: not a request id"},
		"an unknown member":             {strings.Replace(js, `{"revision"`, `{"extra":1,"revision"`, 1), "unknown field"},
		"an unknown subscriber member":  {strings.Replace(js, `"subscribers":{}`, `"subscribers":{"a":{"sid":"a","name":"A","email":"a@b.example","phone":"1"}}`, 1), "unknown field"},
		"larger than any revision":      {js + strings.Repeat(" ", bond.MaxRevisionBytes), "larger than any revision can be"},
		"a bond the rules refuse":       {strings.Replace(js, `"sub_cost_center":"d"`, `"sub_cost_center":" d"`, 1), "revision 1: bond.sub_cost_center: must not start or end with whitespace"},
	} {
		_, err := bond.UnmarshalRevision("R1", []byte(tc.data))
		require.Equal(t, bond.KindUnreadable, bond.KindOf(err), "%s: %v", name, err)
		assert.Contains(t, err.Error(), tc.what, name)
		assert.Equal(t, 1, strings.Count(err.Error(), "fix the item in the store"), "%s: one message, not nested: %v", name, err)
	}
}

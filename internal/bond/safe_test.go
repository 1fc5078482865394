package bond_test

import (
	"strings"
	"testing"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// A store's SubscriberPatcher adds to a bond with fewer than SafeSubscribers
// subscribers without a size check: so a bond of SafeSubscribers
// subscribers, every value at its longest, must still fit.
func TestSafeSubscribers(t *testing.T) {
	if bond.SafeSubscribers < 50 {
		t.Fatalf("bond.SafeSubscribers = %d: the fast path would rarely apply", bond.SafeSubscribers)
	}
	long := func(prefix string, n int) string { return prefix + strings.Repeat("\U0001F600", n-1) }
	id := long("a", bond.MaxIDLen)
	b := bond.Bond{BondID: id, HostAccountID: id, SubAccountID: id, HostCostCenter: id, SubCostCenter: id,
		Subscribers: map[string]bond.Subscriber{}}
	for i := range bond.SafeSubscribers {
		sid := long(string(rune('a'+i%26))+strings.Repeat("b", i/26), bond.MaxIDLen)
		b.Subscribers[sid] = bond.Subscriber{SID: sid, Name: long("n", bond.MaxNameLen), Email: long("e", bond.MaxEmailLen)}
	}
	if got := len(b.Subscribers); got != bond.SafeSubscribers {
		t.Fatalf("built %d distinct subscribers, want %d", got, bond.SafeSubscribers)
	}
	if size := bond.ItemSize(b); size > bond.MaxItemBytes {
		t.Errorf("%d subscribers of the largest values take %d bytes, over %d", bond.SafeSubscribers, size, bond.MaxItemBytes)
	}
	t.Logf("bond.SafeSubscribers = %d", bond.SafeSubscribers)
}

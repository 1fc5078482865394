package dynamostore

import (
	"strings"
	"testing"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// The fast path of PutSubscriber adds to a bond with fewer than
// safeSubscribers subscribers without a size check: so a bond of
// safeSubscribers subscribers, every value at its longest, must still fit.
func TestSafeSubscribers(t *testing.T) {
	if safeSubscribers < 50 {
		t.Fatalf("safeSubscribers = %d: the fast path would rarely apply", safeSubscribers)
	}
	long := func(prefix string, n int) string { return prefix + strings.Repeat("\U0001F600", n-1) }
	id := long("a", bond.MaxIDLen)
	b := bond.Bond{BondID: id, HostAccountID: id, SubAccountID: id, HostCostCenter: id, SubCostCenter: id,
		Subscribers: map[string]bond.Subscriber{}}
	for i := range safeSubscribers {
		sid := long(string(rune('a'+i%26))+strings.Repeat("b", i/26), bond.MaxIDLen)
		b.Subscribers[sid] = bond.Subscriber{SID: sid, Name: long("n", bond.MaxNameLen), Email: long("e", bond.MaxEmailLen)}
	}
	if got := len(b.Subscribers); got != safeSubscribers {
		t.Fatalf("built %d distinct subscribers, want %d", got, safeSubscribers)
	}
	if size := bond.ItemSize(b); size > bond.MaxItemBytes {
		t.Errorf("%d subscribers of the largest values take %d bytes, over %d", safeSubscribers, size, bond.MaxItemBytes)
	}
	t.Logf("safeSubscribers = %d", safeSubscribers)
}

package apitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// b1 is the bond most cases start from: two subscribers, version 1 once
// seeded.
func b1() bond.Bond {
	return bond.Bond{
		BondID:         "B1",
		HostAccountID:  "HOST1",
		SubAccountID:   "SUB1",
		HostCostCenter: "teal",
		SubCostCenter:  "yellow",
		Subscribers: map[string]bond.Subscriber{
			"rharper": {SID: "rharper", Name: "Richard Harper", Email: "richharper@example.com"},
			"aorr":    {SID: "aorr", Name: "Aaron Orr", Email: "aaron.orr@example.com"},
		},
	}
}

// b2 is a second bond with its own account pair.
func b2() bond.Bond {
	return bond.Bond{
		BondID:         "B2",
		HostAccountID:  "HOST2",
		SubAccountID:   "SUB2",
		HostCostCenter: "olive",
		SubCostCenter:  "blue",
		Subscribers:    map[string]bond.Subscriber{},
	}
}

// withID returns b with another id and account pair.
func withID(b bond.Bond, id string) bond.Bond {
	b.BondID = id
	b.HostAccountID = "HOST-" + id
	b.SubAccountID = "SUB-" + id
	return b
}

// newBondJSON is a valid create body, NEW with one subscriber.
const newBondJSON = `{"bond_id": "NEW", "host_account_id": "HNEW", "sub_account_id": "SNEW",
	"host_cost_center": "teal", "sub_cost_center": "yellow",
	"subscribers": {"bob": {"sid": "bob", "name": "Bob Smith", "email": "bob@example.com"}}}`

// subscribersJSON returns a subscribers map of n entries, each of roughly
// size bytes, as JSON.
func subscribersJSON(n, size int) string {
	var b strings.Builder
	b.WriteString("{")
	pad := strings.Repeat("x", max(0, min(size/3, bond.MaxIDLen-10)))
	name := strings.Repeat("n", max(1, min(size/3, bond.MaxNameLen)))
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		sid := fmt.Sprintf("s%05d%s", i, pad)
		fmt.Fprintf(&b, `%q:{"sid":%q,"name":%q,"email":"%s@example.com"}`, sid, sid, name, sid)
	}
	b.WriteString("}")
	return b.String()
}

// createBody returns a create body for id with the given subscribers JSON.
func createBody(id, subscribers string) string {
	return fmt.Sprintf(`{"bond_id": %q, "host_account_id": "H-%s", "sub_account_id": "S-%s",
		"host_cost_center": "teal", "sub_cost_center": "yellow", "subscribers": %s}`, id, id, id, subscribers)
}

// decodeBond decodes a bond from a response body, version from the ETag.
func decodeBond(t *testing.T, res Response) bond.Bond {
	t.Helper()
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	var b bond.Bond
	require.NoError(t, json.Unmarshal(res.Body, &b), "bond body: %s", res.Body)
	require.NotNil(t, b.Subscribers, "subscribers is present (possibly {}): %s", res.Body)
	_, err := fmt.Sscanf(res.Header.Get("ETag"), `"%d"`, &b.Version)
	require.NoError(t, err, "ETag %q", res.Header.Get("ETag"))
	return b
}

// wantBond returns a check that the response is bond want (with its ETag).
func wantBond(want bond.Bond) func(t *testing.T, c *Client, res Response) {
	return func(t *testing.T, _ *Client, res Response) {
		t.Helper()
		if want.Subscribers == nil {
			want.Subscribers = map[string]bond.Subscriber{}
		}
		assert.Equal(t, want, decodeBond(t, res))
	}
}

// getBond fetches a bond through the API (escaped path), failing unless 200.
func getBond(t *testing.T, c *Client, path string) bond.Bond {
	t.Helper()
	res := c.Do(t, http.MethodGet, path, "", nil)
	require.Equal(t, http.StatusOK, res.Status, "GET %s: %s", path, res.Body)
	return decodeBond(t, res)
}

// stillB1 checks that B1 is unchanged at version 1 (after a refused write).
func stillB1(t *testing.T, c *Client, _ Response) {
	t.Helper()
	want := b1()
	want.Version = 1
	assert.Equal(t, want, getBond(t, c, "/bonds/B1"), "B1 unchanged")
}

// versionThen returns a check that the bond at path has the given version and that
// f holds for it.
func versionThen(path string, version int64, f func(t *testing.T, b bond.Bond)) func(t *testing.T, c *Client, res Response) {
	return func(t *testing.T, c *Client, _ Response) {
		t.Helper()
		b := getBond(t, c, path)
		assert.Equal(t, version, b.Version, "version of %s", path)
		if f != nil {
			f(t, b)
		}
	}
}

// with applies f to a copy of b.
func with(b bond.Bond, f func(b *bond.Bond)) bond.Bond {
	subs := make(map[string]bond.Subscriber, len(b.Subscribers))
	for k, v := range b.Subscribers {
		subs[k] = v
	}
	b.Subscribers = subs
	f(&b)
	return b
}

// p is a Problem, for tables.
func p(typ string, loc ...string) Problem { return Problem{Loc: loc, Type: typ} }

package bondtest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// listFixture returns 55 bonds over 5 host and 11 subscriber accounts. Values
// are chosen to catch index encodings that confuse one value with another:
// accounts and cost centers that are prefixes of each other or contain
// separators, the same string as a host and as a subscriber account, and the
// same cost center on both sides. Each account belongs to one cost center.
func listFixture() []bond.Bond {
	hosts := []struct{ account, costCenter string }{
		{"QY", "teal"}, {"QY1", "teal green"}, {"QY12", "te"}, {"QY1|2", "teal"}, {"Q Y", "te"},
	}
	subs := []struct{ account, costCenter string }{
		{"QY", "blue"}, {"S1", "blue"}, {"S10", "blue sky"}, {"S1:0", "bl"}, {"Σ", "blue"},
		{"S2", "bl"}, {"S3", "blue sky"}, {"S4", "blue"}, {"S5", "bl"}, {"S6", "teal"}, {"S7", "blue"},
	}
	var bonds []bond.Bond
	for i := range len(hosts) * len(subs) {
		id := fmt.Sprintf("B%d", i)
		switch {
		case i%7 == 0:
			id += "|x"
		case i%11 == 0:
			id = fmt.Sprintf("β %d", i)
		}
		h, s := hosts[i%len(hosts)], subs[i/len(hosts)]
		b := bond.Bond{BondID: id, HostAccountID: h.account, SubAccountID: s.account,
			HostCostCenter: h.costCenter, SubCostCenter: s.costCenter,
			Subscribers: map[string]bond.Subscriber{}, Version: 1, Revision: 1}
		for j := range i % 3 {
			sub := newSubscriber(fmt.Sprintf("u%d", j))
			b.Subscribers[sub.SID] = sub
		}
		bonds = append(bonds, b)
	}
	return bonds
}

func testList(t *testing.T, newRepo newRepoFunc) {
	t.Run("filters and page sizes", func(t *testing.T) {
		t.Parallel()
		repo := newRepo(t)
		all := listFixture()
		for _, b := range all {
			mustCreate(t, repo, b)
		}
		filters := []struct {
			name      string
			f         bond.Filter
			wantEmpty bool
		}{
			{name: "none", f: bond.Filter{}},
			{name: "none sub side", f: bond.Filter{ByHost: false}},
			{name: "none host side", f: bond.Filter{ByHost: true}},
			{name: "host account", f: bond.Filter{ByHost: true, Account: "QY"}},
			{name: "host account prefix of others", f: bond.Filter{ByHost: true, Account: "QY1"}},
			{name: "host cost center", f: bond.Filter{ByHost: true, CostCenter: "teal"}},
			{name: "host cost center prefix of others", f: bond.Filter{ByHost: true, CostCenter: "te"}},
			{name: "host account and cost center", f: bond.Filter{ByHost: true, Account: "QY1", CostCenter: "teal green"}},
			{name: "host account and other cost center", f: bond.Filter{ByHost: true, Account: "QY", CostCenter: "te"}, wantEmpty: true},
			{name: "host account unknown", f: bond.Filter{ByHost: true, Account: "nobody"}, wantEmpty: true},
			{name: "sub account", f: bond.Filter{Account: "QY"}},
			{name: "sub account prefix of others", f: bond.Filter{Account: "S1"}},
			{name: "sub cost center", f: bond.Filter{CostCenter: "blue"}},
			{name: "sub cost center shared with host side", f: bond.Filter{CostCenter: "teal"}},
			{name: "sub account and cost center", f: bond.Filter{Account: "S10", CostCenter: "blue sky"}},
			{name: "sub account and other cost center", f: bond.Filter{Account: "S1", CostCenter: "bl"}, wantEmpty: true},
			{name: "sub cost center unknown", f: bond.Filter{CostCenter: "nothing"}, wantEmpty: true},
		}
		for _, tc := range filters {
			want := map[string]bond.Bond{}
			for _, b := range all {
				if tc.f.Match(b) {
					want[b.BondID] = b
				}
			}
			require.Equal(t, tc.wantEmpty, len(want) == 0, "fixture for %q: %d matches", tc.name, len(want))
			for size := 1; size <= 7; size++ {
				t.Run(fmt.Sprintf("%s/limit=%d", tc.name, size), func(t *testing.T) {
					t.Parallel()
					got := listAll(t, repo, tc.f, size, len(all)+2)
					assert.Equal(t, want, got)
				})
			}
		}
	})
	run(t, "OK empty store", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		page, err := bond.ListPage(ctx, repo, bond.Filter{}, 10, "")
		require.NoError(t, err)
		assert.Empty(t, page.Bonds)
		assert.Empty(t, page.Next)
	})
	run(t, "OK follows updates and deletes", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("A", "H", "S"))
		mustCreate(t, repo, newBond("B", "H", "S2"))
		mustCreate(t, repo, newBond("C", "H2", "S"))
		_, err := bond.UpdateBond(ctx, repo, "A", bond.Update{HostAccountID: ptr("H3"), HostCostCenter: ptr("red")}, bond.IfVersion(bond.AnyVersion))
		require.NoError(t, err)
		require.NoError(t, bond.Delete(ctx, repo, "B", bond.IfVersion(bond.AnyVersion)))

		ids := func(f bond.Filter) []string {
			t.Helper()
			var got []string
			for id := range listAll(t, repo, f, 10, 10) {
				got = append(got, id)
			}
			return got
		}
		assert.ElementsMatch(t, []string{"C"}, ids(bond.Filter{ByHost: true, CostCenter: "teal"}), "old host cost center")
		assert.ElementsMatch(t, []string{"A"}, ids(bond.Filter{ByHost: true, CostCenter: "red"}), "new host cost center")
		assert.Empty(t, ids(bond.Filter{ByHost: true, Account: "H"}), "old host account")
		assert.ElementsMatch(t, []string{"A"}, ids(bond.Filter{ByHost: true, Account: "H3", CostCenter: "red"}), "new host account")
		assert.ElementsMatch(t, []string{"A", "C"}, ids(bond.Filter{Account: "S"}), "sub account")
		assert.ElementsMatch(t, []string{"A", "C"}, ids(bond.Filter{}), "all")
	})
	run(t, "ErrInvalid garbage cursor", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("A", "H", "S"))
		garbage := []string{"garbage!", "%%%", "\x00\xff\xfe", "{", strings.Repeat("!", 2000)}
		filters := []bond.Filter{{}, {ByHost: true, Account: "H"}, {CostCenter: "yellow"}, {ByHost: true, Account: "H", CostCenter: "teal"}}
		for _, cursor := range garbage {
			for _, f := range filters {
				_, err := bond.ListPage(ctx, repo, f, 5, cursor)
				require.Error(t, err, "cursor %q, filter %+v", cursor, f)
				assert.Equal(t, bond.KindInvalid, bond.KindOf(err), "cursor %q, filter %+v: %v", cursor, f, err)
			}
		}
	})
}

// listAll follows Next from the first page and returns every bond seen by id,
// failing on a bond seen twice, a page larger than limit, or more than
// maxPages pages.
func listAll(t *testing.T, repo bond.Repository, f bond.Filter, limit, maxPages int) map[string]bond.Bond {
	t.Helper()
	got := map[string]bond.Bond{}
	cursor := ""
	for pages := 1; ; pages++ {
		require.LessOrEqual(t, pages, maxPages, "too many pages: Next never ends")
		page, err := bond.ListPage(t.Context(), repo, f, limit, cursor)
		require.NoError(t, err, "page %d", pages)
		require.LessOrEqual(t, len(page.Bonds), limit, "page %d is larger than the limit", pages)
		for _, b := range page.Bonds {
			_, dup := got[b.BondID]
			require.False(t, dup, "bond %q seen twice (page %d)", b.BondID, pages)
			got[b.BondID] = b
		}
		if page.Next == "" {
			return got
		}
		cursor = page.Next
	}
}

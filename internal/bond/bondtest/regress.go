package bondtest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// testRegressions holds inputs taken from public bug reports about services
// like this one, each of which once made the stores answer differently
// (issue "One rule set, two storage engines").
func testRegressions(t *testing.T, newRepo newRepoFunc) {
	run(t, "sids with brackets, dots and other path syntax", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("A", "H", "S"))
		sids := []string{"ops[eu]", "team[1]", "a.b", "x[0].y", "#s", ":v", "[", "]", "a b", "%41", "帳😀"}
		var want bond.Bond
		for i, sid := range sids {
			s := bond.Subscriber{SID: sid, Name: "Name " + sid, Email: fmt.Sprintf("s%d@example.com", i)}
			got, err := bond.PutSubscriber(ctx, repo, "A", s, bond.Precondition{})
			require.NoError(t, err, "add %q", sid)
			require.Contains(t, got.Subscribers, sid, "add %q", sid)
			want = got
		}
		assert.Equal(t, want, mustGet(t, repo, "A"), "stored as returned")
		for _, sid := range sids {
			got, err := bond.RemoveSubscriber(ctx, repo, "A", sid, bond.Precondition{})
			require.NoError(t, err, "remove %q", sid)
			require.NotContains(t, got.Subscribers, sid, "remove %q", sid)
		}
		assert.Equal(t, newBond("A", "H", "S").Subscribers, mustGet(t, repo, "A").Subscribers, "only the first subscriber is left")
	})
	run(t, "account ids of 128 multi-byte characters", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		for i, r := range []string{"é", "帳", "😀"} {
			host := strings.Repeat(r, bond.MaxIDLen)
			sub := strings.Repeat(r, bond.MaxIDLen-1) + "s"
			b := newBond(string(rune('A'+i)), host, sub)
			mustCreate(t, repo, b)
			_, err := bond.Create(ctx, repo, newBond("X"+b.BondID, host, sub))
			requireErr(t, err, bond.ErrPairTaken(host, sub, b.BondID))
			moved, err := bond.UpdateBond(ctx, repo, b.BondID, bond.Update{SubAccountID: ptr(host)}, bond.Precondition{})
			require.NoError(t, err, "move the pair")
			assert.Equal(t, host, moved.SubAccountID)
			require.NoError(t, bond.Delete(ctx, repo, b.BondID, bond.Precondition{}))
		}
	})
	run(t, "a filter matching exactly limit bonds has no next page", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		for _, id := range []string{"A", "B", "C"} {
			mustCreate(t, repo, newBond(id, "H", "S"+id))
		}
		mustCreate(t, repo, newBond("D", "H2", "SD"))
		for _, f := range []bond.Filter{{ByHost: true, Account: "H"}, {ByHost: true, Account: "H", CostCenter: "teal"}} {
			page, err := bond.ListPage(ctx, repo, f, 3, "")
			require.NoError(t, err)
			assert.Len(t, page.Bonds, 3)
			assert.Empty(t, page.Next, "%+v: no more bonds, so no cursor", f)

			page, err = bond.ListPage(ctx, repo, f, 2, "")
			require.NoError(t, err)
			require.NotEmpty(t, page.Next, "%+v: one more bond", f)
			page, err = bond.ListPage(ctx, repo, f, 2, page.Next)
			require.NoError(t, err)
			assert.Len(t, page.Bonds, 1)
			assert.Empty(t, page.Next)
		}
		page, err := bond.ListPage(ctx, repo, bond.Filter{}, 4, "")
		require.NoError(t, err)
		assert.Len(t, page.Bonds, 4)
		assert.Empty(t, page.Next, "all bonds, exactly limit")
	})
	run(t, "preconditions are lists", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("A", "H", "S"))
		list := bond.Precondition{IfMatch: &bond.Versions{List: []int64{0, 1}}}
		got, err := bond.UpdateBond(ctx, repo, "A", bond.Update{SubCostCenter: ptr("x")}, list)
		require.NoError(t, err, `If-Match: "0", "1" on version 1`)
		assert.Equal(t, int64(2), got.Version)

		_, err = bond.UpdateBond(ctx, repo, "A", bond.Update{SubCostCenter: ptr("y")}, bond.Precondition{IfNoneMatch: &bond.Versions{Any: true}})
		requireErr(t, err, bond.ErrNotModified("A"))
		_, err = bond.PutSubscriber(ctx, repo, "A", newSubscriber("z"), bond.Precondition{IfNoneMatch: &bond.Versions{List: []int64{2}}})
		requireErr(t, err, bond.ErrNotModified("A"))
		_, err = bond.RemoveSubscriber(ctx, repo, "A", "rharper", bond.Precondition{IfMatch: &bond.Versions{Any: true}, IfNoneMatch: &bond.Versions{List: []int64{2}}})
		requireErr(t, err, bond.ErrNotModified("A"))
		err = bond.Delete(ctx, repo, "A", bond.Precondition{IfMatch: &bond.Versions{List: []int64{5, 6}}})
		requireErr(t, err, bond.ErrVersionMismatch("A"))
		err = bond.Delete(ctx, repo, "nope", bond.Precondition{IfMatch: &bond.Versions{Any: true}})
		requireErr(t, err, bond.ErrVersionMismatch("nope"))
		require.NoError(t, bond.Delete(ctx, repo, "A", bond.Precondition{IfMatch: &bond.Versions{List: []int64{1, 2}}}))
	})
}

// testContention is the attacker's case: 16 writers without If-Match change
// one bond at once. Every one must succeed (a lost race reads again), and
// the version must count every change.
func testContention(t *testing.T, newRepo newRepoFunc) {
	run(t, "concurrent updates of one bond all succeed", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("HOT", "H", "S"))
		const writers = 16
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				_, errs[i] = bond.UpdateBond(ctx, repo, "HOT", bond.Update{HostCostCenter: ptr(fmt.Sprintf("v%d", i))}, bond.Precondition{})
			})
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "writer %d", i)
		}
		assert.Equal(t, int64(1+writers), mustGet(t, repo, "HOT").Version)
	})
}

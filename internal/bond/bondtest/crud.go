package bondtest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
)

type newRepoFunc = func(t *testing.T) bond.Repository

func testGet(t *testing.T, newRepo newRepoFunc) {
	run(t, "ErrNotFound", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		_, err := bond.Get(ctx, repo, "nope")
		requireErr(t, err, bond.ErrNotFound("nope"))
	})
	run(t, "OK returns what Create stored", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		b := newBond("ID007", "QYSS37952707405491", "SQSY48031267772693")
		b.Subscribers["mm"] = bond.Subscriber{SID: "mm", Name: "Mïstý Möore ✓", Email: "mm@example.com"}
		want := mustCreate(t, repo, b)
		got := mustGet(t, repo, "ID007")
		assert.Equal(t, want, got)
	})
	run(t, "OK ids that share a prefix are distinct", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		ids := []string{"B1", "B10", "B1 0", "B1|0", "B1:0", "β1"}
		for i, id := range ids {
			mustCreate(t, repo, newBond(id, fmt.Sprintf("H%d", i), "S"))
		}
		for i, id := range ids {
			got := mustGet(t, repo, id)
			assert.Equal(t, fmt.Sprintf("H%d", i), got.HostAccountID, "bond %q", id)
		}
	})
}

func testCreate(t *testing.T, newRepo newRepoFunc) {
	run(t, "OK sets version 1", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		b := newBond("A", "H", "S")
		b.Version = 42 // ignored: a new bond starts at 1
		got, err := bond.Create(ctx, repo, b)
		require.NoError(t, err)
		assert.Equal(t, int64(1), got.Version)
		assert.Equal(t, int64(1), mustGet(t, repo, "A").Version)
	})
	run(t, "OK nil subscribers become an empty map", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		b := newBond("A", "H", "S")
		b.Subscribers = nil
		got, err := bond.Create(ctx, repo, b)
		require.NoError(t, err)
		assert.NotNil(t, got.Subscribers, "Create result")
		assert.Empty(t, got.Subscribers)
		stored := mustGet(t, repo, "A")
		assert.NotNil(t, stored.Subscribers, "Get result")
		assert.Empty(t, stored.Subscribers)
	})
	run(t, "ErrExists", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		want := mustCreate(t, repo, newBond("A", "H", "S"))
		_, err := bond.Create(ctx, repo, newBond("A", "H2", "S2"))
		requireErr(t, err, bond.ErrExists("A"))
		requireUnchanged(t, repo, want)
		// The pair of the rejected bond was not taken.
		mustCreate(t, repo, newBond("B", "H2", "S2"))
	})
	run(t, "ErrExists wins over a taken pair", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("A", "H", "S"))
		_, err := bond.Create(ctx, repo, newBond("A", "H", "S"))
		requireErr(t, err, bond.ErrExists("A"))
	})
	run(t, "ErrPairTaken names the other bond and writes nothing", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		want := mustCreate(t, repo, newBond("A", "H", "S"))
		_, err := bond.Create(ctx, repo, newBond("B", "H", "S"))
		requireErr(t, err, bond.ErrPairTaken("H", "S", "A"))
		requireGone(t, repo, "B")
		requireUnchanged(t, repo, want)
		page, err := bond.ListPage(ctx, repo, bond.Filter{}, 10, "")
		require.NoError(t, err)
		assert.Len(t, page.Bonds, 1, "listing after the failed create")
	})
	run(t, "OK pair is ordered: (S, H) differs from (H, S)", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("A", "H", "S"))
		mustCreate(t, repo, newBond("B", "S", "H"))
		mustCreate(t, repo, newBond("C", "H", "S2"))
	})
	run(t, "OK concurrent creates of one pair: exactly one wins", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		const n = 10
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, errs[i] = bond.Create(ctx, repo, newBond(fmt.Sprintf("C%d", i), "H", "S")) })
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "two creates of one pair succeeded: C%d and C%d", winner, i)
				winner = i
				continue
			}
			require.Equal(t, bond.KindPairTaken, bond.KindOf(err), "C%d: %v", i, err)
		}
		require.NotEqual(t, -1, winner, "no create succeeded")
		for i := range n {
			if i != winner {
				requireGone(t, repo, fmt.Sprintf("C%d", i))
			}
		}
	})
}

func testUpdate(t *testing.T, newRepo newRepoFunc) {
	run(t, "OK partial: absent fields are kept", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		before := mustCreate(t, repo, newBond("A", "H", "S"))
		got, err := bond.UpdateBond(ctx, repo, "A", bond.Update{SubCostCenter: ptr("green")}, bond.IfVersion(bond.AnyVersion))
		require.NoError(t, err)
		want := before
		want.SubCostCenter = "green"
		want.Version, want.Revision = 2, 2
		assert.Equal(t, want, got, "Update result")
		assert.Equal(t, want, mustGet(t, repo, "A"), "stored")
	})
	run(t, "OK every field", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("A", "H", "S"))
		subs := map[string]bond.Subscriber{"x": newSubscriber("x")}
		got, err := bond.UpdateBond(ctx, repo, "A", bond.Update{
			HostAccountID: ptr("H2"), SubAccountID: ptr("S2"),
			HostCostCenter: ptr("hc"), SubCostCenter: ptr("sc"), Subscribers: &subs,
		}, bond.IfVersion(bond.AnyVersion))
		require.NoError(t, err)
		want := bond.Bond{BondID: "A", HostAccountID: "H2", SubAccountID: "S2",
			HostCostCenter: "hc", SubCostCenter: "sc", Subscribers: subs, Version: 2, Revision: 2}
		assert.Equal(t, want, got)
		assert.Equal(t, want, mustGet(t, repo, "A"))
	})
	run(t, "OK subscribers replaces the whole map", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		b := newBond("A", "H", "S")
		b.Subscribers["a"] = newSubscriber("a")
		mustCreate(t, repo, b)
		subs := map[string]bond.Subscriber{"c": newSubscriber("c")}
		_, err := bond.UpdateBond(ctx, repo, "A", bond.Update{Subscribers: &subs}, bond.IfVersion(bond.AnyVersion))
		require.NoError(t, err)
		assert.Equal(t, subs, mustGet(t, repo, "A").Subscribers)

		empty := map[string]bond.Subscriber{}
		got, err := bond.UpdateBond(ctx, repo, "A", bond.Update{Subscribers: &empty}, bond.IfVersion(bond.AnyVersion))
		require.NoError(t, err)
		assert.NotNil(t, got.Subscribers)
		assert.Empty(t, got.Subscribers)
		assert.Empty(t, mustGet(t, repo, "A").Subscribers)
		assert.Equal(t, int64(3), got.Version)
	})
	run(t, "OK an update that changes nothing keeps the version", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		before := mustCreate(t, repo, newBond("A", "H", "S"))
		for _, u := range []bond.Update{{}, {HostCostCenter: ptr(before.HostCostCenter)}, {Subscribers: &before.Subscribers}} {
			got, err := bond.UpdateBond(ctx, repo, "A", u, bond.IfVersion(bond.AnyVersion))
			require.NoError(t, err)
			assert.Equal(t, before, got)
			requireUnchanged(t, repo, before)
		}
	})
	run(t, "OK setting the bond's own pair again is no clash", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("A", "H", "S"))
		got, err := bond.UpdateBond(ctx, repo, "A", bond.Update{HostAccountID: ptr("H"), SubAccountID: ptr("S"), SubCostCenter: ptr("x")}, bond.IfVersion(bond.AnyVersion))
		require.NoError(t, err)
		assert.Equal(t, int64(2), got.Version)
	})
	run(t, "ErrNotFound", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		_, err := bond.UpdateBond(ctx, repo, "nope", bond.Update{SubCostCenter: ptr("x")}, bond.IfVersion(bond.AnyVersion))
		requireErr(t, err, bond.ErrNotFound("nope"))
		requireGone(t, repo, "nope")
	})
	run(t, "ErrVersionMismatch with a version on a missing bond", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		_, err := bond.UpdateBond(ctx, repo, "nope", bond.Update{SubCostCenter: ptr("x")}, bond.IfVersion(1))
		requireErr(t, err, bond.ErrVersionMismatch("nope"))
	})
	run(t, "ErrPairTaken changes nothing", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		a := mustCreate(t, repo, newBond("A", "H", "S"))
		b := mustCreate(t, repo, newBond("B", "H", "S2"))
		_, err := bond.UpdateBond(ctx, repo, "B", bond.Update{SubAccountID: ptr("S"), SubCostCenter: ptr("x")}, bond.IfVersion(bond.AnyVersion))
		requireErr(t, err, bond.ErrPairTaken("H", "S", "A"))
		requireUnchanged(t, repo, a)
		requireUnchanged(t, repo, b)
		// B still holds its pair, A still holds its own.
		_, err = bond.Create(ctx, repo, newBond("C", "H", "S2"))
		requireErr(t, err, bond.ErrPairTaken("H", "S2", "B"))
		_, err = bond.Create(ctx, repo, newBond("C", "H", "S"))
		requireErr(t, err, bond.ErrPairTaken("H", "S", "A"))
	})
	run(t, "OK moving the pair frees the old one", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("A", "H", "S"))
		_, err := bond.UpdateBond(ctx, repo, "A", bond.Update{HostAccountID: ptr("H2")}, bond.IfVersion(bond.AnyVersion))
		require.NoError(t, err)
		mustCreate(t, repo, newBond("B", "H", "S"))
		_, err = bond.Create(ctx, repo, newBond("C", "H2", "S"))
		requireErr(t, err, bond.ErrPairTaken("H2", "S", "A"))
	})
	run(t, "version", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("A", "H", "S"))
		got, err := bond.UpdateBond(ctx, repo, "A", bond.Update{SubCostCenter: ptr("v2")}, bond.IfVersion(1))
		require.NoError(t, err, "matching version")
		assert.Equal(t, int64(2), got.Version)

		_, err = bond.UpdateBond(ctx, repo, "A", bond.Update{SubCostCenter: ptr("stale")}, bond.IfVersion(1))
		requireErr(t, err, bond.ErrVersionMismatch("A"))
		requireUnchanged(t, repo, got)

		_, err = bond.UpdateBond(ctx, repo, "A", bond.Update{SubCostCenter: ptr("future")}, bond.IfVersion(3))
		requireErr(t, err, bond.ErrVersionMismatch("A"))
		requireUnchanged(t, repo, got)
	})
	run(t, "ErrTooLarge changes nothing", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		before := mustCreate(t, repo, newBond("A", "H", "S"))
		subs := map[string]bond.Subscriber{}
		for i := 0; bond.ItemSize(bond.Update{Subscribers: &subs}.Apply(before)) <= bond.MaxItemBytes; i++ {
			s := bigSubscriber(i)
			subs[s.SID] = s
		}
		require.LessOrEqual(t, len(subs), bond.MaxSubscribers, "fixture: too large by size, not count")
		_, err := bond.UpdateBond(ctx, repo, "A", bond.Update{Subscribers: &subs}, bond.IfVersion(bond.AnyVersion))
		requireProblem(t, err, "value_error.bond_too_large")
		requireUnchanged(t, repo, before)
	})
	run(t, "ErrTooManySubscribers changes nothing", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		before := mustCreate(t, repo, newBond("A", "H", "S"))
		subs := map[string]bond.Subscriber{}
		for i := range bond.MaxSubscribers + 1 {
			s := bond.Subscriber{SID: fmt.Sprintf("s%04d", i), Name: "n", Email: "e@x.io"}
			subs[s.SID] = s
		}
		_, err := bond.UpdateBond(ctx, repo, "A", bond.Update{Subscribers: &subs}, bond.IfVersion(bond.AnyVersion))
		requireProblem(t, err, "value_error.subscribers.max_items", "subscribers")
		requireUnchanged(t, repo, before)
	})
}

func testDelete(t *testing.T, newRepo newRepoFunc) {
	run(t, "OK", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("A", "H", "S"))
		keep := mustCreate(t, repo, newBond("B", "H", "S2"))
		require.NoError(t, bond.Delete(ctx, repo, "A", bond.IfVersion(bond.AnyVersion)))
		requireGone(t, repo, "A")
		requireUnchanged(t, repo, keep)
	})
	run(t, "OK missing bond is no error", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		require.NoError(t, bond.Delete(ctx, repo, "nope", bond.IfVersion(bond.AnyVersion)))
	})
	run(t, "OK frees the id and the pair", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("A", "H", "S"))
		require.NoError(t, bond.Delete(ctx, repo, "A", bond.IfVersion(bond.AnyVersion)))
		mustCreate(t, repo, newBond("B", "H", "S"))
		again, err := bond.Create(ctx, repo, newBond("A", "H2", "S2"))
		require.NoError(t, err)
		assert.Equal(t, int64(2), again.Version, "versions go on across the bond's lives")
	})
	run(t, "version", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("A", "H", "S"))
		a, err := bond.UpdateBond(ctx, repo, "A", bond.Update{SubCostCenter: ptr("v2")}, bond.IfVersion(bond.AnyVersion))
		require.NoError(t, err)

		err = bond.Delete(ctx, repo, "A", bond.IfVersion(1))
		requireErr(t, err, bond.ErrVersionMismatch("A"))
		requireUnchanged(t, repo, a)

		require.NoError(t, bond.Delete(ctx, repo, "A", bond.IfVersion(2)), "matching version")
		requireGone(t, repo, "A")
	})
	run(t, "ErrVersionMismatch on a missing bond", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		err := bond.Delete(ctx, repo, "nope", bond.IfVersion(1))
		requireErr(t, err, bond.ErrVersionMismatch("nope"))
	})
}

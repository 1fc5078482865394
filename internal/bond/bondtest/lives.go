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

// testLives checks that a bond's lives never mix: versions go on after a
// delete and a re-create of the same id (so an entity tag names one life),
// and a conditional write that read one life never lands on the next.
func testLives(t *testing.T, newRepo newRepoFunc) {
	run(t, "a re-created bond continues the versions", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("A", "H", "S"))
		_, err := bond.UpdateBond(ctx, repo, "A", bond.Update{SubCostCenter: ptr("v2")}, bond.Precondition{})
		require.NoError(t, err)
		require.NoError(t, bond.Delete(ctx, repo, "A", bond.Precondition{}))

		again, err := bond.Create(ctx, repo, newBond("A", "H", "S"))
		require.NoError(t, err)
		assert.Equal(t, int64(3), again.Version, "the second life starts after the first one's last version")
		assert.Equal(t, again, mustGet(t, repo, "A"))

		for _, v := range []int64{1, 2} {
			_, err := bond.UpdateBond(ctx, repo, "A", bond.Update{SubCostCenter: ptr("stale")}, bond.IfVersion(v))
			requireErr(t, err, bond.ErrVersionMismatch("A"))
			requireErr(t, bond.Delete(ctx, repo, "A", bond.IfVersion(v)), bond.ErrVersionMismatch("A"))
		}
		requireUnchanged(t, repo, again)
	})
	run(t, "a stale conditional write is a lost race", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		first := mustCreate(t, repo, newBond("A", "H", "S"))
		require.NoError(t, bond.Delete(ctx, repo, "A", bond.Precondition{}))
		second, err := bond.Create(ctx, repo, newBond("A", "H2", "S2"))
		require.NoError(t, err)

		stale := first.Clone()
		stale.Version = first.Version + 1
		stale.Subscribers["intruder"] = newSubscriber("intruder")
		assert.ErrorIs(t, repo.Replace(ctx, first, stale, bond.Journal{}), bond.ErrRace, "replace of the first life")
		assert.ErrorIs(t, repo.Remove(ctx, first, bond.Journal{}), bond.ErrRace, "remove of the first life")
		requireUnchanged(t, repo, second)

		// The first life's pair is free again; the second life's is held.
		mustCreate(t, repo, newBond("B", "H", "S"))
		_, err = bond.Create(ctx, repo, newBond("C", "H2", "S2"))
		requireErr(t, err, bond.ErrPairTaken("H2", "S2", "A"))

		// A create that read an older end of life loses too.
		require.NoError(t, bond.Delete(ctx, repo, "A", bond.Precondition{}))
		again := newBond("A", "H3", "S3")
		again.Version = second.Version + 1
		assert.ErrorIs(t, repo.Create(ctx, again, first.Version, bond.Journal{}), bond.ErrRace, "create after a stale end of life")
		requireGone(t, repo, "A")
	})
	run(t, "writers holding the first life never reach the second", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("A", "H1", "S1"))
		const writers = 8
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range writers {
			wg.Go(func() {
				<-start
				for j := range 4 {
					cur, err := bond.Get(ctx, repo, "A")
					if err != nil {
						continue // between the lives
					}
					life := strings.ToLower(cur.HostAccountID) // h1 or h2
					s := newSubscriber(fmt.Sprintf("%s-w%d-%d", life, i, j))
					if i%2 == 0 {
						_, _ = bond.PutSubscriber(ctx, repo, "A", s, bond.IfVersion(cur.Version))
					} else {
						subs := map[string]bond.Subscriber{s.SID: s}
						_, _ = bond.UpdateBond(ctx, repo, "A", bond.Update{Subscribers: &subs}, bond.IfVersion(cur.Version))
					}
				}
			})
		}
		close(start)
		require.NoError(t, bond.Delete(ctx, repo, "A", bond.Precondition{}))
		second := newBond("A", "H2", "S2")
		second.Subscribers = map[string]bond.Subscriber{}
		_, err := bond.Create(ctx, repo, second)
		require.NoError(t, err)
		wg.Wait()

		got := mustGet(t, repo, "A")
		assert.Equal(t, "H2", got.HostAccountID)
		for sid := range got.Subscribers {
			assert.True(t, strings.HasPrefix(sid, "h2-"), "subscriber %s was written by a writer that read the first life", sid)
		}
		// The first life's pair guard went with it: the pair is free.
		mustCreate(t, repo, newBond("B", "H1", "S1"))
	})
}

package bondtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// testHistory checks the revision history: one revision per acknowledged
// write that changed something, in order, numbered across the lives of an
// id, each holding the representation after its write; and restore.
func testHistory(t *testing.T, newRepo newRepoFunc) {
	run(t, "revisions are the acknowledged writes", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		ctx = bond.WithAudit(ctx, "tester", "req-1")
		var want []bond.Revision
		note := func(op string, b bond.Bond, deleted bool) {
			want = append(want, bond.Revision{Revision: int64(len(want) + 1), BondID: "A", Operation: op,
				Version: b.Version, Actor: "tester", RequestID: "req-1", Deleted: deleted, Bond: b})
		}
		b, err := bond.Create(ctx, repo, newBond("A", "H", "S"))
		require.NoError(t, err)
		note(bond.OpCreate, b, false)
		b, err = bond.UpdateBond(ctx, repo, "A", bond.Update{SubCostCenter: ptr("green")}, bond.Precondition{})
		require.NoError(t, err)
		note(bond.OpUpdate, b, false)
		_, err = bond.UpdateBond(ctx, repo, "A", bond.Update{SubCostCenter: ptr("green")}, bond.Precondition{})
		require.NoError(t, err, "a no-op appends nothing")
		b, err = bond.PutSubscriber(ctx, repo, "A", newSubscriber("bob"), bond.Precondition{})
		require.NoError(t, err)
		note(bond.OpSubscriberPut, b, false)
		_, err = bond.PutSubscriber(ctx, repo, "A", newSubscriber("bob"), bond.Precondition{})
		require.NoError(t, err)
		b, err = bond.RemoveSubscriber(ctx, repo, "A", "bob", bond.Precondition{})
		require.NoError(t, err)
		note(bond.OpSubscriberRemove, b, false)
		_, err = bond.RemoveSubscriber(ctx, repo, "A", "bob", bond.Precondition{})
		require.NoError(t, err)
		require.NoError(t, bond.Delete(ctx, repo, "A", bond.Precondition{}))
		gone := b
		gone.Revision++
		note(bond.OpDelete, gone, true)
		require.NoError(t, bond.Delete(ctx, repo, "A", bond.Precondition{}), "deleting nothing appends nothing")
		again, err := bond.Create(ctx, repo, newBond("A", "H2", "S2"))
		require.NoError(t, err)
		assert.Equal(t, int64(len(want)+1), again.Revision, "numbers go on in the next life")
		note(bond.OpCreate, again, false)
		restored, err := bond.Restore(ctx, repo, "A", 2, bond.Precondition{})
		require.NoError(t, err)
		note(bond.OpRestore, restored, false)
		assert.Equal(t, want[1].Bond.SubCostCenter, restored.SubCostCenter)

		got := listRevisions(t, repo, "A", 2)
		require.Len(t, got, len(want))
		for i := range want {
			w, g := want[len(want)-1-i], got[i]
			assert.False(t, g.Time.IsZero())
			g.Time = w.Time
			w.Bond.Revision = w.Revision
			if w.Deleted {
				w.Bond.Revision = w.Revision - 1
			}
			g.Bond.Revision = w.Bond.Revision
			assert.Equal(t, w, g, "revision %d", w.Revision)
			one, err := bond.GetRevision(ctx, repo, "A", w.Revision)
			require.NoError(t, err)
			one.Time, one.Bond.Revision = w.Time, w.Bond.Revision
			assert.Equal(t, w, one, "GET of revision %d", w.Revision)
		}
		_, err = bond.GetRevision(ctx, repo, "A", int64(len(want)+1))
		requireErr(t, err, bond.ErrRevisionNotFound("A", int64(len(want)+1)))
		_, err = bond.ListRevisions(ctx, repo, "B", 10, 0)
		requireErr(t, err, bond.ErrNoHistory("B"))
	})
	run(t, "restore of every kind of revision", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("A", "H", "S"))
		_, err := bond.UpdateBond(ctx, repo, "A", bond.Update{HostCostCenter: ptr("red")}, bond.Precondition{})
		require.NoError(t, err)
		_, err = bond.PutSubscriber(ctx, repo, "A", newSubscriber("bob"), bond.Precondition{})
		require.NoError(t, err)
		_, err = bond.RemoveSubscriber(ctx, repo, "A", "rharper", bond.Precondition{})
		require.NoError(t, err)
		require.NoError(t, bond.Delete(ctx, repo, "A", bond.Precondition{}))
		for n := int64(5); n >= 1; n-- {
			rev, err := bond.GetRevision(ctx, repo, "A", n)
			require.NoError(t, err)
			before, _, err := repo.Read(ctx, "A")
			require.NoError(t, err)
			got, err := bond.Restore(ctx, repo, "A", n, bond.Precondition{})
			require.NoError(t, err, "restore %s", rev.Operation)
			assert.True(t, got.SameContent(rev.Bond), "restore of %s", rev.Operation)
			assert.Equal(t, got, mustGet(t, repo, "A"))
			if before.SameContent(rev.Bond) {
				assert.Equal(t, before.Revision, got.Revision, "restoring what is stored appends nothing")
				continue
			}
			last, err := bond.GetRevision(ctx, repo, "A", got.Revision)
			require.NoError(t, err)
			assert.Equal(t, bond.OpRestore, last.Operation)
		}
		// A restore honours If-Match, and the account pair.
		cur := mustGet(t, repo, "A")
		_, err = bond.Restore(ctx, repo, "A", 2, bond.IfVersion(cur.Version-1))
		requireErr(t, err, bond.ErrVersionMismatch("A"))
		_, err = bond.UpdateBond(ctx, repo, "A", bond.Update{HostAccountID: ptr("H9")}, bond.Precondition{})
		require.NoError(t, err)
		mustCreate(t, repo, newBond("B", "H", "S"))
		_, err = bond.Restore(ctx, repo, "A", 2, bond.Precondition{})
		requireErr(t, err, bond.ErrPairTaken("H", "S", "B"))
		_, err = bond.Restore(ctx, repo, "A", 99, bond.Precondition{})
		requireErr(t, err, bond.ErrRevisionNotFound("A", 99))
	})
	run(t, "a bond at the size limit has its revisions", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		b := largestBond("L")
		require.LessOrEqual(t, bond.ItemSize(b), bond.MaxItemBytes)
		created, err := bond.Create(ctx, repo, b)
		require.NoError(t, err)
		rev, err := bond.GetRevision(ctx, repo, "L", 1)
		require.NoError(t, err)
		assert.True(t, rev.Bond.SameContent(created), "the revision holds the whole bond")
		require.NoError(t, bond.Delete(ctx, repo, "L", bond.Precondition{}))
		got, err := bond.Restore(ctx, repo, "L", 1, bond.Precondition{})
		require.NoError(t, err)
		assert.True(t, got.SameContent(created))
		assert.Len(t, listRevisions(t, repo, "L", 1), 3)
	})
}

// listRevisions follows the pages of id's revisions, size at a time.
func listRevisions(t *testing.T, repo bond.Repository, id string, size int) []bond.Revision {
	t.Helper()
	var all []bond.Revision
	below := int64(0)
	for range 1000 {
		page, err := bond.ListRevisions(t.Context(), repo, id, size, below)
		require.NoError(t, err)
		all = append(all, page.Revisions...)
		if page.Next == 0 {
			return all
		}
		require.NotEmpty(t, page.Revisions, "a page before the last is never empty")
		below = page.Next
	}
	t.Fatal("too many pages")
	return nil
}

// largestBond returns a bond of id close to bond.MaxItemBytes, of values
// that do not compress (random 4-byte UTF-8 characters).
func largestBond(id string) bond.Bond {
	r := rand.New(rand.NewPCG(1, 2))
	long := func(prefix string, n int) string {
		var s strings.Builder
		s.WriteString(prefix)
		for range n - len([]rune(prefix)) {
			s.WriteRune(rune(0x10000 + r.IntN(0x20000)))
		}
		return s.String()
	}
	b := bond.Bond{BondID: id, HostAccountID: "H" + id, SubAccountID: "S" + id, HostCostCenter: "teal", SubCostCenter: "red",
		Subscribers: map[string]bond.Subscriber{}}
	for i := 0; ; i++ {
		sid := fmt.Sprintf("s%04d", i)
		s := bond.Subscriber{SID: sid, Name: long("n", bond.MaxNameLen), Email: sid + "@example.com"}
		b.Subscribers[sid] = s
		if bond.ItemSize(b) > bond.MaxItemBytes {
			delete(b.Subscribers, sid)
			return b
		}
	}
}

// WriteHistory makes a small history on repo, for the stores' own tests of
// retention: bond A created, updated and given a subscriber (revisions
// 1-3, A live), bond B created and deleted (revisions 1-2, B gone).
func WriteHistory(t *testing.T, repo bond.Repository) {
	t.Helper()
	ctx := context.Background()
	a := bond.Bond{BondID: "A", HostAccountID: "H", SubAccountID: "S", HostCostCenter: "c", SubCostCenter: "d"}
	_, err := bond.Create(ctx, repo, a)
	require.NoError(t, err)
	_, err = bond.UpdateBond(ctx, repo, "A", bond.Update{SubCostCenter: new("e")}, bond.Precondition{})
	require.NoError(t, err)
	_, err = bond.PutSubscriber(ctx, repo, "A", bond.Subscriber{SID: "s", Name: "n", Email: "s@example.com"}, bond.Precondition{})
	require.NoError(t, err)
	b := a
	b.BondID, b.HostAccountID = "B", "H2"
	_, err = bond.Create(ctx, repo, b)
	require.NoError(t, err)
	require.NoError(t, bond.Delete(ctx, repo, "B", bond.Precondition{}))
}

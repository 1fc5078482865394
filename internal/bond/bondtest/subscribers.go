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

func testPutSubscriber(t *testing.T, newRepo newRepoFunc) {
	run(t, "OK adds", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		before := mustCreate(t, repo, newBond("A", "H", "S"))
		s := newSubscriber("bob")
		got, err := bond.PutSubscriber(ctx, repo, "A", s, bond.IfVersion(bond.AnyVersion))
		require.NoError(t, err)
		want := before
		want.Subscribers = map[string]bond.Subscriber{"rharper": before.Subscribers["rharper"], "bob": s}
		want.Version, want.Revision = 2, 2
		assert.Equal(t, want, got, "PutSubscriber result")
		assert.Equal(t, want, mustGet(t, repo, "A"), "stored")
	})
	run(t, "OK replaces the same sid", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("A", "H", "S"))
		s := bond.Subscriber{SID: "rharper", Name: "Rich Harper", Email: "rich@example.com"}
		got, err := bond.PutSubscriber(ctx, repo, "A", s, bond.IfVersion(bond.AnyVersion))
		require.NoError(t, err)
		assert.Equal(t, map[string]bond.Subscriber{"rharper": s}, got.Subscribers)
		assert.Equal(t, map[string]bond.Subscriber{"rharper": s}, mustGet(t, repo, "A").Subscribers)
		assert.Equal(t, int64(2), got.Version)
	})
	run(t, "OK the same subscriber again changes nothing", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		before := mustCreate(t, repo, newBond("A", "H", "S"))
		same := before.Subscribers["rharper"]
		got, err := bond.PutSubscriber(ctx, repo, "A", same, bond.IfVersion(bond.AnyVersion))
		require.NoError(t, err)
		assert.Equal(t, before, got, "the bond as it was, at its version")
		got, err = bond.PutSubscriber(ctx, repo, "A", same, bond.IfVersion(before.Version))
		require.NoError(t, err, "If-Match on the current version")
		assert.Equal(t, before.Version, got.Version)
		_, err = bond.PutSubscriber(ctx, repo, "A", same, bond.IfVersion(before.Version+1))
		assert.Equal(t, bond.KindVersionMismatch, bond.KindOf(err), "a stale If-Match is still a mismatch")
		assert.Equal(t, before, mustGet(t, repo, "A"))
	})
	run(t, "OK to a bond created without subscribers", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		b := newBond("A", "H", "S")
		b.Subscribers = nil
		mustCreate(t, repo, b)
		s := newSubscriber("bob")
		got, err := bond.PutSubscriber(ctx, repo, "A", s, bond.IfVersion(bond.AnyVersion))
		require.NoError(t, err)
		assert.Equal(t, map[string]bond.Subscriber{"bob": s}, got.Subscribers)
	})
	run(t, "ErrNotFound", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		_, err := bond.PutSubscriber(ctx, repo, "nope", newSubscriber("bob"), bond.IfVersion(bond.AnyVersion))
		requireErr(t, err, bond.ErrSubscriberAddNotFound("nope", "bob"))
		requireGone(t, repo, "nope")
	})
	run(t, "ErrVersionMismatch with a version on a missing bond", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		_, err := bond.PutSubscriber(ctx, repo, "nope", newSubscriber("bob"), bond.IfVersion(1))
		requireErr(t, err, bond.ErrVersionMismatch("nope"))
	})
	run(t, "version", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("A", "H", "S"))
		got, err := bond.PutSubscriber(ctx, repo, "A", newSubscriber("a"), bond.IfVersion(1))
		require.NoError(t, err, "matching version")
		assert.Equal(t, int64(2), got.Version)

		_, err = bond.PutSubscriber(ctx, repo, "A", newSubscriber("b"), bond.IfVersion(1))
		requireErr(t, err, bond.ErrVersionMismatch("A"))
		requireUnchanged(t, repo, got)
	})
	run(t, "OK 100 concurrent adds keep all 100", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		b := newBond("A", "H", "S")
		b.Subscribers = nil
		mustCreate(t, repo, b)
		const n = 100
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = bond.PutSubscriber(ctx, repo, "A", newSubscriber(fmt.Sprintf("s%03d", i)), bond.IfVersion(bond.AnyVersion))
			})
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "add s%03d", i)
		}
		got := mustGet(t, repo, "A")
		assert.Len(t, got.Subscribers, n)
		for i := range n {
			sid := fmt.Sprintf("s%03d", i)
			assert.Equal(t, newSubscriber(sid), got.Subscribers[sid])
		}
		assert.Equal(t, int64(n+1), got.Version, "one version per add")
	})
	run(t, "ErrTooManySubscribers", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		b := newBond("A", "H", "S")
		b.Subscribers = map[string]bond.Subscriber{}
		for i := range bond.MaxSubscribers {
			s := bond.Subscriber{SID: fmt.Sprintf("s%04d", i), Name: "n", Email: "e@x.io"}
			b.Subscribers[s.SID] = s
		}
		before := mustCreate(t, repo, b)
		_, err := bond.PutSubscriber(ctx, repo, "A", newSubscriber("one-too-many"), bond.IfVersion(bond.AnyVersion))
		requireProblem(t, err, "value_error.subscribers.max_items")
		requireUnchanged(t, repo, before)

		// Replacing a subscriber of a full bond does not grow it.
		s := bond.Subscriber{SID: "s0000", Name: "renamed", Email: "e@x.io"}
		got, err := bond.PutSubscriber(ctx, repo, "A", s, bond.IfVersion(bond.AnyVersion))
		require.NoError(t, err, "replace in a full bond")
		assert.Len(t, got.Subscribers, bond.MaxSubscribers)
		assert.Equal(t, s, got.Subscribers["s0000"])
	})
	run(t, "ErrTooLarge", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		b := newBond("A", "H", "S")
		b.Subscribers = map[string]bond.Subscriber{}
		next := bigSubscriber(0)
		for i := 1; ; i++ {
			b.Subscribers[next.SID] = next
			if bond.ItemSize(b) > bond.MaxItemBytes {
				delete(b.Subscribers, next.SID)
				break
			}
			next = bigSubscriber(i)
		}
		require.Less(t, len(b.Subscribers), bond.MaxSubscribers, "fixture: too large by size, not count")
		before := mustCreate(t, repo, b)
		_, err := bond.PutSubscriber(ctx, repo, "A", next, bond.IfVersion(bond.AnyVersion))
		requireProblem(t, err, "value_error.bond_too_large")
		requireUnchanged(t, repo, before)
	})
}

func testRemoveSubscriber(t *testing.T, newRepo newRepoFunc) {
	run(t, "OK removes", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		b := newBond("A", "H", "S")
		b.Subscribers["bob"] = newSubscriber("bob")
		before := mustCreate(t, repo, b)
		got, err := bond.RemoveSubscriber(ctx, repo, "A", "bob", bond.IfVersion(bond.AnyVersion))
		require.NoError(t, err)
		want := before
		want.Subscribers = map[string]bond.Subscriber{"rharper": before.Subscribers["rharper"]}
		want.Version, want.Revision = 2, 2
		assert.Equal(t, want, got, "RemoveSubscriber result")
		assert.Equal(t, want, mustGet(t, repo, "A"), "stored")
	})
	run(t, "OK the last one leaves an empty map", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		mustCreate(t, repo, newBond("A", "H", "S"))
		got, err := bond.RemoveSubscriber(ctx, repo, "A", "rharper", bond.IfVersion(bond.AnyVersion))
		require.NoError(t, err)
		assert.NotNil(t, got.Subscribers)
		assert.Empty(t, got.Subscribers)
		stored := mustGet(t, repo, "A")
		assert.NotNil(t, stored.Subscribers)
		assert.Empty(t, stored.Subscribers)
	})
	run(t, "OK absent sid is a no-op without a new version", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		before := mustCreate(t, repo, newBond("A", "H", "S"))
		got, err := bond.RemoveSubscriber(ctx, repo, "A", "nobody", bond.IfVersion(bond.AnyVersion))
		require.NoError(t, err)
		assert.Equal(t, before, got)
		requireUnchanged(t, repo, before)

		got, err = bond.RemoveSubscriber(ctx, repo, "A", "nobody", bond.IfVersion(1))
		require.NoError(t, err, "with the matching version")
		assert.Equal(t, before, got)
	})
	run(t, "ErrNotFound", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		_, err := bond.RemoveSubscriber(ctx, repo, "nope", "bob", bond.IfVersion(bond.AnyVersion))
		requireErr(t, err, bond.ErrSubscriberRemoveNotFound("nope", "bob"))
		requireGone(t, repo, "nope")
	})
	run(t, "ErrVersionMismatch with a version on a missing bond", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		_, err := bond.RemoveSubscriber(ctx, repo, "nope", "bob", bond.IfVersion(1))
		requireErr(t, err, bond.ErrVersionMismatch("nope"))
	})
	run(t, "version", newRepo, func(t *testing.T, ctx context.Context, repo bond.Repository) {
		b := newBond("A", "H", "S")
		b.Subscribers["a"] = newSubscriber("a")
		b.Subscribers["b"] = newSubscriber("b")
		mustCreate(t, repo, b)
		got, err := bond.RemoveSubscriber(ctx, repo, "A", "a", bond.IfVersion(1))
		require.NoError(t, err, "matching version")
		assert.Equal(t, int64(2), got.Version)

		_, err = bond.RemoveSubscriber(ctx, repo, "A", "b", bond.IfVersion(1))
		requireErr(t, err, bond.ErrVersionMismatch("A"))
		requireUnchanged(t, repo, got)

		_, err = bond.RemoveSubscriber(ctx, repo, "A", "absent", bond.IfVersion(1))
		requireErr(t, err, bond.ErrVersionMismatch("A"))
	})
}

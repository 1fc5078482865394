package idemtest

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/idempotency"
)

// RunJournalTests runs the suite of a record completed in the write of the
// change it records (bond.Journal.Idempotency), through the operations of
// package bond: the record is stored with the change, and a write whose
// key a live record holds makes nothing, neither the change nor its
// revision, and is bond.ErrKeyTaken. newStore returns an empty store for
// each subtest, its bonds and its records.
func RunJournalTests(t *testing.T, newStore func(t *testing.T) (bond.Repository, Fixture)) {
	t.Helper()
	now := time.Unix(1_900_000_000, 0)
	// completing renders the answer of a fresh record of key from the
	// written bond: its version in ETag and its id in the body.
	completing := func(ctx context.Context, key string) (context.Context, *bond.Completion) {
		rec := completedAt(t, now, key)
		c := &bond.Completion{At: now, Record: func(b bond.Bond) *idempotency.Record {
			body, _ := idempotency.PackBody([]byte(b.BondID))
			done := rec
			done.Answer = idempotency.Answer{Status: http.StatusOK, ETag: strconv.Quote(strconv.FormatInt(b.Version, 10)),
				ContentType: "application/json", Body: body}
			return &done
		}}
		return bond.WithCompletion(ctx, c), c
	}
	seed := func(t *testing.T, repo bond.Repository) bond.Bond {
		t.Helper()
		b, err := bond.Create(t.Context(), repo, bond.Bond{BondID: "B1", HostAccountID: "H1", SubAccountID: "S1",
			HostCostCenter: "teal", SubCostCenter: "yellow"})
		require.NoError(t, err)
		return b
	}
	revisions := func(t *testing.T, repo bond.Repository, id string) int {
		t.Helper()
		n := 0
		require.NoError(t, repo.ListRevisions(t.Context(), id, 0, 10, func(bond.Revision) bool { n++; return true }))
		return n
	}
	lookup := func(t *testing.T, records idempotency.Store, k idempotency.Key) idempotency.Record {
		t.Helper()
		cur, found, err := records.Lookup(t.Context(), k, now.Add(time.Hour))
		require.NoError(t, err)
		require.True(t, found, "the key is held")
		return cur
	}
	// writes are the writes that leave a bond, each on a store holding B1
	// at version 1.
	writes := []struct {
		name  string
		write func(ctx context.Context, repo bond.Repository) (bond.Bond, error)
	}{
		{"Create", func(ctx context.Context, repo bond.Repository) (bond.Bond, error) {
			return bond.Create(ctx, repo, bond.Bond{BondID: "B2", HostAccountID: "H2", SubAccountID: "S2",
				HostCostCenter: "teal", SubCostCenter: "yellow"})
		}},
		{"PutSubscriber", func(ctx context.Context, repo bond.Repository) (bond.Bond, error) {
			return bond.PutSubscriber(ctx, repo, "B1", bond.Subscriber{SID: "bob", Name: "Bob", Email: "bob@example.com"}, bond.Precondition{})
		}},
		{"UpdateMovingThePair", func(ctx context.Context, repo bond.Repository) (bond.Bond, error) {
			host := "H9"
			return bond.UpdateBond(ctx, repo, "B1", bond.Update{HostAccountID: &host}, bond.Precondition{})
		}},
	}
	// takers are the records that hold a key at now: a completed one, and
	// an earlier release's in flight with its lease ahead.
	takers := []struct {
		name string
		rec  idempotency.Record
	}{
		{"Completed", completedAt(t, now, "k1")},
		{"InFlight", inFlightAt(now, "k1")},
	}

	for _, w := range writes {
		t.Run(w.name+"CompletesWithTheChange", func(t *testing.T) {
			t.Parallel()
			repo, f := newStore(t)
			seed(t, repo)
			ctx, c := completing(t.Context(), "k1")
			b, err := w.write(ctx, repo)
			require.NoError(t, err)
			assert.True(t, c.Done(), "the write carried the record")
			cur := lookup(t, f.Store, completedAt(t, now, "k1").Key)
			require.True(t, cur.Done, "completed by the write")
			assert.Equal(t, strconv.Quote(strconv.FormatInt(b.Version, 10)), cur.Answer.ETag, "rendered from the written bond")
			body, err := idempotency.UnpackBody(cur.Answer.Body)
			require.NoError(t, err)
			assert.Equal(t, b.BondID, string(body))
		})
		for _, taker := range takers {
			t.Run(w.name+"WhoseKeyIs"+taker.name+"MakesNothing", func(t *testing.T) {
				t.Parallel()
				repo, f := newStore(t)
				before := seed(t, repo)
				require.NoError(t, f.Put(taker.rec))

				ctx, c := completing(t.Context(), "k1")
				_, err := w.write(ctx, repo)
				require.ErrorIs(t, err, idempotency.ErrKeyTaken)
				assert.Equal(t, bond.KindKeyTaken, bond.KindOf(err))
				assert.False(t, c.Done())
				got, found, err := repo.Read(t.Context(), "B1")
				require.NoError(t, err)
				require.True(t, found)
				assert.Equal(t, before, got, "B1 as it was")
				_, found, err = repo.Read(t.Context(), "B2")
				require.NoError(t, err)
				assert.False(t, found, "nothing created")
				assert.Equal(t, 1, revisions(t, repo, "B1"), "no revision appended")
				cur, found, err := f.Store.Lookup(t.Context(), taker.rec.Key, now)
				require.NoError(t, err)
				require.True(t, found)
				assert.Equal(t, taker.rec, cur, "the record that held the key, untouched")
			})
		}
	}
	t.Run("OverAnExpiredRecord", func(t *testing.T) {
		t.Parallel()
		repo, f := newStore(t)
		seed(t, repo)
		old := completedAt(t, now.Add(-25*time.Hour), "k1")
		require.NoError(t, f.Put(old))
		ctx, c := completing(t.Context(), "k1")
		_, err := writes[1].write(ctx, repo)
		require.NoError(t, err)
		assert.True(t, c.Done())
		assert.NotEqual(t, old.Token, lookup(t, f.Store, old.Key).Token, "the new record replaced the expired one")
	})
	t.Run("KeyTakenBeforeExists", func(t *testing.T) {
		t.Parallel()
		repo, f := newStore(t)
		seed(t, repo)
		require.NoError(t, f.Put(completedAt(t, now, "k1")))
		// The other execution of the key created B1: this one's create
		// meets both the record and the bond, and the record says why.
		ctx, _ := completing(t.Context(), "k1")
		_, err := bond.Create(ctx, repo, bond.Bond{BondID: "B1", HostAccountID: "H1", SubAccountID: "S1",
			HostCostCenter: "teal", SubCostCenter: "yellow"})
		require.ErrorIs(t, err, idempotency.ErrKeyTaken)
	})
}

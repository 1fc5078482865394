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
// record lost its lease makes nothing, neither the change nor its
// revision. newStore returns an empty store for each subtest, its bonds and
// its records.
func RunJournalTests(t *testing.T, newStore func(t *testing.T) (bond.Repository, idempotency.Store)) {
	t.Helper()
	now := time.Unix(1_900_000_000, 0)
	inFlight := func(key string) idempotency.Record { return inFlightAt(now, key) }
	// completing renders the answer of rec from the written bond: its
	// version in ETag and its id in the body.
	completing := func(ctx context.Context, rec idempotency.Record) (context.Context, *bond.Completion) {
		c := &bond.Completion{Record: func(b bond.Bond) *idempotency.Record {
			body, _ := idempotency.PackBody([]byte(b.BondID))
			done := rec
			done.Done = true
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

	for _, w := range writes {
		t.Run(w.name+"CompletesWithTheChange", func(t *testing.T) {
			t.Parallel()
			repo, records := newStore(t)
			seed(t, repo)
			rec := inFlight("k1")
			_, started, err := records.Begin(t.Context(), rec, now)
			require.NoError(t, err)
			require.True(t, started)
			ctx, c := completing(t.Context(), rec)
			b, err := w.write(ctx, repo)
			require.NoError(t, err)
			assert.True(t, c.Done(), "the write carried the record")
			cur, started, err := records.Begin(t.Context(), inFlight("k1"), now.Add(time.Hour))
			require.NoError(t, err)
			require.False(t, started, "the key is held by the completed record")
			require.True(t, cur.Done, "completed by the write")
			assert.Equal(t, rec.Token, cur.Token)
			assert.Equal(t, strconv.Quote(strconv.FormatInt(b.Version, 10)), cur.Answer.ETag, "rendered from the written bond")
			body, err := idempotency.UnpackBody(cur.Answer.Body)
			require.NoError(t, err)
			assert.Equal(t, b.BondID, string(body))
		})
		t.Run(w.name+"OfAStaleExecutorMakesNothing", func(t *testing.T) {
			t.Parallel()
			repo, records := newStore(t)
			before := seed(t, repo)
			stale := inFlight("k1")
			_, started, err := records.Begin(t.Context(), stale, now)
			require.NoError(t, err)
			require.True(t, started)
			retry := inFlight("k1")
			retry.LeaseEnd = now.Add(time.Minute)
			_, started, err = records.Begin(t.Context(), retry, now.Add(10*time.Second))
			require.NoError(t, err)
			require.True(t, started, "the retry takes the key over once the lease ended")

			ctx, c := completing(t.Context(), stale)
			_, err = w.write(ctx, repo)
			require.ErrorIs(t, err, idempotency.ErrLeaseLost)
			assert.Equal(t, bond.KindUnavailable, bond.KindOf(err))
			assert.False(t, c.Done())
			got, found, err := repo.Read(t.Context(), "B1")
			require.NoError(t, err)
			require.True(t, found)
			assert.Equal(t, before, got, "B1 as it was")
			_, found, err = repo.Read(t.Context(), "B2")
			require.NoError(t, err)
			assert.False(t, found, "nothing created")
			assert.Equal(t, 1, revisions(t, repo, "B1"), "no revision appended")
			cur, started, err := records.Begin(t.Context(), inFlight("k1"), now.Add(20*time.Second))
			require.NoError(t, err)
			require.False(t, started)
			assert.Equal(t, retry, cur, "the retry's record, untouched")
		})
	}
	t.Run("WithoutARecordMakesNothing", func(t *testing.T) {
		t.Parallel()
		repo, _ := newStore(t)
		seed(t, repo)
		ctx, _ := completing(t.Context(), inFlight("never-begun"))
		_, err := writes[1].write(ctx, repo)
		require.ErrorIs(t, err, idempotency.ErrLeaseLost)
		assert.Equal(t, 1, revisions(t, repo, "B1"), "no revision appended")
	})
}
